"""Publishing one checked plan: duplicate check, transfer, thumbnail, captions, playlist,
processing wait, and the upload record.

Each step after the transfer is recorded in the state store when done, so a re-run of
the same command finishes what is missing (the ledger says the video exists, the steps
table says what is left) instead of uploading again. The upload record beside the file
(`VIDEO.youtube.json`) is consulted too: if the state store was lost or recreated, a
record naming this content on this channel restores the ledger entry and the steps it
says were done, so the file is not uploaded a second time (`--again` still does).
A lost reply to the last chunk whose session is then gone is settled by looking for the
video (`lost_reply.find_uploaded_video`), or by the producer with `--adopt VIDEO_ID`.
A failed step does not stop the others; the record is always written, and the command
then fails naming what to re-run.
Quota and authorization errors stop the remaining steps: the next ones would fail too.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from pipeline.errors import CredentialsError, QuotaError, UsageError, WayfinderError
from pipeline.state import LedgerEntry, LockBusy, StateStore
from pipeline.youtube.calls import describe_requests
from pipeline.youtube.client import OnCall, YouTubeClient
from pipeline.youtube.errors import TransientError, YouTubeRequestError
from pipeline.youtube.lost_reply import LostUpload, find_uploaded_video
from pipeline.youtube.plan import UploadPlan
from pipeline.youtube.playlists import add_to_playlist
from pipeline.youtube.quota import QuotaTable, format_reset, quota_day
from pipeline.youtube.record import read_qa_numbers, read_record, studio_url, watch_url, write_record
from pipeline.youtube.record import record_path as record_file
from pipeline.youtube.retry import RetryPolicy, call_with_retries
from pipeline.youtube.thumbnail import thumbnail_mimetype, write_auto_thumbnail
from pipeline.youtube.upload import TransferKey, TransferResult, run_transfer

DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024
STEPS = ("thumbnail", "captions", "playlist")


class Reporter(Protocol):
    """How the publishing step talks to its user (the CLI draws bars; a batch may log)."""

    def info(self, message: str) -> None: ...
    def warn(self, message: str) -> None: ...
    def transfer_started(self, total_bytes: int) -> None: ...
    def transfer_progress(self, done_bytes: int) -> None: ...
    def transfer_finished(self) -> None: ...
    def processing(self, message: str) -> None: ...


class SilentReporter:
    def info(self, message: str) -> None: pass
    def warn(self, message: str) -> None: pass
    def transfer_started(self, total_bytes: int) -> None: pass
    def transfer_progress(self, done_bytes: int) -> None: pass
    def transfer_finished(self) -> None: pass
    def processing(self, message: str) -> None: pass


@dataclass(frozen=True)
class PublishOptions:
    chunk_size_bytes: int = DEFAULT_CHUNK_BYTES
    again: bool = False
    adopt_video_id: str | None = None  # the producer says this video is the upload of this file
    wait: bool = False
    wait_timeout_s: float = 3600.0
    poll_interval_s: float = 15.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)


@dataclass
class PublishOutcome:
    video_id: str
    url: str
    record: dict[str, Any]
    record_path: Path
    duplicate: bool
    failed_steps: dict[str, str]


class ProcessingError(WayfinderError):
    """YouTube could not process the uploaded video, or did not finish in time."""


class UploadBusyError(WayfinderError):
    """Another process is uploading the same file to the same channel."""


def quota_recorder(store: StateStore, table: QuotaTable, clock: Callable[[], datetime] | None = None) -> OnCall:
    """An `on_call` hook that writes each API call's cost to the state store."""
    def record(method: str) -> None:
        now = clock() if clock else datetime.now(timezone.utc)
        bucket, cost = table.cost(method)
        store.record_quota(method, bucket, cost, now, quota_day(now))
    return record


