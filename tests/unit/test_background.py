"""Work on a worker thread: results, errors and stopping early (pure threads, no media)."""

from __future__ import annotations

import threading
import time

import pytest

from pipeline.background import Background, Cancelled


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
    assert started.wait(5)
    task.cancel()  # returns only once the worker has stopped
    done = len(steps)
    time.sleep(0.05)
    assert len(steps) == done
    with pytest.raises(Cancelled):
        task.result()
