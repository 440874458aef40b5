"""What is not a publishable video is refused before any quota is spent or anything is
queued: a text file named .mp4, a truncated MP4, audio only (probed with the checks a
render applies to its inputs, exit 3); and a direct upload passes the loudness gate the
queue applies, from a render report of this exact file or measured now, unless
`--skip-qa` (exit 1 naming the report that is missing or failing)."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

from tests.integration.test_queue_support import items, nav_args, wayfinder
from youtube_server.fixtures import NAV_VARS, WayfinderEnv, run_wayfinder


def upload_args(video: Path, *extra: str) -> list[str]:
    return ["upload", str(video), "--template", "navigation", *NAV_VARS, "--chunk-kib", "256", *extra]


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def render_report(video: Path, integrated_lufs: float, true_peak_dbtp: float) -> Path:
    """A render report as pipeline.render writes it: this output's sha256 and its verified loudness."""
    report = video.with_name(video.name + ".wayfinder.json")
    report.write_text(json.dumps({
        "output": {"path": video.name, "sha256": hashlib.sha256(video.read_bytes()).hexdigest()},
        "measurements": {"audio": {"verified": {"output": {"integrated_lufs": integrated_lufs,
                                                           "true_peak_dbtp": true_peak_dbtp}}}},
    }))
    return report


def test_a_text_file_is_not_uploaded(wf: WayfinderEnv, tmp_path: Path) -> None:
    notes = tmp_path / "notes.mp4"
    notes.write_text("Parking ramp, then the lift to floor 3.\n" * 200)
    for extra in ((), ("--skip-qa",)):
        result = run_wayfinder(*upload_args(notes, *extra))
        assert result.exit_code == 3, result.output
        [line] = error_lines(result.stderr)
        assert "notes.mp4" in line and "not a media file" in line
    assert wf.server.log == [], "a request reached YouTube"


def test_audio_only_is_not_uploaded(wf: WayfinderEnv, tmp_path: Path) -> None:
    from pipeline.media import find_ffmpeg

    audio = tmp_path / "voice.mp4"
    subprocess.run([find_ffmpeg(), "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=2",
                    "-c:a", "aac", str(audio)], check=True, timeout=60)
    result = run_wayfinder(*upload_args(audio, "--skip-qa"))
    assert result.exit_code == 3
    [line] = error_lines(result.stderr)
    assert "voice.mp4" in line and "no video stream" in line
    assert wf.server.log == []


def test_queue_add_refuses_a_truncated_mp4_and_a_text_file(wf: WayfinderEnv, video: Path) -> None:
    truncated = video.with_name("cut.mp4")
    data = video.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])  # a copy that stopped half way
    result = wayfinder("queue", "add", truncated, *nav_args("A"), "--skip-qa")
    assert result.exit_code == 3, result.output
    [line] = error_lines(result.stderr)
    assert "cut.mp4" in line and "truncated" in line

    notes = video.with_name("notes.mp4")
    notes.write_text("not a video\n" * 100)
    result = wayfinder("queue", "add", notes, *nav_args("B"), "--skip-qa")
    assert result.exit_code == 3 and "notes.mp4" in result.stderr and "not a media file" in result.stderr
    assert items() == []


def test_a_raw_file_without_a_report_is_refused_unless_skip_qa(wf: WayfinderEnv, video: Path) -> None:
    # The sample's audio is a 440 Hz sine at amplitude 1/8 (about -21.8 LUFS): far below -14.
    refused = run_wayfinder(*upload_args(video))
    assert refused.exit_code == 1, refused.output
    [line] = error_lines(refused.stderr)
    assert "walkthrough.mp4" in line and "no render report" in line and "walkthrough.mp4.wayfinder.json" in line
    assert "below the -14.00 LUFS target" in line and "--skip-qa" in line
    assert wf.server.log == [], "a request reached YouTube"

    accepted = run_wayfinder(*upload_args(video, "--skip-qa"))
    assert accepted.exit_code == 0, accepted.output
    assert len(wf.server.videos) == 1


def test_a_failing_render_report_is_named_and_a_passing_one_lets_it_through(wf: WayfinderEnv, video: Path) -> None:
    render_report(video, -26.5, -3.0)
    refused = run_wayfinder(*upload_args(video))
    assert refused.exit_code == 1
    [line] = error_lines(refused.stderr)
    assert "render report walkthrough.mp4.wayfinder.json" in line and "-26.50 LUFS" in line
    assert wf.server.log == []

    render_report(video, -14.2, -1.5)
    passed = run_wayfinder(*upload_args(video))
    assert passed.exit_code == 0, passed.output
    assert len(wf.server.videos) == 1