def check_quota_budget(plan: UploadPlan, store: StateStore, table: QuotaTable, options: PublishOptions,
                       reporter: Reporter, now: datetime) -> None:
    """Warn (not refuse: a project may have more quota than the table says) before overspending."""
    planned = describe_requests(plan, chunk_size_bytes=options.chunk_size_bytes, cached_playlist_id=None,
                                wait=False, table=table)
    need = table.total(r["method"] for r in planned if "when" not in r)
    spent = store.quota_spent_on(quota_day(now))
    for bucket, limit in table.daily_limits.items():
        if spent.get(bucket, 0) + need.get(bucket, 0) > limit:
            reporter.warn(
                f"quota: Wayfinder has spent {spent.get(bucket, 0)} of {limit} {bucket} today and this upload needs "
                f"{need.get(bucket, 0)} more; YouTube may refuse it (quota resets {format_reset(now)})"
            )


def publish(
    plan: UploadPlan,
    client: YouTubeClient,
    store: StateStore,
    options: PublishOptions,
    reporter: Reporter,
    *,
    table: QuotaTable,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
) -> PublishOutcome:
    video_path = plan.video.path
    policy = options.retry

    def on_retry(error: TransientError, failures: int, delay_s: float) -> None:
        reporter.warn(f"{error.message}; retrying in {delay_s:.1f} s (try {failures + 1} of {policy.max_attempts})")

    reporter.info(f"checking {video_path.name} ({plan.video.size_bytes / 1024 / 1024:.1f} MiB)")
    file_sha256 = store.file_sha256(video_path)
    channel = call_with_retries(client.my_channel, policy, sleep=sleep, on_retry=on_retry)
    channel_id = str(channel["id"])
    lock_name = "upload-" + hashlib.sha256(f"{file_sha256}:{channel_id}".encode()).hexdigest()[:32]
    try:
        with store.exclusive(lock_name):
            return _publish_locked(plan, client, store, options, reporter, table=table, sleep=sleep, clock=clock,
                                   now=now, file_sha256=file_sha256, channel=channel, on_retry=on_retry)
    except LockBusy:
        raise UploadBusyError(
            f"another Wayfinder process is uploading {video_path.name} to this channel right now; "
            "let it finish (or stop it) and run the command again"
        ) from None


