"""run_ffmpeg feeding raw frames made in Python through ffmpeg's stdin (the sample
pictures are drawn this way): every frame arrives, and an error while making them stops
ffmpeg and reaches the caller."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
import pytest

from pipeline.media import run_ffmpeg

WIDTH_PX, HEIGHT_PX, FRAMES = 64, 48, 30


def raw_args(out: Path) -> list[str]:
    return ["-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{WIDTH_PX}x{HEIGHT_PX}", "-r", "10",
            "-i", "pipe:0", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(out)]


def frames(count: int) -> Iterator[bytes]:
    for i in range(count):
        yield bytes([i * 8 % 256]) * (WIDTH_PX * HEIGHT_PX * 3)


def test_every_frame_fed_is_encoded(tmp_path: Path) -> None:
    out = tmp_path / "fed.mp4"
    run_ffmpeg(raw_args(out), stdin_chunks=frames(FRAMES))
    with av.open(str(out)) as container:
        assert sum(1 for _ in container.decode(video=0)) == FRAMES


def test_an_error_while_making_frames_reaches_the_caller(tmp_path: Path) -> None:
    def broken() -> Iterator[bytes]:
        yield from frames(5)
        raise ValueError("frame 6 could not be drawn")

    with pytest.raises(ValueError, match="frame 6"):
        run_ffmpeg(raw_args(tmp_path / "broken.mp4"), stdin_chunks=broken())
