"""Effectful preparation of the picture before planning: auto-light analysis of sampled
frames, probing of inset sources, rendering of title cards. Its result, a `PicturePrep`,
is all the pure plan needs to know about them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pipeline.config import Job
from pipeline.probe import MediaInfo


@dataclass(frozen=True)
class PicturePrep:
    insets: tuple[MediaInfo, ...] = ()
    light: object | None = None
    cards: dict[str, Path] = field(default_factory=dict)
    report: dict[str, object] = field(default_factory=dict)


def prepare_picture(job: Job, info: MediaInfo, size_px: tuple[int, int] | None, fps: float | None) -> PicturePrep:
    """Everything the picture plan needs that must be read or made first."""
    return PicturePrep()
