"""Waiting for an event in a test, never for a stretch of wall-clock time.

The suite must pass on a heavily loaded machine (`make test-loaded`), so a test waits for
the thing it needs (a file, a process, a log line, a server request) by polling a
condition, with a deadline that only a thing that never happens reaches. Nothing that
works waits anywhere near the deadline; a test asserts what happened and in which order,
not how fast.
"""

from __future__ import annotations

import time
from collections.abc import Callable

# Two minutes: far beyond any event's delay on a machine running many times more work
# than it has cores, and still well inside pytest-timeout's per-test limit.
EVENT_TIMEOUT_S = 120.0
POLL_S = 0.02


def wait_until(condition: Callable[[], object], what: str, timeout_s: float = EVENT_TIMEOUT_S) -> None:
    """Poll `condition` until it is true; fail naming `what` if it never is."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout_s:.0f} s waiting for {what}"
        time.sleep(POLL_S)
