"""Quota over days, with an injected clock (`WAYFINDER_FAKE_NOW`): the budget defers what
today cannot pay for to midnight Pacific and the next day's run uploads it; YouTube's
quotaExceeded holds everything until the reset; uploadLimitExceeded waits the configured
time. Every item ends uploaded exactly once."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_queue_support import (
    FAST_RUN,
    add,
    assert_stamped_during,
    items,
    quota,
    random_video,
    sha256,
    wayfinder,
)
from youtube_server import FakeYouTube
from youtube_server.fixtures import WayfinderEnv, wf  # noqa: F401

PDT = timezone(timedelta(hours=-7))
EVENING = datetime(2025, 6, 2, 22, 0, tzinfo=PDT)
RESET_UTC = "2025-06-03T07:00:00Z"  # midnight Pacific (PDT) after EVENING


@pytest.fixture
def youtube() -> Any:
    with FakeYouTube(processing_polls=0) as server:
        yield server


def at(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    monkeypatch.setenv("WAYFINDER_FAKE_NOW", moment.isoformat())


def run_once(*extra: str) -> float:
    """One `queue run --once`; returns how long it took (its clock ran that long past the
    fake start, which times computed from "now" show)."""
    began_s = time.monotonic()
    result = wayfinder("queue", "run", "--once", *FAST_RUN, *extra)
    assert result.exit_code == 0, result.output
    return time.monotonic() - began_s


def queue_three(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    ids = []
    for n, building in enumerate("ABC"):
        at(monkeypatch, EVENING - timedelta(hours=1, seconds=-n))
        ids.append(add(random_video(tmp_path / f"{building}.mp4", 300_000, n), building))
    return ids


def assert_each_uploaded_once(server: FakeYouTube) -> None:
    everything = items()
    assert [item["state"] for item in everything] == ["done"] * len(everything)
    assert len(server.videos) == len(everything) == len({item["video_id"] for item in everything})
    for item in everything:
        assert server.sha256_of_video(item["video_id"]) == sha256(Path(item["video"]))


def test_budget_exhaustion_defers_to_the_pacific_reset_and_resumes_the_next_day(
        wf: WayfinderEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    (wf.config_dir / "quota.toml").write_text("[daily_limits]\nuploads = 2\n", encoding="utf-8")
    first, second, third = queue_three(tmp_path, monkeypatch)
    at(monkeypatch, EVENING)
    run_once()
    states = {item["id"]: item for item in items()}
    assert [states[i]["state"] for i in (first, second)] == ["done", "done"]
    assert states[third]["state"] == "deferred" and states[third]["due_at"] == RESET_UTC
    assert "2 of 2 uploads already spent today" in states[third]["reason"]
    today = quota()
    assert today["day"] == "2025-06-02" and today["buckets"]["uploads"] == {"used": 2, "limit": 2, "left": 0}
    assert today["resets_at"] == "2025-06-03T00:00:00-07:00"

    requests_before = len(wf.server.requests())
    at(monkeypatch, EVENING + timedelta(hours=1, minutes=59))  # 23:59 PDT: still today
    run_once()
    assert len(wf.server.requests()) == requests_before and items()[2]["state"] == "deferred"

    at(monkeypatch, EVENING + timedelta(hours=2, minutes=1))  # 00:01 PDT: a new quota day
    run_once()
    assert_each_uploaded_once(wf.server)
    assert quota()["buckets"]["uploads"]["used"] == 1 and quota()["day"] == "2025-06-03"


def test_quota_exceeded_from_youtube_holds_everything_until_the_reset(
        wf: WayfinderEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    queue_three(tmp_path, monkeypatch)
    wf.server.add_fault("initiate", status=403, reason="quotaExceeded")
    at(monkeypatch, EVENING)
    run_once()  # waiting for the reset is not a failure
    everything = items()
    assert [item["state"] for item in everything] == ["deferred"] * 3
    assert {item["due_at"] for item in everything} == {RESET_UTC}
    assert all("quotaExceeded" in item["reason"] for item in everything)
    assert wf.server.videos == {} and len(wf.server.requests("upload_start")) == 1  # one try, then nothing more
    [hold] = quota()["holds"]
    assert hold["name"] == "quota" and hold["until"] == "2025-06-03T07:00:00+00:00"

    late = random_video(tmp_path / "late.mp4", 300_000, 9)
    at(monkeypatch, EVENING + timedelta(hours=1))
    add(late, "Late")  # added after the refusal: it waits too
    run_once()
    assert len(wf.server.requests("upload_start")) == 1
    assert items()[3]["state"] == "deferred" and items()[3]["due_at"] == RESET_UTC

    at(monkeypatch, EVENING + timedelta(hours=2, seconds=5))
    run_once()
    assert_each_uploaded_once(wf.server)


def test_upload_limit_defers_by_the_configured_wait(wf: WayfinderEnv, tmp_path: Path,  # noqa: F811
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    at(monkeypatch, EVENING)
    add(random_video(tmp_path / "a.mp4", 300_000, 1), "A")
    wf.server.add_fault("initiate", status=400, reason="uploadLimitExceeded")
    ran_s = run_once("--upload-limit-wait-h", "6")
    [item] = items()
    assert item["state"] == "deferred"
    assert_stamped_during(item["due_at"], EVENING + timedelta(hours=6), ran_s)  # 22:00 PDT + 6 h
    assert "uploadLimitExceeded" in item["reason"]
    at(monkeypatch, EVENING + timedelta(hours=5, minutes=59))
    run_once()
    assert wf.server.videos == {}
    at(monkeypatch, EVENING + timedelta(hours=6, minutes=1))
    run_once()
    assert_each_uploaded_once(wf.server)


def test_default_upload_limit_wait_is_a_day(wf: WayfinderEnv, tmp_path: Path,  # noqa: F811
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    at(monkeypatch, EVENING)
    add(random_video(tmp_path / "a.mp4", 300_000, 1), "A")
    wf.server.add_fault("initiate", status=400, reason="uploadLimitExceeded")
    ran_s = run_once()
    assert_stamped_during(items()[0]["due_at"], EVENING + timedelta(hours=24), ran_s)  # 22:00 PDT + 24 h