def _publish_locked(
    plan: UploadPlan,
    client: YouTubeClient,
    store: StateStore,
    options: PublishOptions,
    reporter: Reporter,
    *,
    table: QuotaTable,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    now: Callable[[], datetime],
    file_sha256: str,
    channel: dict[str, Any],
    on_retry: Callable[[TransientError, int, float], None],
) -> PublishOutcome:
    video_path = plan.video.path
    policy = options.retry
    channel_id = str(channel["id"])
    existing = None
    if not options.again and options.adopt_video_id is None:
        existing = store.find_upload(file_sha256, channel_id) or _restore_from_record(
            video_path, file_sha256, channel_id, store, reporter)
    transfer: TransferResult | None = None

    def record_upload(done: TransferResult) -> tuple[str, str]:
        """Put the video in the duplicate ledger: its id and when."""
        recorded_id, recorded_at = str(done.video["id"]), now().isoformat(timespec="seconds")
        store.finish_upload(LedgerEntry(video_id=recorded_id, file_sha256=file_sha256, channel_id=channel_id,
                                        file_path=str(video_path.resolve()), title=plan.metadata.title,
                                        uploaded_at=recorded_at))
        return recorded_id, recorded_at

    if options.adopt_video_id is not None:
        transfer = _adopt(options.adopt_video_id, client, channel_id, policy, sleep, on_retry)
        video_id, uploaded_at = record_upload(transfer)
        reporter.info(f"{video_path.name} recorded as {watch_url(video_id)} (--adopt); nothing was uploaded")
    elif existing is not None:
        video_id = existing.video_id
        reporter.info(
            f"{video_path.name} is already on YouTube as {watch_url(video_id)} (uploaded {existing.uploaded_at}, "
            f"title {existing.title!r}); use --again to upload it again"
        )
        uploaded_at = existing.uploaded_at
    else:
        check_quota_budget(plan, store, table, options, reporter, now())
        insert = client.video_insert(path=video_path, body=plan.body, part=plan.part, mimetype=plan.video.mimetype,
                                     chunk_size_bytes=options.chunk_size_bytes,
                                     notify_subscribers=plan.metadata.notify_subscribers)
        key = TransferKey(file_sha256=file_sha256, channel_id=channel_id, metadata_sha256=plan.metadata_sha256,
                          file_path=str(video_path.resolve()))
        def find_lost(session_started_at: datetime) -> dict[str, Any]:
            lost = LostUpload(file_name=video_path.name, title=str(plan.body["snippet"]["title"]),
                              size_bytes=plan.video.size_bytes, session_started_at=session_started_at)
            return find_uploaded_video(client, lost, policy, sleep=sleep, on_retry=on_retry)

        reporter.transfer_started(insert.size_bytes)
        try:
            transfer = run_transfer(insert, store, key, policy, sleep=sleep,
                                    on_progress=reporter.transfer_progress, notify=reporter.warn,
                                    find_lost=find_lost, upload_anyway=options.again)
        finally:
            reporter.transfer_finished()
            insert.close()
        video_id, uploaded_at = record_upload(transfer)
        reporter.info(f"{'found the upload' if transfer.adopted else 'uploaded'} as {watch_url(video_id)}")

    done = {step: _load_detail(detail) for step, detail in store.steps_done(video_id).items()}
    results: dict[str, Any] = {}
    failed: dict[str, str] = {}
    fatal: WayfinderError | None = None
    for step in STEPS:
        if not _step_planned(plan, step):
            continue
        if step in done:
            results[step] = {**done[step], "done_earlier": True}
            continue
        if fatal is not None:
            failed[step] = "not tried: an earlier step hit a quota or authorization error"
            continue
        try:
            results[step] = _run_step(step, plan, client, store, channel_id, video_id, policy, on_retry, sleep,
                                      reporter)
            store.mark_step_done(video_id, step, json.dumps(results[step]))
        except WayfinderError as error:
            failed[step] = error.one_line()
            results[step] = {"error": error.one_line()}
            reporter.warn(f"{step} failed: {error.one_line()}")
            if isinstance(error, (QuotaError, CredentialsError)):
                fatal = error

    processing: dict[str, Any] | None = None
    if options.wait and fatal is None:
        try:
            processing = wait_for_processing(client, video_id, options, reporter, sleep=sleep, clock=clock,
                                             on_retry=on_retry)
        except WayfinderError as error:
            failed["processing"] = error.one_line()
            processing = {"error": error.one_line()}
            if isinstance(error, (QuotaError, CredentialsError)):
                fatal = error

    record = {
        "video_id": video_id,
        "url": watch_url(video_id),
        "studio_url": studio_url(video_id),
        "channel_id": channel_id,
        "channel_title": channel.get("snippet", {}).get("title"),
        "uploaded_at": uploaded_at,
        "file": {"name": video_path.name, "size_bytes": plan.video.size_bytes, "sha256": file_sha256,
                 "duration_s": plan.video.duration_s},
        "request": {"method": "videos.insert", "part": plan.part, "body": plan.body},
        "template": plan.metadata.template,
        "release": plan.metadata.release.model_dump() if plan.metadata.release else None,
        "policy": {"preset": plan.policy.preset, "rules": plan.policy.rules_on()},
        "transfer": None if transfer is None else {
            "resumed_from_bytes": transfer.resumed_from_bytes, "retries": transfer.retries,
            "sessions_started": transfer.sessions_started,
            "adopted": ("--adopt" if options.adopt_video_id else "found after the reply to the last chunk was lost")
            if transfer.adopted else None,
            "status": transfer.video.get("status", {}),
        },
        "duplicate_of_earlier_upload": existing is not None,
        "thumbnail": results.get("thumbnail"),
        "captions": results.get("captions"),
        "playlist": results.get("playlist"),
        "processing": processing,
        "qa": None,
        "failed_steps": failed,
    }
    record_path = record_file(video_path)
    earlier = read_record(video_path)
    same_video = earlier is not None and earlier.get("video_id") == video_id
    ran_now = any(isinstance(v, dict) and not v.get("done_earlier") for v in results.values())
    if earlier is not None and same_video and existing is not None and not (ran_now or failed or processing):
        record = earlier  # a re-run with nothing left to do: the first run's record stands
    else:
        if earlier is not None and same_video and existing is not None:
            # A re-run that finished missing steps: keep what the first run knew about the transfer.
            record["transfer"] = earlier.get("transfer")
            record["qa"] = earlier.get("qa")
        if record["qa"] is None:
            record["qa"] = read_qa_numbers(video_path)
        record_path = write_record(video_path, record)
    outcome = PublishOutcome(video_id=video_id, url=watch_url(video_id), record=record, record_path=record_path,
                             duplicate=existing is not None, failed_steps=failed)
    if fatal is not None:
        raise fatal
    if failed:
        names = ", ".join(failed)
        raise YouTubeRequestError(
            f"uploaded as {watch_url(video_id)}, but {names} failed ({'; '.join(failed.values())}); "
            "run the same command again to finish (the video is not uploaded twice)"
        )
    return outcome


