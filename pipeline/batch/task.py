"""One batch job, run where it is executed (a local thread or a Dask worker): check that
its files are visible there, render it, record its fingerprint, report progress.

A task never raises: every outcome, failure included, comes back as a `JobOutcome`, so
nothing depends on exceptions surviving a trip through Dask's serialization.

It also owns stopping a batch in the process that runs its tasks: `stop_batch` marks the
batch cancelled (tasks not yet started return at once), stops every running ffmpeg of
this process (their renders remove their partial files) and waits for the batch's tasks
to return before ffmpeg may be started again.
"""

from __future__ import annotations

import os
import threading
import time
import traceback
from dataclasses import replace

from pipeline.batch.fingerprint import write_record
from pipeline.batch.model import EventCallback, JobEvent, JobOutcome, TaskSpec
from pipeline.config import Job
from pipeline.errors import Cancelled, InputError, WayfinderError, from_os_error
from pipeline.media import Progress, allow_new_runs, terminate_all_running
from pipeline.render import run_render
from pipeline.sources import job_sources

PROGRESS_INTERVAL_S = 0.25  # enough for a smooth bar; Dask events go through the scheduler

_state_lock = threading.Condition()
_cancelled_batches: set[str] = set()
_active_tasks: dict[str, int] = {}


def check_files_visible(job: Job, where: str | None) -> None:
    """Fail early, with a clear reason, when this machine cannot see a job's files."""
    place = f" on worker {where}" if where else ""
    hint = " (workers need Wayfinder and the same paths, on shared storage)" if where else ""
    for source in job_sources(job):
        if not source.path.is_file():
            raise InputError(f"not visible{place}{hint}", file=source.path)
    folder = job.output_path.parent
    existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if existing is None or not os.access(existing, os.W_OK):
        raise InputError(f"output folder not writable{place}{hint}", file=folder)


def with_ffmpeg_threads(job: Job, threads: int | None) -> Job:
    """The job with ffmpeg's thread count set, unless the job or its preset set one."""
    if threads is None or job.settings.video.threads is not None:
        return job
    video = job.settings.video.model_copy(update={"threads": threads})
    return replace(job, settings=job.settings.model_copy(update={"video": video}))


def default_ffmpeg_threads(concurrent_renders: int) -> int:
    return max(1, (os.cpu_count() or 1) // max(1, concurrent_renders))


def _begin(batch_id: str) -> bool:
    with _state_lock:
        if batch_id in _cancelled_batches:
            return False
        _active_tasks[batch_id] = _active_tasks.get(batch_id, 0) + 1
        return True


def _end(batch_id: str) -> None:
    with _state_lock:
        _active_tasks[batch_id] -= 1
        if _active_tasks[batch_id] == 0:
            del _active_tasks[batch_id]
        _state_lock.notify_all()


def stop_batch(batch_id: str, *, timeout_s: float = 60.0) -> int:
    """Stop a batch's renders in this process. Returns how many ffmpeg processes were stopped.

    Every ffmpeg of this process is stopped, not only this batch's: the runner's registry
    does not know batches. A worker should therefore serve one batch at a time.
    """
    with _state_lock:
        _cancelled_batches.add(batch_id)
    stopped = terminate_all_running()
    deadline = time.monotonic() + timeout_s
    with _state_lock:
        # Until the batch's tasks have returned, the runner keeps refusing new ffmpeg
        # processes, so a task between two passes cannot start its next one.
        while _active_tasks.get(batch_id, 0) > 0 and time.monotonic() < deadline:
            _state_lock.wait(timeout=0.1)
    allow_new_runs()
    return stopped


def forget_batch(batch_id: str) -> None:
    with _state_lock:
        _cancelled_batches.discard(batch_id)


def run_task(spec: TaskSpec, *, on_event: EventCallback | None = None, where: str | None = None) -> JobOutcome:
    """Render one job and record its fingerprint; always returns an outcome."""
    emit = on_event or (lambda _event: None)
    base = JobOutcome(name=spec.name, status="failed", reason="", output_path=str(spec.job.output_path),
                      fingerprint=spec.fingerprint.digest, duration_s=spec.duration_s, worker=where)
    if not _begin(spec.batch_id):
        return replace(base, status="cancelled", reason="batch interrupted before this job started", exit_code=130)
    started = time.monotonic()
    last_sent = 0.0

    def on_progress(event: Progress) -> None:
        nonlocal last_sent
        now = time.monotonic()
        if now - last_sent >= PROGRESS_INTERVAL_S or event.done:
            last_sent = now
            emit(JobEvent(spec.name, "progress", event.out_time_s, event.total_s, event.speed_x))

    try:
        emit(JobEvent(spec.name, "started", 0.0, spec.duration_s))
        check_files_visible(spec.job, where)
        result = run_render(with_ffmpeg_threads(spec.job, spec.ffmpeg_threads), force=True, on_progress=on_progress)
        write_record(result.plan.output_path, spec.fingerprint, duration_s=result.plan.duration_s)
        speed = result.speed or {}
        return replace(base, status="rendered", reason=_summary(result.plan.video_mode, result.plan.audio_mode),
                       duration_s=round(result.plan.duration_s, 3), wall_time_s=round(time.monotonic() - started, 3),
                       render_report=str(result.report_path) if result.report_path else None,
                       cpu_s=speed.get("cpu_s"), machine_share=speed.get("machine_share"),  # type: ignore[arg-type]
                       encode_s=speed.get("encode_s"), outside_encode_s=speed.get("outside_encode_s"))  # type: ignore[arg-type]
    except Cancelled as error:
        return replace(base, status="cancelled", reason=error.one_line(), exit_code=error.exit_code,
                       wall_time_s=round(time.monotonic() - started, 3))
    except WayfinderError as error:
        return replace(base, reason=error.one_line(), fatal=error.fatal, exit_code=error.exit_code,
                       wall_time_s=round(time.monotonic() - started, 3))
    except KeyboardInterrupt:
        return replace(base, status="cancelled", reason="interrupted", exit_code=130)
    except OSError as error:  # a full or read-only disk where nobody expected one
        reason = from_os_error(error).one_line()
        return replace(base, reason=reason, exit_code=1, wall_time_s=round(time.monotonic() - started, 3))
    except Exception as error:  # a bug
        detail = "".join(traceback.format_exception_only(type(error), error)).strip()
        if os.environ.get("WAYFINDER_DEBUG") == "1":
            traceback.print_exc()
        return replace(base, reason=f"internal error: {detail}", exit_code=1,
                       wall_time_s=round(time.monotonic() - started, 3))
    finally:
        _end(spec.batch_id)


def _summary(video_mode: str, audio_mode: str) -> str:
    video = "no video" if video_mode == "none" else f"{video_mode} video"
    audio = "no audio" if audio_mode == "none" else f"{audio_mode} audio"
    return f"{video}, {audio}"

