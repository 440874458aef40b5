"""The runner: argument lists, progress events, stderr tail, and stopping from another thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.errors import Cancelled, RenderError
from pipeline.media import Progress, allow_new_runs, run_ffmpeg, terminate_all_running


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


# Generous: a thread or an ffmpeg that has not done its part by then never will, even on a
# heavily loaded machine. Nothing here waits this long when things work.
EVENT_TIMEOUT_S = 120.0
ENDLESS = ["-re", "-f", "lavfi", "-i", "sine", "-f", "null", "-"]  # only a cancel ends it


def progress_flag() -> tuple[threading.Event, Callable[[Progress], None]]:
    """An event set by a run's progress reports: proof that its ffmpeg is running (the
    runner registers a child before it reads the child's progress)."""
    running = threading.Event()
    return running, lambda _progress: running.set()


def test_terminate_all_running_cancels_worker_threads(tmp_path: Path) -> None:
    errors: list[BaseException] = []
    flags = [progress_flag() for _ in range(2)]

    def work(on_progress: Callable[[Progress], None]) -> None:
        try:
            run_ffmpeg(ENDLESS, on_progress=on_progress)
        except BaseException as exc:  # noqa: BLE001 - recorded for the assertion
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(on_progress,)) for _running, on_progress in flags]
    for worker in workers:
        worker.start()
    try:
        for running, _on_progress in flags:
            assert running.wait(EVENT_TIMEOUT_S), "a worker's ffmpeg never reported progress"
        assert terminate_all_running() == 2
        for worker in workers:
            worker.join(timeout=EVENT_TIMEOUT_S)
        assert all(not worker.is_alive() for worker in workers)
        assert len(errors) == 2 and all(isinstance(e, Cancelled) for e in errors)
        with pytest.raises(Cancelled):
            run_ffmpeg(["-f", "lavfi", "-i", "sine=duration=0.1", "-f", "null", "-"])
    finally:
        terminate_all_running()  # a worker still running after a failed assertion
        allow_new_runs()
    run_ffmpeg(["-f", "lavfi", "-i", "sine=duration=0.1", "-f", "null", "-"])


def test_a_cancel_while_ffmpeg_starts_stops_the_new_child() -> None:
    """terminate_all_running() from another thread (a batch's Ctrl-C) that comes while a
    worker is inside Popen does not see that child yet: the runner must stop it itself
    instead of letting it run to its end (an endless source would never end)."""
    import subprocess as sp

    from pipeline import media

    started: list[sp.Popen[bytes]] = []
    real_popen = sp.Popen

    def popen_then_cancel(*args: object, **kwargs: object) -> sp.Popen[bytes]:
        process = real_popen(*args, **kwargs)  # type: ignore[call-overload]
        started.append(process)
        assert terminate_all_running() == 0  # the child is not registered yet
        return process

    media.subprocess.Popen = popen_then_cancel  # type: ignore[attr-defined]
    try:
        with pytest.raises(Cancelled, match="cancelled"):
            run_ffmpeg(["-f", "lavfi", "-i", "sine=duration=1", "-f", "null", "-"])
    finally:
        media.subprocess.Popen = real_popen  # type: ignore[attr-defined]
        allow_new_runs()
    assert started and started[0].returncode is not None  # stopped and reaped, not left running


def test_a_stop_event_ends_only_its_own_runs() -> None:
    """One render's halves share a stop event: setting it ends that render's ffmpeg, not
    another render's (a batch runs several at once)."""
    stop, other_stop = threading.Event(), threading.Event()
    outcome: dict[str, BaseException | None] = {}
    mine_running, mine_progress = progress_flag()
    other_running, other_progress = progress_flag()

    def work(name: str, event: threading.Event, on_progress: Callable[[Progress], None]) -> None:
        try:
            run_ffmpeg(ENDLESS, stop=event, on_progress=on_progress)
            outcome[name] = None
        except BaseException as exc:  # noqa: BLE001 - recorded for the assertion
            outcome[name] = exc

    mine = threading.Thread(target=work, args=("mine", stop, mine_progress))
    other = threading.Thread(target=work, args=("other", other_stop, other_progress))
    mine.start()
    other.start()
    try:
        assert mine_running.wait(EVENT_TIMEOUT_S) and other_running.wait(EVENT_TIMEOUT_S)
        stop.set()
        mine.join(timeout=EVENT_TIMEOUT_S)
        assert not mine.is_alive()
        assert isinstance(outcome["mine"], Cancelled)  # an endless run ends only by being stopped
        # The other render's ffmpeg is still at work after mine stopped: it reports progress again.
        other_running.clear()
        assert other_running.wait(EVENT_TIMEOUT_S) and other.is_alive() and "other" not in outcome
    finally:
        stop.set()
        other_stop.set()
        mine.join(timeout=EVENT_TIMEOUT_S)
        other.join(timeout=EVENT_TIMEOUT_S)
    assert isinstance(outcome["other"], Cancelled)  # ended by its own stop event, only now
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
