"""Drafting captions for an output: transcribe its sound locally, segment the words by
the caption rules, and write `OUT.<language>.vtt` and `.srt` beside it.

The draft is timed to the output itself (the edited programme, cards and all), since it
is made from the output's own sound. Nothing is written unless both files can be: both
are written to partial files first and renamed together. An existing draft (perhaps
corrected by hand) is replaced only when asked.

A render with `[captions] draft = true` uses the same steps on its verified partial
output (`transcribe_draft`), before the output is put in place (`write_draft_files`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.captions.read import Caption
from pipeline.captions.recognize import Recognizer
from pipeline.captions.segment import build_captions, snap_word_starts
from pipeline.captions.settings import CaptionSettings
from pipeline.captions.write import format_srt, format_vtt
from pipeline.errors import InputError, OutputError


@dataclass(frozen=True)
class Draft:
    video: Path
    vtt: Path
    srt: Path
    captions: tuple[Caption, ...]
    words: int


def draft_paths(video: Path, language: str) -> tuple[Path, Path]:
    stem = video.with_suffix("")
    return Path(f"{stem}.{language}.vtt"), Path(f"{stem}.{language}.srt")


def transcribe_draft(video: Path, settings: CaptionSettings, recognizer: Recognizer, *,
                     vocabulary: Sequence[str] = (), programme_s: float | None = None) -> tuple[list[Caption], int]:
    """The draft captions of `video`'s speech and how many words were heard (no captions
    when none were). `programme_s`: the programme's length (probed when not given).

    The words' starts are snapped to the onsets the caption check measures, so a draft
    is in sync by the same measure it will be checked by."""
    if programme_s is None:
        from pipeline.probe import probe

        programme_s = probe(video).duration_s
    names = [*settings.vocabulary, *vocabulary]
    words = recognizer.transcribe(video, language=settings.language, vocabulary=names)
    if not words:
        return [], 0
    from pipeline.captions.speech import measure_speech_spans

    words = snap_word_starts(words, measure_speech_spans(video))
    return build_captions(words, settings, programme_s=programme_s, vocabulary=names), len(words)


def partial_draft_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.partial")


def stage_draft_files(vtt: Path, srt: Path, captions: Sequence[Caption]) -> tuple[Path, Path]:
    """Both drafts written to partial files beside their places (removed again if either
    write fails); `commit_draft_files` puts them in place."""
    staged = (partial_draft_path(vtt), partial_draft_path(srt))
    try:
        staged[0].write_text(format_vtt(captions), encoding="utf-8")
        staged[1].write_text(format_srt(captions), encoding="utf-8")
    except BaseException:
        discard_draft_files(staged)
        raise
    return staged


def commit_draft_files(staged: tuple[Path, Path], vtt: Path, srt: Path) -> None:
    os.replace(staged[0], vtt)
    os.replace(staged[1], srt)


def discard_draft_files(staged: Sequence[Path]) -> None:
    for path in staged:
        path.unlink(missing_ok=True)


def write_draft_files(vtt: Path, srt: Path, captions: Sequence[Caption]) -> None:
    """Both drafts, or neither."""
    commit_draft_files(stage_draft_files(vtt, srt, captions), vtt, srt)


def make_draft(video: Path, settings: CaptionSettings, recognizer: Recognizer, *,
               vocabulary: Sequence[str] = (), force: bool = False) -> Draft:
    """Transcribe `video` and write its draft captions; the Draft says what was written."""
    if not video.is_file():
        raise InputError("no such video file", file=video)
    vtt, srt = draft_paths(video, settings.language)
    existing = [p for p in (vtt, srt) if p.exists()]
    if existing and not force:
        raise OutputError("a caption draft is already there (perhaps corrected by hand); --force replaces it",
                          file=existing[0])
    captions, words = transcribe_draft(video, settings, recognizer, vocabulary=vocabulary)
    if not captions:
        raise InputError("no speech was recognized in its sound: nothing to caption", file=video, field="audio")
    write_draft_files(vtt, srt, captions)
    return Draft(video, vtt, srt, tuple(captions), words)
