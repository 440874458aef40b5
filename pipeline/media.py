"""The ffmpeg binary and the one place it is started.

`find_ffmpeg()` locates the binary (`WAYFINDER_FFMPEG`, else the one in the imageio-ffmpeg
wheel). `run_ffmpeg()` runs an argument list (never a shell string) with
`-nostdin -progress pipe:1 -nostats`, turns ffmpeg's progress lines into `Progress`
events, keeps the tail of stderr for errors, and guarantees that no ffmpeg child outlives
it: on an exception, Ctrl-C or SIGTERM the process is terminated and reaped.

Each ffmpeg runs in a process group of its own (so a terminal's Ctrl-C reaches only
Wayfinder, which stops ffmpeg cleanly), and stopping it signals that whole group. When
Wayfinder itself is killed outright (SIGKILL, the OOM killer), nothing of ours runs: on
Linux the kernel then kills ffmpeg for us (`PR_SET_PDEATHSIG`, set in the child before
it executes ffmpeg), so no orphan keeps writing a partial file.
Nothing here runs at import time.
"""

from __future__ import annotations

import collections
import functools
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Concatenate, ParamSpec, TypeVar
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import Cancelled, RenderError, ToolError
from pipeline.ffmpeg_failure import describe_failure
from pipeline.lifeline import child_dies_with_us
from pipeline.speed import current as current_speed_record
from pipeline.speed import exited_child_cpu_s

STDERR_TAIL_LINES = 12

# Every ffmpeg started by run_ffmpeg, so that a Ctrl-C in the main thread can stop the
# ones that worker threads (batch renders) are waiting on.
_running: set[subprocess.Popen[bytes]] = set()
_running_lock = threading.Lock()
_cancelled = threading.Event()
STOP_POLL_S = 0.1
# Linux refuses to start a program with one argument over 128 KiB (MAX_ARG_STRLEN): a long
# edit's filter graph (many takes, many light commands) can pass that. Option values over
# this size go to a file instead, which ffmpeg (7 and later) reads for "-/option FILE".
ARG_IN_FILE_BYTES = 64 * 1024
_Options = ParamSpec("_Options")
_Result = TypeVar("_Result")


@functools.cache
def find_ffmpeg() -> str:
    """Path of the ffmpeg binary to use; raises ToolError if there is none."""
    override = os.environ.get("WAYFINDER_FFMPEG")
    if override:
        resolved = shutil.which(override) or override
        if not Path(resolved).is_file():
            raise ToolError(f"WAYFINDER_FFMPEG points to {override!r}, which is not a file")
        return resolved
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception as exc:  # the wheel raises RuntimeError when its binary is missing
        raise ToolError(
            f"no ffmpeg found: install the imageio-ffmpeg wheel or set WAYFINDER_FFMPEG ({exc})"
        ) from exc


@dataclass(frozen=True)
class Progress:
    """One progress report from a running ffmpeg."""

    out_time_s: float
    total_s: float | None
    speed_x: float | None
    done: bool
    stage: str = ""  # which run of ffmpeg (`what`: "picture encode"...): one render has several
    time_known: bool = True  # False when ffmpeg said out_time=N/A (out_time_s is then 0)

    @property
    def fraction(self) -> float | None:
        if not self.total_s or self.total_s <= 0:
            return None
        return max(0.0, min(1.0, self.out_time_s / self.total_s))

    @property
    def eta_s(self) -> float | None:
        if self.fraction is None or not self.speed_x or self.speed_x <= 0 or self.total_s is None:
            return None
        return max(0.0, (self.total_s - self.out_time_s) / self.speed_x)


ProgressCallback = Callable[[Progress], None]


@dataclass(frozen=True)
class FfmpegResult:
    returncode: int
    stderr_tail: list[str]
    stderr_full: str


def parse_progress_block(fields: dict[str, str], total_s: float | None, stage: str = "") -> Progress:
    """Turn one block of `-progress` key=value lines into a Progress event."""
    out_time_s = 0.0
    time_known = False
    raw_us = fields.get("out_time_us") or fields.get("out_time_ms")
    if raw_us and raw_us not in ("N/A",):
        try:
            out_time_s = int(raw_us) / 1_000_000
            time_known = True
        except ValueError:
            out_time_s = 0.0
    speed_x: float | None = None
    raw_speed = fields.get("speed", "").strip().rstrip("x")
    if raw_speed and raw_speed != "N/A":
        try:
            speed_x = float(raw_speed)
        except ValueError:
            speed_x = None
    return Progress(
        out_time_s=max(0.0, out_time_s),
        total_s=total_s,
        speed_x=speed_x,
        done=fields.get("progress") == "end",
        stage=stage,
        time_known=time_known,
    )


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    """Signal ffmpeg's own process group (its pid, see `start_new_session`)."""
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass
    except PermissionError:  # not our group after all (pid reused): signal the process only
        process.send_signal(sig)


