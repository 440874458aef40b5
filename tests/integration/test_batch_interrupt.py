"""Ctrl-C during a batch: every running ffmpeg stops, every partial file goes, the exit
code is 130, and the next run renders only what was not finished."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

from tests.integration.cli import leftovers, processes_mentioning, wayfinder
from tests.media import make_clip, tone
from tests.waiting import EVENT_TIMEOUT_S, wait_until


def test_sigint_stops_renders_and_the_next_run_continues(tmp_path: Path) -> None:
    media = tmp_path / "media"
    media.mkdir()
    make_clip(media / "quick.mp4", duration_s=1.0, audio=tone(-20.0, frequency_hz=440.0))
    for name, frequency_hz in (("slow1", 550.0), ("slow2", 660.0)):
        make_clip(media / f"{name}.mp4", duration_s=3.0, audio=tone(-20.0, frequency_hz=frequency_hz))
    # The slow jobs encode (a light edit) with x264 veryslow: still running when the signal comes.
    slow = '[jobs.video]\nx264_preset = "veryslow"\n[jobs.light]\nmode = "manual"\nbrightness = 0.01\n'
    manifest = tmp_path / "manifest.toml"
    manifest.write_text(
        '[[jobs]]\nname = "quick"\npreset = "youtube-draft"\ninput = { main = "media/quick.mp4" }\n'
        'output = { path = "out/quick.mp4" }\n'
        + "".join(
            f'[[jobs]]\nname = "{name}"\npreset = "youtube-draft"\ninput = {{ main = "media/{name}.mp4" }}\n'
            f'output = {{ path = "out/{name}.mp4" }}\n{slow}'
            for name in ("slow1", "slow2")
        )
    )
    out = tmp_path / "out"
    partials = [out / ".slow1.mp4.partial", out / ".slow2.mp4.partial"]

    def encoding() -> list[Path]:
        # an ffmpeg writing into the job's working folder (.NAME.partial-XXXX): the encode,
        # the long part of a job, not the short mux into the partial file that follows it
        return [p for p in partials if processes_mentioning(f"{p}-")]

    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli.app", "batch", str(manifest), "--jobs", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    def quick_done_and_slow_encoding() -> bool:
        assert process.poll() is None, process.communicate()
        return (out / "quick.mp4").exists() and bool(encoding())

    wait_until(quick_done_and_slow_encoding, "the quick job to finish while a slow job encodes")

    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=EVENT_TIMEOUT_S)

    assert process.returncode == 130, stderr
    assert "interrupted" in stderr
    # A stopped ffmpeg may be reaped a moment after the batch exits; one left running never goes.
    wait_until(lambda: not processes_mentioning(str(out)), "every ffmpeg of the batch to stop")
    assert leftovers(tmp_path) == []
    report = json.loads((tmp_path / "batch-report.json").read_text())
    assert report["interrupted"] is True
    first = {job["name"]: job["status"] for job in report["jobs"]}
    assert first["quick"] == "rendered"
    # A slow job caught after its encode (while its output was being verified) may finish;
    # the one whose ffmpeg was running when the signal came is stopped.
    assert "cancelled" in (first["slow1"], first["slow2"])
    for name in ("slow1", "slow2"):
        assert first[name] in ("rendered", "cancelled")
        assert (out / f"{name}.mp4").exists() == (first[name] == "rendered")

    again = wayfinder("batch", manifest, "--jobs", "2")
    assert again.returncode == 0, again.stderr
    report = json.loads((tmp_path / "batch-report.json").read_text())
    second = {job["name"]: job["status"] for job in report["jobs"]}
    assert second == {name: "up-to-date" if status == "rendered" else "rendered" for name, status in first.items()}
    assert leftovers(tmp_path) == []
