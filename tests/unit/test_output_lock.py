"""The per-output render lock (real OS locks on files in a temporary state folder)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from pipeline.errors import OutputError
from pipeline.output_lock import lock_path_for, output_lock


def test_one_holder_per_output_path_however_it_is_spelled(tmp_path: Path) -> None:
    out = tmp_path / "videos" / "parking.mp4"
    out.parent.mkdir()
    with output_lock(out):
        with pytest.raises(OutputError, match="another Wayfinder render") as caught:
            with output_lock(tmp_path / "videos" / ".." / "videos" / "parking.mp4"):
                pass
        assert caught.value.file == str(tmp_path / "videos" / ".." / "videos" / "parking.mp4")
        with output_lock(tmp_path / "videos" / "entrance.mp4"):  # other outputs are free
            pass
    with output_lock(out):  # released on the way out
        pass


def test_the_lock_is_released_on_errors_and_private(tmp_path: Path) -> None:
    out = tmp_path / "x.mp4"
    with pytest.raises(RuntimeError), output_lock(out):
        raise RuntimeError("ffmpeg failed")
    with output_lock(out):
        assert stat.S_IMODE(lock_path_for(out).stat().st_mode) == 0o600
