"""The queue's tables in the state database, and every change to them.

The tables live in the same SQLite file as the upload sessions and the quota ledger
(`<state dir>/state.sqlite3`, WAL mode, mode 0600), with their own schema version
(`queue_schema`), so `pipeline.state` and the queue evolve apart. Every change runs in a
`BEGIN IMMEDIATE` transaction and records an event (the item's history), so a runner
killed at any moment leaves each item in its old state or its new one, never between.

Taking work (`claim_next`) is one transaction: pick the first due item in priority and
time order whose lease is free, check holds and the quota budget (deferring what cannot
go today), and take a lease with an expiry. Two runners therefore never take the same
item; a runner that died leaves a lease that expires, or that is void at once when the
holder is provably dead (`pipeline.queue.lease`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pipeline.queue.budget import judge_budget, price
from pipeline.queue.lease import RunnerIdentity
from pipeline.queue.model import (
    CANCELLED,
    DEFERRED,
    DONE,
    FAILED,
    PENDING,
    PROCESSING,
    QUOTA_HOLD,
    UPLOADING,
    WAITING_STATES,
    Hold,
    QueueError,
    QueueEvent,
    QueueItem,
    format_db_time,
    item_from_row,
    parse_db_time,
    watch_url,
)
from pipeline.state import SqliteStore, StateStore
from pipeline.youtube.quota import QuotaTable, next_reset

MIGRATIONS: list[str] = [
    # 1: the queue.
    """
    CREATE TABLE queue_items (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        state TEXT NOT NULL,
        video_path TEXT NOT NULL,
        title TEXT NOT NULL,
        file_sha256 TEXT NOT NULL,
        file_size_bytes INTEGER NOT NULL,
        priority INTEGER NOT NULL DEFAULT 0,
        added_at TEXT NOT NULL,
        not_before TEXT,
        due_at TEXT NOT NULL,
        publish_at TEXT,
        skip_qa INTEGER NOT NULL DEFAULT 0,
        qa_preset TEXT NOT NULL,
        snapshot TEXT NOT NULL,
        planned_calls TEXT NOT NULL,
        reason TEXT,
        last_error TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        failures INTEGER NOT NULL DEFAULT 0,
        lease_owner TEXT,
        lease_host TEXT,
        lease_pid INTEGER,
        lease_expires_at TEXT,
        video_id TEXT,
        uploaded_at TEXT,
        done_at TEXT,
        qa_result TEXT,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX queue_items_by_state ON queue_items (state, priority, due_at);
    CREATE INDEX queue_items_by_content ON queue_items (file_sha256);
    CREATE TABLE queue_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        item_id INTEGER NOT NULL,
        at_utc TEXT NOT NULL,
        from_state TEXT,
        to_state TEXT NOT NULL,
        runner TEXT,
        detail TEXT
    );
    CREATE INDEX queue_events_by_item ON queue_events (item_id, id);
    CREATE TABLE queue_holds (
        name TEXT PRIMARY KEY,
        until_utc TEXT NOT NULL,
        reason TEXT NOT NULL,
        set_at TEXT NOT NULL
    );
    """,
]

# Waiting first by priority (higher first), then by when each became due, then by age.
DUE_ORDER = "ORDER BY priority DESC, due_at ASC, id ASC"

AliveCheck = Callable[[str, str | None], bool]


@dataclass(frozen=True)
class NewItem:
    """What `add_item` stores: the checked metadata snapshot and what the gates compare against."""

    video_path: str
    title: str
    file_sha256: str
    file_size_bytes: int
    priority: int
    not_before: datetime | None
    publish_at: str | None
    skip_qa: bool
    qa_preset: str
    snapshot: dict[str, Any]
    planned_calls: list[str]


@dataclass(frozen=True)
class Claim:
    """An item a runner now holds a lease on: to upload, or to check YouTube's processing of."""

    item: QueueItem
    kind: Literal["upload", "check"]


@dataclass(frozen=True)
class Postponed:
    """An item `claim_next` did not take, and why (deferred to a time, failed, or left waiting)."""

    item_id: int
    video_name: str
    state: str
    until: datetime | None
    reason: str


@dataclass(frozen=True)
class ClaimResult:
    claim: Claim | None
    postponed: list[Postponed]


def _never_alive(_runner: str, _host: str | None) -> bool:
    return True


