"""The queue runner: take due items one at a time and upload them with the publishing code.

One pass: claim the next due item (a lease, in one transaction with the budget check),
keep the lease alive from a background thread while working, check the files and the
audio (`gate`), then `pipeline.youtube.publish.publish`, which records the resumable
session before the first byte and resumes it in any later process. An uploaded item is
`processing` until YouTube says it is processed (checked once at once, then every
`poll_interval_s` on later passes); then `done`.

Crash safety comes from the order of facts, not from luck: the session is recorded
before bytes are sent, the duplicate ledger is written before the item changes state,
and every state change is guarded (`processing -> done` happens once). A runner killed
anywhere leaves an item whose next run resumes the session, or finds the video in the
ledger, and never creates a second one.

`watch=False` processes what is due and returns (cron, systemd timers); `watch=True`
keeps going, sleeping until the next due time. An interrupt (Ctrl-C, SIGTERM arriving
as KeyboardInterrupt) gives the item in flight back as `pending`, resumable. A
KeyboardInterrupt raised from a signal handler can land inside C code that turns it into
an ordinary error someone catches, so the caller also passes `stop_requested`, checked
at every progress callback (each chunk) and between items: a stop is never lost.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pipeline.errors import WayfinderError
from pipeline.queue.clock import Clock
from pipeline.queue.decide import Decision, RetrySettings, decide
from pipeline.queue.gate import check_files_unchanged, check_loudness
from pipeline.queue.lease import RunnerIdentity, RunnerLock, runner_alive
from pipeline.queue.model import QueueItem, watch_url
from pipeline.queue.snapshot import restore_plan
from pipeline.queue.store import QueueStore
from pipeline.state import StateStore
from pipeline.youtube.client import OnCall, YouTubeClient
from pipeline.youtube.publish import PublishOptions, Reporter, publish, quota_recorder
from pipeline.youtube.quota import QuotaTable, quota_day
from pipeline.youtube.record import read_record
from pipeline.youtube.retry import call_with_retries
from pipeline.local_time import local_time_text

MIN_IDLE_S = 0.5  # --watch never spins faster than this, whatever is due
PROCESSING_GIVE_UP_S = 48 * 3600.0


@dataclass(frozen=True)
class RunOptions:
    watch: bool = False
    max_uploads: int | None = None  # stop after taking this many items for upload
    lease_s: float = 600.0  # a lease not renewed for this long is free for another runner
    poll_interval_s: float = 120.0  # between checks of YouTube's processing
    idle_max_s: float = 30.0  # --watch: longest sleep, so newly added items are seen
    retry: RetrySettings = field(default_factory=RetrySettings)
    publish: PublishOptions = field(default_factory=PublishOptions)


@dataclass
class RunSummary:
    uploaded: list[int] = field(default_factory=list)  # items now on YouTube (processing or done)
    done: list[int] = field(default_factory=list)
    deferred: dict[int, str] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)
    released: dict[int, str] = field(default_factory=dict)
    checks: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"uploaded": self.uploaded, "done": self.done,
                "deferred": {str(k): v for k, v in self.deferred.items()},
                "failed": {str(k): v for k, v in self.failed.items()},
                "released": {str(k): v for k, v in self.released.items()}, "processing_checks": self.checks}


Connect = Callable[[OnCall], YouTubeClient]
Log = Callable[[str], None]


class StopCheckingReporter:
    """Passes everything to the real reporter, raising KeyboardInterrupt first if a stop was asked for."""

    def __init__(self, inner: Reporter, stop_requested: Callable[[], bool]) -> None:
        self._inner = inner
        self._stop_requested = stop_requested

    def _check(self) -> None:
        if self._stop_requested():
            raise KeyboardInterrupt

    def info(self, message: str) -> None:
        self._check()
        self._inner.info(message)

    def warn(self, message: str) -> None:
        self._check()
        self._inner.warn(message)

    def transfer_started(self, total_bytes: int) -> None:
        self._check()
        self._inner.transfer_started(total_bytes)

    def transfer_progress(self, done_bytes: int) -> None:
        self._inner.transfer_progress(done_bytes)
        self._check()

    def transfer_finished(self) -> None:
        self._inner.transfer_finished()  # clean-up: never interrupted

    def processing(self, message: str) -> None:
        self._check()
        self._inner.processing(message)


class LeaseKeeper:
    """Renews an item's lease from a thread (own connection) while the item is worked on."""

    def __init__(self, db_path: Path, item_id: int, identity: RunnerIdentity, lease_s: float, clock: Clock) -> None:
        self._args = (db_path, item_id, identity, lease_s, clock)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{item_id}", daemon=True)
        self.error: WayfinderError | None = None

    def _run(self) -> None:
        db_path, item_id, identity, lease_s, clock = self._args
        try:
            # No backups from here: the runner's own store backs up what it changed.
            store = QueueStore(db_path, backups=False)
            try:
                while not self._stop.wait(lease_s / 3):
                    if not store.renew(item_id, identity, clock(), lease_s):
                        return  # no longer ours (released, finished, or taken over): nothing to keep
            finally:
                store.close()
        except WayfinderError as error:  # the state database failed under us: the runner reports it
            self.error = error

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        if self.error is not None and exc_type is None:
            raise self.error


