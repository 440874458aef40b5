"""The resumable transfer loop's decisions, against a scripted stand-in for the HTTP session.

The real protocol over real HTTP is proven in tests/integration/test_youtube_upload_faults.py;
here each branch (record before sending, ask before continuing, bounded tries, one restart
on expiry, resume a saved session) is driven directly.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipeline.state import StateStore, UploadSession
from pipeline.youtube.errors import SessionExpiredError, TransientError
from pipeline.youtube.retry import RetryPolicy, call_with_retries
from pipeline.youtube.upload import TransferKey, run_transfer

CHUNK = 4
TOTAL = 10
KEY = TransferKey(file_sha256="f" * 64, channel_id="UC1", metadata_sha256="m1", file_path="/v.mp4")
POLICY = RetryPolicy(max_attempts=3, base_delay_s=1.0)


class ScriptedInsert:
    """Holds `server_bytes` like the server would; `faults` says what goes wrong on each send."""

    def __init__(self, store: StateStore, faults: list[str] | None = None) -> None:
        self.size_bytes = TOTAL
        self.session_uri: str | None = None
        self.store = store
        self.faults = list(faults or [])
        self.server_bytes = 0
        self.offset = 0
        self.events: list[str] = []
        self.sessions = 0
        self.expired_uris: set[str] = set()

    def next_chunk_end_bytes(self) -> int:
        return min(TOTAL, self.offset + CHUNK)

    def begin(self, on_session: Callable[[str], None]) -> None:
        self.events.append("begin")
        self._on_session = on_session
        self.session_uri = None

    def resume(self, session_uri: str, offset_bytes: int) -> None:
        self.events.append(f"resume@{offset_bytes}")
        self.session_uri = session_uri
        self.offset = offset_bytes

    def send_next_chunk(self) -> tuple[int, dict[str, Any] | None]:
        if self.session_uri is None:
            self.sessions += 1
            self.session_uri = f"uri{self.sessions}"
            self.server_bytes = 0
            self.offset = 0
            self._on_session(self.session_uri)
            # The store must hold the session before the first byte goes out.
            saved = self.store.get_session(KEY.file_sha256, KEY.channel_id)
            assert saved is not None and saved.session_uri == self.session_uri
        fault = self.faults.pop(0) if self.faults else "ok"
        start = self.offset
        self.events.append(f"send@{start}:{fault}")
        if self.session_uri in self.expired_uris:
            raise SessionExpiredError("gone")
        if fault == "503":
            raise TransientError("503", status=503)
        if fault == "reset-half":  # server kept 2 bytes of the chunk, then the connection broke
            self.server_bytes = start + 2
            raise TransientError("reset")
        self.server_bytes = min(TOTAL, start + CHUNK)
        if fault == "lost-reply":
            raise TransientError("reply lost")
        self.offset = self.server_bytes
        if self.server_bytes == TOTAL:
            return TOTAL, {"id": "vid"}
        return self.server_bytes, None

    def query(self, session_uri: str | None = None) -> tuple[int, dict[str, Any] | None]:
        uri = session_uri or self.session_uri
        self.events.append("query")
        if uri in self.expired_uris:
            raise SessionExpiredError("gone")
        if self.server_bytes == TOTAL:
            return TOTAL, {"id": "vid"}
        return self.server_bytes, None


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    with StateStore.open(tmp_path) as opened:
        yield opened


def run(insert: ScriptedInsert, store: StateStore, sleeps: list[float] | None = None) -> Any:
    return run_transfer(insert, store, KEY, POLICY, sleep=(sleeps if sleeps is not None else []).append)


def test_clean_run_sends_each_chunk_once(store: StateStore) -> None:
    insert = ScriptedInsert(store)
    result = run(insert, store)
    assert result.video == {"id": "vid"} and result.retries == 0 and result.sessions_started == 1
    assert insert.events == ["begin", "send@0:ok", "send@4:ok", "send@8:ok"]


def test_after_a_failure_it_asks_then_continues_from_what_the_server_holds(store: StateStore) -> None:
    insert = ScriptedInsert(store, ["ok", "reset-half"])
    sleeps: list[float] = []
    result = run(insert, store, sleeps)
    assert insert.events == ["begin", "send@0:ok", "send@4:reset-half", "query", "resume@6", "send@6:ok"]
    assert result.retries == 1 and len(sleeps) == 1 and 0 <= sleeps[0] <= 1.0


def test_a_lost_reply_on_the_last_chunk_is_found_complete_by_asking(store: StateStore) -> None:
    insert = ScriptedInsert(store, ["ok", "ok", "lost-reply"])
    result = run(insert, store)
    assert result.video == {"id": "vid"} and insert.events[-2:] == ["send@8:lost-reply", "query"]


def test_tries_are_bounded_and_the_session_is_kept_for_next_time(store: StateStore) -> None:
    insert = ScriptedInsert(store, ["ok", "503", "503", "503"])
    with pytest.raises(TransientError):
        run(insert, store)
    assert insert.events.count("query") == 2  # two waits and asks, then the third failure gives up
    assert store.get_session(KEY.file_sha256, KEY.channel_id) is not None


def test_progress_resets_the_try_count(store: StateStore) -> None:
    insert = ScriptedInsert(store, ["503", "503", "ok", "503", "503", "ok", "ok"])
    assert run(insert, store).retries == 4


def test_a_saved_session_is_resumed_not_restarted(store: StateStore) -> None:
    store.save_session(UploadSession(KEY.file_sha256, KEY.channel_id, TOTAL, KEY.metadata_sha256, "uri-old",
                                     KEY.file_path, 0))
    insert = ScriptedInsert(store)
    insert.server_bytes = 8  # what the killed process had sent
    result = run(insert, store)
    assert insert.events[:2] == ["query", "resume@8"] and "begin" not in insert.events
    assert result.resumed_from_bytes == 8 and result.sessions_started == 0


def test_a_saved_session_for_other_metadata_is_dropped(store: StateStore) -> None:
    store.save_session(UploadSession(KEY.file_sha256, KEY.channel_id, TOTAL, "other-metadata", "uri-old",
                                     KEY.file_path, 0))
    insert = ScriptedInsert(store)
    run(insert, store)
    assert insert.events[0] == "begin"


def test_an_expired_saved_session_starts_a_new_one(store: StateStore) -> None:
    store.save_session(UploadSession(KEY.file_sha256, KEY.channel_id, TOTAL, KEY.metadata_sha256, "uri-old",
                                     KEY.file_path, 0))
    insert = ScriptedInsert(store)
    insert.expired_uris.add("uri-old")
    result = run(insert, store)
    assert insert.events[:2] == ["query", "begin"] and result.sessions_started == 1


def test_expiry_mid_upload_restarts_once_only(store: StateStore) -> None:
    insert = ScriptedInsert(store)
    insert.expired_uris.update({"uri1", "uri2"})
    with pytest.raises(SessionExpiredError):
        run(insert, store)
    assert insert.events.count("begin") == 2


def test_call_with_retries_checks_before_retrying_a_non_idempotent_call() -> None:
    calls: list[str] = []

    def insert() -> str:
        calls.append("insert")
        raise TransientError("reply lost")

    result = call_with_retries(insert, POLICY, sleep=lambda _s: None, before_retry=lambda: "found")
    assert result == "found" and calls == ["insert"]


def test_backoff_is_full_jitter_doubling_up_to_the_cap() -> None:
    policy = RetryPolicy(max_attempts=10, base_delay_s=1.0, max_delay_s=8.0)
    assert [policy.delay_s(n, rand=lambda: 1.0) for n in (1, 2, 3, 4, 5)] == [1.0, 2.0, 4.0, 8.0, 8.0]
    assert policy.delay_s(3, rand=lambda: 0.0) == 0.0
    assert policy.delay_s(1, rate_limited=True, rand=lambda: 1.0) == 4.0


class ForgettingInsert(ScriptedInsert):
    """The reply to the last chunk is lost and the server then forgets the session."""

    def send_next_chunk(self) -> tuple[int, dict[str, Any] | None]:
        if self.session_uri is not None and self.offset + CHUNK >= TOTAL:
            # The record must say every byte was sent before the last chunk goes out.
            saved = self.store.get_session(KEY.file_sha256, KEY.channel_id)
            assert saved is not None and saved.bytes_confirmed == TOTAL
            self.events.append(f"send@{self.offset}:lost-and-forgotten")
            self.server_bytes = TOTAL
            self.expired_uris.add(self.session_uri)
            raise TransientError("reply lost")
        return super().send_next_chunk()


def test_a_gone_session_whose_every_byte_was_sent_is_looked_for_not_restarted(store: StateStore) -> None:
    insert = ForgettingInsert(store)
    asked: list[object] = []
    result = run_transfer(insert, store, KEY, POLICY, sleep=lambda _s: None,
                          find_lost=lambda started: asked.append(started) or {"id": "found"})
    assert result.video == {"id": "found"} and result.adopted
    assert "begin" not in insert.events[1:] and insert.sessions == 1
    assert len(asked) == 1 and getattr(asked[0], "tzinfo", None) is not None


def test_a_later_process_knows_every_byte_was_sent(store: StateStore) -> None:
    first = ForgettingInsert(store)
    with pytest.raises(TransientError):
        run_transfer(first, store, KEY, RetryPolicy(max_attempts=1, base_delay_s=1.0), sleep=lambda _s: None)
    second = ScriptedInsert(store)
    second.expired_uris.add("uri1")
    result = run_transfer(second, store, KEY, POLICY, sleep=lambda _s: None, find_lost=lambda _started: {"id": "v"})
    assert result.video == {"id": "v"} and second.events == ["query"]
    # --again: a new session instead.
    third = ScriptedInsert(store)
    third.expired_uris.add("uri1")
    third.sessions = 1  # its new session is uri2
    run_transfer(third, store, KEY, POLICY, sleep=lambda _s: None, find_lost=lambda _started: {"id": "v"},
                 upload_anyway=True)
    assert third.events[:2] == ["query", "begin"]