def _terminate(process: subprocess.Popen[bytes]) -> None:
    """Stop ffmpeg: SIGTERM lets it close files; SIGKILL if it does not stop promptly."""
    if process.poll() is not None:
        return
    try:
        _signal_group(process, signal.SIGTERM)
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        _signal_group(process, signal.SIGKILL)
        process.wait()


class _InterruptHold:
    """Set while the main thread starts an ffmpeg child (see `run_ffmpeg`)."""

    active = False
    pending = False


_interrupt_hold = _InterruptHold()


def hold_interrupt() -> bool:
    """For a signal handler: True when the interrupt was held back because ffmpeg is being
    started (run_ffmpeg raises it as soon as the child is known), False when the handler
    should raise it now."""
    if _interrupt_hold.active:
        _interrupt_hold.pending = True
        return True
    return False


def terminate_all_running() -> int:
    """Stop every ffmpeg this process started and refuse new ones until `allow_new_runs()`.

    Their `run_ffmpeg` calls raise Cancelled, so each caller cleans up its own partial
    file. Returns how many were running.
    """
    _cancelled.set()
    with _running_lock:
        processes = list(_running)
    for process in processes:
        _terminate(process)
    return len(processes)


def allow_new_runs() -> None:
    _cancelled.clear()


def build_args_with_files(args: Sequence[str], folder: Path) -> list[str]:
    """`args` with every option value over ARG_IN_FILE_BYTES written to a file in
    `folder` and passed as "-/option FILE"."""
    out: list[str] = []
    for arg in args:
        if out and out[-1].startswith("-") and len(arg.encode()) > ARG_IN_FILE_BYTES:
            path = folder / f"value-{len(out)}.txt"
            path.write_text(arg, encoding="utf-8")
            out[-1] = "-/" + out[-1][1:]
            out.append(str(path))
        else:
            out.append(arg)
    return out


def _long_values_in_files(
    run: Callable[Concatenate[Sequence[str], _Options], _Result],
) -> Callable[Concatenate[Sequence[str], _Options], _Result]:
    @functools.wraps(run)
    def wrapper(args: Sequence[str], *rest: _Options.args, **options: _Options.kwargs) -> _Result:
        if all(len(arg.encode()) <= ARG_IN_FILE_BYTES for arg in args):
            return run(args, *rest, **options)
        with tempfile.TemporaryDirectory(prefix="wayfinder-ffmpeg-args-") as folder:
            return run(build_args_with_files(args, Path(folder)), *rest, **options)
    return wrapper