class QueueRunner:
    def __init__(self, *, queue: QueueStore, state: StateStore, table: QuotaTable, options: RunOptions,
                 connect: Connect, reporter: Reporter, log: Log, clock: Clock,
                 sleep: Callable[[float], None] = time.sleep, identity: RunnerIdentity | None = None,
                 stop_requested: Callable[[], bool] = lambda: False) -> None:
        self.queue = queue
        self.state = state
        self.table = table
        self.options = options
        self._connect = connect
        self._client: YouTubeClient | None = None
        self._stop_requested = stop_requested
        self.reporter: Reporter = StopCheckingReporter(reporter, stop_requested)
        self.log = log
        self.clock = clock
        self.sleep = sleep
        self.identity = identity or RunnerIdentity.new()
        self.summary = RunSummary()

    # --- the loop ------------------------------------------------------------------

    def run(self) -> RunSummary:
        with RunnerLock(self.queue.state_dir, self.identity):
            visited: set[int] = set()
            uploads = 0
            while True:
                self._check_stop()
                now = self.clock()
                spent = self.state.quota_spent_on(quota_day(now))
                result = self.queue.claim_next(self.identity, now, self.options.lease_s, spent=spent,
                                               table=self.table, alive=self._alive, exclude=visited)
                for postponed in result.postponed:
                    self._note_postponed(postponed.item_id, postponed.video_name, postponed.state,
                                         postponed.until, postponed.reason)
                claim = result.claim
                if claim is None:
                    if not self.options.watch:
                        return self.summary
                    visited.clear()
                    self.queue.back_up_if_changed()  # a long watch keeps backups as fresh as its idle times
                    self._idle()
                    continue
                visited.add(claim.item.id)
                if claim.kind == "check":
                    self._check(claim.item)
                    continue
                uploads += 1
                self._upload(claim.item)
                if self.options.max_uploads is not None and uploads >= self.options.max_uploads:
                    self.log(f"stopping after {uploads} upload(s) (--max)")
                    return self.summary

    def _check_stop(self) -> None:
        if self._stop_requested():
            raise KeyboardInterrupt

    def _alive(self, runner_id: str, host: str | None) -> bool:
        return runner_alive(self.queue.state_dir, runner_id, host)

    def _idle(self) -> None:
        now = self.clock()
        wake = self.queue.next_wake(now)
        delay_s = self.options.idle_max_s if wake is None else (wake - now).total_seconds()
        self.sleep(min(self.options.idle_max_s, max(MIN_IDLE_S, delay_s)))

    def _client_now(self) -> YouTubeClient:
        if self._client is None:
            self._client = self._connect(quota_recorder(self.state, self.table, self.clock))
        return self._client

    def _note_postponed(self, item_id: int, name: str, state: str, until: datetime | None, reason: str) -> None:
        if state == "failed":
            self.summary.failed[item_id] = reason
            self.log(f"item {item_id} {name}: failed: {reason}")
        elif until is not None:
            self.summary.deferred[item_id] = reason
            self.log(f"item {item_id} {name}: deferred until {local_time_text(until)}: {reason}")

    # --- one upload ----------------------------------------------------------------

    def _upload(self, item: QueueItem) -> None:
        resumed = " (resuming)" if item.attempts > 1 else ""
        self.log(f"item {item.id} {item.video_name}: uploading{resumed}: {item.title!r}")
        with LeaseKeeper(self.queue.path, item.id, self.identity, self.options.lease_s, self.clock):
            try:
                video_id, duplicate = self._gate_and_publish(item)
            except BaseException as error:  # noqa: BLE001 - every error is decided on; interrupts re-raised
                self._handle_error(item, error, checking=False)
                return
            if video_id is None:
                return
            now = self.clock()
            what = "already on YouTube" if duplicate else "uploaded"
            self.queue.mark_uploaded(item.id, self.identity, now, video_id, now,
                                     f"{what} as {watch_url(video_id)}")
            self.summary.uploaded.append(item.id)
            self.log(f"item {item.id} {item.video_name}: {what} as {watch_url(video_id)}")
            refreshed = self.queue.get(item.id)
            if refreshed is not None and refreshed.lease_owner == self.identity.id and not self._stop_requested():
                self._check_locked(refreshed)

    def _gate_and_publish(self, item: QueueItem) -> tuple[str | None, bool]:
        """(video id, found as a duplicate), or (None, False) if a gate failed the item."""
        reason = check_files_unchanged(item.snapshot.get("files", {}))
        if reason is None and item.publish_at:
            publish_at = datetime.fromisoformat(item.publish_at.replace("Z", "+00:00"))
            if publish_at <= self.clock():
                reason = (f"publish_at {item.publish_at} has passed before the upload could happen; queue it again "
                          "with a new --publish-at")
        if reason is None and not item.skip_qa:
            reason = self._qa_gate(item)
        if reason is not None:
            self._fail(item, reason)
            return None, False
        plan = restore_plan(item.snapshot)
        outcome = publish(plan, self._client_now(), self.state, self.options.publish, self.reporter,
                          table=self.table, now=self.clock)
        return outcome.video_id, outcome.duplicate

    def _qa_gate(self, item: QueueItem) -> str | None:
        cached = item.qa_result
        if cached is None or cached.get("file_sha256") != item.file_sha256:
            self.log(f"item {item.id} {item.video_name}: checking loudness against preset {item.qa_preset}")
            cached = check_loudness(Path(item.video_path), item.file_sha256, item.qa_preset).to_dict()
            self.queue.save_qa_result(item.id, cached)
        return None if cached["passed"] else str(cached["reason"])

    def _fail(self, item: QueueItem, reason: str) -> None:
        self.queue.fail(item.id, self.identity, self.clock(), reason)
        self.summary.failed[item.id] = reason
        self.log(f"item {item.id} {item.video_name}: failed: {reason}")

    def _uploaded_video(self, item: QueueItem) -> str | None:
        """The video this file already is, per the upload record beside it (a step after the upload failed)."""
        record = read_record(Path(item.video_path))
        if record and record.get("video_id") and (record.get("file") or {}).get("sha256") == item.file_sha256:
            return str(record["video_id"])
        return None

    def _handle_error(self, item: QueueItem, error: BaseException, *, checking: bool) -> None:
        if self._stop_requested() and not isinstance(error, KeyboardInterrupt):
            error = KeyboardInterrupt()  # the interrupt came back disguised as another error
        now = self.clock()
        current = self.queue.get(item.id) or item
        uploaded = None if checking else self._uploaded_video(item)
        decision = decide(error, now=now, failures=1 if checking else current.failures + 1,
                          settings=self.options.retry, video_uploaded=uploaded is not None)
        if uploaded is not None and decision.action == "defer":
            decision = Decision("defer", f"uploaded as {watch_url(uploaded)}, but {decision.reason}",
                                until=decision.until)
        self._apply(item, decision, error)
        if decision.stop_run:
            raise error

    def _apply(self, item: QueueItem, decision: Decision, error: BaseException) -> None:
        now = self.clock()
        name = f"item {item.id} {item.video_name}"
        if decision.action == "hold":
            assert decision.until is not None and decision.hold is not None
            deferred = self.queue.set_hold(decision.hold, decision.until, decision.reason, now, self.identity,
                                           checks_too=decision.checks_too)
            for item_id in deferred:
                self.summary.deferred[item_id] = decision.reason
            self.log(f"{name}: {decision.reason}; {len(deferred)} item(s) deferred until {local_time_text(decision.until)}")
        elif decision.action == "defer":
            assert decision.until is not None
            message = error.one_line() if isinstance(error, WayfinderError) else f"{type(error).__name__}: {error}"
            self.queue.defer(item.id, self.identity, now, decision.until, decision.reason, error=message)
            self.summary.deferred[item.id] = decision.reason
            self.log(f"{name}: deferred until {local_time_text(decision.until)}: {decision.reason}")
        elif decision.action == "fail":
            self._fail(item, decision.reason)
        else:
            self.queue.release(item.id, self.identity, now, decision.reason)
            self.summary.released[item.id] = decision.reason
            self.log(f"{name}: left for the next run: {decision.reason}")

    # --- processing checks ---------------------------------------------------------

    def _check(self, item: QueueItem) -> None:
        with LeaseKeeper(self.queue.path, item.id, self.identity, self.options.lease_s, self.clock):
            self._check_locked(item)

    def _check_locked(self, item: QueueItem) -> None:
        assert item.video_id is not None
        video_id = item.video_id
        self.summary.checks += 1
        try:
            video = call_with_retries(lambda: self._client_now().get_video(video_id), self.options.publish.retry)
        except BaseException as error:  # noqa: BLE001 - decided like an upload error; interrupts re-raised
            self._handle_error(item, error, checking=True)
            return
        now = self.clock()
        name = f"item {item.id} {item.video_name}"
        verdict, detail = read_processing(video, video_id)
        if verdict == "done":
            if self.queue.mark_done(item.id, self.identity, now, detail):
                self.summary.done.append(item.id)
                self.log(f"{name}: done: {watch_url(video_id)} ({detail})")
        elif verdict == "failed":
            self._fail(item, detail)
        elif item.uploaded_at is not None and (now - item.uploaded_at).total_seconds() > PROCESSING_GIVE_UP_S:
            self._fail(item, f"YouTube was still processing {watch_url(video_id)} after "
                             f"{PROCESSING_GIVE_UP_S / 3600:.0f} h; check it in YouTube Studio")
        else:
            next_check = now + timedelta(seconds=self.options.poll_interval_s)
            self.queue.still_processing(item.id, self.identity, now, next_check)
            self.log(f"{name}: YouTube is still processing it ({detail}); next check {local_time_text(next_check)}")


def read_processing(video: dict[str, Any] | None, video_id: str) -> tuple[str, str]:
    """("done" | "failed" | "processing", what YouTube says) from a videos.list item."""
    if video is None:
        return "failed", f"YouTube no longer lists video {video_id} (deleted or rejected)"
    status = video.get("status", {})
    details = video.get("processingDetails", {})
    upload_status = status.get("uploadStatus")
    processing_status = details.get("processingStatus")
    if upload_status == "processed" or processing_status == "succeeded":
        return "done", "processed"
    if upload_status in {"failed", "rejected", "deleted"} or processing_status in {"failed", "terminated"}:
        why = (status.get("failureReason") or status.get("rejectionReason") or details.get("processingFailureReason")
               or "no reason given")
        return "failed", f"YouTube could not process video {video_id}: {upload_status or processing_status} ({why})"
    return "processing", str(processing_status or upload_status or "processing")