class QueueStore(SqliteStore):
    """The queue tables. Open with `QueueStore.open()`; use as a context manager."""

    def __init__(self, path: Path, *, recheck: bool = False, backups: bool = True) -> None:
        # The state store creates the file (mode 0600, WAL) and its own tables first.
        StateStore(path, recheck=recheck, backups=backups).close()
        super().__init__(path, backups=backups)

    @property
    def state_dir(self) -> Path:
        return self.path.parent

    def _migrate(self) -> None:
        with self.transaction() as db:
            db.execute("CREATE TABLE IF NOT EXISTS queue_schema (version INTEGER NOT NULL)")
            row = db.execute("SELECT version FROM queue_schema").fetchone()
            version = int(row[0]) if row else 0
            if row is None:
                db.execute("INSERT INTO queue_schema (version) VALUES (0)")
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in (s.strip() for s in script.split(";")):
                    if statement:
                        db.execute(statement)
                db.execute("UPDATE queue_schema SET version = ?", (number,))

    # --- reading -------------------------------------------------------------------

    def get(self, item_id: int) -> QueueItem | None:
        row = self._db.execute("SELECT * FROM queue_items WHERE id = ?", (item_id,)).fetchone()
        return item_from_row(row) if row else None

    def require(self, item_id: int) -> QueueItem:
        item = self.get(item_id)
        if item is None:
            raise QueueError(f"there is no queue item {item_id} (see `wayfinder queue list`)")
        return item

    def items(self, states: set[str] | None = None) -> list[QueueItem]:
        """Items in id order, optionally only those in `states`."""
        rows = self._db.execute("SELECT * FROM queue_items ORDER BY id").fetchall()
        found = [item_from_row(row) for row in rows]
        return [item for item in found if states is None or item.state in states]

    def events(self, item_id: int | None = None) -> list[QueueEvent]:
        if item_id is None:
            rows = self._db.execute("SELECT * FROM queue_events ORDER BY id").fetchall()
        else:
            rows = self._db.execute("SELECT * FROM queue_events WHERE item_id = ? ORDER BY id", (item_id,)).fetchall()
        return [QueueEvent(item_id=int(r["item_id"]), at=parse_db_time(r["at_utc"]),  # type: ignore[arg-type]
                           from_state=r["from_state"], to_state=r["to_state"], runner=r["runner"],
                           detail=r["detail"]) for r in rows]

    def item_with_content(self, file_sha256: str, states: frozenset[str]) -> QueueItem | None:
        row = self._db.execute(
            "SELECT * FROM queue_items WHERE file_sha256 = ? ORDER BY id DESC", (file_sha256,)
        ).fetchall()
        for candidate in (item_from_row(r) for r in row):
            if candidate.state in states:
                return candidate
        return None

    def holds(self, now: datetime) -> list[Hold]:
        rows = self._db.execute("SELECT * FROM queue_holds WHERE until_utc > ? ORDER BY until_utc",
                                (format_db_time(now),)).fetchall()
        return [Hold(name=r["name"], until=parse_db_time(r["until_utc"]), reason=r["reason"])  # type: ignore[arg-type]
                for r in rows]

    def next_wake(self, now: datetime) -> datetime | None:
        """The next moment something may become due: a due time, a lease expiry, a hold's end."""
        row = self._db.execute(
            "SELECT MIN(t) FROM ("
            " SELECT due_at AS t FROM queue_items WHERE state IN (?, ?, ?)"
            " UNION ALL SELECT lease_expires_at FROM queue_items WHERE state = ? AND lease_expires_at IS NOT NULL"
            " UNION ALL SELECT until_utc FROM queue_holds WHERE until_utc > ?)",
            (PENDING, DEFERRED, PROCESSING, UPLOADING, format_db_time(now)),
        ).fetchone()
        return parse_db_time(row[0]) if row and row[0] else None

    # --- writing -------------------------------------------------------------------

    def _event(self, db: sqlite3.Connection, item_id: int, now: datetime, from_state: str | None, to_state: str,
               runner: str | None, detail: str | None) -> None:
        db.execute("INSERT INTO queue_events (item_id, at_utc, from_state, to_state, runner, detail)"
                   " VALUES (?, ?, ?, ?, ?, ?)", (item_id, format_db_time(now), from_state, to_state, runner, detail))

    def _update(self, db: sqlite3.Connection, item: QueueItem, now: datetime, *, to_state: str,
                runner: str | None, detail: str | None, clear_lease: bool = True, **columns: Any) -> None:
        values = dict(columns)
        values["state"] = to_state
        values["updated_at"] = format_db_time(now)
        if clear_lease:
            values.update(lease_owner=None, lease_host=None, lease_pid=None, lease_expires_at=None)
        assignments = ", ".join(f"{name} = ?" for name in values)
        db.execute(f"UPDATE queue_items SET {assignments} WHERE id = ?", (*values.values(), item.id))
        if to_state != item.state or detail:
            self._event(db, item.id, now, item.state, to_state, runner, detail)

    def add(self, new: NewItem, now: datetime) -> int:
        due = new.not_before if new.not_before is not None and new.not_before > now else now
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO queue_items (state, video_path, title, file_sha256, file_size_bytes, priority, added_at,"
                " not_before, due_at, publish_at, skip_qa, qa_preset, snapshot, planned_calls, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (PENDING, new.video_path, new.title, new.file_sha256, new.file_size_bytes, new.priority,
                 format_db_time(now), format_db_time(new.not_before) if new.not_before else None,
                 format_db_time(due), new.publish_at, int(new.skip_qa), new.qa_preset,
                 json.dumps(new.snapshot, sort_keys=True), json.dumps(new.planned_calls), format_db_time(now)),
            )
            item_id = int(cursor.lastrowid or 0)
            self._event(db, item_id, now, None, PENDING, None, "added")
        return item_id

    def _reserved(self, db: sqlite3.Connection, now: datetime, table: QuotaTable, except_id: int) -> dict[str, int]:
        """What uploads in flight may still spend: their whole planned cost (an upper bound)."""
        rows = db.execute("SELECT id, planned_calls FROM queue_items WHERE state = ? AND lease_expires_at > ?",
                          (UPLOADING, format_db_time(now))).fetchall()
        total: dict[str, int] = {}
        for row in rows:
            if row["id"] == except_id:
                continue
            for bucket, cost in price(json.loads(row["planned_calls"]), table).items():
                total[bucket] = total.get(bucket, 0) + cost
        return total

    def claim_next(
        self,
        runner: RunnerIdentity,
        now: datetime,
        lease_s: float,
        *,
        spent: dict[str, int],
        table: QuotaTable,
        alive: AliveCheck = _never_alive,
        exclude: frozenset[int] | set[int] = frozenset(),
        checks_only: bool = False,
    ) -> ClaimResult:
        """Take a lease on the next due item, deferring on the way what holds or the budget forbid."""
        postponed: list[Postponed] = []
        expires = format_db_time(now + timedelta(seconds=lease_s))
        with self.transaction() as db:
            holds = [Hold(name=r["name"], until=parse_db_time(r["until_utc"]), reason=r["reason"])  # type: ignore[arg-type]
                     for r in db.execute("SELECT * FROM queue_holds WHERE until_utc > ?", (format_db_time(now),))]
            upload_hold = holds[0] if holds else None
            quota_hold = next((h for h in holds if h.name == QUOTA_HOLD), None)
            rows = db.execute(f"SELECT * FROM queue_items WHERE state IN (?, ?, ?, ?) {DUE_ORDER}",
                              (PENDING, DEFERRED, UPLOADING, PROCESSING)).fetchall()
            for item in (item_from_row(row) for row in rows):
                if item.id in exclude:
                    continue
                if item.lease_live(now) and alive(item.lease_owner or "", item.lease_host):
                    continue
                if item.state != UPLOADING and item.due_at > now:
                    continue  # an interrupted upload is due at once; everything else waits for its time
                lease = {"lease_owner": runner.id, "lease_host": runner.host, "lease_pid": runner.pid,
                         "lease_expires_at": expires}
                if item.state == PROCESSING:
                    if quota_hold is not None:  # even a status check spends quota
                        db.execute("UPDATE queue_items SET due_at = ? WHERE id = ?",
                                   (format_db_time(quota_hold.until), item.id))
                        continue
                    self._update(db, item, now, to_state=PROCESSING, runner=runner.id, detail=None,
                                 clear_lease=False, **lease)
                    return ClaimResult(Claim(self._reload(db, item.id), "check"), postponed)
                if checks_only:
                    continue
                if upload_hold is not None:
                    self._update(db, item, now, to_state=DEFERRED, runner=runner.id, detail=upload_hold.reason,
                                 due_at=format_db_time(upload_hold.until), reason=upload_hold.reason)
                    postponed.append(Postponed(item.id, item.video_name, DEFERRED, upload_hold.until,
                                               upload_hold.reason))
                    continue
                verdict = judge_budget(price(item.planned_calls, table), spent,
                                       self._reserved(db, now, table, item.id), table.daily_limits)
                if verdict.kind == "never":
                    self._update(db, item, now, to_state=FAILED, runner=runner.id, detail=verdict.message,
                                 reason=verdict.message)
                    postponed.append(Postponed(item.id, item.video_name, FAILED, None, verdict.message))
                    continue
                if verdict.kind == "defer":
                    reset = next_reset(now)
                    reason = f"{verdict.message}; deferred to the quota reset"
                    self._update(db, item, now, to_state=DEFERRED, runner=runner.id, detail=reason,
                                 due_at=format_db_time(reset), reason=reason)
                    postponed.append(Postponed(item.id, item.video_name, DEFERRED, reset, reason))
                    continue
                if verdict.kind == "wait":
                    postponed.append(Postponed(item.id, item.video_name, item.state, None, verdict.message))
                    continue
                self._update(db, item, now, to_state=UPLOADING, runner=runner.id,
                             detail="resuming after the previous runner stopped" if item.state == UPLOADING else None,
                             clear_lease=False, attempts=item.attempts + 1, reason=None, **lease)
                return ClaimResult(Claim(self._reload(db, item.id), "upload"), postponed)
        return ClaimResult(None, postponed)

    @staticmethod
    def _reload(db: sqlite3.Connection, item_id: int) -> QueueItem:
        return item_from_row(db.execute("SELECT * FROM queue_items WHERE id = ?", (item_id,)).fetchone())

    def renew(self, item_id: int, runner: RunnerIdentity, now: datetime, lease_s: float) -> bool:
        """Extend our lease; False if it is no longer ours."""
        with self.transaction() as db:
            cursor = db.execute("UPDATE queue_items SET lease_expires_at = ? WHERE id = ? AND lease_owner = ?",
                                (format_db_time(now + timedelta(seconds=lease_s)), item_id, runner.id))
            return cursor.rowcount > 0

    def _owned(self, db: sqlite3.Connection, item_id: int, runner: RunnerIdentity) -> QueueItem | None:
        item = self._reload(db, item_id)
        return item if item.lease_owner == runner.id else None

    def save_qa_result(self, item_id: int, result: dict[str, Any]) -> None:
        with self.transaction() as db:
            db.execute("UPDATE queue_items SET qa_result = ? WHERE id = ?", (json.dumps(result), item_id))

    def mark_uploaded(self, item_id: int, runner: RunnerIdentity, now: datetime, video_id: str,
                      next_check_at: datetime, detail: str) -> bool:
        """The video exists: `processing` until YouTube says it is processed. A fact, so any runner may record it."""
        with self.transaction() as db:
            item = self._reload(db, item_id)
            if item.state in {PROCESSING, DONE}:
                return False
            # The lease stays: the runner that uploaded it checks processing once before letting go.
            self._update(db, item, now, to_state=PROCESSING, runner=runner.id, detail=detail, clear_lease=False,
                         video_id=video_id, uploaded_at=format_db_time(now), due_at=format_db_time(next_check_at),
                         reason=None, failures=0)
            return True

    def mark_done(self, item_id: int, runner: RunnerIdentity, now: datetime, detail: str) -> bool:
        """processing -> done, once: a second runner recording the same fact changes nothing."""
        with self.transaction() as db:
            item = self._reload(db, item_id)
            if item.state != PROCESSING:
                return False
            self._update(db, item, now, to_state=DONE, runner=runner.id, detail=detail, done_at=format_db_time(now),
                         reason=None)
            return True

    def still_processing(self, item_id: int, runner: RunnerIdentity, now: datetime, next_check_at: datetime) -> None:
        with self.transaction() as db:
            item = self._owned(db, item_id, runner)
            if item is not None and item.state == PROCESSING:
                self._update(db, item, now, to_state=PROCESSING, runner=runner.id, detail=None,
                             due_at=format_db_time(next_check_at))

    def defer(self, item_id: int, runner: RunnerIdentity, now: datetime, until: datetime, reason: str,
              *, error: str | None = None) -> bool:
        """Wait until `until`. With `error`, a retryable failure: counted, so repeated ones end in `failed`."""
        with self.transaction() as db:
            item = self._owned(db, item_id, runner)
            if item is None:
                return False
            to_state = PROCESSING if item.state == PROCESSING else DEFERRED
            self._update(db, item, now, to_state=to_state, runner=runner.id, detail=reason,
                         due_at=format_db_time(until), reason=reason,
                         last_error=error if error is not None else item.last_error,
                         failures=item.failures + (1 if error is not None else 0))
            return True

    def fail(self, item_id: int, runner: RunnerIdentity, now: datetime, reason: str) -> bool:
        with self.transaction() as db:
            item = self._owned(db, item_id, runner)
            if item is None:
                return False
            self._update(db, item, now, to_state=FAILED, runner=runner.id, detail=reason, reason=reason,
                         last_error=reason)
            return True

    def release(self, item_id: int, runner: RunnerIdentity, now: datetime, reason: str) -> bool:
        """Give the item back untouched (interrupted, or the runner must stop): due again at once."""
        with self.transaction() as db:
            item = self._owned(db, item_id, runner)
            if item is None:
                return False
            to_state = PROCESSING if item.state == PROCESSING else PENDING
            self._update(db, item, now, to_state=to_state, runner=runner.id, detail=reason,
                         due_at=format_db_time(now), last_error=reason)
            return True

    def set_hold(self, name: str, until: datetime, reason: str, now: datetime, runner: RunnerIdentity | None,
                 *, checks_too: bool) -> list[int]:
        """Everything waits until `until`: defer every waiting item, and our own in-flight item.

        Returns the ids deferred. `checks_too` also postpones processing checks (they spend quota).
        """
        runner_id = runner.id if runner else None
        deferred: list[int] = []
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO queue_holds (name, until_utc, reason, set_at) VALUES (?, ?, ?, ?)",
                       (name, format_db_time(until), reason, format_db_time(now)))
            rows = db.execute("SELECT * FROM queue_items WHERE state IN (?, ?, ?)",
                              (PENDING, DEFERRED, UPLOADING)).fetchall()
            for item in (item_from_row(row) for row in rows):
                if item.state == UPLOADING and item.lease_owner != runner_id:
                    continue  # another runner's upload: it will meet the same answer and defer itself
                if item.state in WAITING_STATES and item.due_at >= until:
                    continue
                self._update(db, item, now, to_state=DEFERRED, runner=runner_id, detail=reason,
                             due_at=format_db_time(until), reason=reason)
                deferred.append(item.id)
            if checks_too:
                db.execute("UPDATE queue_items SET due_at = ? WHERE state = ? AND due_at < ?",
                           (format_db_time(until), PROCESSING, format_db_time(until)))
            if runner_id is not None:  # a check we were making waits too: let go of it
                db.execute("UPDATE queue_items SET lease_owner = NULL, lease_host = NULL, lease_pid = NULL,"
                           " lease_expires_at = NULL WHERE state = ? AND lease_owner = ?", (PROCESSING, runner_id))
        return deferred

    def cancel(self, item_id: int, now: datetime, alive: AliveCheck = _never_alive) -> QueueItem:
        with self.transaction() as db:
            item = self._reload_or_raise(db, item_id)
            if item.state in {PROCESSING, DONE}:
                where = f" as {watch_url(item.video_id)}" if item.video_id else ""
                raise QueueError(f"item {item_id} is already on YouTube{where}: delete the video in YouTube Studio "
                                 "if it should not be there")
            if item.state == CANCELLED:
                raise QueueError(f"item {item_id} is already cancelled")
            if item.state == UPLOADING and item.lease_live(now) and alive(item.lease_owner or "", item.lease_host):
                raise QueueError(f"item {item_id} is being uploaded right now (runner {item.lease_owner} on "
                                 f"{item.lease_host}, pid {item.lease_pid}); stop that runner first, then cancel")
            self._update(db, item, now, to_state=CANCELLED, runner=None, detail="cancelled by the user",
                         reason="cancelled by the user")
            return self._reload(db, item_id)

    def retry(self, item_id: int, now: datetime) -> QueueItem:
        """failed, cancelled or deferred -> pending, due now, with a fresh count of attempts."""
        with self.transaction() as db:
            item = self._reload_or_raise(db, item_id)
            if item.state not in {FAILED, CANCELLED, DEFERRED}:
                raise QueueError(f"item {item_id} is {item.state}; only failed, cancelled or deferred items can be "
                                 "retried")
            if item.video_id:
                raise QueueError(f"item {item_id} is already on YouTube as {watch_url(item.video_id)} "
                                 f"({item.reason}); to upload the file again use `wayfinder upload --again`")
            self._update(db, item, now, to_state=PENDING, runner=None, detail="retry asked by the user",
                         due_at=format_db_time(now), reason=None, attempts=0, failures=0)
            return self._reload(db, item_id)

    def _reload_or_raise(self, db: sqlite3.Connection, item_id: int) -> QueueItem:
        row = db.execute("SELECT * FROM queue_items WHERE id = ?", (item_id,)).fetchone()
        if row is None:
            raise QueueError(f"there is no queue item {item_id} (see `wayfinder queue list`)")
        return item_from_row(row)

