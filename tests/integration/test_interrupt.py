"""Ctrl-C or SIGTERM during a render: ffmpeg stops, the partial file goes, nothing is
left running, and the exit code is non-zero."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.cli import leftovers, processes_mentioning
from tests.media import make_clip
from tests.waiting import EVENT_TIMEOUT_S, wait_until


def command_of(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return f"{pid} (gone)"


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # long enough that a slow-preset encode is still running when the signal arrives
    return make_clip(tmp_path_factory.mktemp("long") / "long.mp4", duration_s=40.0, size="640x360")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_ffmpeg_and_removes_the_partial_file(long_clip: Path, tmp_path: Path, signum: int) -> None:
    out = tmp_path / "interrupted.mp4"
    partial = tmp_path / ".interrupted.mp4.partial"
    job = tmp_path / "slow.toml"
    job.write_text(
        f'[input]\nmain = "{long_clip}"\n[output]\npath = "{out.name}"\n'
        '[video]\nx264_preset = "veryslow"\n[light]\nmode = "manual"\nbrightness = 0.01\n'
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli.app", "render", str(job)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    # The picture encodes into the render's working folder beside the output
    # (.interrupted.mp4.partial-XXXX): an ffmpeg writing there is the render at work.
    def encoding() -> bool:
        assert process.poll() is None, process.communicate()
        return bool(processes_mentioning(str(partial)))

    wait_until(encoding, "a running ffmpeg writing the render's files")

    process.send_signal(signum)
    _, stderr = process.communicate(timeout=EVENT_TIMEOUT_S)

    assert process.returncode != 0
    assert "interrupted" in stderr
    assert not partial.exists() and not out.exists()
    assert leftovers(tmp_path) == []  # the working folder went too
    # An ffmpeg the render stopped may still be on its way out (reaped a moment later):
    # wait for it to go; one that was left running would never go.
    try:
        wait_until(lambda: not processes_mentioning(str(partial)), "the render's ffmpeg to stop")
    except AssertionError:
        raise AssertionError([command_of(pid) for pid in processes_mentioning(str(partial))]) from None
