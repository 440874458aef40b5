"""`wayfinder batch --qa`: every output is checked against its preset, verdicts land in
batch-report.json, the HTML report is written, and a failing check makes the exit 1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.batch import BatchOptions, run_batch
from tests.integration.cli import wayfinder
from tests.media import make_clip, tone

pytest.importorskip("pipeline.qa.html", reason="the QA report writer is not in this build")


def test_qa_verdicts_per_job_and_the_html_report(tmp_path: Path) -> None:
    make_clip(tmp_path / "speech.mp4", duration_s=3.0, audio=tone(-20.0, frequency_hz=1000.0))
    make_clip(tmp_path / "quiet.mp4", duration_s=3.0, audio=tone(-32.0, frequency_hz=1000.0))
    manifest = tmp_path / "manifest.toml"
    manifest.write_text(
        '[[jobs]]\nname = "normalized"\npreset = "youtube-draft"\ninput = { main = "speech.mp4" }\n'
        'output = { path = "out/normalized.mp4" }\n'
        # Not normalized: a 1 kHz stereo tone at -32 dBFS reads -32 LUFS, far from the -14 target.
        '[[jobs]]\nname = "quiet"\npreset = "youtube-draft"\ninput = { main = "quiet.mp4" }\n'
        'output = { path = "out/quiet.mp4" }\naudio = { normalize = false }\n'
    )
    result = wayfinder("batch", manifest, "--qa", "--jobs", "1")  # QA in-process: no pool start-up
    assert result.returncode == 1, result.stderr
    report = json.loads((tmp_path / "batch-report.json").read_text())
    verdicts = {job["name"]: (job["status"], job["qa"]) for job in report["jobs"]}
    assert verdicts == {"normalized": ("rendered", "pass"), "quiet": ("rendered", "fail")}
    assert report["qa_html"] == [str(tmp_path / "qa-report.html")]
    html = (tmp_path / "qa-report.html").read_text()
    assert "quiet.mp4" in html and "normalized.mp4" in html


def test_qa_is_skipped_when_no_output_exists(tmp_path: Path) -> None:
    (tmp_path / "broken.mp4").write_bytes(b"not media at all" * 100)
    manifest = tmp_path / "manifest.toml"
    manifest.write_text('[[jobs]]\nname = "broken"\ninput = { main = "broken.mp4" }\n')
    run = run_batch(manifest, BatchOptions(qa=True))
    assert run.failed and run.summary is not None
    assert [(o.name, o.status, o.qa) for o in run.summary.outcomes] == [("broken", "failed", None)]
    assert run.summary.qa_html == [] and not (tmp_path / "qa-report.html").exists()


def test_queue_uploads_adds_only_outputs_that_pass_qa(tmp_path: Path) -> None:
    make_clip(tmp_path / "speech.mp4", duration_s=3.0, audio=tone(-20.0, frequency_hz=1000.0))
    make_clip(tmp_path / "quiet.mp4", duration_s=3.0, audio=tone(-32.0, frequency_hz=1000.0))
    manifest = tmp_path / "manifest.toml"
    manifest.write_text(
        '[[jobs]]\nname = "normalized"\npreset = "youtube-draft"\ninput = { main = "speech.mp4" }\n'
        'output = { path = "out/normalized.mp4" }\n'
        'youtube = { title = "Parking ramp to clinic desk", privacy = "private" }\n'
        '[[jobs]]\nname = "quiet"\npreset = "youtube-draft"\ninput = { main = "quiet.mp4" }\n'
        'output = { path = "out/quiet.mp4" }\naudio = { normalize = false }\n'
        'youtube = { title = "Too quiet", privacy = "private" }\n'
    )
    result = wayfinder("batch", manifest, "--queue-uploads", "--jobs", "1")
    assert result.returncode == 1, result.stderr  # the quiet output fails QA
    report = {job["name"]: job for job in json.loads((tmp_path / "batch-report.json").read_text())["jobs"]}
    assert report["normalized"]["queued"].startswith("queued as item ")
    assert report["quiet"]["queued"] == "not queued: QA fail"

    listed = wayfinder("queue", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    items = json.loads(listed.stdout)["items"]
    assert [(i["state"], Path(i["video"]).name, i["title"]) for i in items] == [
        ("pending", "normalized.mp4", "Parking ramp to clinic desk")
    ]
