"""The byte layout of a raw sound spool: interleaved little-endian float32 frames, as
ffmpeg writes them with `-f f32le`, and reading it back.

Owns the one definition of that layout, so the render's spools (`sound.py`), the stereo
survey and mid (`stereo_mid.py`) and the measuring pass (`measure.py`) cannot disagree on
it; knows nothing of what the sound is for.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

BYTES_PER_SAMPLE = 4
SAMPLE_DTYPE = "<f4"


def frame_bytes(channels: int) -> int:
    """Bytes of one frame (a sample of every channel)."""
    return BYTES_PER_SAMPLE * channels


def frames_in(path: Path, channels: int) -> int:
    """Whole frames in the file at `path`."""
    return path.stat().st_size // frame_bytes(channels)


def as_frames(data: bytes, channels: int) -> np.ndarray:
    """Whole frames of `data` as a read-only (n, channels) float32 view; a trailing part
    of a frame is left out."""
    usable = len(data) - len(data) % frame_bytes(channels)
    return np.frombuffer(data, dtype=SAMPLE_DTYPE, count=usable // BYTES_PER_SAMPLE).reshape(-1, channels)


def to_bytes(frames: np.ndarray) -> bytes:
    """(n, channels) samples in the layout, ready to write."""
    return frames.astype(SAMPLE_DTYPE, copy=False).tobytes()


def iter_frames(path: Path, channels: int, chunk_samples: int) -> Iterator[np.ndarray]:
    """The file's frames as (n, channels) float32 blocks of up to `chunk_samples` frames,
    read in order (memory flat in the file's length)."""
    with path.open("rb") as stream:
        while block := stream.read(chunk_samples * frame_bytes(channels)):
            yield as_frames(block, channels)


def read_frames(stream: BinaryIO, channels: int, start: int, count: int) -> np.ndarray:
    """Up to `count` frames from frame `start` of an open spool, as a read-only
    (n, channels) float32 view (fewer at the end of the file)."""
    stream.seek(start * frame_bytes(channels))
    return as_frames(stream.read(count * frame_bytes(channels)), channels)