@_long_values_in_files
def run_ffmpeg(
    args: Sequence[str],
    *,
    total_s: float | None = None,
    on_progress: ProgressCallback | None = None,
    capture_stderr_full: bool = False,
    check: bool = True,
    what: str = "ffmpeg",
    file: str | Path | None = None,
    stdout_sink: Callable[[bytes], None] | None = None,
    stdout_chunk_bytes: int = 1 << 20,
    stop: threading.Event | None = None,
    stdin_chunks: Iterable[bytes] | None = None,
) -> FfmpegResult:
    """Run ffmpeg with `args` (everything after the binary name).

    With `stdout_sink`, ffmpeg's output goes to `pipe:1` in `args` and is handed to the
    sink in chunks (no progress events then). Raises RenderError (with ffmpeg's last
    stderr lines) on a non-zero exit when `check`, Cancelled on KeyboardInterrupt.
    `stop`, when set by another thread (the other half of the same render failed), ends
    this run with Cancelled. With `stdin_chunks` (raw frames made in Python), `pipe:0` in
    `args` reads them, fed by a thread; an exception raised while making them is raised
    here once ffmpeg has been stopped. The child never outlives this call.
    """
    if _cancelled.is_set() or (stop is not None and stop.is_set()):
        raise Cancelled(f"{what} not started: the run was cancelled", file=file)
    progress_args = ["-progress", "pipe:1"] if stdout_sink is None else []
    no_stdin = ["-nostdin"] if stdin_chunks is None else []
    argv = [find_ffmpeg(), "-hide_banner", *no_stdin, *progress_args, "-nostats", *args]
    tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
    full: list[str] = []

    # Own process group: a terminal's Ctrl-C reaches only us, and we stop ffmpeg cleanly.
    # An interrupt raised inside Popen (after the fork) would lose the child: while it
    # starts, the CLI's signal handler holds the interrupt back for us to raise below.
    holding = threading.current_thread() is threading.main_thread()
    speed_record = current_speed_record()
    started_s = time.monotonic()
    cpu_s: float | None = None
    if holding:
        _interrupt_hold.active = True
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL if stdin_chunks is None else subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=child_dies_with_us(),
        )
    except BaseException as exc:
        if holding and _interrupt_hold.pending:  # no child to stop: deliver the interrupt now
            _interrupt_hold.pending = False
            raise KeyboardInterrupt from exc
        raise
    finally:
        if holding:
            _interrupt_hold.active = False

    def read_stderr() -> None:
        assert process.stderr is not None
        for raw in process.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            if capture_stderr_full:
                full.append(line)
            if line.strip():
                tail.append(line)

    finished = threading.Event()

    def stop_when_asked() -> None:
        assert stop is not None
        # Not process.poll(): that would reap the child before its CPU time is read.
        while not stop.wait(STOP_POLL_S):
            if finished.is_set():
                return
        _terminate(process)

    feed_errors: list[BaseException] = []

    def feed_stdin() -> None:
        assert process.stdin is not None and stdin_chunks is not None
        try:
            for chunk in stdin_chunks:
                process.stdin.write(chunk)
        except BrokenPipeError:
            pass  # ffmpeg stopped reading: its exit status and stderr say why
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            feed_errors.append(exc)
            _terminate(process)
        finally:
            try:
                process.stdin.close()
            except BrokenPipeError:
                pass

    stderr_thread = threading.Thread(target=read_stderr, daemon=True)
    feed_thread = threading.Thread(target=feed_stdin, daemon=True) if stdin_chunks is not None else None
    try:
        # Everything after the start is inside the try: a Ctrl-C at any point (even while
        # a helper thread starts) must still stop ffmpeg.
        with _running_lock:
            _running.add(process)
        if holding and _interrupt_hold.pending:
            _interrupt_hold.pending = False
            raise KeyboardInterrupt
        # terminate_all_running() sets the flag before it looks at the running set: a call
        # that came while this child was starting (after the check above, before the add)
        # did not see it, so it is stopped here rather than left to run to its end.
        if _cancelled.is_set():
            raise Cancelled(f"{what} cancelled", file=file)
        stderr_thread.start()
        if feed_thread is not None:
            feed_thread.start()
        if stop is not None:
            threading.Thread(target=stop_when_asked, daemon=True).start()
        assert process.stdout is not None
        if stdout_sink is not None:
            while data := process.stdout.read(stdout_chunk_bytes):
                stdout_sink(data)
        block: dict[str, str] = {}
        for raw in process.stdout:
            key, _, value = raw.decode("utf-8", "replace").strip().partition("=")
            block[key] = value
            if key == "progress":
                if on_progress is not None:
                    on_progress(parse_progress_block(block, total_s, what))
                block = {}
        if speed_record is not None:
            cpu_s = exited_child_cpu_s(process.pid)  # before the wait reaps it
        process.wait()
    except KeyboardInterrupt as exc:
        _terminate(process)
        raise Cancelled(f"{what} interrupted", file=file) from exc
    except BaseException:
        _terminate(process)
        raise
    finally:
        finished.set()
        if stderr_thread.ident is not None:
            stderr_thread.join(timeout=5)
        if feed_thread is not None and feed_thread.ident is not None:
            feed_thread.join()
        with _running_lock:
            _running.discard(process)

    if speed_record is not None:
        speed_record.add(what, "ffmpeg", started_s, time.monotonic(), cpu_s)
    if feed_errors:
        raise feed_errors[0]
    if (_cancelled.is_set() or (stop is not None and stop.is_set())) and process.returncode != 0:
        raise Cancelled(f"{what} cancelled", file=file)
    result = FfmpegResult(process.returncode, list(tail), "\n".join(full))
    if check and process.returncode != 0:
        message = describe_failure(what, result.stderr_tail, process.returncode, args)
        raise RenderError(message, file=file, details=result.stderr_tail)
    return result


