"""The plain data a batch passes between its steps: loaded jobs, decisions, task specs,
progress events and per-job outcomes.

Everything here is a frozen dataclass of picklable values, because task specs go to Dask
workers and outcomes come back from them; events are sent as plain dicts (msgpack) and
rebuilt with `JobEvent.from_dict`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from pipeline.config import Job

Action = Literal["render", "skip", "fail"]
Status = Literal["rendered", "up-to-date", "failed", "cancelled", "not-run"]
EventKind = Literal["started", "progress", "finished"]


@dataclass(frozen=True)
class BatchJob:
    """One job of a manifest: loaded, or the reason it could not be loaded."""

    name: str
    origin: str  # where it was declared, for messages: a job file, `jobs[2]`, a pattern input
    job: Job | None
    load_error: str | None = None
    variables: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FingerprintRecord:
    """What determines an output: the digest, and the part digests that explain a change."""

    digest: str
    components: dict[str, str]


@dataclass(frozen=True)
class Decision:
    """Render, skip (up to date) or fail (cannot even start), and why."""

    name: str
    action: Action
    reason: str
    fingerprint: FingerprintRecord | None = None
    duration_s: float | None = None  # media duration: the weight of the job in the ETA


@dataclass(frozen=True)
class TaskSpec:
    """Everything a local thread or a Dask worker needs to render one job."""

    batch_id: str
    name: str
    job: Job
    fingerprint: FingerprintRecord
    duration_s: float
    ffmpeg_threads: int | None  # None: the worker chooses from its own core count


@dataclass(frozen=True)
class JobOutcome:
    name: str
    status: Status
    reason: str
    output_path: str | None = None
    fingerprint: str | None = None
    duration_s: float | None = None
    wall_time_s: float | None = None
    render_report: str | None = None
    worker: str | None = None
    fatal: bool = False  # the error stops the whole batch (no ffmpeg, ...)
    exit_code: int = 0
    qa: str | None = None
    qa_reason: str | None = None  # the checks that did not pass (WARN or FAIL), and why
    queued: str | None = None  # with --queue-uploads: the queue item, or why not
    # From the render's speed record (pipeline.speed): its CPU time (its ffmpeg processes and
    # its own threads), and that over its wall time x the cores: its share of the machine.
    cpu_s: float | None = None
    machine_share: float | None = None
    encode_s: float | None = None
    outside_encode_s: float | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("fatal")
        data.pop("exit_code")
        return data


@dataclass(frozen=True)
class JobEvent:
    """Progress of one job, from the thread or worker that runs it."""

    name: str
    kind: EventKind
    out_time_s: float = 0.0
    total_s: float | None = None
    speed_x: float | None = None
    outcome: JobOutcome | None = None

    def to_dict(self) -> dict[str, Any]:
        # `finished` events are built by the client from the returned outcome, so the
        # wire form never carries one.
        return {"name": self.name, "kind": self.kind, "out_time_s": self.out_time_s,
                "total_s": self.total_s, "speed_x": self.speed_x}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "JobEvent":
        return cls(name=str(data["name"]), kind=data["kind"], out_time_s=float(data.get("out_time_s") or 0.0),
                   total_s=data.get("total_s"), speed_x=data.get("speed_x"))


EventCallback = Callable[[JobEvent], None]


def output_of(batch_job: BatchJob) -> Path | None:
    return batch_job.job.output_path if batch_job.job is not None else None


@dataclass
class Execution:
    """What an executor hands back: an outcome for every task it was given."""

    outcomes: dict[str, JobOutcome]
    interrupted: bool = False
    fatal: JobOutcome | None = None  # the first error that stopped the batch
    description: str = ""  # where and how the jobs ran, for the report


def not_run(spec: TaskSpec, reason: str, *, status: Status = "not-run") -> JobOutcome:
    return JobOutcome(name=spec.name, status=status, reason=reason, output_path=str(spec.job.output_path),
                      fingerprint=spec.fingerprint.digest, duration_s=spec.duration_s)
