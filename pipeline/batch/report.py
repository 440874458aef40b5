"""`batch-report.json`: what a batch did with every job, written atomically beside the
manifest (or in the manifest's `report_dir`), also when the batch was interrupted.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline import __version__
from pipeline.batch.model import JobOutcome

REPORT_NAME = "batch-report.json"
REPORT_FORMAT = 1


@dataclass
class BatchSummary:
    manifest: Path
    executor: str
    started_at: str
    finished_at: str
    wall_time_s: float
    outcomes: list[JobOutcome]
    variables: dict[str, dict[str, str]] = field(default_factory=dict)
    qa_html: list[Path] = field(default_factory=list)
    interrupted: bool = False

    def counts(self) -> dict[str, int]:
        return dict(Counter(outcome.status for outcome in self.outcomes))


def batch_machine_share(summary: BatchSummary, cores: int | None = None) -> float | None:
    """The rendered jobs' CPU time over the batch's wall time x the cores (None when no
    job has a CPU time: nothing rendered, or no /proc; or the jobs ran on a cluster)."""
    if summary.executor.startswith("dask"):
        return None  # the jobs ran on the workers' cores, not this machine's
    cpu = [o.cpu_s for o in summary.outcomes if o.cpu_s is not None]
    if not cpu or summary.wall_time_s <= 0:
        return None
    return round(sum(cpu) / (summary.wall_time_s * (cores or os.cpu_count() or 1)), 3)


def build_report(summary: BatchSummary) -> dict[str, Any]:
    jobs = []
    for outcome in summary.outcomes:
        entry = outcome.to_dict()
        entry["variables"] = summary.variables.get(outcome.name, {})
        jobs.append(entry)
    return {
        "format": REPORT_FORMAT,
        "wayfinder_version": __version__,
        "manifest": str(summary.manifest),
        "executor": summary.executor,
        "started_at": summary.started_at,
        "finished_at": summary.finished_at,
        "wall_time_s": round(summary.wall_time_s, 3),
        "cores": os.cpu_count() or 1,
        "machine_share": batch_machine_share(summary),
        "interrupted": summary.interrupted,
        "counts": summary.counts(),
        "qa_html": [str(path) for path in summary.qa_html],
        "jobs": jobs,
    }


def write_report(summary: BatchSummary, report_dir: Path) -> Path:
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / REPORT_NAME
    temporary = path.with_name(f".{path.name}.partial")
    temporary.write_text(json.dumps(build_report(summary), indent=2), encoding="utf-8")
    os.replace(temporary, path)
    return path
