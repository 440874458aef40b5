"""Ctrl-C during `wayfinder qa --jobs 2` stops at once: exit 130, no worker left running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.media import ffmpeg

FILE_S = 120  # long enough that the run is still busy when the signal comes


def descendants(pid: int) -> set[int]:
    """Every process below `pid`, from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_ctrl_c_stops_the_workers(tmp_path: Path) -> None:
    for index in range(4):
        ffmpeg("-f", "lavfi", "-i", f"sine=frequency={440 + 100 * index}:sample_rate=48000:duration={FILE_S}",
               "-ac", "2", str(tmp_path / f"long-{index}.wav"))
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli.app", "qa", str(tmp_path), "--jobs", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # A shell may start background jobs with SIGINT ignored; a terminal would not.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        deadline = time.monotonic() + 60
        workers: set[int] = set()
        while time.monotonic() < deadline and process.poll() is None:
            workers = descendants(process.pid)
            if len(workers) >= 3:  # the fork server (or resource tracker) and two workers
                break
            time.sleep(0.1)
        assert process.poll() is None, "QA finished before it could be interrupted"
        time.sleep(0.5)  # let the workers start on their files
        workers = descendants(process.pid)
        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
        assert process.returncode == 130, stderr
        assert time.monotonic() - started < 10
        assert "interrupted" in stderr
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(alive(pid) for pid in workers):
            time.sleep(0.1)
        assert not [pid for pid in workers if alive(pid)]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
