"""The speed record (issue 16): every render report states its wall time, the encode's
own time and the time outside it, with its passes; a batch report gives each job's
share of the machine. Checked on real short renders for presence and consistency; no
timing thresholds (the machine may be loaded)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pipeline.speed import union_s
from tests.integration.cli import wayfinder
from tests.integration.jobs import write_job
from tests.media import make_clip, tone

CLIP_S = 3.0
ROUNDING_S = 0.002  # the report rounds every time to the millisecond


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("speed-media")
    return {"main": make_clip(folder / "main.mp4", duration_s=CLIP_S),
            "inset": make_clip(folder / "inset.mp4", duration_s=2.0, size="160x90")}


def check_consistent(speed: dict, report: dict) -> None:
    assert speed["wall_s"] == pytest.approx(report["wall_time_s"], abs=ROUNDING_S)
    assert 0 <= speed["encode_s"] <= speed["wall_s"]
    assert speed["outside_encode_s"] == pytest.approx(speed["wall_s"] - speed["encode_s"], abs=ROUNDING_S)
    assert speed["outside_encode_s"] >= 0
    passes = speed["passes"]
    for item in passes:
        assert item["kind"] in ("ffmpeg", "step")
        assert item["started_s"] >= 0 and item["duration_s"] >= 0
        # Every pass runs inside the render: none ends after the wall time.
        assert item["started_s"] + item["duration_s"] <= speed["wall_s"] + ROUNDING_S
    encode = [item for item in passes if item["name"] in speed["encode_passes"] and item["kind"] == "ffmpeg"]
    assert encode
    # The encode passes may overlap (the sound encodes beside the picture): their union.
    longest_s = max(item["duration_s"] for item in encode)
    assert longest_s - ROUNDING_S <= speed["encode_s"] <= sum(item["duration_s"] for item in encode) + ROUNDING_S
    ffmpeg_cpu = [item["cpu_s"] for item in passes if item["kind"] == "ffmpeg"]
    assert all(value is not None and value >= 0 for value in ffmpeg_cpu)
    assert speed["ffmpeg_cpu_s"] == pytest.approx(sum(ffmpeg_cpu), abs=len(ffmpeg_cpu) * ROUNDING_S)
    assert speed["cpu_s"] == pytest.approx(speed["ffmpeg_cpu_s"] + speed["python_cpu_s"], abs=ROUNDING_S)
    assert speed["cpu_s"] > 0 and speed["cores"] == (os.cpu_count() or 1)
    assert speed["python_cpu_basis"] in ("process", "threads")
    assert speed["machine_share"] == pytest.approx(speed["cpu_s"] / (speed["wall_s"] * speed["cores"]), abs=0.002)


def test_an_edited_render_reports_its_encode_and_what_lies_outside_it(media: dict[str, Path], tmp_path: Path) -> None:
    job = write_job(tmp_path, media["main"],
                    f'[light]\nmode = "auto"\n[[pip]]\nsource = "{media["inset"]}"\nstart_s = 0.5\n')
    result = wayfinder("render", job)
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "out.mp4.wayfinder.json").read_text())
    speed = report["speed"]
    check_consistent(speed, report)
    assert speed["encode_passes"] == ["picture encode", "sound encode"]
    assert speed["python_cpu_basis"] == "process"  # the CLI runs one render in its process
    names = [item["name"] for item in speed["passes"]]
    for expected in ("picture encode", "sound encode", "mux", "verify the output", "wait for the picture analyses"):
        assert names.count(expected) == 1, names
    picture = next(item for item in speed["passes"] if item["name"] == "picture encode")
    # x264 encoding 90 frames costs CPU: more than nothing, whatever the load.
    assert picture["cpu_s"] > 0


def test_a_copy_video_render_counts_the_sound_encode_as_its_encode(media: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    result = wayfinder("render", media["main"], "-o", out)
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "out.mp4.wayfinder.json").read_text())
    assert report["video_mode"] == "copy"
    check_consistent(report["speed"], report)
    assert report["speed"]["encode_passes"] == ["sound encode"]


def test_the_batch_report_gives_each_job_its_share_of_the_machine(tmp_path: Path) -> None:
    (tmp_path / "media").mkdir()
    for name, frequency_hz in (("a", 440.0), ("b", 660.0)):
        make_clip(tmp_path / "media" / f"{name}.mp4", duration_s=2.0, audio=tone(-20.0, frequency_hz=frequency_hz))
    manifest = tmp_path / "manifest.toml"
    manifest.write_text("".join(f"""
[[jobs]]
name = "{name}"
preset = "youtube-draft"
input = {{ main = "media/{name}.mp4" }}
output = {{ path = "out/{name}.mp4" }}
video = {{ x264_preset = "ultrafast" }}
""" for name in ("a", "b")))
    result = wayfinder("batch", manifest, "--jobs", "2")
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "batch-report.json").read_text())
    cores = os.cpu_count() or 1
    assert report["cores"] == cores
    for job in report["jobs"]:
        render = json.loads(Path(job["render_report"]).read_text())
        speed = render["speed"]
        assert job["cpu_s"] == speed["cpu_s"] and job["machine_share"] == speed["machine_share"]
        assert job["encode_s"] == speed["encode_s"] and job["outside_encode_s"] == speed["outside_encode_s"]
        assert job["cpu_s"] > 0
    total_cpu_s = sum(job["cpu_s"] for job in report["jobs"])
    assert report["machine_share"] == pytest.approx(total_cpu_s / (report["wall_time_s"] * cores), abs=0.002)
    # The summary: each finished job's share, and the batch's.
    for job in report["jobs"]:
        assert f"{job['name']}: " in result.stderr
        assert f"{100 * job['machine_share']:.0f}% of the machine" in result.stderr
    assert f"{100 * report['machine_share']:.0f}% of the machine ({cores} cores)" in result.stderr


def test_overlapping_passes_count_once() -> None:
    assert union_s([]) == 0.0
    assert union_s([(0.0, 2.0), (1.0, 3.0)]) == pytest.approx(3.0)
    assert union_s([(0.0, 1.0), (2.0, 3.0)]) == pytest.approx(2.0)
    assert union_s([(0.0, 5.0), (1.0, 2.0)]) == pytest.approx(5.0)
