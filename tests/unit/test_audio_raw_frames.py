"""The raw spool layout: interleaved little-endian float32 frames, as `-f f32le` writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.audio.raw_frames import as_frames, frames_in, iter_frames, read_frames, to_bytes


def _spool(path: Path, frames: np.ndarray, extra: bytes = b"") -> Path:
    path.write_bytes(frames.astype("<f4").tobytes() + extra)
    return path


def test_frames_are_interleaved_little_endian_float32() -> None:
    # Written by hand, byte for byte: frame 0 is (1.0, -2.0), frame 1 is (0.5, 0.25).
    raw = b"".join(np.array([value], dtype="<f4").tobytes() for value in (1.0, -2.0, 0.5, 0.25))
    assert as_frames(raw, 2).tolist() == [[1.0, -2.0], [0.5, 0.25]]
    assert as_frames(raw, 1).tolist() == [[1.0], [-2.0], [0.5], [0.25]]
    assert to_bytes(np.array([[1.0, -2.0], [0.5, 0.25]])) == raw  # float64 in, the layout out


def test_a_trailing_part_of_a_frame_is_left_out(tmp_path: Path) -> None:
    frames = np.arange(10, dtype=np.float32).reshape(5, 2)
    path = _spool(tmp_path / "a.f32", frames, extra=b"\x00\x00\x80")  # 3 stray bytes
    assert frames_in(path, 2) == 5
    assert as_frames(path.read_bytes(), 2).shape == (5, 2)
    blocks = list(iter_frames(path, 2, chunk_samples=2))
    assert [len(block) for block in blocks] == [2, 2, 1]
    assert np.array_equal(np.concatenate(blocks), frames)


def test_reading_from_a_frame_and_past_the_end(tmp_path: Path) -> None:
    frames = np.arange(20, dtype=np.float32).reshape(10, 2)
    path = _spool(tmp_path / "b.f32", frames)
    with path.open("rb") as stream:
        assert np.array_equal(read_frames(stream, 2, 3, 4), frames[3:7])
        assert np.array_equal(read_frames(stream, 2, 8, 5), frames[8:])  # two left, not five
        assert read_frames(stream, 2, 12, 3).shape == (0, 2)
