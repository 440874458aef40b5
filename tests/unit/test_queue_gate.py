"""The checks right before an upload: the files are the ones queued, and the loudness
passes, read from a render report of this exact file when there is one."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from pipeline.queue.gate import QaLimitsUsed, check_files_unchanged, check_loudness, judge_loudness

LIMITS = QaLimitsUsed(target_lufs=-14.0, tolerance_lu=1.0, true_peak_dbtp=-1.0)


def entry(path: Path) -> dict[str, object]:
    return {"path": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "size_bytes": path.stat().st_size}


@pytest.fixture
def not_media(tmp_path: Path) -> Path:
    path = tmp_path / "walkthrough.mp4"
    path.write_bytes(bytes(range(256)) * 400)  # not decodable: measuring it can only fail
    return path


def test_unchanged_files_pass(not_media: Path) -> None:
    assert check_files_unchanged({"video": entry(not_media)}) is None


def test_same_size_different_content_is_caught(not_media: Path) -> None:
    files = {"video": entry(not_media)}
    data = bytearray(not_media.read_bytes())
    data[5000] ^= 0xFF
    not_media.write_bytes(bytes(data))
    reason = check_files_unchanged(files)
    assert reason is not None and "walkthrough.mp4 changed on disk since it was queued" in reason


def test_a_missing_caption_file_is_caught(not_media: Path, tmp_path: Path) -> None:
    captions = tmp_path / "walk.srt"
    captions.write_text("1\n00:00:00,000 --> 00:00:01,000\nhi\n", encoding="utf-8")
    files = {"video": entry(not_media), "captions": entry(captions)}
    captions.unlink()
    reason = check_files_unchanged(files)
    assert reason is not None and reason.startswith("captions file") and "missing" in reason


@pytest.mark.parametrize(("integrated", "peak", "problems"), [
    (-14.0, -1.5, []),
    (-15.0, -1.0, []),  # exactly at the tolerance and the ceiling
    (-15.01, -3.0, ["-15.01 LUFS is 1.01 LU below the -14.00 LUFS target"]),
    (-12.5, -0.99, ["-12.50 LUFS is 1.50 LU above", "true peak -0.99 dBTP is over the -1.00 dBTP ceiling"]),
    (None, None, ["no measurable loudness"]),
])
def test_judge_loudness(integrated: float | None, peak: float | None, problems: list[str]) -> None:
    found = judge_loudness(integrated, peak, LIMITS)
    assert len(found) == len(problems)
    for text, expected in zip(found, problems):
        assert text.startswith(expected)


def write_render_report(video: Path, sha256: str, integrated: float, peak: float) -> Path:
    report = video.with_name(video.name + ".wayfinder.json")
    report.write_text(json.dumps({
        "output": {"path": str(video), "size_bytes": video.stat().st_size, "sha256": sha256},
        "measurements": {"audio": {"verified": {"output": {"integrated_lufs": integrated, "true_peak_dbtp": peak}}}},
    }), encoding="utf-8")
    return report


def test_a_render_report_of_this_file_is_used_instead_of_measuring(not_media: Path) -> None:
    sha = hashlib.sha256(not_media.read_bytes()).hexdigest()
    write_render_report(not_media, sha, -14.2, -1.8)
    verdict = check_loudness(not_media, sha, "youtube")
    assert verdict.passed and verdict.source == "render report walkthrough.mp4.wayfinder.json"
    assert (verdict.integrated_lufs, verdict.true_peak_dbtp) == (-14.2, -1.8)


def test_a_render_report_that_misses_the_target_fails_the_gate(not_media: Path) -> None:
    sha = hashlib.sha256(not_media.read_bytes()).hexdigest()
    write_render_report(not_media, sha, -23.0, -1.8)
    verdict = check_loudness(not_media, sha, "youtube")
    assert not verdict.passed
    assert verdict.reason == ("QA (render report walkthrough.mp4.wayfinder.json, preset youtube): -23.00 LUFS is "
                              "9.00 LU below the -14.00 LUFS target (±1.00 LU allowed)")


def test_the_preset_sets_the_target(not_media: Path) -> None:
    sha = hashlib.sha256(not_media.read_bytes()).hexdigest()
    write_render_report(not_media, sha, -23.0, -1.8)
    assert check_loudness(not_media, sha, "broadcast-r128").passed


def test_a_report_of_other_content_is_ignored_and_the_file_measured(not_media: Path) -> None:
    write_render_report(not_media, "0" * 64, -14.0, -1.5)  # the file was re-rendered or edited since
    verdict = check_loudness(not_media, hashlib.sha256(not_media.read_bytes()).hexdigest(), "youtube")
    assert not verdict.passed and verdict.source == "measured"
    assert "cannot read the audio" in (verdict.reason or "")
