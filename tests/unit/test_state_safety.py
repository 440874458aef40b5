"""The state database's safety rules on a real SQLite file: backups rotate and are whole,
private and sound; a reading command takes none; racing creators share one database;
a lock held too long and a failing state stop a queue run as one StateError."""

from __future__ import annotations

import sqlite3
import stat
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pipeline.errors import EXIT_TOOL_OR_CREDENTIALS, StateError
from pipeline.queue.decide import RetrySettings, decide
from pipeline.queue.store import NewItem, QueueStore
from pipeline.state_backup import list_backups

T0 = datetime(2025, 3, 10, 17, 0, tzinfo=timezone.utc)


def new_item(n: int) -> NewItem:
    return NewItem(video_path=f"/media/{n}.mp4", title=f"title {n}", file_sha256=f"{n:064x}", file_size_bytes=1000,
                   priority=0, not_before=None, publish_at=None, skip_qa=True, qa_preset="youtube",
                   snapshot={"files": {}}, planned_calls=["videos.insert"])


def titles_in(path: Path) -> list[str]:
    db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        assert db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        return [row[0] for row in db.execute("SELECT title FROM queue_items ORDER BY id")]
    finally:
        db.close()


def test_backups_rotate_keep_the_newest_and_are_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAYFINDER_STATE_BACKUPS", "2")
    state = tmp_path / "state"
    for n in range(4):  # four commands that each queue one item
        with QueueStore.open(state) as store:
            store.add(new_item(n), T0)
    backups = list_backups(state / "state.sqlite3")
    assert len(backups) == 2
    assert titles_in(backups[0].path) == [f"title {n}" for n in range(4)]  # newest first
    assert titles_in(backups[1].path) == [f"title {n}" for n in range(3)]
    for backup in backups:
        assert stat.S_IMODE(backup.path.stat().st_mode) == 0o600
        assert not backup.path.with_name(backup.path.name + "-wal").exists()  # whole in one file
    assert stat.S_IMODE((state / "backups").stat().st_mode) == 0o700
    assert not list((state / "backups").glob(".*"))  # no partial copy left


def test_a_command_that_only_reads_takes_no_backup(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with QueueStore.open(state) as store:
        store.add(new_item(1), T0)
    before = list_backups(state / "state.sqlite3")
    with QueueStore.open(state) as store:
        assert len(store.items()) == 1
    assert list_backups(state / "state.sqlite3") == before


def test_processes_creating_the_state_at_once_share_one_database(tmp_path: Path) -> None:
    state = tmp_path / "state"
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def add(n: int) -> None:
        try:
            start.wait()
            with QueueStore.open(state) as store:
                store.add(new_item(n), T0)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=add, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with QueueStore.open(state) as store:
        assert sorted(item.title for item in store.items()) == [f"title {n}" for n in range(6)]
    assert not [p for p in state.iterdir() if p.name.startswith(".state.sqlite3.new-")]


def test_a_lock_held_too_long_is_one_state_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline.state_file

    state = tmp_path / "state"
    with QueueStore.open(state) as store:
        store.add(new_item(1), T0)
    monkeypatch.setattr(pipeline.state_file, "BUSY_TIMEOUT_S", 0.2)
    holder = sqlite3.connect(state / "state.sqlite3", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process in the middle of a write
    try:
        with pytest.raises(StateError) as raised, QueueStore.open(state) as store:
            store.add(new_item(2), T0)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert raised.value.exit_code == EXIT_TOOL_OR_CREDENTIALS
    assert raised.value.file == str(state / "state.sqlite3")
    assert "locked" in raised.value.one_line()


def test_a_state_error_stops_a_queue_run_instead_of_deferring_the_item() -> None:
    """Deferring on a damaged state deferred every item, exit 0, forever."""
    error = StateError("the state database is damaged (quick_check: ...)", file="/state/state.sqlite3")
    decision = decide(error, now=T0, failures=1, settings=RetrySettings())
    assert decision.action == "release" and decision.stop_run


class StopAsBeginReturns:
    """A store's connection as a SIGTERM handler meets it: the signal arrived while
    BEGIN IMMEDIATE waited for the lock (C code, where Python cannot run the handler), so
    the handler's exception is raised at the first bytecode after BEGIN returns."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
        cursor = self._db.execute(sql, *args)
        if sql == "BEGIN IMMEDIATE":
            raise KeyboardInterrupt
        return cursor

    def __getattr__(self, name: str) -> object:
        return getattr(self._db, name)


def test_a_stop_as_begin_returns_leaves_no_write_lock_behind(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # Found by a loaded run: `queue run --watch` stopped by SIGTERM mid-upload exited 4
    # ("stayed locked by another process for 30 s"): its own other connection held the lock.
    import pipeline.state_file

    state = tmp_path / "state"
    with QueueStore.open(state) as store:
        store.add(new_item(1), T0)
        real_db = store._db
        store._db = StopAsBeginReturns(real_db)  # type: ignore[assignment]
        with pytest.raises(KeyboardInterrupt):
            store.add(new_item(2), T0)
        store._db = real_db
        left_open = real_db.in_transaction
        if left_open:
            real_db.execute("ROLLBACK")  # so that the store can close and the test can say why
        assert not left_open, "a stop as BEGIN returned left the write transaction (and its lock) open"
        monkeypatch.setattr(pipeline.state_file, "BUSY_TIMEOUT_S", 0.2)
        with QueueStore.open(state) as other:  # the same process's other connection writes at once
            other.add(new_item(3), T0)
    assert titles_in(state / "state.sqlite3") == ["title 1", "title 3"]
