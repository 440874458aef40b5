"""An output path is never a source: `render` and `batch` refuse a job whose output is
its own input, an inset, a card's audio or another job's input, whether by the same
path, a symlink or a hard link, and leave the source byte for byte as it was."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from tests.integration.cli import leftovers, wayfinder
from tests.integration.jobs import write_job
from tests.media import make_clip, tone


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return make_clip(tmp_path / "raw take.mp4", duration_s=1.0, audio=tone(-20.0))


def assert_refused(result, source: Path, output: Path, how: str) -> None:
    assert result.returncode == 3, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert str(output) in lines[0] and str(source) in lines[0] and how in lines[0], lines[0]
    assert "--force" not in lines[0]  # never invite the producer to overwrite the source


@pytest.mark.parametrize("force", [False, True])
def test_render_refuses_its_own_input_as_output(clip: Path, force: bool) -> None:
    before = digest(clip)
    result = wayfinder("render", clip, "-o", clip, *(["--force"] if force else []))
    assert_refused(result, clip, clip, "same path")
    assert digest(clip) == before
    assert leftovers(clip.parent) == []


def test_render_refuses_a_symlink_to_its_input(clip: Path) -> None:
    link = clip.with_name("link.mp4")
    link.symlink_to(clip)
    before = digest(clip)
    result = wayfinder("render", clip, "-o", link, "--force")
    assert_refused(result, clip, link, "symlink")
    assert digest(clip) == before and link.is_symlink()


def test_render_refuses_a_hard_link_to_its_input(clip: Path) -> None:
    hard = clip.with_name("hard.mp4")
    os.link(clip, hard)
    before = digest(clip)
    result = wayfinder("render", clip, "-o", hard, "--force")
    assert_refused(result, clip, hard, "hard link")
    assert digest(clip) == before and hard.stat().st_nlink == 2


def test_render_refuses_an_output_that_is_an_inset_or_card_audio(tmp_path: Path, clip: Path) -> None:
    inset = make_clip(tmp_path / "inset.mp4", duration_s=1.0, audio=tone(-20.0, frequency_hz=660.0))
    jingle = make_clip(tmp_path / "jingle.m4a", duration_s=1.0, size=None, audio=tone(-20.0, frequency_hz=880.0))
    for output, source, role in ((inset, inset, "inset"), (jingle, jingle, "intro card audio")):
        job = write_job(tmp_path, clip, f"""
[[pip]]
source = "{inset}"
corner = "top-right"
[intro]
lines = ["Parking"]
duration_s = 1.0
audio = "{jingle}"
""", output=str(output))
        before = digest(source)
        for dry_run in ([], ["--dry-run"]):
            result = wayfinder("render", job, "--force", *dry_run)
            assert_refused(result, source, output, "same path")
            assert role in result.stderr
            assert str(job) in result.stderr
        assert digest(source) == before


def test_batch_refuses_outputs_that_are_sources_and_renders_the_rest(tmp_path: Path) -> None:
    media = tmp_path / "media"
    media.mkdir()
    for name, frequency_hz in (("a", 440.0), ("b", 660.0), ("c", 880.0)):
        make_clip(media / f"{name}.mp4", duration_s=1.0, audio=tone(-20.0, frequency_hz=frequency_hz))
    os.link(media / "b.mp4", media / "b-copy.mp4")
    (media / "c-link.mp4").symlink_to(media / "c.mp4")
    manifest = tmp_path / "manifest.toml"
    manifest.write_text("""
[[jobs]]
name = "self"
preset = "youtube-draft"
input = { main = "media/a.mp4" }
output = { path = "media/a.mp4" }

[[jobs]]
name = "hard"
preset = "youtube-draft"
input = { main = "media/c.mp4" }
output = { path = "media/b-copy.mp4" }

[[jobs]]
name = "reader"
preset = "youtube-draft"
input = { main = "media/b.mp4" }
output = { path = "out/b.mp4" }

[[jobs]]
name = "symlink"
preset = "youtube-draft"
input = { main = "media/b.mp4" }
output = { path = "media/c-link.mp4" }
""")
    sources = {name: digest(media / f"{name}.mp4") for name in ("a", "b", "c")}

    for run in range(2):
        result = wayfinder("batch", manifest)
        assert result.returncode == 1, result.stderr
        report = json.loads((tmp_path / "batch-report.json").read_text())
        status = {job["name"]: (job["status"], job["reason"]) for job in report["jobs"]}
        assert status["reader"][0] == ("rendered" if run == 0 else "up-to-date")
        for name, source, output, how in (
            ("self", media / "a.mp4", media / "a.mp4", "same path"),
            ("hard", media / "b.mp4", media / "b-copy.mp4", "hard link"),
            ("symlink", media / "c.mp4", media / "c-link.mp4", "symlink"),
        ):
            state, reason = status[name]
            assert state == "failed", (name, status)
            assert str(source) in reason and str(output) in reason and how in reason, reason
        assert "job 'hard'" in status["hard"][1] or "job 'reader'" in status["hard"][1]
        assert {name: digest(media / f"{name}.mp4") for name in sources} == sources
        assert leftovers(tmp_path) == []
