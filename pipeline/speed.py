"""The speed record of one render: every pass it ran (each ffmpeg process and the
render's own steps), when it started, how long it took and, for ffmpeg, the CPU time
the process used; and from these the report's `speed` section (wall time, the encode's
own time, the time outside it, the render's share of the machine).

The record travels in a context variable, so `run_ffmpeg` deep inside the audio or
picture code adds its pass without being handed anything; the render's worker threads
(the sound half, the picture analyses) run in a copy of the render's context.

CPU time is measured without psutil: an ffmpeg child's user+system time is read from
`/proc/<pid>/stat` after it exited but before it is reaped (`waitid(WNOWAIT)`: a zombie
keeps its whole thread group's times), and the render's own Python threads each count
`time.thread_time()`. Both are per render, so concurrent renders of a batch in one
process do not mix (`RUSAGE_CHILDREN` would). The render's own Python work is counted as
the process' CPU time (`RUSAGE_SELF`) when the render ran alone in its process (the CLI),
which includes the threads native libraries start (PyAV's decoders, the speech
enhancer's runtime); when renders overlapped in one process (a local batch) it falls back
to the sum of the render's Python threads' `time.thread_time()`, which misses those.
Not counted either way: ffprobe runs. Where /proc is missing, ffmpeg CPU is None.
"""

from __future__ import annotations

import contextvars
import os
import resource
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

# The passes that are the render's encode: the picture's x264 pass, and the sound
# track's encode (it runs beside the picture, so the two overlap in time).
ENCODE_PASSES = ("picture encode", "sound encode")


@dataclass(frozen=True)
class Pass:
    name: str
    kind: str  # "ffmpeg" or "step" (the render's own work, in Python)
    started_s: float  # since the render started
    duration_s: float
    cpu_s: float | None  # ffmpeg: the process' user+system time; steps: None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "started_s": round(self.started_s, 3),
                "duration_s": round(self.duration_s, 3),
                "cpu_s": None if self.cpu_s is None else round(self.cpu_s, 3)}


@dataclass
class SpeedRecord:
    """What one render spent its time on; safe to add to from several threads."""

    started_monotonic_s: float = field(default_factory=time.monotonic)
    passes: list[Pass] = field(default_factory=list)
    python_cpu_s: float = 0.0  # the render's Python threads (time.thread_time)
    started_process_cpu_s: float | None = None  # RUSAGE_SELF when `recording` began
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, name: str, kind: str, started_monotonic_s: float, ended_monotonic_s: float,
            cpu_s: float | None = None) -> None:
        item = Pass(name, kind, started_monotonic_s - self.started_monotonic_s,
                    ended_monotonic_s - started_monotonic_s, cpu_s)
        with self._lock:
            self.passes.append(item)

    def add_python_cpu(self, cpu_s: float) -> None:
        with self._lock:
            self.python_cpu_s += cpu_s

    def report(self, wall_s: float, *, cores: int | None = None) -> dict[str, Any]:
        """The report's `speed` section, with the render's wall time `wall_s`."""
        cores = cores or os.cpu_count() or 1
        with self._lock:
            passes = sorted(self.passes, key=lambda item: item.started_s)
            python_cpu_s = self.python_cpu_s
        python_basis = "threads"
        if self.started_process_cpu_s is not None and _alone(self):
            python_cpu_s, python_basis = _process_cpu_s() - self.started_process_cpu_s, "process"
        encode = [item for item in passes if item.kind == "ffmpeg" and item.name in ENCODE_PASSES]
        encode_s = min(wall_s, union_s([(item.started_s, item.started_s + item.duration_s) for item in encode]))
        ffmpeg_cpu = [item.cpu_s for item in passes if item.kind == "ffmpeg"]
        ffmpeg_cpu_s = None if any(value is None for value in ffmpeg_cpu) else sum(ffmpeg_cpu)  # type: ignore[arg-type]
        cpu_s = None if ffmpeg_cpu_s is None else ffmpeg_cpu_s + python_cpu_s
        return {
            "wall_s": round(wall_s, 3),
            "encode_s": round(encode_s, 3),
            "outside_encode_s": round(wall_s - encode_s, 3),
            "encode_passes": sorted({item.name for item in encode}),
            "cpu_s": None if cpu_s is None else round(cpu_s, 3),
            "ffmpeg_cpu_s": None if ffmpeg_cpu_s is None else round(ffmpeg_cpu_s, 3),
            "python_cpu_s": round(python_cpu_s, 3),
            "python_cpu_basis": python_basis,
            "cores": cores,
            "machine_share": None if cpu_s is None or wall_s <= 0 else round(cpu_s / (wall_s * cores), 3),
            "passes": [item.to_dict() for item in passes],
        }


