"""A damaged state database is refused, never recreated or half-read: an empty, truncated,
garbage-headed or corrupt-page `state.sqlite3` stops every command that needs it with one
line naming the file and exit 4, and leaves the file byte for byte as it was; `wayfinder
state restore` brings the queue back from a backup. The real command runs in a subprocess
on a real SQLite file; uploads go to the local YouTube-compatible server."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from tests.integration.cli import wayfinder
from tests.integration.state_files import DAMAGES, assert_one_error_line, damage, populate
from youtube_server import FakeYouTube
from youtube_server.fixtures import NAV_VARS, WayfinderEnv, make_video, wf  # noqa: F401

DAMAGED = "the state database is damaged"


@pytest.fixture
def youtube() -> Any:
    with FakeYouTube(processing_polls=0) as server:
        yield server


def state_env(state_dir: Path) -> dict[str, str]:
    return {"WAYFINDER_STATE_DIR": str(state_dir)}


@pytest.mark.parametrize("how", DAMAGES)
def test_a_damaged_state_file_is_refused_by_list_and_run_and_left_untouched(wf: WayfinderEnv, how: str) -> None:  # noqa: F811
    populate(wf.state_dir)
    state_file = wf.state_dir / "state.sqlite3"
    damaged = damage(state_file, how)

    listed = wayfinder("queue", "list")
    line = assert_one_error_line(listed, state_file, DAMAGED)
    assert "wayfinder state restore" in line  # the message says how to get the queue back
    # The runner must not take a damaged queue for an empty or deferred one (exit 0 forever, under cron).
    assert_one_error_line(wayfinder("queue", "run", "--once"), state_file, DAMAGED)
    assert state_file.read_bytes() == damaged
    assert wf.server.videos == {}


def test_queue_add_and_upload_refuse_a_damaged_state_before_sending_anything(wf: WayfinderEnv,  # noqa: F811
                                                                             tmp_path: Path) -> None:
    populate(wf.state_dir)
    state_file = wf.state_dir / "state.sqlite3"
    damaged = damage(state_file, "corrupt-index-page")
    video = make_video(tmp_path / "walkthrough.mp4", duration_s=2.0)

    added = wayfinder("queue", "add", video, "--template", "navigation", *NAV_VARS, "--skip-qa")
    assert_one_error_line(added, state_file, DAMAGED)
    uploaded = wayfinder("upload", video, "--template", "navigation", *NAV_VARS, "--skip-qa")
    assert_one_error_line(uploaded, state_file, DAMAGED)
    assert wf.server.videos == {}  # without the duplicate ledger, an upload could make a second video
    assert state_file.read_bytes() == damaged


@pytest.mark.parametrize("how", DAMAGES)
def test_restore_brings_the_queued_items_back_and_keeps_the_damaged_file(tmp_path: Path, how: str) -> None:
    state_dir = tmp_path / "state"
    titles = populate(state_dir)
    state_file = state_dir / "state.sqlite3"
    damaged = damage(state_file, how)
    env = state_env(state_dir)

    listed = wayfinder("state", "backups", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    backups = json.loads(listed.stdout)
    assert len(backups) >= 1

    restored = wayfinder("state", "restore", env=env)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert backups[0]["path"] in restored.stdout  # the newest one
    items = json.loads(wayfinder("queue", "list", "--json", env=env).stdout)["items"]
    assert [item["title"] for item in items] == titles
    assert {item["state"] for item in items} == {"pending"}
    kept = sorted(state_dir.glob("state.sqlite3.before-restore-*"))
    assert [p.read_bytes() for p in kept if not p.name.endswith(("-wal", "-shm"))] == [damaged]
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600
    assert wayfinder("state", "check", env=env).returncode == 0


def test_restore_refuses_a_sound_state_without_force_and_takes_a_named_backup(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    env = state_env(state_dir)
    titles = populate(state_dir, count=2)
    first_backup = json.loads(wayfinder("state", "backups", "--json", env=env).stdout)[0]["path"]
    populate_more = wayfinder("queue", "cancel", "1", env=env)  # a later change, not in the first backup
    assert populate_more.returncode == 0, populate_more.stderr

    refused = wayfinder("state", "restore", env=env)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "--force" in refused.stderr
    assert json.loads(wayfinder("queue", "list", "--json", env=env).stdout)["items"][0]["state"] == "cancelled"

    forced = wayfinder("state", "restore", "--from", first_backup, "--force", env=env)
    assert forced.returncode == 0, forced.stdout + forced.stderr
    items = json.loads(wayfinder("queue", "list", "--json", env=env).stdout)["items"]
    assert [(item["title"], item["state"]) for item in items] == [(t, "pending") for t in titles]


def test_a_state_file_that_exists_empty_is_not_taken_for_a_new_one(tmp_path: Path) -> None:
    """The zero-byte file of the issue, with no backup to go back to: refused, never initialized."""
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    state_file = state_dir / "state.sqlite3"
    state_file.write_bytes(b"")
    env = state_env(state_dir)
    for args in (("queue", "list"), ("queue", "run", "--once"), ("state", "check")):
        assert_one_error_line(wayfinder(*args, env=env), state_file, DAMAGED)
    assert state_file.read_bytes() == b""
    assert sorted(os.listdir(state_dir)) == ["state.sqlite3"]  # no backup, -wal or lock appeared beside it
    nothing = wayfinder("state", "restore", env=env)
    assert_one_error_line(nothing, state_file, "there are no backups")
