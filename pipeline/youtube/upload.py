"""The resumable transfer of one video file: sessions that survive faults and processes.

Order of work, so that nothing half-done is mistaken for done and no byte is re-sent
without reason:

1. A session recorded for this content, channel and metadata is resumed: the server is
   asked how much it holds, and sending continues from there. If it already completed
   (the reply to the last chunk was lost), its video is the result.
2. Otherwise a new session is created, and its URI is written to the state store
   before the first byte is sent.
3. After a retryable failure (5xx, network error, rate limit) the loop waits with
   backoff and jitter, asks the server for the received range, and continues from it,
   never from zero. Tries are bounded per stretch without progress.
4. A 404 or 410 on the session (expired) starts one new session, once, unless every byte
   had been sent: then the server may already hold the whole file as a video whose reply
   was lost, and a new session could make a second one. That fact is durable (the
   session record's `bytes_confirmed` is set to the file's size just before the last
   chunk goes out), so a later process knows it too, and `find_lost` looks for the video
   instead (see `lost_reply.py`): it is adopted, or the upload stops without sending.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol

from pipeline.state import StateStore, UploadSession
from pipeline.youtube.errors import SessionExpiredError, TransientError
from pipeline.youtube.retry import RetryPolicy


class InsertSession(Protocol):
    size_bytes: int
    session_uri: str | None

    def next_chunk_end_bytes(self) -> int: ...
    def begin(self, on_session: Callable[[str], None]) -> None: ...
    def resume(self, session_uri: str, offset_bytes: int) -> None: ...
    def send_next_chunk(self) -> tuple[int, dict[str, Any] | None]: ...
    def query(self, session_uri: str | None = None) -> tuple[int, dict[str, Any] | None]: ...


@dataclass(frozen=True)
class TransferKey:
    file_sha256: str
    channel_id: str
    metadata_sha256: str
    file_path: str


@dataclass(frozen=True)
class TransferResult:
    video: dict[str, Any]
    resumed_from_bytes: int | None  # where an earlier process's session continued, if it did
    retries: int
    sessions_started: int
    adopted: bool = False  # found on the channel after the reply to the last chunk was lost


FindLost = Callable[[datetime], dict[str, Any]]  # session start -> the video, or UploadUnconfirmedError


def _mib(size_bytes: int) -> str:
    return f"{size_bytes / 1024 / 1024:.1f} MiB"


def run_transfer(
    insert: InsertSession,
    store: StateStore,
    key: TransferKey,
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], None] = time.sleep,
    on_progress: Callable[[int], None] = lambda _done: None,
    notify: Callable[[str], None] = lambda _message: None,
    find_lost: FindLost | None = None,
    upload_anyway: bool = False,
) -> TransferResult:
    """Upload the file behind `insert` and return the created video resource.

    `find_lost(session_started_at)` is asked for the video when a session whose every
    byte was sent is gone; `upload_anyway` (`--again`) starts a new session instead."""
    total = insert.size_bytes
    resumed_from: int | None = None
    sessions_started = 0
    retries = 0
    restarted = False
    all_sent = False

    def record_session(uri: str) -> None:
        nonlocal all_sent
        # Called before the first chunk goes out; if that chunk is the whole file, say so now.
        all_sent = insert.next_chunk_end_bytes() >= total
        store.save_session(UploadSession(
            file_sha256=key.file_sha256, channel_id=key.channel_id, file_size_bytes=total,
            metadata_sha256=key.metadata_sha256, session_uri=uri, file_path=key.file_path,
            bytes_confirmed=total if all_sent else 0,
        ))

    def before_send() -> None:
        nonlocal all_sent
        if not all_sent and insert.session_uri is not None and insert.next_chunk_end_bytes() >= total:
            store.update_session_progress(key.file_sha256, key.channel_id, total)
            all_sent = True

    def adopt_lost(saved: UploadSession | None) -> TransferResult | None:
        """The video of a gone session whose every byte was sent, or None to start a new session."""
        if find_lost is None:
            return None
        if upload_anyway:
            notify("every byte of the earlier upload was sent but its session is gone; uploading again (--again)")
            return None
        started = _parse_utc(saved.created_at if saved is not None else None)
        video = find_lost(started)
        notify(f"YouTube's reply to the last chunk was lost; found the upload on the channel as video {video.get('id')}")
        on_progress(total)
        return TransferResult(video, resumed_from, retries, sessions_started, adopted=True)

    def start_new() -> None:
        nonlocal sessions_started, all_sent
        sessions_started += 1
        all_sent = False
        insert.begin(record_session)

    saved = store.get_session(key.file_sha256, key.channel_id)
    if saved is not None and (saved.metadata_sha256 != key.metadata_sha256 or saved.file_size_bytes != total):
        notify("the metadata changed since the unfinished upload was started: starting a new upload session")
        store.delete_session(key.file_sha256, key.channel_id)
        saved = None
    if saved is not None:
        offset, video = _query_with_retries(insert, saved.session_uri, policy, sleep, notify)
        if video is None and offset is None and saved.bytes_confirmed >= total:
            all_sent = True
            found = adopt_lost(saved)
            if found is not None:
                return found
        if video is None and offset is None:
            notify("the unfinished upload session expired: starting a new one")
            store.delete_session(key.file_sha256, key.channel_id)
            restarted = True
            start_new()
        elif video is not None:
            notify("the earlier upload had already completed")
            return TransferResult(video, total, 0, 0)
        else:
            assert offset is not None
            resumed_from = offset
            notify(f"resuming the unfinished upload at {_mib(offset)} of {_mib(total)}")
            insert.resume(saved.session_uri, offset)
            on_progress(offset)
    else:
        start_new()

    def restart_expired() -> TransferResult | None:
        nonlocal restarted
        if all_sent:
            found = adopt_lost(store.get_session(key.file_sha256, key.channel_id))
            if found is not None:
                return found
        if restarted:
            raise SessionExpiredError("the new upload session expired too; run the command again later")
        notify("the upload session expired: starting a new one")
        store.delete_session(key.file_sha256, key.channel_id)
        restarted = True
        start_new()
        on_progress(0)
        return None

    failures = 0
    while True:
        try:
            before_send()
            done, video = insert.send_next_chunk()
        except SessionExpiredError:
            if (found := restart_expired()) is not None:
                return found
            continue
        except TransientError as error:
            failures += 1
            retries += 1
            if failures >= policy.max_attempts:
                raise
            delay_s = policy.delay_s(failures, rate_limited=error.rate_limited)
            notify(f"{error.message}; retrying in {delay_s:.1f} s (try {failures + 1} of {policy.max_attempts})")
            sleep(delay_s)
            if insert.session_uri is None:
                continue  # the session was never created: creating it again is the retry
            # Ask before sending: the server may hold more (or less) than we last heard.
            while True:
                try:
                    offset, video = insert.query()
                    break
                except SessionExpiredError:
                    offset, video = None, None
                    break
                except TransientError as query_error:
                    failures += 1
                    if failures >= policy.max_attempts:
                        raise
                    delay_s = policy.delay_s(failures, rate_limited=query_error.rate_limited)
                    notify(f"{query_error.message} while asking what YouTube received; asking again in {delay_s:.1f} s")
                    sleep(delay_s)
            if video is not None:
                on_progress(total)
                return TransferResult(video, resumed_from, retries, sessions_started)
            if offset is None:
                if (found := restart_expired()) is not None:
                    return found
                continue
            notify(f"YouTube holds {_mib(offset)} of {_mib(total)}: continuing from there")
            insert.resume(insert.session_uri, offset)
            on_progress(offset)
            continue
        failures = 0
        on_progress(done)
        if video is not None:
            return TransferResult(video, resumed_from, retries, sessions_started)
        if not all_sent:
            store.update_session_progress(key.file_sha256, key.channel_id, done)


def _parse_utc(text: str | None) -> datetime:
    """When a session began; now if the record does not say (a stricter search window)."""
    if text:
        try:
            moment = datetime.fromisoformat(text)
            return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
        except ValueError:
            pass
    return datetime.now(timezone.utc)


def _query_with_retries(
    insert: InsertSession,
    session_uri: str,
    policy: RetryPolicy,
    sleep: Callable[[float], None],
    notify: Callable[[str], None],
) -> tuple[int | None, dict[str, Any] | None]:
    """(offset, video) of a saved session; (None, None) if it expired."""
    failures = 0
    while True:
        try:
            return insert.query(session_uri)
        except SessionExpiredError:
            return None, None
        except TransientError as error:
            failures += 1
            if failures >= policy.max_attempts:
                raise
            delay_s = policy.delay_s(failures, rate_limited=error.rate_limited)
            notify(f"{error.message}; asking again in {delay_s:.1f} s")
            sleep(delay_s)
