"""Work that overlaps other work: a function run on a worker thread, its result (or its
error) collected later, and a way to ask it to stop early.

A render's picture analysis decodes video while its audio passes run in ffmpeg; on two
or more cores the two together take about as long as the longer one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from pipeline.speed import in_this_context

T = TypeVar("T")


class Cancelled(Exception):
    """Raised inside the worker when it notices it was asked to stop."""


class Background(Generic[T]):
    """`work(stop)` running on a daemon thread; `work` should check `stop` now and then
    and raise `Cancelled` when it is set."""

    def __init__(self, work: Callable[[threading.Event], T], *, name: str) -> None:
        self._stop = threading.Event()
        self._value: T | None = None
        self._error: BaseException | None = None
        # A daemon, so an interrupted render never waits at exit for an analysis nobody needs.
        # In the render's context: its ffmpeg passes and CPU time go to the render's speed record.
        self._thread = threading.Thread(target=in_this_context(self._run), args=(work,), name=name, daemon=True)
        self._thread.start()

    def _run(self, work: Callable[[threading.Event], T]) -> None:
        try:
            self._value = work(self._stop)
        except BaseException as exc:  # handed to whoever collects the result
            self._error = exc

    def result(self) -> T:
        """Wait for the work; its value, or its exception raised here."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]

    def cancel(self) -> None:
        """Ask the work to stop and wait until it has (no-op once it has finished)."""
        self._stop.set()
        self._thread.join()
