"""A batch killed outright (SIGKILL: nothing of it runs any more) leaves no ffmpeg behind,
and the next run sweeps the partial files and working folders the killed one left."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.cli import leftovers, processes_mentioning, wayfinder
from tests.media import make_clip, tone

# The kernel kills the children when the parent dies; the bound for "gone".
CHILD_GONE_S = 1.0
# QA's workers are not killed by the kernel: each one's lifeline thread sees the command's
# pidfd close and exits, but only once it gets the GIL from a numpy call on a long file.
# On a loaded machine that took more than a second (loaded run 3 of 10, load average 7);
# the fault this test guards against is workers that wait forever, so it waits generously.
WORKERS_GONE_S = 30.0
START_DEADLINE_S = 120.0


def kill_all(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture
def slow_manifest(tmp_path: Path):
    media = tmp_path / "media"
    media.mkdir()
    for name, frequency_hz in (("one", 550.0), ("two", 660.0)):
        make_clip(media / f"{name}.mp4", duration_s=4.0, audio=tone(-20.0, frequency_hz=frequency_hz))
    # x264 veryslow with a light edit: both encodes are still running when the kill comes.
    slow = '[jobs.video]\nx264_preset = "veryslow"\n[jobs.light]\nmode = "manual"\nbrightness = 0.01\n'
    manifest = tmp_path / "manifest.toml"
    manifest.write_text("".join(
        f'[[jobs]]\nname = "{name}"\npreset = "youtube-draft"\ninput = {{ main = "media/{name}.mp4" }}\n'
        f'output = {{ path = "out/{name}.mp4" }}\n{slow}'
        for name in ("one", "two")
    ))
    yield manifest
    kill_all(processes_mentioning(str(tmp_path / "out")))  # orphans of a failing run


def test_sigkill_of_a_batch_kills_its_ffmpeg_and_the_next_run_sweeps(slow_manifest: Path) -> None:
    folder = slow_manifest.parent
    out = folder / "out"
    partials = [str(out / ".one.mp4.partial"), str(out / ".two.mp4.partial")]
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli.app", "batch", str(slow_manifest), "--jobs", "2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + START_DEADLINE_S
    while time.monotonic() < deadline and not all(processes_mentioning(p) for p in partials):
        assert process.poll() is None, "the batch ended before both encodes were running"
        time.sleep(0.05)
    children = sorted({pid for p in partials for pid in processes_mentioning(p)})
    assert len(children) >= 2, "expected an ffmpeg per job"

    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    gone_by = time.monotonic() + CHILD_GONE_S
    while time.monotonic() < gone_by and processes_mentioning(str(out)):
        time.sleep(0.02)
    assert processes_mentioning(str(out)) == [], "ffmpeg outlived its killed parent"
    assert leftovers(folder), "a SIGKILLed render cannot clean up: its working folders are still there"

    again = wayfinder("batch", slow_manifest, "--jobs", "2", timeout_s=600)
    assert again.returncode == 0, again.stderr
    report = json.loads((folder / "batch-report.json").read_text())
    assert {job["name"]: job["status"] for job in report["jobs"]} == {"one": "rendered", "two": "rendered"}
    assert leftovers(folder) == []


def test_a_render_sweeps_what_a_killed_render_of_its_output_left(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "in.mp4", duration_s=1.0, audio=tone(-20.0))
    output = tmp_path / "out.mp4"
    partial = tmp_path / ".out.mp4.partial"
    partial.write_bytes(b"half a movie")
    work_dir = tmp_path / ".out.mp4.partial-k1ll3d"
    work_dir.mkdir()
    (work_dir / "measured-sound-x.f32").write_bytes(b"\0" * 4096)
    elsewhere = tmp_path / ".out.mp4.partial-remote"  # a render on another machine, same share
    elsewhere.mkdir()
    (elsewhere / "owner").write_text(json.dumps({"host": "another-machine.example", "pid": 1}))
    other_output = tmp_path / ".other.mp4.partial-xyz"  # another output's: not this render's to touch
    other_output.mkdir()
    spools = tmp_path / "tmp"
    spools.mkdir()
    old_spool, new_spool = spools / "wayfinder-sound-old.f32", spools / "wayfinder-sound-new.f32"
    for path in (old_spool, new_spool):
        path.write_bytes(b"\0" * 16)
    # a long option's folder of a render killed while ffmpeg started, and a live one
    old_args, new_args = spools / "wayfinder-ffmpeg-args-old", spools / "wayfinder-ffmpeg-args-new"
    for path in (old_args, new_args):
        path.mkdir()
        (path / "value-3.txt").write_text("[0:v]null[v]")
    two_hours_ago = time.time() - 7200
    for path in (old_spool, old_args):
        os.utime(path, (two_hours_ago, two_hours_ago))

    result = wayfinder("render", clip, "-o", output, env={"TMPDIR": str(spools)})
    assert result.returncode == 0, result.stderr
    assert "leftover" in result.stderr
    assert not partial.exists() and not work_dir.exists()
    assert elsewhere.is_dir() and other_output.is_dir()
    assert not old_spool.exists() and new_spool.exists()
    assert not old_args.exists() and new_args.is_dir()


def test_sigkill_of_qa_takes_its_worker_processes_with_it(tmp_path: Path) -> None:
    # QA measures in worker processes forked by a multiprocessing fork server (a child of
    # the command); each worker holds the server's "alive" pipe, so without help neither
    # notices that the command was killed, and the workers wait on their queue forever.
    from pipeline.media import find_ffmpeg

    files = []
    for index in (1, 2):
        path = tmp_path / f"long{index}.wav"
        subprocess.run([find_ffmpeg(), "-v", "error", "-f", "lavfi", "-i",
                        f"sine=frequency={440 * index}:sample_rate=48000:duration=300",
                        "-ac", "2", "-c:a", "pcm_s16le", str(path)], check=True)
        files.append(path)
    process = subprocess.Popen([sys.executable, "-m", "pipeline.cli.app", "qa", *map(str, files), "--jobs", "2"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + START_DEADLINE_S
        while time.monotonic() < deadline and len(_workers(process.pid)) < 2:
            assert process.poll() is None, "QA ended before its two workers were running"
            time.sleep(0.05)
        assert len(_workers(process.pid)) >= 2, "expected two QA workers"
        descendants = _descendants(process.pid)

        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        gone_by = time.monotonic() + WORKERS_GONE_S
        while time.monotonic() < gone_by and _alive(descendants):
            time.sleep(0.02)
        assert _alive(descendants) == [], "QA's fork server or workers outlived the killed command"
    finally:
        kill_all(_alive(_descendants(process.pid)))


def _workers(pid: int) -> list[int]:
    """QA workers: processes forked by the fork server that `pid` started."""
    servers = [child for child in _children(pid) if b"forkserver" in _cmdline(child)]
    return [worker for server in servers for worker in _children(server)]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _children(pid: int) -> list[int]:
    return [child for child, parent in _parents().items() if parent == pid]


def _parents() -> dict[int, int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            parents[int(entry.name)] = int(fields[1])
    return parents


def _descendants(pid: int) -> list[int]:
    """Every live process below `pid` (children, grandchildren, ...), from /proc."""
    parents = _parents()
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        children = [child for child, parent in parents.items() if parent == current]
        found += children
        frontier += children
    return found


def _alive(pids: list[int]) -> list[int]:
    """The processes in `pids` still running (zombies waiting to be reaped are gone)."""
    alive = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in ("Z", "X"):
            alive.append(pid)
    return alive
