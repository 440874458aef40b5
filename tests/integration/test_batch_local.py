"""`wayfinder batch` run locally on synthesized clips: isolated failures, incremental
re-runs, exactly the affected jobs re-rendered when a job or a preset changes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pipeline.probe import probe
from tests.integration.cli import leftovers, wayfinder
from tests.media import ebur128, make_clip, tone

CLIP_S = 2.5
SIZE = (320, 180)


def write_manifest(folder: Path, a_target_lufs: float) -> Path:
    manifest = folder / "manifest.toml"
    manifest.write_text(f"""
[[jobs]]
name = "a"
preset = "youtube-draft"
input = {{ main = "media/a.mp4" }}
output = {{ path = "out/a.mp4" }}
audio = {{ target_lufs = {a_target_lufs} }}

[[jobs]]
name = "b"
preset = "house"
input = {{ main = "media/b.mp4" }}
output = {{ path = "out/b.mp4" }}

[[jobs]]
file = "jobs/c.toml"

[[jobs]]
name = "broken"
preset = "youtube-draft"
input = {{ main = "media/broken.mp4" }}
output = {{ path = "out/broken.mp4" }}
""")
    return manifest


def write_house_preset(config_dir: Path, crf: int) -> None:
    presets = config_dir / "presets"
    presets.mkdir(parents=True, exist_ok=True)
    (presets / "house.toml").write_text(f'extends = "youtube-draft"\n[video]\ncrf = {crf}\n')


@pytest.fixture
def batch_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    media = tmp_path / "media"
    media.mkdir()
    # Distinct tones make distinct inputs, so each job has its own fingerprint.
    for name, frequency_hz in (("a", 440.0), ("b", 660.0), ("c", 880.0)):
        make_clip(media / f"{name}.mp4", duration_s=CLIP_S, audio=tone(-20.0, frequency_hz=frequency_hz))
    (media / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 4000)  # an MP4 header, no movie
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "c.toml").write_text(
        'preset = "house"\n[input]\nmain = "../media/c.mp4"\n[output]\npath = "../out/c.mp4"\n')
    write_house_preset(Path(os.environ["WAYFINDER_CONFIG_DIR"]), crf=23)
    write_manifest(tmp_path, a_target_lufs=-14.0)
    return tmp_path


def statuses(folder: Path) -> dict[str, tuple[str, str]]:
    report = json.loads((folder / "batch-report.json").read_text())
    return {job["name"]: (job["status"], job["reason"]) for job in report["jobs"]}


def mtimes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in sorted((folder / "out").glob("*.mp4"))}


def test_batch_isolates_failures_and_renders_only_what_changed(batch_folder: Path) -> None:
    manifest = batch_folder / "manifest.toml"

    first = wayfinder("batch", manifest, "--jobs", "2")
    assert first.returncode == 1, first.stderr
    status = statuses(batch_folder)
    assert {name: s for name, (s, _) in status.items()} == {
        "a": "rendered", "b": "rendered", "c": "rendered", "broken": "failed"}
    assert "broken.mp4" in status["broken"][1]
    assert "failed broken" in first.stderr
    for name in ("a", "b", "c"):
        info = probe(batch_folder / "out" / f"{name}.mp4")
        assert info.video is not None and (info.video.width_px, info.video.height_px) == SIZE
        assert info.first_audio is not None and info.first_audio.sample_rate_hz == 48000
        assert info.duration_s == pytest.approx(CLIP_S, abs=0.1)
        assert (batch_folder / "out" / f"{name}.mp4.wayfinder.hash").is_file()
    assert not (batch_folder / "out" / "broken.mp4").exists()
    assert leftovers(batch_folder) == []
    report = json.loads((batch_folder / "batch-report.json").read_text())
    entry = next(job for job in report["jobs"] if job["name"] == "a")
    assert entry["render_report"] == str(batch_folder / "out" / "a.mp4.wayfinder.json")
    assert entry["duration_s"] == pytest.approx(CLIP_S, abs=0.1) and entry["wall_time_s"] > 0
    assert len(entry["fingerprint"]) == 64
    before = mtimes(batch_folder)

    second = wayfinder("batch", manifest)
    assert second.returncode == 1, second.stderr  # the broken input still fails
    assert {name: s for name, (s, _) in statuses(batch_folder).items()} == {
        "a": "up-to-date", "b": "up-to-date", "c": "up-to-date", "broken": "failed"}
    assert mtimes(batch_folder) == before

    write_manifest(batch_folder, a_target_lufs=-20.0)
    third = wayfinder("batch", manifest)
    status = statuses(batch_folder)
    assert status["a"][0] == "rendered" and status["b"][0] == status["c"][0] == "up-to-date", third.stderr
    after = mtimes(batch_folder)
    assert after["a.mp4"] != before["a.mp4"]
    assert (after["b.mp4"], after["c.mp4"]) == (before["b.mp4"], before["c.mp4"])
    # the new setting reached the output: the tone was made at -20 dBFS, now normalized to -20 LUFS
    assert ebur128(batch_folder / "out" / "a.mp4")["integrated_lufs"] == pytest.approx(-20.0, abs=1.0)

    # A changed preset marks exactly the jobs that use it (b inline, c through its job file).
    write_house_preset(Path(os.environ["WAYFINDER_CONFIG_DIR"]), crf=28)
    dry = wayfinder("batch", manifest, "--dry-run", "--json")
    assert dry.returncode == 1, dry.stderr  # the broken input would fail
    decisions = {d["name"]: (d["action"], d["reason"]) for d in json.loads(dry.stdout)}
    assert decisions["a"] == ("skip", "up to date")
    assert decisions["b"] == decisions["c"] == ("render", "settings changed")
    assert decisions["broken"][0] == "fail"
    assert mtimes(batch_folder) == after and leftovers(batch_folder) == []  # a dry run renders nothing

    forced = json.loads(wayfinder("batch", manifest, "--dry-run", "--json", "--force", "--only", "a").stdout)
    assert [(d["name"], d["action"], d["reason"]) for d in forced] == [("a", "render", "--force")]

