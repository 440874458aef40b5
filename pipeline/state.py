"""The SQLite state store: resumable upload sessions, the upload ledger, cached playlist
ids, quota spent, and cached file hashes. The upload queue adds its tables here too.

One file (`<state dir>/state.sqlite3`, mode 0600 because a session URI lets anyone
holding it add bytes to an upload) in WAL mode so a reader never blocks the uploader.
Every change runs in a transaction (`BEGIN IMMEDIATE`), so a process killed at any
moment leaves either the old or the new row, never half of one. Schema changes are
numbered migrations tracked in `PRAGMA user_version`; append, never edit, a migration.
Opening checks the file for damage and never creates a database over an existing file
(`pipeline.state_file`); a store that changed it takes a backup when it closes
(`pipeline.state_backup`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Self

from pipeline.errors import StateError
from pipeline.state_backup import backup_generations, write_backup
from pipeline.state_file import connect_state, os_state_error

STATE_FILE_NAME = "state.sqlite3"
HASH_BLOCK_BYTES = 1024 * 1024

MIGRATIONS: list[str] = [
    # 1: YouTube uploads.
    """
    CREATE TABLE upload_sessions (
        file_sha256 TEXT NOT NULL,
        channel_id TEXT NOT NULL,
        file_size_bytes INTEGER NOT NULL,
        metadata_sha256 TEXT NOT NULL,
        session_uri TEXT NOT NULL,
        file_path TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        bytes_confirmed INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (file_sha256, channel_id)
    );
    CREATE TABLE uploads (
        video_id TEXT PRIMARY KEY,
        file_sha256 TEXT NOT NULL,
        channel_id TEXT NOT NULL,
        file_path TEXT NOT NULL,
        title TEXT NOT NULL,
        uploaded_at TEXT NOT NULL
    );
    CREATE INDEX uploads_by_content ON uploads (file_sha256, channel_id, uploaded_at);
    CREATE TABLE upload_steps (
        video_id TEXT NOT NULL,
        step TEXT NOT NULL,
        done_at TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (video_id, step)
    );
    CREATE TABLE playlists (
        channel_id TEXT NOT NULL,
        name TEXT NOT NULL,
        playlist_id TEXT NOT NULL,
        cached_at TEXT NOT NULL,
        PRIMARY KEY (channel_id, name)
    );
    CREATE TABLE quota_spent (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at_utc TEXT NOT NULL,
        quota_day TEXT NOT NULL,
        bucket TEXT NOT NULL,
        method TEXT NOT NULL,
        cost INTEGER NOT NULL
    );
    CREATE INDEX quota_by_day ON quota_spent (quota_day, bucket);
    CREATE TABLE file_hashes (
        path TEXT PRIMARY KEY,
        size_bytes INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        sha256 TEXT NOT NULL
    );
    """,
]


# Paths of state databases with a change committed in this process since their last backup.
_changed: set[str] = set()
_changed_lock = threading.Lock()


def utc_now_text() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class LockBusy(Exception):
    """Another process holds the lock."""


@contextmanager
def exclusive_lock(lock_path: Path) -> Iterator[None]:
    """Hold an OS lock on the file `lock_path` (created 0600 in a 0700 folder) while the
    block runs; LockBusy at once if another holder has it. The OS drops the lock if the
    holder dies, so a killed process never leaves a stale lock. The file stays: removing
    a lock file another process may be opening races with it."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no OS locks; the work still runs, without this guard
        yield
        return

    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o600)
    except OSError as error:  # a read-only or full state folder: one line, not a traceback
        raise os_state_error(lock_path, error) from error
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockBusy(lock_path.stem) from None
        yield
    finally:
        os.close(fd)  # closing releases the lock


@dataclass(frozen=True)
class UploadSession:
    """A resumable session recorded before its first byte was sent.

    `bytes_confirmed` is what the server confirmed, or `file_size_bytes` once the last
    chunk has gone out (its reply may be lost: see pipeline/youtube/upload.py).
    `created_at` (UTC, RFC 3339) is when the session began; set by the store."""

    file_sha256: str
    channel_id: str
    file_size_bytes: int
    metadata_sha256: str
    session_uri: str
    file_path: str
    bytes_confirmed: int
    created_at: str | None = None


@dataclass(frozen=True)
class LedgerEntry:
    """A finished upload: this content is already this video on this channel."""

    video_id: str
    file_sha256: str
    channel_id: str
    file_path: str
    title: str
    uploaded_at: str


