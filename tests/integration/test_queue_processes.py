"""The queue runner as real processes (`python -m pipeline.cli.app queue run`) against the fake
YouTube server: killed with SIGKILL at random points again and again, two runners at once,
and `--watch` stopped with SIGTERM. Whatever happens, every item ends `done` exactly once,
its video byte-identical on the server, and no item becomes two videos.

The kill points come from a seeded generator: set WAYFINDER_TEST_SEED to replay a failure.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from pipeline.queue.store import QueueStore
from tests.integration.test_queue_support import (
    CHUNK_BYTES,
    add,
    items,
    random_video,
    sha256,
    subprocess_env,
    wayfinder,
)
from tests.waiting import EVENT_TIMEOUT_S, wait_until
from youtube_server import FakeYouTube
from youtube_server.fixtures import WayfinderEnv, wf  # noqa: F401

REPO = Path(__file__).resolve().parents[2]
SEED = int(os.environ.get("WAYFINDER_TEST_SEED", "20250602"))
KILLS = 20
# A hang guard for a whole runner process, not a speed limit: generous for a loaded machine.
HANG_S = 600
# The transfer SIGTERM interrupts: long (0.3 s a chunk) so the stop lands well inside it.
TRANSFER_CHUNKS = 16
RUN = [sys.executable, "-m", "pipeline.cli.app", "queue", "run", "--chunk-kib", "256", "--retry-delay-s", "1"]


@pytest.fixture
def youtube() -> Any:
    with FakeYouTube(processing_polls=0) as server:
        yield server


def events_by_item(state_dir: Path) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = {}
    with QueueStore.open(state_dir) as store:
        for event in store.events():
            grouped.setdefault(event.item_id, []).append(event)
    return grouped


def assert_every_item_done_once(server: FakeYouTube, state_dir: Path, context: str = "") -> list[dict[str, Any]]:
    everything = items()
    assert [item["state"] for item in everything] == ["done"] * len(everything), context
    video_ids = [item["video_id"] for item in everything]
    assert len(set(video_ids)) == len(everything) == len(server.videos), f"duplicate or lost video {context}"
    for item in everything:
        assert server.sha256_of_video(item["video_id"]) == sha256(Path(item["video"])), context
        assert server.videos[item["video_id"]]["snippet"]["title"] == item["title"], context
    for item_id, events in events_by_item(state_dir).items():
        assert [e.to_state for e in events].count("done") == 1, f"item {item_id} done more than once {context}"
    return everything


def test_runner_killed_at_random_points_never_loses_or_duplicates_an_upload(
        wf: WayfinderEnv, tmp_path: Path) -> None:  # noqa: F811
    rng = random.Random(SEED)
    server = wf.server
    server.chunk_delay_s = 0.04  # a 1 MiB item takes a few tenths of a second: room to land inside it
    env = subprocess_env(wf.env())
    added = 0

    def top_up() -> None:
        nonlocal added
        added += 1
        add(random_video(tmp_path / "media" / f"v{added}.mp4", 4 * CHUNK_BYTES, SEED + added), f"Wing {added}")

    for _ in range(3):
        top_up()
    plan: list[str] = []
    owners_seen: set[str] = set()
    with QueueStore.open(wf.state_dir) as store:
        def new_lease() -> bool:
            return any(item.lease_owner not in owners_seen for item in store.items({"uploading"}))

        while len([p for p in plan if p.startswith("killed")]) < KILLS:
            if all(item.state == "done" for item in store.items()):
                top_up()  # keep work in the queue until there have been enough kills
            requests_before = len(server.requests())
            stderr_path = tmp_path / f"run-{len(plan)}.stderr"
            with open(stderr_path, "wb") as stderr:
                process = subprocess.Popen([*RUN, "--once"], env=env, cwd=REPO, stdout=subprocess.DEVNULL,
                                           stderr=stderr)
            if rng.random() < 0.25:  # just after it took an item: the checks, the claim, the channel lookup
                extra_s = rng.uniform(0.0, 0.05)
                point = f"lease + {extra_s:.3f} s"
                wait_until(lambda: new_lease() or process.poll() is not None, "the runner to take an item")
            else:  # inside the transfer and the steps after it: after this process's k-th request, plus a little
                k, extra_s = rng.randint(1, 5), rng.uniform(0.0, 0.1)
                point = f"request {k} + {extra_s:.3f} s"
                wait_until(lambda: len(server.requests()) >= requests_before + k or process.poll() is not None,
                           "the runner to talk to the server")
            time.sleep(extra_s)  # a random kill point past the event, not a wait for anything
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=EVENT_TIMEOUT_S)
                assert process.returncode == -signal.SIGKILL
                plan.append(f"killed at {point}")
            else:
                assert process.returncode == 0, f"seed {SEED}: {stderr_path.read_text()}"
                plan.append(f"finished before {point}")
            owners_seen.update(item.lease_owner for item in store.items() if item.lease_owner)

    final = subprocess.run([*RUN, "--once"], env=env, cwd=REPO, capture_output=True, text=True, timeout=HANG_S)
    assert final.returncode == 0, f"seed {SEED}: {final.stderr}"
    context = f"(seed {SEED}, {plan})"
    everything = assert_every_item_done_once(server, wf.state_dir, context)
    assert len(everything) == added
    # The kills landed inside uploads: some session was resumed from what the server held.
    resumed = [e for e in server.requests("upload_put") if e.detail.get("kind") == "query" and e.detail.get("received")]
    assert resumed, f"no kill interrupted a transfer {context}"


def test_two_runners_at_once_upload_each_item_once(wf: WayfinderEnv, tmp_path: Path) -> None:  # noqa: F811
    server = wf.server
    server.chunk_delay_s = 0.05
    env = subprocess_env(wf.env())
    locks = wf.state_dir / "locks"
    runners = [subprocess.Popen([*RUN, "--watch", "--max", "5", "--idle-max-s", "0.2"], env=env, cwd=REPO,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    try:
        wait_until(lambda: len(list(locks.glob("queue-runner-*.lock"))) == 2 or any(r.poll() is not None for r in runners),
                   "both runners to start")
        for n in range(10):  # queued while both watch, as a producer would
            add(random_video(tmp_path / "media" / f"v{n}.mp4", 2 * CHUNK_BYTES, n), f"Wing {n}")
        outputs = [runner.communicate(timeout=HANG_S) for runner in runners]
    finally:
        for runner in runners:
            if runner.poll() is None:
                runner.kill()
    for runner, (_out, err) in zip(runners, outputs):
        assert runner.returncode == 0, err
    assert_every_item_done_once(server, wf.state_dir)
    assert len(server.videos) == 10
    assert len([e for e in server.requests("upload_start") if e.status == 200]) == 10  # one session per item
    takers = Counter()
    for item_id, events in events_by_item(wf.state_dir).items():
        uploading = [e for e in events if e.to_state == "uploading"]
        assert len(uploading) == 1, f"item {item_id} was taken {len(uploading)} times"
        takers[uploading[0].runner] += 1
    assert sorted(takers.values()) == [5, 5]  # --max 5 each: both runners worked, side by side


def test_watch_sleeps_until_due_and_sigterm_leaves_the_upload_resumable(wf: WayfinderEnv,  # noqa: F811
                                                                        tmp_path: Path) -> None:
    from datetime import datetime, timedelta, timezone

    from pipeline.state import StateStore

    server = wf.server
    env = subprocess_env(wf.env())
    watcher = subprocess.Popen([*RUN, "--watch", "--idle-max-s", "0.2"], env=env, cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: any((wf.state_dir / "locks").glob("queue-runner-*.lock")) or watcher.poll() is not None,
                   "the runner to start")
        not_before = datetime.now(timezone.utc) + timedelta(seconds=1.5)
        early = random_video(tmp_path / "media" / "early.mp4", CHUNK_BYTES, 1)
        add(early, "Scheduled", "--not-before", not_before.isoformat())
        wait_until(lambda: len(server.videos) == 1, "the scheduled item to be uploaded")
        assert datetime.now(timezone.utc) >= not_before

        server.chunk_delay_s = 0.3  # slow, so SIGTERM lands mid-transfer
        video = random_video(tmp_path / "media" / "walk.mp4", TRANSFER_CHUNKS * CHUNK_BYTES, 2)
        item_id = add(video, "Interrupted")

        def transfer_started() -> bool:
            with server.lock:
                return any(session.total_bytes == TRANSFER_CHUNKS * CHUNK_BYTES and len(session.data) >= CHUNK_BYTES
                           for session in server.sessions.values())

        wait_until(transfer_started, "the transfer to start")
        watcher.send_signal(signal.SIGTERM)
        _out, err = watcher.communicate(timeout=EVENT_TIMEOUT_S)
    finally:
        if watcher.poll() is None:
            watcher.kill()
    assert watcher.returncode == 130, err
    # A chunk the runner sent just before the signal may still be inside the server's
    # 0.3 s delay: let it land before reading what the server holds.
    server.wait_idle()
    [held] = [len(session.data) for session in server.sessions.values()
              if session.total_bytes == TRANSFER_CHUNKS * CHUNK_BYTES]
    assert CHUNK_BYTES <= held < TRANSFER_CHUNKS * CHUNK_BYTES
    item = next(i for i in items() if i["id"] == item_id)
    assert item["state"] == "pending" and "interrupted" in item["last_error"] and item["lease"] is None
    with StateStore.open(wf.state_dir) as state:
        session = state.get_session(sha256(video), server.channel["id"])
    assert session is not None  # the resumable session survived the stop

    server.chunk_delay_s = 0.0
    chunks_before = len(server.chunk_starts())
    result = wayfinder("queue", "run", "--once", "--chunk-kib", "256")
    assert result.exit_code == 0, result.output
    assert_every_item_done_once(server, wf.state_dir)
    assert len([e for e in server.requests("upload_start") if e.status == 200]) == 2  # no second session
    assert server.chunk_starts()[chunks_before] == held  # went on from what the server held
    assert "resuming the unfinished upload" in result.stderr
