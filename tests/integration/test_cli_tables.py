"""Tables at 80 columns: whole file names (paths shortened from the left, relative to the
working folder), every failure with its reason, and QA of a file that is not media
worded as a render words it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.media import make_clip, tone

pytest.importorskip("pipeline.qa.html", reason="the QA report writer is not in this build")

DEEP = Path("library/2026/cardiology/outpatient/wayfinding")  # a real library is deep


def run80(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`wayfinder ARGS` as a producer runs it in an 80-column terminal, from `cwd`."""
    return subprocess.run([sys.executable, "-m", "pipeline.cli.app", *map(str, args)], capture_output=True,
                          text=True, timeout=600, cwd=cwd, env={**os.environ, "COLUMNS": "80"})


def table_lines(text: str) -> list[str]:
    """The table's lines: up to the reason lines, which are one line each however long."""
    lines = []
    for line in text.splitlines():
        if line.startswith(("  FAIL", "  WARN", "QA ", "queue ", "failed ")):
            break
        lines.append(line)
    return lines


def test_qa_table_keeps_whole_file_names_at_80_columns(tmp_path: Path) -> None:
    folder = tmp_path / DEEP
    folder.mkdir(parents=True)
    names = ["walkthrough.mp4", "parking-ramp-west.mp4"]
    for name in names:
        make_clip(folder / name, duration_s=2.0, audio=tone(-20.0))
    done = run80("qa", DEEP, cwd=tmp_path)
    lines = table_lines(done.stdout)
    assert lines, done.stdout + done.stderr
    assert max(len(line) for line in lines) <= 80
    for name in names:
        assert any(name in line for line in lines), f"{name} split or cut:\n{done.stdout}"
    assert str(tmp_path) not in done.stdout  # relative to the working folder


def test_qa_of_a_file_that_is_not_media_says_so_as_render_does(tmp_path: Path) -> None:
    (tmp_path / "notes.mp4").write_text("meeting notes, not a video\n")
    render = run80("render", "notes.mp4", "-o", "out.mp4", cwd=tmp_path)
    assert render.returncode == 3
    render_words = render.stderr.strip().splitlines()[-1].split("notes.mp4: ", 1)[1]
    assert render_words.startswith("not a media file")
    qa = run80("qa", "notes.mp4", cwd=tmp_path)
    assert qa.returncode == 1
    assert f"notes.mp4: readable: cannot read the audio: {render_words}" in qa.stdout
    assert "Errno" not in qa.stdout and "Invalid data" not in qa.stdout


def test_batch_shows_paths_whole_and_every_failure_with_its_reason(tmp_path: Path) -> None:
    make_clip(tmp_path / "speech.mp4", duration_s=2.0, audio=tone(-20.0))
    make_clip(tmp_path / "quiet.mp4", duration_s=2.0, audio=tone(-32.0))
    out = f"{DEEP}/out"
    manifest = tmp_path / "manifest.toml"
    manifest.write_text(
        # Normalized, passes QA, but its title is empty: the queue refuses its metadata.
        f'[[jobs]]\nname = "untitled"\npreset = "youtube-draft"\ninput = {{ main = "speech.mp4" }}\n'
        f'output = {{ path = "{out}/untitled-walkthrough.mp4" }}\n'
        'youtube = { title = "", privacy = "private" }\n'
        # Not normalized: a 1 kHz tone at -32 dBFS reads about -32 LUFS, far below the -14 target.
        f'[[jobs]]\nname = "quiet"\npreset = "youtube-draft"\ninput = {{ main = "quiet.mp4" }}\n'
        f'output = {{ path = "{out}/quiet-walkthrough.mp4" }}\naudio = {{ normalize = false }}\n'
    )
    dry = run80("batch", "manifest.toml", "--dry-run", cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    for name in ("untitled-walkthrough.mp4", "quiet-walkthrough.mp4"):
        assert any(name in line for line in table_lines(dry.stdout)), dry.stdout
    assert max(len(line) for line in table_lines(dry.stdout)) <= 80

    done = run80("batch", "manifest.toml", "--queue-uploads", "--jobs", "1", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    lines = table_lines(done.stdout)
    assert max(len(line) for line in lines) <= 80
    for name in ("untitled-walkthrough.mp4", "quiet-walkthrough.mp4"):
        assert any(name in line for line in lines), done.stdout
    words = " ".join(done.stdout.split())
    assert "QA fail quiet: fail integrated_loudness:" in words, done.stdout
    assert "LUFS target" in words
    assert "title: must not be empty" in words, done.stdout

    report = {job["name"]: job for job in json.loads((tmp_path / "batch-report.json").read_text())["jobs"]}
    assert report["quiet"]["qa"] == "fail"
    assert "integrated_loudness" in report["quiet"]["qa_reason"]
    assert report["untitled"]["queued"].startswith("queue error: ")
    assert "title: must not be empty" in report["untitled"]["queued"]


def test_render_notes_are_one_line_each_in_a_log_at_80_columns(tmp_path: Path) -> None:
    # A guard: a log (stderr to a file) must hold each note and the result on one line,
    # however long, so it can be grepped. The output name makes the result line long.
    make_clip(tmp_path / "clip.mp4", duration_s=2.0, audio=tone(-30.0))
    out = "out/riverside-clinic-from-the-parking-ramp-to-the-clinic-desk-review-copy.mp4"
    done = run80("render", "clip.mp4", "-o", out, "--preset", "youtube-draft", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    notes = [line for line in lines if line.startswith("note: ")]
    assert notes and all(line.startswith(("note: ", "rendered ")) for line in lines), done.stderr
    (result,) = [line for line in lines if line.startswith("rendered ")]
    assert len(result) > 80 and result.endswith(" s)")