class SqliteStore:
    """One connection to the state database (WAL, synchronous writes, file mode 0600) and
    its write transactions. Subclasses own their tables and create them in `_migrate`.

    Opening never creates a database over an existing file and refuses a damaged one
    (`pipeline.state_file`); every sqlite3 error is a StateError naming the file. Closing a
    store after a change was committed takes a backup (`pipeline.state_backup`), unless
    `backups` is False (a helper connection of a process whose main store backs up)."""

    def __init__(self, path: Path, *, recheck: bool = False, backups: bool = True) -> None:
        self.path = path
        self._backups = backups
        self._db = connect_state(path, recheck=recheck)
        self._db.row_factory = sqlite3.Row
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except BaseException:
            self._db.close()
            raise

    @classmethod
    def open(cls, directory: Path | None = None, *, recheck: bool = False) -> Self:
        if directory is None:
            from pipeline.paths import state_dir

            directory = state_dir()
        return cls(Path(directory) / STATE_FILE_NAME, recheck=recheck)

    def close(self) -> None:
        try:
            if self._backups:
                self.back_up_if_changed()
        finally:
            self._db.close()

    def back_up_if_changed(self) -> Path | None:
        """Back up the database if any store in this process committed a change since the
        last backup. A backup that cannot be written is a warning, not a failure: the
        change itself is saved."""
        key = str(self.path)
        with _changed_lock:
            if key not in _changed:
                return None
            _changed.discard(key)
        try:
            return self.back_up()
        except StateError as error:
            logging.getLogger(__name__).warning("warning: could not back up the state database: %s",
                                                error.one_line())
            return None

    def back_up(self) -> Path | None:
        """Write a backup now (None when backups are turned off); StateError if it cannot."""
        return write_backup(self._db, self.path, backup_generations())

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; the lock is taken at the start so two writers never interleave."""
        try:
            # BEGIN inside the try: a SIGTERM that arrives while BEGIN waits for the lock
            # raises as soon as BEGIN returns, and the open transaction must be rolled back,
            # else it holds the write lock against this process's other connections.
            self._db.execute("BEGIN IMMEDIATE")
            changes_before = self._db.total_changes
            yield self._db
            self._db.execute("COMMIT")
        except BaseException:
            # SQLite may already have rolled back (a full disk does): then there is nothing to undo.
            if self._db.in_transaction:
                with suppress(StateError):
                    self._db.execute("ROLLBACK")
            raise
        if self._db.total_changes != changes_before:  # rows written: worth a backup when the store closes
            with _changed_lock:
                _changed.add(str(self.path))

    def _migrate(self) -> None:
        raise NotImplementedError


class StateStore(SqliteStore):
    """Upload sessions, the duplicate ledger, steps done, playlist ids and quota spent.
    Open with `StateStore.open()`; use as a context manager."""

    def _migrate(self) -> None:
        with self.transaction() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in (s.strip() for s in script.split(";")):
                    if statement:
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {number}")

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """Hold an OS lock named `name` while working on it (one file's upload, say):
        two processes uploading the same file at once would each create a video, so
        the second one is refused instead (LockBusy; see `exclusive_lock`)."""
        with exclusive_lock(self.path.parent / "locks" / f"{name}.lock"):
            yield

    # --- resumable sessions -------------------------------------------------------------

    def get_session(self, file_sha256: str, channel_id: str) -> UploadSession | None:
        row = self._db.execute(
            "SELECT * FROM upload_sessions WHERE file_sha256 = ? AND channel_id = ?",
            (file_sha256, channel_id),
        ).fetchone()
        if row is None:
            return None
        return UploadSession(
            file_sha256=row["file_sha256"], channel_id=row["channel_id"],
            file_size_bytes=row["file_size_bytes"], metadata_sha256=row["metadata_sha256"],
            session_uri=row["session_uri"], file_path=row["file_path"],
            bytes_confirmed=row["bytes_confirmed"], created_at=row["created_at"],
        )

    def save_session(self, session: UploadSession) -> None:
        now = utc_now_text()
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO upload_sessions (file_sha256, channel_id, file_size_bytes,"
                " metadata_sha256, session_uri, file_path, created_at, updated_at, bytes_confirmed)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (session.file_sha256, session.channel_id, session.file_size_bytes,
                 session.metadata_sha256, session.session_uri, session.file_path, now, now,
                 session.bytes_confirmed),
            )

    def update_session_progress(self, file_sha256: str, channel_id: str, bytes_confirmed: int) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE upload_sessions SET bytes_confirmed = ?, updated_at = ?"
                " WHERE file_sha256 = ? AND channel_id = ?",
                (bytes_confirmed, utc_now_text(), file_sha256, channel_id),
            )

    def delete_session(self, file_sha256: str, channel_id: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM upload_sessions WHERE file_sha256 = ? AND channel_id = ?",
                       (file_sha256, channel_id))

    # --- the ledger of finished uploads ------------------------------------------------

    def finish_upload(self, entry: LedgerEntry) -> None:
        """Record a finished upload and forget its session, in one transaction."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO uploads (video_id, file_sha256, channel_id, file_path, title,"
                " uploaded_at) VALUES (?, ?, ?, ?, ?, ?)",
                (entry.video_id, entry.file_sha256, entry.channel_id, entry.file_path, entry.title,
                 entry.uploaded_at),
            )
            db.execute("DELETE FROM upload_sessions WHERE file_sha256 = ? AND channel_id = ?",
                       (entry.file_sha256, entry.channel_id))

    def find_upload(self, file_sha256: str, channel_id: str) -> LedgerEntry | None:
        """The most recent finished upload of this content to this channel."""
        row = self._db.execute(
            "SELECT * FROM uploads WHERE file_sha256 = ? AND channel_id = ?"
            " ORDER BY uploaded_at DESC, rowid DESC LIMIT 1",
            (file_sha256, channel_id),
        ).fetchone()
        if row is None:
            return None
        return LedgerEntry(**{key: row[key] for key in row.keys()})

    def mark_step_done(self, video_id: str, step: str, detail: str = "") -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO upload_steps (video_id, step, done_at, detail) VALUES (?, ?, ?, ?)",
                (video_id, step, utc_now_text(), detail),
            )

    def steps_done(self, video_id: str) -> dict[str, str]:
        rows = self._db.execute("SELECT step, detail FROM upload_steps WHERE video_id = ?", (video_id,))
        return {row["step"]: row["detail"] for row in rows}

    # --- playlist ids -----------------------------------------------------------------

    def cached_playlist(self, channel_id: str, name: str) -> str | None:
        row = self._db.execute("SELECT playlist_id FROM playlists WHERE channel_id = ? AND name = ?",
                               (channel_id, name)).fetchone()
        return row["playlist_id"] if row else None

    def cache_playlist(self, channel_id: str, name: str, playlist_id: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO playlists (channel_id, name, playlist_id, cached_at)"
                       " VALUES (?, ?, ?, ?)", (channel_id, name, playlist_id, utc_now_text()))

    def forget_playlist(self, channel_id: str, name: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM playlists WHERE channel_id = ? AND name = ?", (channel_id, name))

    def any_cached_playlist(self, name: str) -> str | None:
        """A cached id for this playlist name on any channel (dry runs do not know the channel)."""
        row = self._db.execute("SELECT playlist_id FROM playlists WHERE name = ? ORDER BY cached_at DESC",
                               (name,)).fetchone()
        return row["playlist_id"] if row else None

    # --- quota spent ------------------------------------------------------------------

    def record_quota(self, method: str, bucket: str, cost: int, at: datetime, day: date) -> None:
        with self.transaction() as db:
            db.execute("INSERT INTO quota_spent (at_utc, quota_day, bucket, method, cost) VALUES (?, ?, ?, ?, ?)",
                       (at.astimezone(timezone.utc).isoformat(timespec="seconds"), day.isoformat(),
                        bucket, method, cost))

    def quota_spent_on(self, day: date) -> dict[str, int]:
        rows = self._db.execute("SELECT bucket, SUM(cost) AS spent FROM quota_spent WHERE quota_day = ?"
                                " GROUP BY bucket", (day.isoformat(),))
        return {row["bucket"]: int(row["spent"]) for row in rows}

    # --- file hashes ------------------------------------------------------------------

    def file_sha256(self, path: Path, on_bytes: Callable[[int], None] | None = None) -> str:
        """sha256 of a file's content, cached by (path, size, mtime) so re-runs skip re-reading."""
        resolved = path.resolve()
        stat = resolved.stat()
        row = self._db.execute("SELECT * FROM file_hashes WHERE path = ?", (str(resolved),)).fetchone()
        if row and row["size_bytes"] == stat.st_size and row["mtime_ns"] == stat.st_mtime_ns:
            return str(row["sha256"])
        digest = sha256_of_file(resolved, on_bytes)
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO file_hashes (path, size_bytes, mtime_ns, sha256) VALUES (?, ?, ?, ?)",
                       (str(resolved), stat.st_size, stat.st_mtime_ns, digest))
        return digest


def sha256_of_file(path: Path, on_bytes: Callable[[int], None] | None = None) -> str:
    """Streamed sha256, memory bounded by one block."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while block := stream.read(HASH_BLOCK_BYTES):
            digest.update(block)
            if on_bytes:
                on_bytes(len(block))
    return digest.hexdigest()
