"""Local execution: up to N renders at once on a thread pool in this process.

Threads are enough: the work happens in ffmpeg processes, and while one job is being
analysed (probe, loudness measurement) another one's encode keeps the cores busy. The
main thread only waits, in short slices, so Ctrl-C (and SIGTERM turned into it) reaches
it promptly; it then stops every running ffmpeg and waits for the tasks to clean up.
"""

from __future__ import annotations

from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from pipeline.batch.model import EventCallback, Execution, JobEvent, JobOutcome, TaskSpec, not_run
from pipeline.batch.task import forget_batch, run_task, stop_batch

WAIT_SLICE_S = 0.2


def _stop_despite_repeated_interrupts(batch_id: str) -> None:
    # A second Ctrl-C must not leave ffmpeg processes or partial files behind.
    while True:
        try:
            stop_batch(batch_id)
            return
        except KeyboardInterrupt:
            continue


def run_local(specs: list[TaskSpec], *, jobs: int, on_event: EventCallback) -> Execution:
    """Render every spec with at most `jobs` at once; returns an outcome per spec."""
    execution = Execution(outcomes={})
    if not specs:
        return execution
    batch_id = specs[0].batch_id
    pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="wayfinder-render")
    futures: dict[Future[JobOutcome], TaskSpec] = {}
    try:
        for spec in specs:
            futures[pool.submit(run_task, spec, on_event=on_event)] = spec
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=WAIT_SLICE_S, return_when=FIRST_COMPLETED)
            for future in done:
                if future.cancelled():
                    continue
                outcome = future.result()
                execution.outcomes[outcome.name] = outcome
                on_event(JobEvent(outcome.name, "finished", outcome=outcome))
                if outcome.fatal and execution.fatal is None:
                    execution.fatal = outcome
                    for queued in pending:
                        queued.cancel()  # running ones finish; queued ones never start
    except KeyboardInterrupt:
        execution.interrupted = True
        for future in futures:
            future.cancel()
        _stop_despite_repeated_interrupts(batch_id)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        forget_batch(batch_id)
    for future, spec in futures.items():
        if spec.name in execution.outcomes:
            continue
        if future.done() and not future.cancelled():
            execution.outcomes[spec.name] = future.result()
        elif execution.interrupted:
            execution.outcomes[spec.name] = not_run(spec, "batch interrupted before this job started", status="cancelled")
        else:
            stopped_by = execution.fatal.reason if execution.fatal else "the batch stopped"
            execution.outcomes[spec.name] = not_run(spec, f"not started: {stopped_by}")
    return execution
