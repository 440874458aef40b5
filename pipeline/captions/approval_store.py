"""The caption approvals table in the state database: who approved which caption file
(its sha256) for which output (its path and sha256), and when.

The table lives in the same SQLite file as the upload ledger and the queue
(`<state dir>/state.sqlite3`) with its own schema version (`caption_approvals_schema`),
the way the queue keeps its tables, so the state store, the queue and approvals evolve
apart and `wayfinder state check/backup/restore` cover it with the rest. Rows are only
ever added: a new approval of the same output is a new row, so the history of reviews
stays (an auditor asks who approved what, not only who approved last).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from pipeline.state import STATE_FILE_NAME, SqliteStore, StateStore, utc_now_text

MIGRATIONS: list[str] = [
    # 1: approvals.
    """
    CREATE TABLE caption_approvals (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        output_path TEXT NOT NULL,
        output_sha256 TEXT NOT NULL,
        captions_path TEXT NOT NULL,
        captions_sha256 TEXT NOT NULL,
        approved_by TEXT NOT NULL,
        approved_at TEXT NOT NULL
    );
    CREATE INDEX caption_approvals_by_output ON caption_approvals (output_path, id);
    """,
]


@dataclass(frozen=True)
class Approval:
    """One recorded review. Paths are absolute; `approved_at` is UTC, RFC 3339."""

    id: int
    output_path: str
    output_sha256: str
    captions_path: str
    captions_sha256: str
    approved_by: str
    approved_at: str

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "output": self.output_path, "output_sha256": self.output_sha256,
                "captions": self.captions_path, "captions_sha256": self.captions_sha256,
                "approved_by": self.approved_by, "approved_at_utc": self.approved_at}


def _approval(row: sqlite3.Row) -> Approval:
    return Approval(**{key: row[key] for key in row.keys()})


class ApprovalStore(SqliteStore):
    """Caption approvals. Open with `ApprovalStore.open()`; use as a context manager."""

    def __init__(self, path: Path, *, backups: bool = True) -> None:
        # The state store creates the file (mode 0600, WAL) and its own tables first.
        StateStore(path, backups=backups).close()
        super().__init__(path, backups=backups)

    def _migrate(self) -> None:
        with self.transaction() as db:
            db.execute("CREATE TABLE IF NOT EXISTS caption_approvals_schema (version INTEGER NOT NULL)")
            row = db.execute("SELECT version FROM caption_approvals_schema").fetchone()
            version = int(row[0]) if row else 0
            if row is None:
                db.execute("INSERT INTO caption_approvals_schema (version) VALUES (0)")
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in (s.strip() for s in script.split(";")):
                    if statement:
                        db.execute(statement)
                db.execute("UPDATE caption_approvals_schema SET version = ?", (number,))

    def record(self, *, output_path: Path, output_sha256: str, captions_path: Path, captions_sha256: str,
               approved_by: str) -> Approval:
        at = utc_now_text()
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO caption_approvals (output_path, output_sha256, captions_path, captions_sha256,"
                " approved_by, approved_at) VALUES (?, ?, ?, ?, ?, ?)",
                (str(output_path), output_sha256, str(captions_path), captions_sha256, approved_by, at))
            approval_id = int(cursor.lastrowid or 0)
        return Approval(approval_id, str(output_path), output_sha256, str(captions_path), captions_sha256,
                        approved_by, at)

    def for_output(self, output_path: Path | None = None) -> list[Approval]:
        """Approvals of one output (newest first), or of every output."""
        if output_path is None:
            rows = self._db.execute("SELECT * FROM caption_approvals ORDER BY id DESC")
        else:
            rows = self._db.execute("SELECT * FROM caption_approvals WHERE output_path = ? ORDER BY id DESC",
                                    (str(output_path),))
        return [_approval(row) for row in rows]


def state_file(directory: Path | None = None) -> Path:
    if directory is None:
        from pipeline.paths import state_dir

        directory = state_dir()
    return Path(directory) / STATE_FILE_NAME


def open_approvals(directory: Path | None = None) -> ApprovalStore:
    return ApprovalStore(state_file(directory))


def read_approvals(output_path: Path | None = None, directory: Path | None = None) -> list[Approval]:
    """The approvals recorded (see `ApprovalStore.for_output`); none when there is no state
    database yet, without creating one (a dry run must not leave a database behind)."""
    path = state_file(directory)
    if not path.exists():
        return []
    with ApprovalStore(path) as store:
        return store.for_output(output_path)