def union_s(intervals: list[tuple[float, float]]) -> float:
    """Seconds covered by at least one of the (start, end) intervals."""
    total_s, reach_s = 0.0, float("-inf")
    for start_s, end_s in sorted(intervals):
        if end_s <= reach_s:
            continue
        total_s += end_s - max(start_s, reach_s)
        reach_s = end_s
    return total_s


_current: contextvars.ContextVar[SpeedRecord | None] = contextvars.ContextVar("wayfinder_speed", default=None)


def current() -> SpeedRecord | None:
    return _current.get()


_active_lock = threading.Lock()
_active: set[int] = set()  # id() of the records being recorded in this process
_overlapped: set[int] = set()  # ... of those that shared the process with another


def _alone(record: SpeedRecord) -> bool:
    """Whether `record`'s render has had the process to itself so far."""
    with _active_lock:
        return id(record) not in _overlapped


def _process_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def recording(record: SpeedRecord) -> Iterator[SpeedRecord]:
    """Passes run in this context (and threads started with `in_this_context`) go to `record`."""
    key = id(record)
    with _active_lock:
        if _active:
            _overlapped.update(_active | {key})
        _active.add(key)
    token = _current.set(record)
    started_cpu_s, started_process_cpu_s = time.thread_time(), _process_cpu_s()
    record.started_process_cpu_s = started_process_cpu_s
    try:
        yield record
    finally:
        record.add_python_cpu(time.thread_time() - started_cpu_s)
        _current.reset(token)
        with _active_lock:
            _active.discard(key)
            _overlapped.discard(key)


@contextmanager
def step(name: str) -> Iterator[None]:
    """Time one of the render's own steps (no-op outside a render)."""
    record = _current.get()
    started_s = time.monotonic()
    try:
        yield
    finally:
        if record is not None:
            record.add(name, "step", started_s, time.monotonic())


def in_this_context(work: Callable[..., T]) -> Callable[..., T]:
    """`work`, to be run on another thread, in a copy of this thread's context; its
    thread's CPU time is added to the render's record."""
    context = contextvars.copy_context()

    def run(*args: Any, **kwargs: Any) -> T:
        def counted() -> T:
            record = _current.get()
            started_cpu_s = time.thread_time()
            try:
                return work(*args, **kwargs)
            finally:
                if record is not None:
                    record.add_python_cpu(time.thread_time() - started_cpu_s)
        # A copy per call: a pool may run the same wrapped work on several threads at
        # once, and one context cannot be entered twice.
        return context.copy().run(counted)

    return run


def exited_child_cpu_s(pid: int) -> float | None:
    """User+system CPU seconds of the exited, not yet reaped child `pid` (waits for it to
    exit; does not reap it). None where /proc is missing or the child is gone."""
    try:
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            text = handle.read()
    except (OSError, AttributeError):
        return None
    fields = text[text.rindex(")") + 2:].split()
    ticks_per_s = os.sysconf("SC_CLK_TCK")
    # Fields 14-17 of proc(5): utime, stime, cutime, cstime (after pid and comm).
    return sum(int(value) for value in fields[11:15]) / ticks_per_s
