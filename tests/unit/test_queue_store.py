"""The queue's tables on a real SQLite file: due order, leases, budget and holds at claim
time, guarded transitions, and many connections claiming at once."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pipeline.queue.lease import RunnerIdentity, RunnerLock, runner_alive
from pipeline.queue.model import QueueError
from pipeline.queue.store import NewItem, QueueStore
from pipeline.youtube.quota import QuotaTable, next_reset

T0 = datetime(2025, 3, 10, 17, 0, tzinfo=timezone.utc)  # 10:00 PDT
TABLE = QuotaTable()
UPLOAD_ONLY = ["channels.list", "videos.insert", "videos.list"]  # 1 upload, 2 units


def new_item(name: str, *, priority: int = 0, not_before: datetime | None = None,
             calls: list[str] | None = None) -> NewItem:
    return NewItem(video_path=f"/media/{name}", title=f"title {name}", file_sha256=f"sha-{name}",
                   file_size_bytes=1000, priority=priority, not_before=not_before, publish_at=None, skip_qa=True,
                   qa_preset="youtube", snapshot={"files": {}}, planned_calls=calls or UPLOAD_ONLY)


@pytest.fixture
def store(tmp_path: Path) -> QueueStore:
    with QueueStore.open(tmp_path / "state") as opened:
        yield opened


def runner(name: str) -> RunnerIdentity:
    return RunnerIdentity(id=name, host="test-host", pid=1)


def claim(store: QueueStore, who: RunnerIdentity, now: datetime, *, spent: dict[str, int] | None = None,
          alive: bool = True, lease_s: float = 60.0, table: QuotaTable = TABLE):
    return store.claim_next(who, now, lease_s, spent=spent or {}, table=table, alive=lambda _r, _h: alive)


def test_items_are_taken_by_priority_then_due_time_then_age(store: QueueStore) -> None:
    ids = {
        "early-low": store.add(new_item("early-low"), T0),
        "later-low": store.add(new_item("later-low", not_before=T0 + timedelta(minutes=5)), T0),
        "high": store.add(new_item("high", priority=5, not_before=T0 + timedelta(minutes=10)), T0),
        "second-low": store.add(new_item("second-low"), T0),
        "future": store.add(new_item("future", not_before=T0 + timedelta(hours=2)), T0),
    }
    now = T0 + timedelta(minutes=30)
    taken = []
    while (result := claim(store, runner("a"), now)).claim is not None:
        taken.append(result.claim.item.id)
        store.mark_uploaded(result.claim.item.id, runner("a"), now, f"vid{len(taken)}", now + timedelta(hours=9), "up")
    assert taken == [ids["high"], ids["early-low"], ids["second-low"], ids["later-low"]]
    assert store.require(ids["future"]).state == "pending"
    later = claim(store, runner("a"), T0 + timedelta(hours=2))
    assert later.claim is not None and later.claim.item.id == ids["future"]


def test_a_live_lease_keeps_others_away_until_it_expires(store: QueueStore) -> None:
    item_id = store.add(new_item("a.mp4"), T0)
    first = claim(store, runner("a"), T0, lease_s=60)
    assert first.claim is not None and first.claim.item.lease_owner == "a"
    assert claim(store, runner("b"), T0 + timedelta(seconds=59)).claim is None
    taken = claim(store, runner("b"), T0 + timedelta(seconds=61))
    assert taken.claim is not None and taken.claim.item.id == item_id and taken.claim.item.lease_owner == "b"
    assert taken.claim.item.attempts == 2
    assert store.events(item_id)[-1].detail == "resuming after the previous runner stopped"
    # The first runner lost it: its decisions no longer apply, and its renewals fail.
    assert not store.renew(item_id, runner("a"), T0 + timedelta(seconds=62), 60)
    assert not store.fail(item_id, runner("a"), T0 + timedelta(seconds=62), "late")
    assert store.require(item_id).state == "uploading"


def test_a_dead_holders_lease_is_void_before_it_expires(store: QueueStore) -> None:
    item_id = store.add(new_item("a.mp4"), T0)
    assert claim(store, runner("a"), T0, lease_s=600).claim is not None
    assert claim(store, runner("b"), T0 + timedelta(seconds=1), alive=True).claim is None
    taken = claim(store, runner("b"), T0 + timedelta(seconds=1), alive=False)
    assert taken.claim is not None and taken.claim.item.id == item_id


def test_runner_alive_follows_the_os_lock(tmp_path: Path) -> None:
    me = RunnerIdentity.new()
    assert not runner_alive(tmp_path, me.id, me.host)  # never started
    with RunnerLock(tmp_path, me):
        assert runner_alive(tmp_path, me.id, me.host)
        assert runner_alive(tmp_path, me.id, "another-machine")  # cannot tell: trust the expiry
    assert not runner_alive(tmp_path, me.id, me.host)


def test_concurrent_claims_never_share_an_item(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    with QueueStore.open(state_dir) as store:
        expected = {store.add(new_item(f"v{i}.mp4"), T0) for i in range(40)}
    taken: dict[str, list[int]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def work(name: str) -> None:
        try:
            with QueueStore.open(state_dir) as own:
                start.wait()
                mine = taken.setdefault(name, [])
                who = runner(name)
                while (result := claim(own, who, T0)).claim is not None:
                    item_id = result.claim.item.id
                    mine.append(item_id)
                    own.mark_uploaded(item_id, who, T0, f"video-{item_id}", T0, "uploaded")
                    assert own.mark_done(item_id, who, T0, "processed")
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=work, args=(f"r{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    everything = [item_id for ids in taken.values() for item_id in ids]
    assert sorted(everything) == sorted(expected), "an item was taken twice or not at all"
    with QueueStore.open(state_dir) as store:
        assert {item.state for item in store.items()} == {"done"}
        for item_id in expected:
            assert [e.to_state for e in store.events(item_id)].count("done") == 1


def test_over_budget_items_wait_for_the_reset_and_smaller_ones_still_go(store: QueueStore) -> None:
    big = store.add(new_item("big.mp4", priority=1, calls=["channels.list", "videos.insert", "captions.insert"]), T0)
    small = store.add(new_item("small.mp4"), T0)
    spent = {"uploads": 10, "units": 9_800}  # 200 units left: the 401-unit item does not fit, the 2-unit one does
    result = claim(store, runner("a"), T0, spent=spent)
    assert result.claim is not None and result.claim.item.id == small
    [postponed] = result.postponed
    assert postponed.item_id == big and postponed.state == "deferred"
    assert postponed.until == next_reset(T0) == datetime(2025, 3, 11, 7, 0, tzinfo=timezone.utc)
    deferred = store.require(big)
    assert deferred.state == "deferred" and deferred.due_at == postponed.until
    assert "9800 of 10000 units already spent" in (deferred.reason or "")
    store.mark_uploaded(small, runner("a"), T0, "vid-small", T0 + timedelta(days=9), "uploaded")
    assert claim(store, runner("a"), T0 + timedelta(hours=13, minutes=59), spent=spent).claim is None
    after_reset = claim(store, runner("a"), T0 + timedelta(hours=14), spent={})
    assert after_reset.claim is not None and after_reset.claim.item.id == big


def test_reservations_of_uploads_in_flight_make_items_wait_not_defer(store: QueueStore) -> None:
    first = store.add(new_item("a.mp4"), T0)
    second = store.add(new_item("b.mp4"), T0)
    tight = QuotaTable(daily_limits={"uploads": 1, "units": 10_000})
    assert claim(store, runner("a"), T0, table=tight).claim.item.id == first  # type: ignore[union-attr]
    waiting = claim(store, runner("b"), T0, table=tight)
    assert waiting.claim is None and waiting.postponed[0].item_id == second
    assert store.require(second).state == "pending"  # not pushed to tomorrow for someone else's reservation


def test_an_upload_bigger_than_a_day_fails_instead_of_waiting_forever(store: QueueStore) -> None:
    item_id = store.add(new_item("a.mp4", calls=["captions.insert"] * 3), T0)
    table = QuotaTable(daily_limits={"uploads": 100, "units": 1000})
    assert claim(store, runner("a"), T0, table=table).claim is None
    item = store.require(item_id)
    assert item.state == "failed" and "1200 units" in (item.reason or "")


def test_a_quota_hold_defers_everything_and_new_items_too(store: QueueStore) -> None:
    in_flight = store.add(new_item("a.mp4"), T0)
    waiting = store.add(new_item("b.mp4"), T0)
    processing = store.add(new_item("c.mp4"), T0)
    me = runner("a")
    assert claim(store, me, T0).claim.item.id == in_flight  # type: ignore[union-attr]
    store.mark_uploaded(processing, me, T0, "vid-c", T0, "uploaded")
    checking = store.claim_next(me, T0, 60, spent={}, table=TABLE, exclude={in_flight, waiting})
    assert checking.claim is not None and checking.claim.kind == "check" and checking.claim.item.lease_owner == "a"
    reset = next_reset(T0)
    deferred = store.set_hold("quota", reset, "quotaExceeded", T0, me, checks_too=True)
    assert sorted(deferred) == [in_flight, waiting]
    assert all(store.require(i).state == "deferred" and store.require(i).due_at == reset for i in deferred)
    assert store.require(processing).due_at == reset  # a status check spends quota too
    assert store.require(processing).lease_owner is None  # the check we were making is let go
    added_later = store.add(new_item("d.mp4"), T0 + timedelta(minutes=1))
    assert claim(store, runner("b"), T0 + timedelta(minutes=1)).claim is None
    assert store.require(added_later).state == "deferred" and store.require(added_later).due_at == reset
    assert [h.name for h in store.holds(T0)] == ["quota"] and store.holds(reset) == []


def test_an_upload_limit_hold_still_allows_processing_checks(store: QueueStore) -> None:
    processing = store.add(new_item("a.mp4"), T0)
    waiting = store.add(new_item("b.mp4"), T0)
    me = runner("a")
    store.mark_uploaded(processing, me, T0, "vid-a", T0, "uploaded")
    store.release(processing, me, T0, "let go")
    store.set_hold("upload_limit", T0 + timedelta(hours=24), "uploadLimitExceeded", T0, None, checks_too=False)
    result = claim(store, me, T0)
    assert result.claim is not None and result.claim.kind == "check" and result.claim.item.id == processing
    assert store.require(waiting).state == "deferred"


def test_done_happens_once_and_uploaded_is_a_fact_from_any_state(store: QueueStore) -> None:
    item_id = store.add(new_item("a.mp4"), T0)
    me, other = runner("a"), runner("b")
    claim(store, me, T0)
    store.defer(item_id, me, T0, T0 + timedelta(minutes=5), "busy", error="busy")
    assert store.require(item_id).failures == 1
    assert store.mark_uploaded(item_id, other, T0, "vid", T0, "uploaded")  # another runner finished it meanwhile
    assert not store.mark_uploaded(item_id, me, T0, "vid", T0, "uploaded")
    assert store.mark_done(item_id, other, T0, "processed")
    assert not store.mark_done(item_id, me, T0, "processed")
    item = store.require(item_id)
    assert item.state == "done" and item.video_id == "vid" and item.failures == 0 and item.lease_owner is None
    assert [e.to_state for e in store.events(item_id)] == ["pending", "uploading", "deferred", "processing", "done"]


def test_cancel_and_retry_rules(store: QueueStore) -> None:
    busy = store.add(new_item("a.mp4"), T0)
    claim(store, runner("a"), T0)
    with pytest.raises(QueueError, match="being uploaded right now"):
        store.cancel(busy, T0, alive=lambda _r, _h: True)
    cancelled = store.cancel(busy, T0, alive=lambda _r, _h: False)  # its runner died
    assert cancelled.state == "cancelled" and cancelled.lease_owner is None
    with pytest.raises(QueueError, match="already cancelled"):
        store.cancel(busy, T0)
    again = store.retry(busy, T0 + timedelta(minutes=1))
    assert again.state == "pending" and again.attempts == 0 and again.due_at == T0 + timedelta(minutes=1)
    with pytest.raises(QueueError, match="only failed, cancelled or deferred"):
        store.retry(busy, T0)
    claim(store, runner("a"), T0 + timedelta(minutes=2))
    store.mark_uploaded(busy, runner("a"), T0, "vid", T0, "uploaded")
    with pytest.raises(QueueError, match="already on YouTube as https://www.youtube.com/watch"):
        store.cancel(busy, T0)
    with pytest.raises(QueueError, match="no queue item 99"):
        store.cancel(99, T0)


def test_next_wake_is_the_earliest_due_time_or_hold_end(store: QueueStore) -> None:
    assert store.next_wake(T0) is None
    store.add(new_item("a.mp4", not_before=T0 + timedelta(minutes=30)), T0)
    store.add(new_item("b.mp4", not_before=T0 + timedelta(minutes=10)), T0)
    assert store.next_wake(T0) == T0 + timedelta(minutes=10)


def test_the_database_file_is_private(tmp_path: Path) -> None:
    with QueueStore.open(tmp_path / "state") as store:
        store.add(new_item("a.mp4"), T0)
    assert (tmp_path / "state" / "state.sqlite3").stat().st_mode & 0o077 == 0
