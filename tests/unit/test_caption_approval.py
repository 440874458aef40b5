"""Caption approvals in the real SQLite state file: what the publish gate says for no
approval, a matching one, captions edited after it and an output rendered again, and what
`captions status` reports for each. Hashes are the files' own (hashlib here)."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from pathlib import Path

import pytest

from pipeline.captions.approval import approval_problem, judge
from pipeline.captions.approval_store import open_approvals, read_approvals


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    monkeypatch.setenv("WAYFINDER_STATE_DIR", str(tmp_path / "state"))
    video, captions = tmp_path / "walk.mp4", tmp_path / "walk.en.vtt"
    video.write_bytes(b"not really a video, but its bytes have a sha256")
    captions.write_text("WEBVTT\n\n00:01.000 --> 00:03.000\nTake the lift to floor 3.\n", encoding="utf-8")
    return video, captions


def record(video: Path, captions: Path, by: str) -> None:
    with open_approvals() as store:
        store.record(output_path=video.resolve(), output_sha256=hashlib.sha256(video.read_bytes()).hexdigest(),
                     captions_path=captions.resolve(),
                     captions_sha256=hashlib.sha256(captions.read_bytes()).hexdigest(), approved_by=by)


def test_no_database_no_approval_and_nothing_created(files: tuple[Path, Path], tmp_path: Path) -> None:
    video, captions = files
    problem = approval_problem(video, captions)
    assert problem is not None and "walk.en.vtt is not approved for walk.mp4" in problem
    assert f"wayfinder captions approve {video} --by \"NAME\" --captions {captions}" in problem
    assert not (tmp_path / "state").exists()  # a dry run's check leaves no database behind


def test_a_matching_approval_passes_and_an_edit_voids_it(files: tuple[Path, Path]) -> None:
    video, captions = files
    record(video, captions, "Dana")
    assert approval_problem(video, captions) is None
    assert [judge(a).status for a in read_approvals(video.resolve())] == ["current"]
    captions.write_text(captions.read_text(encoding="utf-8").replace("3", "4"), encoding="utf-8")
    problem = approval_problem(video, captions)
    assert problem is not None and "walk.en.vtt changed after Dana approved it at" in problem
    assert re.search(r"approved it at \d{4}-\d{2}-\d{2} \d{2}:\d{2} \S+ \(its sha256 differs\)", problem)  # zone named
    assert [judge(a).status for a in read_approvals(video.resolve())] == ["captions changed"]


def test_an_output_rendered_again_needs_a_new_approval(files: tuple[Path, Path]) -> None:
    video, captions = files
    record(video, captions, "Dana")
    video.write_bytes(b"a new render")
    problem = approval_problem(video, captions)
    assert problem is not None and "approved for another render of walk.mp4" in problem
    assert [judge(a).status for a in read_approvals(video.resolve())] == ["output changed"]
    captions.unlink()
    assert [judge(a).status for a in read_approvals(None)] == ["captions missing"]


def test_the_table_has_its_own_schema_version_and_keeps_every_review(files: tuple[Path, Path],
                                                                      tmp_path: Path) -> None:
    video, captions = files
    record(video, captions, "Dana")
    record(video, captions, "Lee")  # reopening runs no migration twice
    db = sqlite3.connect(tmp_path / "state" / "state.sqlite3")
    try:
        assert db.execute("SELECT version FROM caption_approvals_schema").fetchall() == [(1,)]
        assert db.execute("SELECT approved_by FROM caption_approvals ORDER BY id").fetchall() == [("Dana",), ("Lee",)]
        assert db.execute("PRAGMA user_version").fetchone()[0] >= 1  # the state store's own tables are there too
    finally:
        db.close()
