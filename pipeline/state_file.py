"""Opening the state database (`state.sqlite3`) without ever losing it, and what its
failures look like to a user.

- A new database is built in a temporary file and linked into place, so an existing file
  is never overwritten or initialized again. An existing empty file is damage (a copy cut
  short, a disk that filled), not a new database: emptying the queue and the duplicate
  ledger silently is the worst thing this module could do.
- Every open checks the file (`PRAGMA quick_check`) before anything reads or writes it;
  once per process for a file that has not changed since (a command opens it two or
  three times), always when asked (`recheck`, as `queue run` does).
- Every sqlite3 or OS error on the file becomes one `StateError` line naming it (damaged,
  disk full, read-only, locked), never a traceback. Connections made here convert their own
  errors (`GuardedConnection`), so no caller has to remember to. A damaged file is left
  exactly as it is, and the message says how to restore a backup.
"""

from __future__ import annotations

import errno
import os
import secrets
import sqlite3
import threading
from pathlib import Path
from typing import Any

from pipeline.errors import StateError

BUSY_TIMEOUT_S = 30.0
LOW_SPACE_BYTES = 1024 * 1024  # below this, an I/O error on the state is taken for a full disk
RESTORE_HINT = ("it was left as it is; restore a backup with `wayfinder state restore` (list them with "
                "`wayfinder state backups`; README: 'A damaged state database')")

_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
_READ_ONLY_ERRNOS = {errno.EROFS, errno.EACCES, errno.EPERM}

# path -> (inode, size, mtime_ns) of the file when it last passed the check in this process
_verified: dict[str, tuple[int, int, int]] = {}
_verified_lock = threading.Lock()


# --- errors ------------------------------------------------------------------------------

def damaged(path: Path, detail: str) -> StateError:
    return StateError(f"the state database is damaged ({detail}); {RESTORE_HINT}", file=path)


def disk_full(path: Path) -> StateError:
    return StateError("the disk holding the state folder is full (database or disk is full): free some space and "
                      "run the command again; the change that did not fit was not saved", file=path)


def read_only(path: Path) -> StateError:
    return StateError(f"cannot write in the state folder {path.parent} (a read-only file system, or not writable by "
                      "this user): make it writable, or point WAYFINDER_STATE_DIR elsewhere", file=path)


def _folder_writable(path: Path) -> bool:
    folder = path.parent
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return False
    except OSError:
        return False
    return os.access(folder, os.W_OK)


def _space_left_bytes(path: Path) -> int | None:
    try:
        stat = os.statvfs(path.parent)
    except OSError:
        return None
    return stat.f_bavail * stat.f_frsize


def state_error(path: Path, error: sqlite3.Error) -> StateError:
    """The one line a user sees for an sqlite3 error on the state database at `path`."""
    name = getattr(error, "sqlite_errorname", "") or ""
    text = str(error)
    space_left = _space_left_bytes(path)
    if name.startswith("SQLITE_FULL") or "disk is full" in text:
        return disk_full(path)
    # A full disk can also surface as an I/O error (growing -wal/-shm) or a refusal to open.
    if name.startswith(("SQLITE_IOERR", "SQLITE_CANTOPEN")) and space_left is not None and space_left < LOW_SPACE_BYTES:
        return disk_full(path)
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        return damaged(path, text)
    if name.startswith("SQLITE_READONLY") or (name.startswith(("SQLITE_CANTOPEN", "SQLITE_IOERR"))
                                             and not _folder_writable(path)):
        return read_only(path)
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return StateError(f"the state database stayed locked by another process for {BUSY_TIMEOUT_S:g} s "
                          "(a long `queue run`?); run the command again when it is done", file=path)
    if name.startswith("SQLITE_IOERR"):
        return StateError(f"the state database could not be read or written ({name}: {text}); check the disk",
                          file=path)
    return StateError(f"state database error: {text}" + (f" ({name})" if name else ""), file=path)


def os_state_error(path: Path, error: OSError) -> StateError:
    """The one line a user sees when the OS refuses a file of the state folder."""
    if error.errno in _FULL_ERRNOS:
        return disk_full(path)
    if error.errno in _READ_ONLY_ERRNOS:
        return read_only(path)
    return StateError(f"cannot use the state database: {error.strerror or error}", file=path)


# --- connections that convert their own errors -----------------------------------------

