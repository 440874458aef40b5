"""Rotating backups of the state database, and putting one back.

Backups live in `<state dir>/backups/` as `state-<UTC time>.sqlite3` (mode 0600, folder
0700). Each is made with SQLite's backup API (a consistent copy even while another process
writes), into a hidden temporary file that is checked (`quick_check`) and renamed into
place, so a backup is whole or absent; a copy that fails the check is thrown away and never
pushes a good backup out. The newest `backup_generations()` are kept (default 5,
`WAYFINDER_STATE_BACKUPS`; 0 turns backups off).

Restoring checks the backup first, moves the current file and its `-wal`/`-shm` aside as
`state.sqlite3.before-restore-<time>` (never deleted: it may hold the only copy of something),
and links a copy of the backup into place.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from pipeline.errors import StateError
from pipeline.state_file import forget_checks, fsync_path, os_state_error, state_error

BACKUP_DIR_NAME = "backups"
DEFAULT_GENERATIONS = 5
_NAME = re.compile(r"^state-(\d{8}T\d{6}\.\d{6}Z)\.sqlite3$")
_STAMP = "%Y%m%dT%H%M%S.%fZ"


@dataclass(frozen=True)
class Backup:
    path: Path
    taken_at: datetime
    size_bytes: int


@dataclass(frozen=True)
class Restored:
    backup: Path
    moved_aside: list[Path]


def backup_generations() -> int:
    """How many backups to keep (`WAYFINDER_STATE_BACKUPS`, default 5)."""
    text = os.environ.get("WAYFINDER_STATE_BACKUPS", "").strip()
    if not text:
        return DEFAULT_GENERATIONS
    try:
        value = int(text)
    except ValueError:
        raise StateError(f"WAYFINDER_STATE_BACKUPS must be a whole number of backups to keep, got {text!r}") from None
    if value < 0:
        raise StateError(f"WAYFINDER_STATE_BACKUPS cannot be negative, got {value}")
    return value


def backups_dir(state_path: Path) -> Path:
    return state_path.parent / BACKUP_DIR_NAME


def list_backups(state_path: Path) -> list[Backup]:
    """The backups of the state database at `state_path`, newest first."""
    folder = backups_dir(state_path)
    found = []
    try:
        entries = list(folder.iterdir())
    except FileNotFoundError:
        return []
    except OSError as error:
        raise os_state_error(folder, error) from error
    for entry in entries:
        match = _NAME.match(entry.name)
        if match and entry.is_file():
            taken_at = datetime.strptime(match.group(1), _STAMP).replace(tzinfo=timezone.utc)
            found.append(Backup(entry, taken_at, entry.stat().st_size))
    return sorted(found, key=lambda b: b.taken_at, reverse=True)


def _problem(path: Path) -> str | None:
    """Why the database file at `path` is not usable, or None (opened read-only: never changed)."""
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            rows = db.execute("PRAGMA quick_check").fetchall()
        finally:
            db.close()
    except sqlite3.Error as error:
        return str(error)
    problems = [str(row[0]) for row in rows if str(row[0]) != "ok"]
    return " ".join(problems[0].split()) if problems else None


def _new_name(folder: Path) -> Path:
    moment = datetime.now(timezone.utc)
    while True:
        candidate = folder / f"state-{moment.strftime(_STAMP)}.sqlite3"
        if not candidate.exists():
            return candidate
        moment = moment.replace(microsecond=(moment.microsecond + 1) % 1_000_000)


def write_backup(source: sqlite3.Connection, state_path: Path, keep: int) -> Path | None:
    """Copy the database behind `source` into a new backup, then drop all but the newest `keep`.
    Returns the new backup (None when `keep` is 0). StateError if it cannot be written."""
    if keep <= 0:
        return None
    folder = backups_dir(state_path)
    partial: Path | None = None
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        final = _new_name(folder)
        partial = folder / f".{final.name}.partial"
        os.close(os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        target = sqlite3.connect(partial, isolation_level=None)
        try:
            source.backup(target)
            # A standalone copy: no -wal beside it to lose when it is moved or copied.
            target.execute("PRAGMA journal_mode=DELETE")
        finally:
            target.close()
        problem = _problem(partial)
        if problem is not None:
            raise StateError(f"backup not taken: the copy of the state database fails its check ({problem}); the "
                             "older backups were kept", file=state_path)
        fsync_path(partial)
        os.replace(partial, final)
        fsync_path(folder)
    except sqlite3.Error as error:
        raise state_error(state_path, error) from error
    except OSError as error:
        raise os_state_error(folder, error) from error
    finally:
        if partial is not None:
            partial.unlink(missing_ok=True)
    for old in list_backups(state_path)[keep:]:
        old.path.unlink(missing_ok=True)
    return final


def choose_backup(state_path: Path, backup: Path | None) -> Path:
    """`backup` if it is a sound database, else the newest sound backup. StateError if none is."""
    if backup is not None:
        if not backup.is_file():
            raise StateError("no such backup file", file=backup)
        problem = _problem(backup)
        if problem is not None:
            raise StateError(f"this backup is damaged too ({problem}); pick another from `wayfinder state backups`",
                             file=backup)
        return backup
    backups = list_backups(state_path)
    if not backups:
        raise StateError(f"there are no backups in {backups_dir(state_path)}: nothing to restore", file=state_path)
    for candidate in backups:
        if _problem(candidate.path) is None:
            return candidate.path
    raise StateError(f"all {len(backups)} backups in {backups_dir(state_path)} fail their check: nothing sound to "
                     "restore", file=state_path)


def state_problem(state_path: Path) -> str | None:
    """Why the state database is unusable, or None when it passes the check (read-only look)."""
    if not state_path.exists():
        return "it does not exist"
    if state_path.stat().st_size == 0:
        return "the file is empty (0 bytes)"
    return _problem(state_path)


def restore_backup(state_path: Path, backup: Path) -> Restored:
    """Put a copy of `backup` (already chosen and checked) in place of the state database.
    The current file and its -wal/-shm are moved aside, never deleted."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    aside = state_path.with_name(f"{state_path.name}.before-restore-{stamp}")
    moved: list[Path] = []
    incoming = state_path.with_name(f".{state_path.name}.restoring-{os.getpid()}")
    try:
        os.close(os.open(incoming, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        with open(backup, "rb") as source, open(incoming, "wb") as target:
            shutil.copyfileobj(source, target)
            target.flush()
            os.fsync(target.fileno())
        # The -wal first: a WAL left beside a different main file would be replayed into it.
        for suffix in ("-wal", "-shm", ""):
            current = state_path.with_name(state_path.name + suffix)
            if os.path.lexists(current):
                destination = aside.with_name(aside.name + suffix)
                os.rename(current, destination)
                moved.append(destination)
        os.link(incoming, state_path)  # never over a file: a state made meanwhile is not replaced
        fsync_path(state_path.parent)
    except FileExistsError as error:
        raise StateError("a new state database appeared while restoring; nothing was replaced; stop every "
                         "Wayfinder process and run `wayfinder state restore` again", file=state_path) from error
    except OSError as error:
        raise os_state_error(state_path, error) from error
    finally:
        incoming.unlink(missing_ok=True)
    forget_checks(state_path)
    return Restored(backup=backup, moved_aside=moved)