def _restore_from_record(video_path: Path, file_sha256: str, channel_id: str, store: StateStore,
                         reporter: Reporter) -> LedgerEntry | None:
    """The upload the record beside the file names, put back in the ledger with the steps it
    says were done; None if there is no record of this content on this channel."""
    record = read_record(video_path)
    if not record or not record.get("video_id") or record.get("channel_id") != channel_id:
        return None
    if (record.get("file") or {}).get("sha256") != file_sha256:
        return None
    body = (record.get("request") or {}).get("body") or {}
    entry = LedgerEntry(video_id=str(record["video_id"]), file_sha256=file_sha256, channel_id=channel_id,
                        file_path=str(video_path.resolve()), title=str((body.get("snippet") or {}).get("title", "")),
                        uploaded_at=str(record.get("uploaded_at") or ""))
    store.finish_upload(entry)
    for step in STEPS:
        result = record.get(step)
        if isinstance(result, dict) and "error" not in result:
            store.mark_step_done(entry.video_id, step, json.dumps(
                {key: value for key, value in result.items() if key != "done_earlier"}))
    reporter.warn(f"the state store did not know {video_path.name}, but its upload record "
                  f"{record_file(video_path).name} does: restored it from there")
    return entry


def _adopt(video_id: str, client: YouTubeClient, channel_id: str, policy: RetryPolicy,
           sleep: Callable[[float], None], on_retry: Callable[[TransientError, int, float], None]) -> TransferResult:
    """`--adopt VIDEO_ID`: the producer says this video is this file's upload; check it is on this channel."""
    video = call_with_retries(lambda: client.get_video(video_id, part="snippet,status,processingDetails"), policy,
                              sleep=sleep, on_retry=on_retry)
    if video is None:
        raise UsageError(f"--adopt {video_id}: YouTube has no such video (or it is not visible to this channel)")
    owner = (video.get("snippet") or {}).get("channelId")
    if owner != channel_id:
        raise UsageError(f"--adopt {video_id}: that video belongs to channel {owner}, not to the authorized "
                         f"channel {channel_id}")
    return TransferResult(video, None, 0, 0, adopted=True)


def _load_detail(detail: str) -> dict[str, Any]:
    try:
        value = json.loads(detail) if detail else {}
    except ValueError:
        value = {}
    return value if isinstance(value, dict) else {}


def _step_planned(plan: UploadPlan, step: str) -> bool:
    meta = plan.metadata
    return {"thumbnail": meta.thumbnail is not None, "captions": meta.captions is not None,
            "playlist": bool(meta.playlist)}[step]


