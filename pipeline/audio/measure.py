"""Measuring what the render will hear: the input after format conversion and clean-up,
streamed from an audio-only ffmpeg pass straight into the loudness meter (no temporary
file, memory independent of duration)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.audio.chain import Filter, build_measure_args
from pipeline.audio.meter import LoudnessMeter, LoudnessResult
from pipeline.config import AudioSettings
from pipeline.media import run_ffmpeg

BYTES_PER_SAMPLE = 4


def measure_processed(
    path: Path,
    stream_index: int | None,
    settings: AudioSettings,
    cleanup_filters: list[Filter],
    *,
    duration_s: float | None = None,
) -> LoudnessResult:
    """Loudness of `path`'s audio as the render's chain will produce it before the gain."""
    channels = settings.channels
    meter = LoudnessMeter(settings.sample_rate_hz, channels)
    frame_bytes = BYTES_PER_SAMPLE * channels
    pending = bytearray()

    def consume(data: bytes) -> None:
        pending.extend(data)
        usable = len(pending) - len(pending) % frame_bytes
        if usable:
            samples = np.frombuffer(bytes(pending[:usable]), dtype="<f4").reshape(-1, channels)
            meter.add(samples)
            del pending[:usable]

    run_ffmpeg(
        build_measure_args(path, stream_index, settings, cleanup_filters),
        total_s=duration_s,
        stdout_sink=consume,
        what="audio measurement",
        file=path,
    )
    return meter.result()
