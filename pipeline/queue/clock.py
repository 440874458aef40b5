"""What time the queue thinks it is, and how a user writes a time.

Everything in the queue that depends on the time (due items, leases, quota days and
resets) asks a `Clock` rather than the system, so tests can move through days without
waiting. `WAYFINDER_FAKE_NOW` (RFC 3339 with a zone, e.g. `2025-03-10T23:30:00-07:00`)
starts the clock at that moment; it then advances with real elapsed time, so leases and
sleeps still behave. Unset, the clock is the system's.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from pipeline.errors import UsageError

Clock = Callable[[], datetime]

FAKE_NOW_ENV = "WAYFINDER_FAKE_NOW"


def system_clock() -> datetime:
    return datetime.now(timezone.utc)


def parse_moment(text: str, *, what: str) -> datetime:
    """An RFC 3339 date-time with a zone (`2025-06-01T09:00:00-05:00`, `...Z`) as an aware datetime."""
    value = text.strip()
    try:
        moment = datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{what}: {text!r} is not a date-time like 2025-06-01T09:00:00-05:00") from None
    if moment.tzinfo is None:
        raise UsageError(f"{what}: {text!r} needs a time zone (an offset like -05:00, or Z for UTC)")
    return moment


def fake_clock(start: datetime, *, monotonic: Callable[[], float] = time.monotonic) -> Clock:
    """A clock that starts at `start` and advances with real elapsed time."""
    began_s = monotonic()

    def now() -> datetime:
        return start + timedelta(seconds=monotonic() - began_s)

    return now


def clock_from_env() -> Clock:
    """The fake clock if `WAYFINDER_FAKE_NOW` is set, else the system clock."""
    value = os.environ.get(FAKE_NOW_ENV)
    if not value:
        return system_clock
    return fake_clock(parse_moment(value, what=FAKE_NOW_ENV))