def _run_step(step: str, plan: UploadPlan, client: YouTubeClient, store: StateStore, channel_id: str,
              video_id: str, policy: RetryPolicy, on_retry: Any, sleep: Callable[[float], None],
              reporter: Reporter) -> dict[str, Any]:
    meta = plan.metadata
    if step == "thumbnail":
        if meta.thumbnail == "auto":
            assert plan.video.duration_s is not None  # validation requires it for auto
            out = plan.video.path.with_name(plan.video.path.name + ".thumbnail.jpg")
            reporter.info("picking a thumbnail frame")
            thumbnail = write_auto_thumbnail(plan.video.path, plan.video.duration_s, out,
                                             title=meta.title if meta.thumbnail_title else None)
            path, mimetype = thumbnail.path, thumbnail.mimetype
            detail: dict[str, Any] = {"source": "auto", "file": path.name,
                                      "frame_time_s": round(thumbnail.frame_time_s or 0.0, 3),
                                      "title_drawn": bool(meta.thumbnail_title)}
        else:
            path = Path(str(meta.thumbnail))
            mimetype = thumbnail_mimetype(path)
            detail = {"source": "file", "file": str(path)}
        data = path.read_bytes()
        call_with_retries(lambda: client.set_thumbnail(video_id, data, mimetype), policy, sleep=sleep,
                          on_retry=on_retry)
        reporter.info("thumbnail set")
        return {**detail, "set": True}
    if step == "captions":
        assert meta.captions is not None
        body = plan.captions_body(video_id)
        snippet = body["snippet"]

        def already_there() -> dict[str, Any] | None:
            for track in client.list_captions(video_id):
                track_snippet = track.get("snippet", {})
                if track_snippet.get("language") == snippet["language"] and track_snippet.get("name") == snippet["name"]:
                    return dict(track)
            return None

        caption = call_with_retries(lambda: client.insert_caption(body, Path(meta.captions)), policy, sleep=sleep,
                                    on_retry=on_retry, before_retry=already_there)
        reporter.info(f"captions added ({snippet['language']})")
        return {"file": str(meta.captions), "language": snippet["language"], "name": snippet["name"],
                "caption_id": caption.get("id")}
    if step == "playlist":
        assert meta.playlist
        store.mark_step_done(video_id, "playlist_attempted")
        result = add_to_playlist(client, store, channel_id, meta.playlist, video_id, plan.playlist_privacy, policy,
                                 on_retry=on_retry, sleep=sleep)
        verb = "created playlist" if result.created else "playlist"
        reporter.info(f"{verb} {result.name!r}: video added")
        return {"name": result.name, "playlist_id": result.playlist_id, "created": result.created,
                "playlist_item_id": result.playlist_item_id, "already_in_playlist": result.already_in_playlist}
    raise AssertionError(step)


def wait_for_processing(client: YouTubeClient, video_id: str, options: PublishOptions, reporter: Reporter, *,
                        sleep: Callable[[float], None], clock: Callable[[], float], on_retry: Any) -> dict[str, Any]:
    """Poll videos.list until YouTube has processed the video (or failed, or time ran out)."""
    deadline = clock() + options.wait_timeout_s
    polls = 0
    while True:
        polls += 1
        video = call_with_retries(lambda: client.get_video(video_id), options.retry, sleep=sleep, on_retry=on_retry)
        if video is None:
            raise ProcessingError(f"YouTube no longer lists video {video_id}")
        status = video.get("status", {})
        details = video.get("processingDetails", {})
        upload_status = status.get("uploadStatus")
        processing_status = details.get("processingStatus")
        progress = details.get("processingProgress") or {}
        parts_total = int(progress.get("partsTotal") or 0)
        parts_done = int(progress.get("partsProcessed") or 0)
        line = f"processing: {processing_status or upload_status}"
        if parts_total:
            line += f" {100 * parts_done / parts_total:.0f}%"
        if progress.get("timeLeftMs"):
            line += f", about {int(progress['timeLeftMs']) / 1000:.0f} s left"
        reporter.processing(line)
        summary = {"upload_status": upload_status, "processing_status": processing_status, "polls": polls}
        if upload_status == "processed" or processing_status == "succeeded":
            return summary
        if upload_status in {"failed", "rejected", "deleted"} or processing_status in {"failed", "terminated"}:
            reason = (status.get("failureReason") or status.get("rejectionReason")
                      or details.get("processingFailureReason") or "no reason given")
            raise ProcessingError(f"YouTube could not process video {video_id}: {upload_status or processing_status} "
                                  f"({reason})")
        if clock() >= deadline:
            raise ProcessingError(f"video {video_id} was still {processing_status or upload_status} after "
                                  f"{options.wait_timeout_s:.0f} s; check it in YouTube Studio")
        sleep(options.poll_interval_s)
