"""The upload queue's vocabulary: item states, the item record, and how times are stored.

Owns the state names (a contract: they appear in `queue list --json` and the README),
which states count as waiting, working or finished, and the one text format for times in
the database: UTC, fixed width (`2025-01-15T08:00:00.000000Z`), so SQL can compare and
sort them as text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from pipeline.errors import EXIT_FAILED, WayfinderError

PENDING = "pending"
UPLOADING = "uploading"
PROCESSING = "processing"
DONE = "done"
DEFERRED = "deferred"
FAILED = "failed"
CANCELLED = "cancelled"

STATES: tuple[str, ...] = (PENDING, UPLOADING, PROCESSING, DONE, DEFERRED, FAILED, CANCELLED)
WAITING_STATES = frozenset({PENDING, DEFERRED})  # not started, or waiting for a time
ACTIVE_STATES = frozenset({PENDING, DEFERRED, UPLOADING, PROCESSING})  # not finished
FINAL_STATES = frozenset({DONE, FAILED, CANCELLED})

QUOTA_HOLD = "quota"  # YouTube said quotaExceeded: nothing until the reset
UPLOAD_LIMIT_HOLD = "upload_limit"  # YouTube said uploadLimitExceeded: no uploads for a while

_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def format_db_time(moment: datetime) -> str:
    """A moment as the database stores it (UTC, fixed width, sortable as text)."""
    if moment.tzinfo is None:
        raise ValueError("queue times must carry a time zone")
    return moment.astimezone(timezone.utc).strftime(_TIME_FORMAT)


def parse_db_time(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.strptime(text, _TIME_FORMAT).replace(tzinfo=timezone.utc)


def watch_url(video_id: str) -> str:
    return f"https://www.youtube.com/watch?v={video_id}"


@dataclass(frozen=True)
class QueueItem:
    """One queued upload as stored. Times are aware UTC datetimes."""

    id: int
    state: str
    video_path: str
    title: str
    file_sha256: str
    file_size_bytes: int
    priority: int
    added_at: datetime
    not_before: datetime | None
    due_at: datetime
    publish_at: str | None  # RFC 3339 UTC as sent in videos.insert, if scheduled
    skip_qa: bool
    qa_preset: str
    snapshot: dict[str, Any]
    planned_calls: tuple[str, ...]
    reason: str | None
    last_error: str | None
    attempts: int  # times taken for upload
    failures: int  # retryable errors since the last success or retry
    lease_owner: str | None
    lease_host: str | None
    lease_pid: int | None
    lease_expires_at: datetime | None
    video_id: str | None
    uploaded_at: datetime | None
    done_at: datetime | None
    qa_result: dict[str, Any] | None
    updated_at: datetime

    @property
    def video_name(self) -> str:
        return self.video_path.rsplit("/", 1)[-1]

    def lease_live(self, now: datetime) -> bool:
        """A lease that has not expired (whether its holder is alive is checked elsewhere)."""
        return self.lease_owner is not None and self.lease_expires_at is not None and self.lease_expires_at > now

    def to_dict(self) -> dict[str, Any]:
        """The item as `queue list --json` and `queue show --json` print it (no snapshot bodies)."""
        def text(moment: datetime | None) -> str | None:
            return moment.isoformat(timespec="seconds").replace("+00:00", "Z") if moment else None

        return {
            "id": self.id,
            "state": self.state,
            "video": self.video_path,
            "title": self.title,
            "priority": self.priority,
            "added_at": text(self.added_at),
            "not_before": text(self.not_before),
            "due_at": text(self.due_at),
            "publish_at": self.publish_at,
            "video_id": self.video_id,
            "url": watch_url(self.video_id) if self.video_id else None,
            "reason": self.reason,
            "last_error": self.last_error,
            "attempts": self.attempts,
            "failures": self.failures,
            "lease": None if self.lease_owner is None else {
                "runner": self.lease_owner, "host": self.lease_host, "pid": self.lease_pid,
                "expires_at": text(self.lease_expires_at),
            },
            "uploaded_at": text(self.uploaded_at),
            "done_at": text(self.done_at),
            "file": {"sha256": self.file_sha256, "size_bytes": self.file_size_bytes},
            "skip_qa": self.skip_qa,
            "qa_preset": self.qa_preset,
            "qa": self.qa_result,
            "planned_calls": list(self.planned_calls),
        }


def item_from_row(row: Any) -> QueueItem:
    """A QueueItem from a `queue_items` row (sqlite3.Row)."""
    return QueueItem(
        id=int(row["id"]),
        state=str(row["state"]),
        video_path=str(row["video_path"]),
        title=str(row["title"]),
        file_sha256=str(row["file_sha256"]),
        file_size_bytes=int(row["file_size_bytes"]),
        priority=int(row["priority"]),
        added_at=parse_db_time(row["added_at"]),  # type: ignore[arg-type]
        not_before=parse_db_time(row["not_before"]),
        due_at=parse_db_time(row["due_at"]),  # type: ignore[arg-type]
        publish_at=row["publish_at"],
        skip_qa=bool(row["skip_qa"]),
        qa_preset=str(row["qa_preset"]),
        snapshot=json.loads(row["snapshot"]),
        planned_calls=tuple(json.loads(row["planned_calls"])),
        reason=row["reason"],
        last_error=row["last_error"],
        attempts=int(row["attempts"]),
        failures=int(row["failures"]),
        lease_owner=row["lease_owner"],
        lease_host=row["lease_host"],
        lease_pid=row["lease_pid"],
        lease_expires_at=parse_db_time(row["lease_expires_at"]),
        video_id=row["video_id"],
        uploaded_at=parse_db_time(row["uploaded_at"]),
        done_at=parse_db_time(row["done_at"]),
        qa_result=json.loads(row["qa_result"]) if row["qa_result"] else None,
        updated_at=parse_db_time(row["updated_at"]),  # type: ignore[arg-type]
    )


@dataclass(frozen=True)
class QueueEvent:
    """One state change of an item, as recorded (the item's history)."""

    item_id: int
    at: datetime
    from_state: str | None
    to_state: str
    runner: str | None
    detail: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(timespec="seconds").replace("+00:00", "Z"), "from": self.from_state,
                "to": self.to_state, "runner": self.runner, "detail": self.detail}


@dataclass(frozen=True)
class Hold:
    """Everything waits until `until`: YouTube said the quota or the channel's upload limit is reached."""

    name: str  # "quota" or "upload_limit"
    until: datetime
    reason: str


class QueueError(WayfinderError):
    """A queue operation that cannot be done as asked (no such item, not cancellable, ...)."""

    exit_code = EXIT_FAILED
