"""How a command stops: SIGTERM (systemd, a scheduler, `kill`) is handled exactly like
Ctrl-C, so the same clean-up runs (ffmpeg stopped, partial files removed, exit 130), and
the stop is noted for loops that must not miss it."""

from __future__ import annotations

import signal
from typing import Any


class StopOnSignal:
    """SIGTERM and Ctrl-C: note the stop, then interrupt whatever runs now.

    The note matters: a KeyboardInterrupt raised inside C code (PyAV, sockets) can come
    back as an ordinary error that some `except Exception` swallows; the runner checks
    the note at every chunk and between items, so the stop still happens.
    """

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, Any] = {}

    def _handle(self, _signum: int, _frame: object) -> None:
        from pipeline.media import hold_interrupt

        self.requested = True
        if hold_interrupt():
            return  # ffmpeg is starting: the runner raises it once the child is known
        raise KeyboardInterrupt

    def __enter__(self) -> StopOnSignal:
        for signum in (signal.SIGTERM, signal.SIGINT):
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
