"""Execution on an existing Dask distributed scheduler (`--cluster tcp://HOST:8786`).

Dask is an optional extra (`wayfinder[cluster]`) and is imported only here, only when a
cluster is asked for. Before submitting, every worker is asked for its Wayfinder version
and core count: a worker without Wayfinder, or with another version (whose outputs would
not match their fingerprints), stops the batch with a clear error. Each worker renders
with ffmpeg threads = its machine's cores / the task threads of all workers on that
machine. Progress comes back as Dask events on a per-batch topic, results as futures,
so the client sees the same events and outcomes as with local execution.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from dataclasses import replace
from typing import Any

from pipeline import __version__
from pipeline.batch.model import EventCallback, Execution, JobEvent, JobOutcome, TaskSpec, not_run
from pipeline.batch.task import run_task, stop_batch
from pipeline.errors import ToolError

CONNECT_TIMEOUT_S = 10.0
WORKERS_TIMEOUT_S = 30.0
POLL_S = 0.2


def import_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise ToolError(
            "--cluster needs Dask distributed, which is not installed: pip install 'wayfinder[cluster]'"
        ) from None
    return distributed


def describe_worker() -> dict[str, Any]:
    """Runs on each worker: what the client needs to trust and size it."""
    return {"wayfinder": __version__, "cores": os.cpu_count() or 1}


def _host_of(address: str) -> str:
    return address.split("://", 1)[-1].rsplit(":", 1)[0]


def plan_worker_threads(workers: dict[str, dict[str, Any]], descriptions: dict[str, Any]) -> dict[str, int]:
    """ffmpeg threads per machine: its cores shared by every task thread running on it."""
    task_threads: dict[str, int] = {}
    cores: dict[str, int] = {}
    for address, info in workers.items():
        host = _host_of(address)
        task_threads[host] = task_threads.get(host, 0) + int(info.get("nthreads") or 1)
        description = descriptions.get(address)
        if isinstance(description, dict):
            cores[host] = int(description.get("cores") or 1)
    return {host: max(1, cores.get(host, 1) // max(1, count)) for host, count in task_threads.items()}


def check_workers(descriptions: dict[str, Any]) -> None:
    problems = []
    for address, description in sorted(descriptions.items()):
        if not isinstance(description, dict):
            problems.append(f"{address}: cannot run Wayfinder ({description!r})")
        elif description.get("wayfinder") != __version__:
            problems.append(f"{address}: Wayfinder {description.get('wayfinder')}, this client {__version__}")
    if problems:
        raise ToolError(
            "every worker needs the same Wayfinder version as this client: " + "; ".join(problems)
        )


def run_on_worker(spec: TaskSpec, topic: str, threads_by_host: dict[str, int]) -> JobOutcome:
    """The Dask task: runs on a worker, reports progress as events on `topic`."""
    from distributed import get_worker

    worker = get_worker()
    threads = spec.ffmpeg_threads or threads_by_host.get(_host_of(worker.address))

    def emit(event: JobEvent) -> None:
        worker.log_event(topic, event.to_dict())

    return run_task(replace(spec, ffmpeg_threads=threads), on_event=emit, where=worker.address)


async def stop_batch_on_worker(batch_id: str) -> int:
    """Runs on each worker on Ctrl-C: stop this batch's renders without blocking the worker."""
    return await asyncio.get_running_loop().run_in_executor(None, stop_batch, batch_id)


def connect(address: str) -> Any:
    distributed = import_distributed()
    try:
        client = distributed.Client(address, timeout=f"{CONNECT_TIMEOUT_S}s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ToolError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    try:
        client.wait_for_workers(1, timeout=WORKERS_TIMEOUT_S)
    except (TimeoutError, OSError):
        client.close()
        raise ToolError(f"no Dask worker joined the scheduler at {address} within {WORKERS_TIMEOUT_S:.0f} s") from None
    return client


def _outcome_of(future: Any, spec: TaskSpec) -> JobOutcome:
    if future.status == "finished":
        return future.result()
    if future.status == "cancelled":
        return not_run(spec, "cancelled on the cluster")
    error = future.exception()
    # A worker that cannot unpickle the task lacks Wayfinder; KilledWorker means it died.
    return replace(not_run(spec, f"worker error: {type(error).__name__}: {error}"), status="failed", exit_code=1)


def run_on_cluster(specs: list[TaskSpec], *, address: str, on_event: EventCallback) -> Execution:
    execution = Execution(outcomes={})
    if not specs:
        return execution  # everything up to date: no need to reach the cluster
    client = connect(address)
    try:
        descriptions = client.run(describe_worker, on_error="return")
        check_workers(descriptions)
        workers = client.scheduler_info()["workers"]
        threads_by_host = plan_worker_threads(workers, descriptions)
        task_threads = sum(int(info.get("nthreads") or 1) for info in workers.values())
        per_host = ", ".join(f"{host}: {n}" for host, n in sorted(threads_by_host.items()))
        execution.description = (f"dask {address}, {len(workers)} workers, {task_threads} at a time, "
                                 f"ffmpeg threads per job by host: {per_host}")
        batch_id = specs[0].batch_id
        topic = f"wayfinder-batch-{batch_id}"
        client.subscribe_topic(topic, lambda event: on_event(JobEvent.from_dict(event[1])))
        futures = {
            client.submit(run_on_worker, spec, topic, threads_by_host, pure=False,
                          key=f"wayfinder-{spec.name}-{uuid.uuid4().hex[:8]}"): spec
            for spec in specs
        }
        pending = dict(futures)
        try:
            while pending:
                for future in [f for f in pending if f.done()]:
                    spec = pending.pop(future)
                    outcome = _outcome_of(future, spec)
                    execution.outcomes[spec.name] = outcome
                    on_event(JobEvent(spec.name, "finished", outcome=outcome))
                    if outcome.fatal and execution.fatal is None:
                        execution.fatal = outcome
                        client.cancel(list(pending))
                time.sleep(POLL_S)
        except KeyboardInterrupt:
            execution.interrupted = True
            for future in [f for f in pending if f.status == "finished"]:
                execution.outcomes[pending[future].name] = future.result()
            _stop_everywhere(client, list(futures), batch_id)
        finally:
            client.unsubscribe_topic(topic)
        for future, spec in futures.items():
            if spec.name not in execution.outcomes:
                reason = "batch interrupted" if execution.interrupted else "not started: the batch stopped"
                execution.outcomes[spec.name] = not_run(spec, reason, status="cancelled" if execution.interrupted else "not-run")
        return execution
    finally:
        client.close()


def _stop_everywhere(client: Any, futures: list[Any], batch_id: str) -> None:
    # A second Ctrl-C must not skip stopping the workers' ffmpeg processes.
    while True:
        try:
            client.cancel(futures)
            client.run(stop_batch_on_worker, batch_id, on_error="ignore")
            return
        except KeyboardInterrupt:
            continue
