"""`wayfinder captions approve` / `captions status` and the publish gate that needs an
approval, end to end: real ffmpeg makes the programme (tone-burst "speech" at known times,
from test_captions_check), approvals go to the real SQLite state file, and uploads go to
the local YouTube-compatible server over real HTTP.

Expected hashes are computed here from the files' bytes; the expected languages come from
the preset written here."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from tests.integration.cli import wayfinder
from tests.integration.test_captions_check import GOOD, programme, write  # noqa: F401 - programme is a fixture
from youtube_server.fixtures import WayfinderEnv, run_wayfinder

UPLOAD = ["--template", "navigation", "--var", "location=R", "--var", "building=B", "--var", "floor=1",
          "--var", "department=D", "--var", "phone=1", "--preset", "clinic"]


def captions_cli(*args: str) -> tuple[int, str, str]:
    """`wayfinder ARGS` in a process of its own (the state folder comes from the environment)."""
    done = wayfinder(*args)
    return done.returncode, done.stdout, done.stderr


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def clinic(wf: WayfinderEnv, programme: Path, tmp_path: Path) -> tuple[Path, Path]:  # noqa: F811
    """A preset that requires captions for public uploads; the programme and good captions."""
    (wf.config_dir / "presets").mkdir(parents=True, exist_ok=True)
    (wf.config_dir / "presets" / "clinic.toml").write_text(
        '[publish]\nrequire_captions = true\n[captions]\nlanguage = "es"\n')
    video = tmp_path / "walk.mp4"
    video.write_bytes(programme.read_bytes())
    return video, write(tmp_path, "walk.en.srt", GOOD)


def approvals_in_database(wf: WayfinderEnv) -> list[sqlite3.Row]:
    db = sqlite3.connect(wf.state_dir / "state.sqlite3")
    db.row_factory = sqlite3.Row
    try:
        return db.execute("SELECT * FROM caption_approvals ORDER BY id").fetchall()
    finally:
        db.close()


def test_an_approval_is_recorded_with_both_hashes_and_listed(wf: WayfinderEnv, clinic: tuple[Path, Path]) -> None:
    video, captions = clinic
    code, out, err = captions_cli("captions", "approve", str(video), "--by", "Dana Reviewer", "--preset", "clinic")
    assert code == 0, err  # the file beside the output (walk.en.srt) is found
    assert "walk.en.srt" in out and "Dana Reviewer" in out
    [row] = approvals_in_database(wf)
    assert row["output_path"] == str(video.resolve()) and row["output_sha256"] == sha256(video)
    assert row["captions_path"] == str(captions.resolve()) and row["captions_sha256"] == sha256(captions)
    assert row["approved_by"] == "Dana Reviewer" and row["approved_at"].endswith("+00:00")

    listed = json.loads(captions_cli("captions", "status", str(video), "--json")[1])["approvals"]
    assert [(a["approved_by"], a["status"], a["captions_sha256"]) for a in listed] == [
        ("Dana Reviewer", "current", sha256(captions))]
    assert listed[0]["time_zone"] and listed[0]["approved_at_utc"] == row["approved_at"]
    text = wayfinder("captions", "status", env={"COLUMNS": "80", "TZ": "America/Chicago"})
    assert text.returncode == 0, text.stderr
    assert all(len(line) <= 80 for line in text.stdout.splitlines()), text.stdout
    assert "Dana Reviewer" in text.stdout and "current" in text.stdout
    assert " CST" in text.stdout or " CDT" in text.stdout  # the time in the producer's zone, named
    # The state database with the new table still passes its check and backs up.
    assert wayfinder("state", "check").returncode == 0
    assert wayfinder("state", "backup").returncode == 0


def test_captions_that_fail_the_rules_cannot_be_approved(wf: WayfinderEnv, clinic: tuple[Path, Path]) -> None:
    video, captions = clinic
    late = write(captions.parent, "late.srt", "1\n00:00:02,000 --> 00:00:03,000\nLate.\n")  # speech began at 1.0 s
    code, _out, err = captions_cli("captions", "approve", str(video), "--by", "Dana", "--captions", str(late))
    assert code == 1, err
    assert "late.srt: caption 1 at 00:00:02.000: onset" in err
    assert not (wf.state_dir / "state.sqlite3").exists() or approvals_in_database(wf) == []
    assert captions_cli("captions", "approve", str(video), "--by", "  ", "--captions", str(captions))[0] == 2


def test_the_publish_gate_needs_an_approval_whose_hash_still_matches(
        wf: WayfinderEnv, clinic: tuple[Path, Path]) -> None:
    video, captions = clinic
    public = [*UPLOAD, "--privacy", "public", "--captions", str(captions), "--dry-run"]
    refused = run_wayfinder("upload", str(video), *public)
    assert refused.exit_code == 3, refused.output
    assert "walk.en.srt is not approved for walk.mp4" in refused.stderr
    assert f"wayfinder captions approve {video} --by \"NAME\" --captions {captions}" in refused.stderr
    # A private review upload needs no approval.
    review = run_wayfinder("upload", str(video), *UPLOAD, "--privacy", "private", "--captions", str(captions),
                           "--dry-run")
    assert review.exit_code == 0, review.output

    assert captions_cli("captions", "approve", str(video), "--by", "Dana", "--captions", str(captions))[0] == 0
    approved = run_wayfinder("upload", str(video), *public)
    assert approved.exit_code == 0, approved.output

    # Edited after approval (still passing the rules): refused until approved again.
    captions.write_text(GOOD.replace("floor 3", "floor 4"), encoding="utf-8")
    changed = run_wayfinder("upload", str(video), *public)
    assert changed.exit_code == 3, changed.output
    assert "walk.en.srt changed after Dana approved it" in changed.stderr and "captions approve" in changed.stderr
    status = json.loads(captions_cli("captions", "status", str(video), "--json")[1])["approvals"]
    assert [a["status"] for a in status] == ["captions changed"]
    assert captions_cli("captions", "approve", str(video), "--by", "Lee", "--captions", str(captions))[0] == 0
    assert run_wayfinder("upload", str(video), *public).exit_code == 0
    assert [row["approved_by"] for row in approvals_in_database(wf)] == ["Dana", "Lee"]  # history kept
    assert wf.server.log == []


def test_queue_add_is_refused_without_an_approval(wf: WayfinderEnv, clinic: tuple[Path, Path]) -> None:
    video, captions = clinic
    args = ["queue", "add", str(video), *UPLOAD, "--privacy", "public", "--captions", str(captions)]
    code, _out, err = captions_cli(*args)
    assert code == 3, err
    assert "not approved" in err and "wayfinder captions approve" in err


def test_an_approved_upload_sends_the_captions_language_as_default_audio_language(
        wf: WayfinderEnv, clinic: tuple[Path, Path]) -> None:
    video, captions = clinic
    # A template that names no audio language (the built-in navigation template says "en").
    (wf.config_dir / "templates").mkdir(parents=True, exist_ok=True)
    (wf.config_dir / "templates" / "plain.toml").write_text('title = "Walk"\ndescription = "The way in."\n')
    assert captions_cli("captions", "approve", str(video), "--by", "Dana", "--preset", "clinic")[0] == 0
    result = run_wayfinder("upload", str(video), "--template", "plain", "--preset", "clinic", "--privacy", "public",
                           "--captions", str(captions), "--skip-qa", "--json")
    assert result.exit_code == 0, result.output
    video_id = json.loads(result.stdout)["video_id"]
    # What the server received in videos.insert, and the caption track's language: the preset's.
    assert wf.server.videos[video_id]["snippet"]["defaultAudioLanguage"] == "es"
    [track] = wf.server.captions
    assert track["snippet"]["language"] == "es" and track["content"] == captions.read_bytes()
