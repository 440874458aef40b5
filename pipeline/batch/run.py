"""A whole batch: load the manifest, decide what to render, render it locally or on a
Dask cluster, run QA, and write `batch-report.json`.

Per-job failures are recorded and the batch goes on. A fatal error (no ffmpeg) stops
it: queued jobs are not started, and the error is raised after the report is written.
An interrupt stops every running ffmpeg (their partial files are removed), writes the
report, and raises Cancelled (exit 130); outputs finished before it are up to date, so
running the same command again continues where it stopped.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from pipeline.batch.decide import decide_all
from pipeline.batch.filehash import FileHasher, default_cache_path
from pipeline.batch.manifest import BatchManifest, load_manifest, select_jobs
from pipeline.batch.model import Decision, EventCallback, Execution, JobOutcome, TaskSpec
from pipeline.batch.report import BatchSummary, write_report
from pipeline.batch.task import default_ffmpeg_threads
from pipeline.errors import Cancelled, WayfinderError
from pipeline.render import report_path_for


class BatchStopped(WayfinderError):
    """A fatal error in one job stopped the batch (for example: no ffmpeg)."""

    fatal = True

    def __init__(self, message: str, *, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class BatchOptions:
    jobs: int | None = None  # local renders at once; None: from the core count
    cluster: str | None = None  # a Dask scheduler address; None: local
    force: bool = False
    only: tuple[str, ...] = ()
    qa: bool = False
    dry_run: bool = False
    queue_uploads: bool = False  # needs qa: only outputs that pass QA are queued


@dataclass
class BatchRun:
    manifest: BatchManifest
    decisions: list[Decision]
    summary: BatchSummary | None = None  # None for a dry run
    report_path: Path | None = None

    @property
    def failed(self) -> bool:
        if self.summary is None:
            return any(d.action == "fail" for d in self.decisions)
        return any(
            o.status == "failed" or o.qa == "fail" or (o.queued or "").startswith("queue error")
            for o in self.summary.outcomes
        )


def default_jobs(cores: int | None = None) -> int:
    """Renders at once: half the cores (x264 uses two threads well at these sizes), and at
    least two on a multi-core machine so one job's analysis overlaps another's encode."""
    cores = cores or os.cpu_count() or 1
    return 1 if cores < 2 else max(2, cores // 2)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _outcome_without_render(decision: Decision, output: Path | None) -> JobOutcome:
    output_text = str(output) if output else None
    fingerprint = decision.fingerprint.digest if decision.fingerprint else None
    if decision.action == "skip":
        assert output is not None
        report = report_path_for(output)
        return JobOutcome(decision.name, "up-to-date", decision.reason, output_text, fingerprint,
                          decision.duration_s, None, str(report) if report.exists() else None)
    return JobOutcome(decision.name, "failed", decision.reason, output_text, fingerprint, decision.duration_s,
                      exit_code=1)


def _execute(specs: list[TaskSpec], options: BatchOptions, jobs: int, on_event: EventCallback) -> Execution:
    if options.cluster:
        from pipeline.batch.cluster import run_on_cluster

        return run_on_cluster(specs, address=options.cluster, on_event=on_event)
    from pipeline.batch.local import run_local

    return run_local(specs, jobs=jobs, on_event=on_event)


def run_batch(
    manifest_path: Path,
    options: BatchOptions = BatchOptions(),
    *,
    on_event: EventCallback | None = None,
    on_decided: Callable[[BatchManifest, list[Decision]], None] | None = None,
) -> BatchRun:
    """Run (or with `dry_run`, only decide) a batch. See the module docstring for errors."""
    manifest = load_manifest(manifest_path)
    selected = select_jobs(manifest.jobs, list(options.only))
    if options.qa:
        from pipeline.batch.qa import require_qa

        require_qa()
    if options.cluster:
        from pipeline.batch.cluster import import_distributed

        import_distributed()  # fail before hashing a whole library
    drafting = [item.job for item in selected if item.job is not None and item.job.captions.draft]
    if drafting and not options.cluster:  # a cluster's workers have their own model folders
        from pipeline.captions.render_draft import check_draft_ready

        check_draft_ready(drafting[0], force=True)  # no recognizer or model: stop before any render (exit 4)
    jobs = options.jobs or default_jobs()
    hasher = FileHasher(default_cache_path())
    decisions = decide_all(selected, hasher, force=options.force, threads=jobs)
    if on_decided is not None:
        on_decided(manifest, decisions)
    run = BatchRun(manifest=manifest, decisions=decisions)
    if options.dry_run:
        return run

    started_at, started = _now(), time.monotonic()
    batch_id = uuid.uuid4().hex
    by_name = {item.name: item for item in selected}
    to_render = [d for d in decisions if d.action == "render"]
    threads = None if options.cluster else default_ffmpeg_threads(min(jobs, max(1, len(to_render))))
    specs = []
    for decision in to_render:
        job = by_name[decision.name].job
        assert job is not None and decision.fingerprint is not None
        specs.append(TaskSpec(batch_id, decision.name, job, decision.fingerprint, decision.duration_s or 0.0, threads))
    execution = _execute(specs, options, jobs, on_event or (lambda _event: None))
    executor = execution.description or (
        f"dask {options.cluster}" if options.cluster
        else f"local, {jobs} at a time, {threads} ffmpeg thread{'s' if threads != 1 else ''} each")

    outcomes: list[JobOutcome] = []
    for decision in decisions:
        if decision.action == "render":
            outcomes.append(execution.outcomes[decision.name])
        else:
            item = by_name[decision.name]
            outcomes.append(_outcome_without_render(decision, item.job.output_path if item.job else None))

    qa_html: list[Path] = []
    qa_error: WayfinderError | None = None
    if options.qa and not execution.interrupted and execution.fatal is None:
        from pipeline.batch.qa import run_batch_qa

        checkable = [(o.name, Path(o.output_path), by_name[o.name].job.preset_name)  # type: ignore[union-attr]
                     for o in outcomes if o.status in ("rendered", "up-to-date") and o.output_path]
        try:
            if checkable:  # every job failed: nothing to check, and QA refuses an empty list
                qa = run_batch_qa(checkable, jobs=options.jobs, report_dir=manifest.report_dir)
                outcomes = [replace(o, qa=qa.verdicts.get(o.name), qa_reason=qa.reasons.get(o.name))
                            for o in outcomes]
                qa_html = qa.html_paths
        except WayfinderError as error:
            qa_error = error

    if options.queue_uploads and options.qa and qa_error is None and not execution.interrupted and execution.fatal is None:
        from pipeline.batch.queueing import queue_outputs

        outcomes = queue_outputs(outcomes, by_name, manifest.path)

    run.summary = BatchSummary(
        manifest=manifest.path.resolve(), executor=executor, started_at=started_at, finished_at=_now(),
        wall_time_s=time.monotonic() - started, outcomes=outcomes,
        variables={item.name: item.variables for item in selected if item.variables},
        qa_html=qa_html, interrupted=execution.interrupted,
    )
    run.report_path = write_report(run.summary, manifest.report_dir)
    if execution.interrupted:
        stopped = sum(1 for o in outcomes if o.status == "cancelled")
        raise Cancelled(
            f"batch interrupted: {stopped} job{'s' if stopped != 1 else ''} stopped, partial files removed; "
            "run the same command again to continue",
            file=manifest.path,
        )
    if execution.fatal is not None:
        raise BatchStopped(f"batch stopped: {execution.fatal.reason}", exit_code=execution.fatal.exit_code or 1)
    if qa_error is not None:
        raise qa_error
    return run
