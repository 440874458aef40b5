"""The sound half of the render graph (pure): format conversion, then the clean-up and
normalization filters planned from measurements, in ffmpeg-python streams."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pipeline.audio.loudnorm import build_format_filters
from pipeline.config import AudioSettings

Filter = tuple[str, dict[str, object]]
Stream = Any  # an ffmpeg-python stream node


def apply_filters(stream: Stream, filters: list[Filter]) -> Stream:
    for name, options in filters:
        stream = stream.filter(name, **options)
    return stream


def build_sound(
    audio_in: Stream,
    settings: AudioSettings,
    normalize_filters: list[Filter] | None,
    *,
    before_normalize: Callable[[Stream], Stream] | None = None,
) -> Stream:
    """Main audio in, finished programme audio out (48 kHz, output layout)."""
    chain = apply_filters(audio_in, build_format_filters(settings))
    if before_normalize is not None:
        chain = before_normalize(chain)
    if normalize_filters is not None:
        chain = apply_filters(chain, normalize_filters)
    return chain