class GuardedCursor(sqlite3.Cursor):
    """A cursor whose sqlite3 errors arrive as StateError naming the file (rows are read
    lazily, so a damaged page can surface in a fetch as well as in `execute`)."""

    def _fail(self, error: sqlite3.Error) -> StateError:
        return state_error(self.connection.state_path, error)  # type: ignore[attr-defined]

    def execute(self, sql: str, parameters: Any = (), /) -> GuardedCursor:
        try:
            return super().execute(sql, parameters)  # type: ignore[return-value]
        except sqlite3.Error as error:
            raise self._fail(error) from error

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> GuardedCursor:
        try:
            return super().executemany(sql, seq_of_parameters)  # type: ignore[return-value]
        except sqlite3.Error as error:
            raise self._fail(error) from error

    def fetchone(self) -> Any:
        try:
            return super().fetchone()
        except sqlite3.Error as error:
            raise self._fail(error) from error

    def fetchmany(self, size: int | None = 1) -> list[Any]:
        try:
            return super().fetchmany(size)
        except sqlite3.Error as error:
            raise self._fail(error) from error

    def fetchall(self) -> list[Any]:
        try:
            return super().fetchall()
        except sqlite3.Error as error:
            raise self._fail(error) from error

    def __next__(self) -> Any:
        try:
            return super().__next__()
        except sqlite3.Error as error:
            raise self._fail(error) from error


class GuardedConnection(sqlite3.Connection):
    """A connection to the state database whose errors are StateError lines naming it."""

    state_path: Path

    def cursor(self, factory: Any = None) -> GuardedCursor:  # type: ignore[override]
        return super().cursor(factory or GuardedCursor)  # type: ignore[no-any-return]

    def execute(self, sql: str, parameters: Any = (), /) -> GuardedCursor:  # type: ignore[override]
        return self.cursor().execute(sql, parameters)

    def close(self) -> None:
        try:
            super().close()
        except sqlite3.Error as error:
            raise state_error(self.state_path, error) from error


# --- opening -----------------------------------------------------------------------------

def fsync_path(folder: Path) -> None:
    """Flush a file or a folder (a rename in it) to the disk."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _create(path: Path) -> None:
    """Make a valid empty database at `path` unless a file is already there: built aside
    (mode 0600, header written) and linked into place, which fails rather than replace."""
    fresh = path.with_name(f".{path.name}.new-{os.getpid()}-{secrets.token_hex(4)}")
    os.close(os.open(fresh, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    try:
        db = sqlite3.connect(fresh, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")  # writes the header: the file is never empty
        finally:
            db.close()
        fd = os.open(fresh, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(fresh, path)
        except FileExistsError:
            pass  # another process created it first: that one is the database
        except OSError as error:
            if error.errno not in {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK}:
                raise
            # No hard links on this file system: a rename, still never over an existing file.
            if not os.path.lexists(path):
                os.rename(fresh, path)
        fsync_path(path.parent)
    except sqlite3.Error as error:
        raise state_error(path, error) from error
    finally:
        for leftover in (fresh, fresh.with_name(fresh.name + "-wal"), fresh.with_name(fresh.name + "-shm")):
            leftover.unlink(missing_ok=True)


def _check_not_empty(path: Path) -> None:
    """Refuse an empty file before SQLite sees it: SQLite would take it for a new database.
    Only `stat`, never `open`: closing any descriptor of the file would drop the POSIX locks
    that this process's SQLite connections hold on it, and another process could then fold
    the WAL away under them. (A bad header is SQLite's to find: SQLITE_NOTADB.)"""
    if path.stat().st_size == 0:
        raise damaged(path, "the file is empty: 0 bytes")


def _stat_key(path: Path) -> tuple[int, int, int]:
    stat = path.stat()
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


def check_integrity(db: sqlite3.Connection, path: Path, *, recheck: bool = False) -> None:
    """`PRAGMA quick_check` (every page's structure, not index contents against tables);
    StateError naming the first problem. Skipped when this process already checked the
    same unchanged file, unless `recheck`."""
    key = _stat_key(path)
    with _verified_lock:
        if not recheck and _verified.get(str(path)) == key:
            return
    rows = db.execute("PRAGMA quick_check").fetchall()
    problems = [str(row[0]) for row in rows if str(row[0]) != "ok"]
    if problems:
        first = " ".join(problems[0].replace("*** in database main ***", "").split())
        raise damaged(path, f"quick_check: {first}")
    with _verified_lock:
        _verified[str(path)] = key


def forget_checks(path: Path) -> None:
    """The file at `path` was replaced: check it again on the next open."""
    with _verified_lock:
        _verified.pop(str(path), None)


def connect_state(path: Path, *, recheck: bool = False) -> GuardedConnection:
    """An autocommit connection to the state database at `path` (created if missing, never
    over an existing file), checked for damage. StateError if it cannot be used."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not os.path.lexists(path):
            _create(path)
        _check_not_empty(path)
    except OSError as error:
        raise os_state_error(path, error) from error
    try:
        db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, factory=GuardedConnection)
    except sqlite3.Error as error:
        raise state_error(path, error) from error
    db.state_path = path
    try:
        check_integrity(db, path, recheck=recheck)
    except BaseException:
        db.close()
        raise
    return db
