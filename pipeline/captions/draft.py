"""Drafting captions for an output: transcribe its sound locally, segment the words by
the caption rules, and write `OUT.<language>.vtt` and `.srt` beside it.

The draft is timed to the output itself (the edited programme, cards and all), since it
is made from the output's own sound. Nothing is written unless both files can be; an
existing draft (perhaps corrected by hand) is replaced only when asked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.captions.read import Caption
from pipeline.captions.recognize import Recognizer
from pipeline.captions.segment import build_captions
from pipeline.captions.settings import CaptionSettings
from pipeline.captions.write import format_srt, format_vtt, write_text_atomically
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


def make_draft(video: Path, settings: CaptionSettings, recognizer: Recognizer, *,
               vocabulary: Sequence[str] = (), force: bool = False) -> Draft:
    """Transcribe `video` and write its draft captions; the Draft says what was written."""
    from pipeline.probe import probe

    if not video.is_file():
        raise InputError("no such video file", file=video)
    vtt, srt = draft_paths(video, settings.language)
    existing = [p for p in (vtt, srt) if p.exists()]
    if existing and not force:
        raise OutputError("a caption draft is already there (perhaps corrected by hand); --force replaces it",
                          file=existing[0])
    programme_s = probe(video).duration_s
    names = [*settings.vocabulary, *vocabulary]
    words = recognizer.transcribe(video, language=settings.language, vocabulary=names)
    if not words:
        raise InputError("no speech was recognized in its sound: nothing to caption", file=video, field="audio")
    captions = build_captions(words, settings, programme_s=programme_s, vocabulary=names)
    write_text_atomically(vtt, format_vtt(captions))
    write_text_atomically(srt, format_srt(captions))
    return Draft(video, vtt, srt, tuple(captions), len(words))
