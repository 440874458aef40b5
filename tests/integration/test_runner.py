"""The runner: argument lists, progress events, stderr tail, and stopping from another thread."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from pipeline.errors import Cancelled, RenderError
from pipeline.media import allow_new_runs, run_ffmpeg, terminate_all_running


def test_progress_events_and_success(tmp_path: Path) -> None:
    events = []
    out = tmp_path / "tone.wav"
    run_ffmpeg(["-f", "lavfi", "-i", "sine=duration=2", str(out)], total_s=2.0, on_progress=events.append)
    assert out.is_file()
    assert events[-1].done and events[-1].out_time_s == pytest.approx(2.0, abs=0.05)


def test_failure_carries_the_stderr_tail(tmp_path: Path) -> None:
    with pytest.raises(RenderError) as caught:
        run_ffmpeg(["-i", str(tmp_path / "absent.wav"), "-f", "null", "-"], file=tmp_path / "absent.wav")
    assert "No such file or directory" in caught.value.message
    assert caught.value.details and caught.value.file == str(tmp_path / "absent.wav")


def test_terminate_all_running_cancels_worker_threads(tmp_path: Path) -> None:
    errors: list[BaseException] = []

    def work() -> None:
        try:
            # an endless source: only a cancel ends it
            run_ffmpeg(["-re", "-f", "lavfi", "-i", "sine", "-f", "null", "-"])
        except BaseException as exc:  # noqa: BLE001 - recorded for the assertion
            errors.append(exc)

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    time.sleep(1.0)
    try:
        assert terminate_all_running() == 2
        for worker in workers:
            worker.join(timeout=10)
        assert all(not worker.is_alive() for worker in workers)
        assert len(errors) == 2 and all(isinstance(e, Cancelled) for e in errors)
        with pytest.raises(Cancelled):
            run_ffmpeg(["-f", "lavfi", "-i", "sine=duration=0.1", "-f", "null", "-"])
    finally:
        allow_new_runs()
    run_ffmpeg(["-f", "lavfi", "-i", "sine=duration=0.1", "-f", "null", "-"])


def test_a_stop_event_ends_only_its_own_runs() -> None:
    """One render's halves share a stop event: setting it ends that render's ffmpeg, not
    another render's (a batch runs several at once)."""
    stop, other_stop = threading.Event(), threading.Event()
    outcome: dict[str, BaseException | None] = {}

    def work(name: str, event: threading.Event) -> None:
        try:
            run_ffmpeg(["-re", "-f", "lavfi", "-i", "sine", "-t", "3", "-f", "null", "-"], stop=event)
            outcome[name] = None
        except BaseException as exc:  # noqa: BLE001 - recorded for the assertion
            outcome[name] = exc

    mine = threading.Thread(target=work, args=("mine", stop))
    other = threading.Thread(target=work, args=("other", other_stop))
    started = time.monotonic()
    mine.start()
    other.start()
    time.sleep(0.5)
    stop.set()
    mine.join(timeout=10)
    assert isinstance(outcome["mine"], Cancelled)
    assert time.monotonic() - started < 2.5  # stopped, not run to its 3 s end
    other.join(timeout=10)
    assert outcome["other"] is None  # the other render's run finished normally
    with pytest.raises(Cancelled, match="not started"):
        run_ffmpeg(["-f", "lavfi", "-i", "sine=duration=1", "-f", "null", "-"], stop=stop)


def test_an_interrupt_while_ffmpeg_starts_is_held_then_stops_it() -> None:
    """A Ctrl-C raised inside Popen would lose the child (it runs on, orphaned): while the
    main thread starts ffmpeg, the signal handler holds the interrupt, and the runner
    raises it once the child is known, stopping it."""
    import subprocess as sp

    from pipeline import media

    started: list[sp.Popen[bytes]] = []
    real_popen = sp.Popen

    def popen_then_signal(*args: object, **kwargs: object) -> sp.Popen[bytes]:
        process = real_popen(*args, **kwargs)  # type: ignore[call-overload]
        started.append(process)
        # the signal arrives while Popen has not yet returned: the handler is asked
        assert media.hold_interrupt() is True
        return process

    media.subprocess.Popen = popen_then_signal  # type: ignore[attr-defined]
    try:
        with pytest.raises(Cancelled, match="interrupted"):
            run_ffmpeg(["-re", "-f", "lavfi", "-i", "sine", "-f", "null", "-"])
    finally:
        media.subprocess.Popen = real_popen  # type: ignore[attr-defined]
    assert started and started[0].poll() is not None  # the child was stopped, not orphaned
    assert media.hold_interrupt() is False  # outside a start nothing is held
