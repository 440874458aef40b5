"""The caption draft a render makes when its job says `[captions] draft = true`.

Owns when and how a render drafts: before any work, the recognizer and its model must be
there (else one line naming the setting, exit 4 like any missing tool) and an existing
draft is replaced only with --force (a batch replaces it when it re-renders the output);
after the output is muxed and verified, its partial file is transcribed with the code of
`wayfinder captions draft` (`pipeline.captions.draft`), the preset's vocabulary plus the
job's, and both draft files are staged beside the output. The render puts them in place
right after the output, or discards them with it: no draft is left of a failed render.
A programme in which no speech is heard gets no draft (said in the report), and an old
draft beside it is removed, since it was timed to the output being replaced.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from pipeline.captions.draft import (
    commit_draft_files,
    discard_draft_files,
    draft_paths,
    stage_draft_files,
    transcribe_draft,
)
from pipeline.captions.recognize import Recognizer, check_model_dir, default_model_dir
from pipeline.config import Job
from pipeline.errors import OutputError, ToolError

SETTING = "captions.draft"


def draft_files_for(job: Job) -> tuple[Path, Path]:
    """Where the render's drafts go: `OUT.<language>.vtt` and `.srt` beside the output."""
    return draft_paths(job.output_path, job.settings.captions.language)


def check_draft_ready(job: Job, *, force: bool) -> Path | None:
    """The model folder a drafting job will use (None: the job drafts nothing). Raises
    ToolError (exit 4) naming the setting when the recognizer or its model is missing, and
    OutputError when a draft is already there without --force. Runs before any work."""
    if not job.captions.draft:
        return None
    model_dir = default_model_dir()
    where = job.source or job.main_path
    try:
        check_model_dir(model_dir)
    except ToolError as error:
        raise ToolError(f"drafting captions needs a speech recognition model: {error.message}",
                        file=where, field=SETTING) from None
    if importlib.util.find_spec("faster_whisper") is None:
        raise ToolError("drafting captions needs faster-whisper: pip install 'wayfinder[captions]'",
                        file=where, field=SETTING)
    if not force:
        existing = [path for path in draft_files_for(job) if path.exists()]
        if existing:
            raise OutputError("a caption draft is already there (perhaps corrected by hand); use --force to "
                              "replace it with the render's", file=existing[0])
    return model_dir


@dataclass
class RenderDraft:
    """A draft staged beside the output, waiting for the output to be put in place."""

    vtt: Path
    srt: Path
    staged: tuple[Path, Path] | None  # None: no speech heard, nothing to write
    captions: int
    words: int
    model_dir: Path
    vocabulary: tuple[str, ...]

    def commit(self) -> None:
        """Put the drafts in place (or, with no speech heard, remove an old draft)."""
        if self.staged is not None:
            commit_draft_files(self.staged, self.vtt, self.srt)
        else:
            for path in (self.vtt, self.srt):
                path.unlink(missing_ok=True)

    def discard(self) -> None:
        if self.staged is not None:
            discard_draft_files(self.staged)

    def report(self) -> dict[str, object]:
        written = self.staged is not None
        return {
            "vtt": str(self.vtt) if written else None,
            "srt": str(self.srt) if written else None,
            "captions": self.captions,
            "words": self.words,
            "model": str(self.model_dir),
            "vocabulary": list(self.vocabulary),
            **({} if written else {"note": "no speech was recognized: no draft written"}),
        }

    def note(self) -> str:
        if self.staged is None:
            return "caption draft: no speech was recognized in the output, so no draft was written"
        return (f"caption draft: {self.vtt.name} and {self.srt.name}, {self.captions} caption(s) from "
                f"{self.words} word(s); review it, then run wayfinder captions check")


def stage_render_draft(job: Job, rendered: Path, programme_s: float, model_dir: Path) -> RenderDraft:
    """Transcribe the rendered (still partial) output and stage its drafts."""
    settings = job.settings.captions
    vocabulary = (*settings.vocabulary, *job.captions.vocabulary)
    recognizer = Recognizer(model_dir, threads=job.settings.video.threads or 0)
    captions, words = transcribe_draft(rendered, settings, recognizer, vocabulary=job.captions.vocabulary,
                                       programme_s=programme_s)
    vtt, srt = draft_files_for(job)
    try:
        staged = stage_draft_files(vtt, srt, captions) if captions else None
    except OSError as exc:
        raise OutputError(f"cannot write the caption draft: {exc.strerror or exc}", file=vtt) from None
    return RenderDraft(vtt, srt, staged, len(captions), words, model_dir, tuple(vocabulary))
