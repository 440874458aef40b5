"""Work on a worker thread: results, errors and stopping early (pure threads, no media)."""

from __future__ import annotations

import threading
import time

import pytest

from pipeline.background import Background, Cancelled
from tests.waiting import EVENT_TIMEOUT_S


def test_the_result_and_the_error_come_back_to_the_caller() -> None:
    assert Background(lambda _stop: 6 * 7, name="answer").result() == 42

    def fails(_stop: threading.Event) -> int:
        raise ValueError("bad frame")

    with pytest.raises(ValueError, match="bad frame"):
        Background(fails, name="fails").result()


def test_cancel_stops_work_that_watches_the_flag() -> None:
    started = threading.Event()
    steps: list[int] = []

    def endless(stop: threading.Event) -> None:
        started.set()
        while True:
            if stop.is_set():
                raise Cancelled("asked to stop")
            steps.append(1)
            time.sleep(0.01)

    task = Background(endless, name="endless")
    assert started.wait(EVENT_TIMEOUT_S)
    task.cancel()  # returns only once the worker has stopped
    assert not [t for t in threading.enumerate() if t.name == "endless" and t.is_alive()]
    with pytest.raises(Cancelled):
        task.result()
