"""Helpers shared by the state-database tests (no tests here): a real state file holding
queued items, the ways such a file gets damaged, and the check that a command refused it
with one line."""

from __future__ import annotations

import sqlite3
import subprocess
from datetime import datetime, timezone
from pathlib import Path

from pipeline.queue.store import NewItem, QueueStore

T0 = datetime(2025, 6, 2, 14, 0, tzinfo=timezone.utc)
DAMAGES = ("empty", "truncated", "garbage-header", "corrupt-index-page")
GARBAGE_BYTE = 0xA5  # not a valid b-tree page type (2, 5, 10, 13), so the page cannot pass as one


def title_of(n: int) -> str:
    return f"Queued walkthrough {n}"


def populate(state_dir: Path, count: int = 3) -> list[str]:
    """Queue `count` items straight into the state database; returns their titles in id order.
    Closing the store takes a backup, as every command that changes the state does."""
    with QueueStore.open(state_dir) as store:
        for n in range(count):
            store.add(NewItem(video_path=f"/media/walkthrough-{n}.mp4", title=title_of(n), file_sha256=f"{n:064x}",
                              file_size_bytes=1000 + n, priority=0, not_before=None, publish_at=None, skip_qa=True,
                              qa_preset="youtube", snapshot={"files": {}}, planned_calls=["videos.insert"]), T0)
    return [title_of(n) for n in range(count)]


def index_page(path: Path, index_name: str) -> tuple[int, int]:
    """(byte offset, size) of the root page of `index_name` in the database file at `path`."""
    db = sqlite3.connect(path)
    try:
        root = db.execute("SELECT rootpage FROM sqlite_master WHERE type = 'index' AND name = ?",
                          (index_name,)).fetchone()[0]
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
    finally:
        db.close()  # the last connection: the WAL is folded into the file and removed
    return (root - 1) * page_size, page_size


def damage(path: Path, how: str) -> bytes:
    """Damage the (closed) state database at `path` as named in DAMAGES; returns its new bytes."""
    if how == "corrupt-index-page":
        offset, size = index_page(path, "queue_items_by_state")
    data = path.read_bytes()
    if how == "empty":
        damaged = b""
    elif how == "truncated":
        damaged = data[: len(data) // 2]
    elif how == "garbage-header":
        damaged = b"this is not a database header".ljust(100, b"!") + data[100:]
    elif how == "corrupt-index-page":
        damaged = data[:offset] + bytes([GARBAGE_BYTE]) * size + data[offset + size:]
    else:
        raise ValueError(how)
    path.write_bytes(damaged)
    return damaged


def assert_one_error_line(result: subprocess.CompletedProcess[str], state_file: Path, starts: str) -> str:
    """The command failed with exit 4 and exactly one stderr line `error: <state file>: <starts>...`."""
    output = result.stdout + result.stderr
    assert result.returncode == 4, output
    assert "Traceback" not in output, output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, output
    assert lines[0].startswith(f"error: {state_file}: {starts}"), output
    return lines[0]
