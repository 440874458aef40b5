"""`batch --queue-uploads`: outputs that passed QA go into the upload queue with their
metadata (the job file's `[youtube]` table, or the manifest's for inline and pattern
jobs, with the CSV row's variables). The queue validates the metadata now and checks the
file again when it uploads."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from pipeline.batch.model import BatchJob, JobOutcome
from pipeline.errors import WayfinderError

QUEUEABLE_QA = ("pass", "warn")  # a WARN is a pass with something worth a look


def describe(error: WayfinderError) -> str:
    """The error's line with every problem it lists (`title: must not be empty`), so the
    report says what to fix, not only how many problems there were."""
    from pipeline.errors import ConfigError

    problems = error.problems if isinstance(error, ConfigError) else []
    return "; ".join([error.one_line(), *(" ".join(p.split()) for p in problems)])


def queue_outputs(outcomes: list[JobOutcome], jobs: dict[str, BatchJob], manifest_path: Path) -> list[JobOutcome]:
    """Each outcome with `queued` set: the queue item, or why it was not queued."""
    from pipeline.queue import add_item
    from pipeline.queue.model import QueueError
    from pipeline.youtube.plan import JobTable

    done = []
    for outcome in outcomes:
        job = jobs[outcome.name].job if outcome.name in jobs else None
        if outcome.status not in ("rendered", "up-to-date") or not outcome.output_path or job is None:
            done.append(outcome)
            continue
        if outcome.qa not in QUEUEABLE_QA:
            done.append(replace(outcome, queued=f"not queued: QA {outcome.qa or 'not run'}"))
            continue
        from_job_file = job.source is not None and job.source.resolve() != manifest_path.resolve()
        if not from_job_file and not job.youtube:
            done.append(replace(outcome, queued="not queued: the job has no [youtube] table"))
            continue
        try:
            item_id = add_item(
                Path(outcome.output_path),
                job=job.source if from_job_file else None,
                job_table=None if from_job_file else JobTable(
                    job.youtube or {}, manifest_path.resolve().parent, job.preset_name, manifest_path
                ),
                template=None,
                variables=jobs[outcome.name].variables,
                not_before=None,
                publish_at=None,
                priority=0,
                skip_qa=False,
            )
            done.append(replace(outcome, queued=f"queued as item {item_id}"))
        except QueueError as error:  # already queued or uploaded: nothing to do
            done.append(replace(outcome, queued=f"not queued: {error.one_line()}"))
        except WayfinderError as error:
            done.append(replace(outcome, queued=f"queue error: {describe(error)}"))
    return done
