"""Measuring what the render will hear: the programme's sound after format conversion,
clean-up and the insets' mix, streamed from an audio-only ffmpeg pass straight into the
loudness meter (memory independent of duration).

The first pass can also spool the cleaned-up sound to a private file in the render's
working folder, so the limiter's calibration passes only re-run the gain and limiter
instead of decoding and cleaning up the whole programme again each time.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from pipeline.audio.chain import format_filter_chain
from pipeline.audio.meter import LoudnessMeter, LoudnessResult
from pipeline.audio.raw_frames import as_frames, frame_bytes
from pipeline.audio.sound import SoundSpool
from pipeline.config import AudioSettings
from pipeline.filters import Filter
from pipeline.media import run_ffmpeg

# Spooling costs 11.5 MB a minute of 48 kHz stereo; beyond this the passes re-decode.
MAX_SPOOL_S = 45 * 60.0


def measure_pass(
    args: list[str],
    settings: AudioSettings,
    *,
    duration_s: float | None,
    file: Path,
    spool: BinaryIO | None = None,
    stop: threading.Event | None = None,
) -> LoudnessResult:
    """Run an audio-only pass that writes float samples (the output layout and rate) to
    stdout, meter them, and copy them to `spool` when given."""
    channels = settings.channels
    meter = LoudnessMeter(settings.sample_rate_hz, channels)
    pending = bytearray()

    def consume(data: bytes) -> None:
        if spool is not None:
            spool.write(data)
        pending.extend(data)
        samples = as_frames(bytes(pending), channels)
        if len(samples):
            meter.add(samples)
            del pending[:len(samples) * frame_bytes(channels)]

    run_ffmpeg(args, total_s=duration_s, stdout_sink=consume, what="audio measurement", file=file, stop=stop)
    return meter.result()


def build_spool_pass_args(spool_path: Path, settings: AudioSettings, filters: list[Filter]) -> list[str]:
    """A measuring pass over spooled sound: only `filters` (gain, limiter) run again."""
    return [
        *SoundSpool(spool_path, settings.channels, settings.sample_rate_hz).input_args(),
        "-af", format_filter_chain(filters) if filters else "anull",
        "-f", "f32le", "-acodec", "pcm_f32le", "pipe:1",
    ]


@contextmanager
def spool_file(duration_s: float | None, work_dir: Path) -> Iterator[tuple[Path, BinaryIO] | None]:
    """A private (0600) file in the render's working folder for the cleaned-up sound,
    removed on the way out whatever happens (and with the folder if the process is
    killed); None for programmes too long to spool."""
    if duration_s is None or duration_s > MAX_SPOOL_S:
        yield None
        return
    handle, name = tempfile.mkstemp(prefix="measured-sound-", suffix=".f32", dir=work_dir)
    path = Path(name)
    try:
        with os.fdopen(handle, "wb") as stream:
            yield path, stream
    finally:
        path.unlink(missing_ok=True)
