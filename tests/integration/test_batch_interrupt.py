"""Ctrl-C during a batch: every running ffmpeg stops, every partial file goes, the exit
code is 130, and the next run renders only what was not finished."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.integration.cli import leftovers, processes_mentioning, wayfinder
from tests.media import make_clip, tone


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

    def writing() -> list[Path]:
        # an ffmpeg writing the job's partial file or its working folder (.NAME.partial-XXXX)
        return [p for p in partials if processes_mentioning(str(p))]

    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli.app", "batch", str(manifest), "--jobs", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not ((out / "quick.mp4").exists() and writing()):
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    assert (out / "quick.mp4").exists(), "the quick job never finished"
    assert writing(), "expected a running ffmpeg writing a slow job's partial file"

    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)

    assert process.returncode == 130, stderr
    assert "interrupted" in stderr
    time.sleep(0.2)
    assert leftovers(tmp_path) == []
    assert processes_mentioning(str(out)) == [], "an ffmpeg outlived the batch"
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
