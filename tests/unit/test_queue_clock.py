"""The injectable clock and how times are written on the command line and stored."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from pipeline.errors import UsageError
from pipeline.queue.clock import clock_from_env, fake_clock, parse_moment, system_clock
from pipeline.queue.model import format_db_time, parse_db_time


def test_parse_moment_needs_a_zone() -> None:
    assert parse_moment("2025-06-01T09:00:00-05:00", what="--not-before") == datetime(2025, 6, 1, 14, tzinfo=timezone.utc)
    assert parse_moment("2025-06-01T14:00:00Z", what="x") == datetime(2025, 6, 1, 14, tzinfo=timezone.utc)
    with pytest.raises(UsageError, match="needs a time zone"):
        parse_moment("2025-06-01T09:00:00", what="--not-before")
    with pytest.raises(UsageError, match="not a date-time"):
        parse_moment("tomorrow", what="--not-before")


def test_fake_clock_starts_at_the_given_time_and_advances() -> None:
    ticks = iter([100.0, 100.0, 107.5])
    start = datetime(2025, 3, 10, 23, 30, tzinfo=timezone(timedelta(hours=-7)))
    clock = fake_clock(start, monotonic=lambda: next(ticks))
    assert clock() == start
    assert clock() == start + timedelta(seconds=7.5)


def test_clock_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WAYFINDER_FAKE_NOW", raising=False)
    assert clock_from_env() is system_clock
    monkeypatch.setenv("WAYFINDER_FAKE_NOW", "2030-01-01T00:00:00Z")
    now = clock_from_env()()
    assert datetime(2030, 1, 1, tzinfo=timezone.utc) <= now < datetime(2030, 1, 1, 0, 1, tzinfo=timezone.utc)


def test_stored_times_sort_as_text() -> None:
    moments = [datetime(2025, 1, 1, 0, 0, 0, 5, tzinfo=timezone.utc), datetime(2024, 12, 31, 23, 59, tzinfo=timezone.utc),
               datetime(2025, 1, 1, 8, 0, tzinfo=timezone(timedelta(hours=9)))]
    texts = [format_db_time(m) for m in moments]
    assert sorted(texts) == [format_db_time(m) for m in sorted(moments)]
    assert [parse_db_time(t) for t in texts] == moments
    with pytest.raises(ValueError):
        format_db_time(datetime(2025, 1, 1))
