"""docs/youtube.md stays true: its dry-run examples run against sample-like media, its upload
examples pass the loudness gate (a rendered file with its render report, or `--skip-qa`) and
run against the local YouTube-compatible server, and the template and quota it shows match
what ships."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import hashlib
from typing import Any

import pytest

from youtube_server import FakeYouTube
from youtube_server.fixtures import WayfinderEnv, make_video, run_wayfinder

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "youtube.md"
SAMPLE_SRT = """1
00:00:00,000 --> 00:00:04,800
Welcome to the Riverside Clinic
walkthrough.

2
00:00:05,000 --> 00:00:09,800
From the parking ramp,
take the lift to level 2.

3
00:00:10,000 --> 00:00:14,800
Follow the blue line
to the main entrance.

4
00:00:15,000 --> 00:00:19,800
The clinic desk is on your right,
past the pharmacy.
"""

def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def dry_run_commands() -> list[list[str]]:
    commands = []
    for block in code_blocks("console"):
        for line in block.splitlines():
            line = line.strip()
            if line.startswith("$ wayfinder upload") and "--dry-run" in line:
                commands.append(shlex.split(line[2:])[1:])
    return commands


def approve_commands() -> list[list[str]]:
    """The doc's `wayfinder captions approve` examples (a public upload needs a recorded review)."""
    return [shlex.split(line.strip()[2:])[1:] for block in code_blocks("console") for line in block.splitlines()
            if line.strip().startswith("$ wayfinder captions approve")]


def upload_commands() -> list[list[str]]:
    """The doc's real (not dry-run) `wayfinder upload` examples."""
    commands = []
    for block in code_blocks("console"):
        for line in block.splitlines():
            line = line.strip()
            if line.startswith("$ wayfinder upload") and "--dry-run" not in line:
                commands.append(shlex.split(line[2:])[1:])
    return commands


@pytest.fixture
def youtube() -> Any:
    with FakeYouTube(processing_polls=0) as server:  # processed at the first --wait poll
        yield server


@pytest.fixture(scope="module")
def samples_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder laid out like the repository after `make demo` (20 s walkthrough and its captions)."""
    root = tmp_path_factory.mktemp("repo")
    media = root / "samples" / "media"
    media.mkdir(parents=True)
    make_video(media / "walkthrough.mp4", duration_s=20.0, bitrate_kbps=300)
    (media / "walkthrough.srt").write_text(SAMPLE_SRT, encoding="utf-8")
    # What `make demo` renders: samples/out/walkthrough.mp4 and its render report, which records
    # the output's sha256 and the loudness verified on it (the youtube preset's -14 LUFS target).
    (root / "samples" / "out").mkdir()
    out = make_video(root / "samples" / "out" / "walkthrough.mp4", duration_s=20.0, bitrate_kbps=300)
    (out.parent / "walkthrough.mp4.wayfinder.json").write_text(json.dumps({
        "output": {"path": "walkthrough.mp4", "sha256": hashlib.sha256(out.read_bytes()).hexdigest()},
        "measurements": {"audio": {"verified": {"output": {"integrated_lufs": -14.0, "true_peak_dbtp": -1.2}}}},
    }))
    jobs = root / "samples" / "jobs"
    jobs.mkdir()
    shutil.copy(REPO / "samples" / "jobs" / "walkthrough.toml", jobs / "walkthrough.toml")
    for block in code_blocks("toml"):
        first = block.splitlines()[0]
        if first.startswith("# samples/"):
            target = root / first[2:].strip()
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block, encoding="utf-8")
    return root


def test_the_job_files_the_doc_shows_ship_as_shown() -> None:
    shown = [block for block in code_blocks("toml") if block.startswith("# samples/")]
    assert shown
    for block in shown:
        shipped = REPO / block.splitlines()[0][2:].strip()
        assert shipped.is_file(), f"docs/youtube.md shows {shipped.relative_to(REPO)}, which does not exist"
        assert shipped.read_text(encoding="utf-8") == block


def test_the_doc_has_dry_run_examples_for_templates_jobs_and_the_policy() -> None:
    commands = dry_run_commands()
    assert len(commands) >= 4
    assert any("--template" in c for c in commands) and any("--job" in c for c in commands)
    assert any("--preset" in c and "public" in c for c in commands)


@pytest.mark.parametrize("args", dry_run_commands(), ids=lambda args: " ".join(args[1:4]))
def test_dry_run_example_runs(args: list[str], samples_root: Path, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(samples_root)
    monkeypatch.setenv("WAYFINDER_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("WAYFINDER_STATE_DIR", str(tmp_path / "state"))
    for approve in approve_commands():  # as the doc shows, before its public upload
        done = subprocess.run([sys.executable, "-m", "pipeline.cli.app", *approve], capture_output=True, text=True,
                              cwd=samples_root, timeout=300)
        assert done.returncode == 0, done.stderr
    state = tmp_path / "state"
    before = {path: path.read_bytes() for path in state.rglob("*") if path.is_file()}
    result = run_wayfinder(*args)
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["dry_run"] is True and plan["requests"][1]["method"] == "videos.insert"
    assert {path: path.read_bytes() for path in state.rglob("*") if path.is_file()} == before  # nothing written


def test_every_upload_example_passes_the_loudness_gate() -> None:
    commands = upload_commands()
    assert commands, "the quick start shows an upload"
    for args in commands:
        assert "--skip-qa" in args or args[1].startswith("samples/out/"), (
            f"{' '.join(args)}: a raw file without a render report is refused by the loudness gate")


@pytest.mark.parametrize("args", upload_commands(), ids=lambda args: " ".join(args[1:4]))
def test_upload_example_runs_against_the_local_server(args: list[str], samples_root: Path, wf: WayfinderEnv,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(samples_root)
    result = run_wayfinder(*args)
    assert result.exit_code == 0, result.output
    [video_id] = wf.server.videos
    assert f"walkthrough.mp4: uploaded: https://www.youtube.com/watch?v={video_id} (private)" in result.stdout
    record = samples_root / (args[1] + ".youtube.json")
    assert json.loads(record.read_text())["video_id"] == video_id
    record.unlink()  # the module's sample folder is shared: leave it as `make demo` does


def test_the_navigation_template_shown_is_the_one_shipped() -> None:
    shipped = (REPO / "presets" / "templates" / "navigation.toml").read_text(encoding="utf-8")
    shown = next(block for block in code_blocks("toml") if block.startswith("title = "))
    for line in shown.splitlines():
        if line.startswith(("title", "category", "privacy", "playlist")):
            assert line in shipped.splitlines() or line.split("#")[0].strip() in [
                s.split("#")[0].strip() for s in shipped.splitlines()], line


def test_the_quota_table_shown_matches_the_defaults() -> None:
    from pipeline.youtube.quota import QuotaTable

    text = DOC.read_text(encoding="utf-8")
    table = QuotaTable()
    for method in ("videos.insert", "captions.insert", "thumbnails.set", "playlists.insert",
                   "playlistItems.insert", "playlists.list", "videos.list"):
        bucket, cost = table.cost(method)
        row = next(line for line in text.splitlines() if line.startswith("|") and f"`{method}`" in line)
        assert row.rstrip(" |").endswith(f"| {cost}"), row
        assert bucket in row
