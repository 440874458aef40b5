"""Ctrl-C during `wayfinder qa --jobs 2` stops at once: exit 130, no worker left running.

No clock is read: the files are sparse W64 files of silence a thousand hours long, which a
worker could not finish in any test run, so the run can only end (and the workers can only
die) because the interrupt stopped them. Every wait is for an event, with a deadline that
only a broken stop reaches.
"""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from tests.waiting import EVENT_TIMEOUT_S, wait_until

FILE_HOURS = 1000  # ~690 GB of 48 kHz stereo 16-bit samples; a few kB on disk
W64_GUID_TAIL = bytes.fromhex("f3acd3118cd100c04f8edb8a")  # shared by the wave, fmt and data GUIDs


def sparse_w64(path: Path, hours: int, rate_hz: int = 48000, channels: int = 2) -> Path:
    """A Sony Wave64 file of digital silence: the header, then a hole the filesystem
    reads back as zeros (W64's 64-bit sizes allow any length)."""
    payload = rate_hz * 3600 * hours * channels * 2
    header = (b"riff" + bytes.fromhex("2e91cf11a5d628db04c10000") + struct.pack("<Q", 104 + payload)
              + b"wave" + W64_GUID_TAIL
              + b"fmt " + W64_GUID_TAIL + struct.pack("<Q", 40)
              + struct.pack("<HHIIHH", 1, channels, rate_hz, rate_hz * channels * 2, channels * 2, 16)
              + b"data" + W64_GUID_TAIL + struct.pack("<Q", 24 + payload))
    with open(path, "wb") as file:
        file.write(header)
        file.truncate(1 << 26)
        file.flush()
        if os.fstat(file.fileno()).st_blocks * 512 >= 1 << 26:
            pytest.skip(f"{path.parent}: this filesystem has no sparse files")
        file.truncate(len(header) + payload)
    return path


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


def open_files(pid: int) -> set[str]:
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return set()
    found = set()
    for fd in fds:
        try:
            found.add(os.readlink(fd))
        except OSError:
            continue
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_ctrl_c_stops_the_workers(tmp_path: Path) -> None:
    files = {str(sparse_w64(tmp_path / f"long-{index}.w64", FILE_HOURS)) for index in range(4)}
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli.app", "qa", str(tmp_path), "--jobs", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # A shell may start background jobs with SIGINT ignored; a terminal would not.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        def reading() -> set[int]:
            assert process.poll() is None, process.communicate()
            return {pid for pid in descendants(process.pid) if open_files(pid) & files}

        wait_until(lambda: len(reading()) == 2, "two workers to be reading their files")
        workers = descendants(process.pid)
        process.send_signal(signal.SIGINT)
        # Finishing the files in progress would take hours: only a real stop ends the run.
        _, stderr = process.communicate(timeout=EVENT_TIMEOUT_S)
        assert process.returncode == 130, stderr
        assert "interrupted" in stderr
        wait_until(lambda: not any(alive(pid) for pid in workers), "the workers to stop")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for file in files:  # a few kB on disk, but hundreds of GB to anything that reads them
            Path(file).unlink()
