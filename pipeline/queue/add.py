"""Putting a video in the queue: check everything now, store what was checked.

`add_item` is the one way in (the `queue add` command and the batch engine both call
it). It renders and validates the metadata exactly as `wayfinder upload` would, so a
problem shows up while the producer is at the machine and not at 3 a.m.; it refuses an
upload no day's quota could pay for; it hashes the video (and the caption and
thumbnail files) so the runner can tell if they changed; and it stores the snapshot.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError, UsageError
from pipeline.queue.budget import judge_budget, price
from pipeline.queue.clock import Clock, clock_from_env
from pipeline.queue.model import ACTIVE_STATES, DONE, QueueError, watch_url
from pipeline.queue.snapshot import build_snapshot
from pipeline.queue.store import NewItem, QueueStore
from pipeline.state import sha256_of_file
from pipeline.youtube.plan import JobTable, UploadOverrides, UploadPlan, build_upload_plan, read_job_file
from pipeline.youtube.quota import QuotaTable, load_quota_table

DEFAULT_QA_PRESET = "youtube"
# Planning only: the runner's chunk size does not change which calls are made.
PLANNING_CHUNK_BYTES = 8 * 1024 * 1024


def video_for_job(job: Path) -> Path:
    """The video a job file renders (its `[output] path`), which is what gets uploaded."""
    from pipeline.config import load_job

    return load_job(job).output_path


def _rfc3339(moment: datetime, what: str) -> str:
    if moment.tzinfo is None:
        raise UsageError(f"{what} needs a time zone")
    return moment.isoformat()


def _file_entry(path: Path) -> dict[str, Any]:
    resolved = path.expanduser().resolve()
    return {"path": str(resolved), "sha256": sha256_of_file(resolved), "size_bytes": resolved.stat().st_size}


def planned_calls(plan: UploadPlan, table: QuotaTable) -> list[str]:
    """Every call this upload may make (those that depend on what exists included, and the first
    processing check): the budget is an upper bound."""
    from pipeline.youtube.calls import describe_requests

    requests = describe_requests(plan, chunk_size_bytes=PLANNING_CHUNK_BYTES, cached_playlist_id=None, wait=True,
                                 table=table)
    return [str(request["method"]) for request in requests]


def add_item(
    video: Path,
    *,
    job: Path | None,
    template: str | None,
    variables: Mapping[str, str],
    not_before: datetime | None,
    publish_at: datetime | None,
    priority: int,
    skip_qa: bool,
    overrides: UploadOverrides | None = None,
    clock: Clock | None = None,
    state_dir: Path | None = None,
    table: QuotaTable | None = None,
    job_table: JobTable | None = None,
) -> int:
    """Validate the upload of `video` now, store a snapshot of its metadata, and return the item id.

    `overrides` carries the other `wayfinder upload` flags (privacy, captions, ...);
    `job_table` stands in for `job` when the `[youtube]` table has no file of its own;
    `template`, `variables` and `publish_at` here win over the same fields in it.
    Raises ConfigError (exit 3) listing every metadata problem, UsageError for bad
    arguments, QueueError if the same content is already queued or uploaded by the queue.
    """
    now = (clock or clock_from_env())()
    base = overrides or UploadOverrides()
    merged = replace(
        base,
        template=template if template is not None else base.template,
        variables={**base.variables, **variables},
        publish_at=_rfc3339(publish_at, "--publish-at") if publish_at is not None else base.publish_at,
    )
    if not_before is not None and not_before.tzinfo is None:
        raise UsageError("--not-before needs a time zone")
    plan = build_upload_plan(video, job_file=job, overrides=merged, now=now, job_table=job_table)

    scheduled = plan.body.get("status", {}).get("publishAt")
    if scheduled and not_before is not None:
        publish_moment = datetime.fromisoformat(scheduled.replace("Z", "+00:00"))
        if not_before >= publish_moment:
            raise ConfigError(
                "the upload metadata has 1 problem(s); nothing was queued",
                problems=[f"not_before: {not_before.isoformat()} is not before publish_at {scheduled}: the video "
                          "would be uploaded after it was due to go public"],
            )

    qa_preset = (merged.preset or (read_job_file(job)[1] if job is not None else None)
                 or (job_table.preset if job_table is not None else None) or DEFAULT_QA_PRESET)
    if not skip_qa:
        from pipeline.config import load_preset_settings

        load_preset_settings(qa_preset)  # a bad preset is an error now, not at upload time

    table = table or load_quota_table()
    calls = planned_calls(plan, table)
    verdict = judge_budget(price(calls, table), {}, {}, table.daily_limits)
    if verdict.kind == "never":
        raise ConfigError(f"cannot queue {video.name}: {verdict.message}")

    files = {"video": _file_entry(plan.video.path)}
    if plan.metadata.captions is not None:
        files["captions"] = _file_entry(Path(plan.metadata.captions))
    if plan.metadata.thumbnail not in (None, "auto"):
        files["thumbnail"] = _file_entry(Path(str(plan.metadata.thumbnail)))
    video_entry = files["video"]

    with QueueStore.open(state_dir) as store:
        existing = store.item_with_content(video_entry["sha256"], ACTIVE_STATES | {DONE})
        if existing is not None:
            if existing.state == DONE and existing.video_id:
                raise QueueError(f"{video.name} was already uploaded by queue item {existing.id} as "
                                 f"{watch_url(existing.video_id)}; to upload it again use `wayfinder upload --again`")
            raise QueueError(f"{video.name} (the same content) is already queued as item {existing.id} "
                             f"({existing.state}); cancel that item first to queue it again")
        return store.add(NewItem(
            video_path=os.fspath(video_entry["path"]),
            title=plan.metadata.title,
            file_sha256=video_entry["sha256"],
            file_size_bytes=int(video_entry["size_bytes"]),
            priority=priority,
            not_before=not_before,
            publish_at=scheduled,
            skip_qa=skip_qa,
            qa_preset=qa_preset,
            snapshot=build_snapshot(plan, files),
            planned_calls=calls,
        ), now)
