"""Deciding, per job, whether to render it, skip it as up to date, or fail it at once.

A job fails here when it could not be loaded or its input cannot be used (missing, not
media, truncated): the probe that tells the media duration for the ETA finds that out in
milliseconds, so a broken file does not take a render slot. Skipped jobs are not probed.
Hashing and probing run on a few threads: hashing a large library is I/O bound. A job
that drafts captions is up to date only with its draft files beside the output.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from pipeline.batch.filehash import FileHasher
from pipeline.batch.fingerprint import build_fingerprint, check_up_to_date, read_record
from pipeline.batch.model import BatchJob, Decision
from pipeline.captions.render_draft import draft_files_for
from pipeline.errors import WayfinderError
from pipeline.probe import probe


def decide_job(item: BatchJob, hasher: FileHasher, *, force: bool) -> Decision:
    if item.job is None:
        return Decision(item.name, "fail", item.load_error or "could not be loaded")
    job = item.job
    try:
        fingerprint = build_fingerprint(job, hasher.digest)
    except WayfinderError as error:
        return Decision(item.name, "fail", error.one_line())
    stale_reason = check_up_to_date(job.output_path, fingerprint)
    if stale_reason is None and job.captions.draft:
        # The draft is made with the output (from its sound): an output without its
        # draft is not finished, and the render that made it makes the draft again.
        missing = [path.name for path in draft_files_for(job) if not path.exists()]
        if missing:
            stale_reason = f"caption draft missing ({', '.join(missing)})"
    if stale_reason is None and not force:
        record = read_record(job.output_path) or {}
        duration = record.get("duration_s")
        return Decision(item.name, "skip", "up to date", fingerprint,
                        float(duration) if isinstance(duration, (int, float)) else None)
    try:
        # The ETA's length: the takes' sources in full (trims make it an upper bound).
        duration_s = sum(probe(path).duration_s for path in ([t.source for t in job.takes] or [job.main_path]))
    except WayfinderError as error:
        return Decision(item.name, "fail", error.one_line(), fingerprint)
    reason = "--force" if stale_reason is None else stale_reason
    return Decision(item.name, "render", reason, fingerprint, duration_s)


def decide_all(items: list[BatchJob], hasher: FileHasher, *, force: bool, threads: int) -> list[Decision]:
    """Decisions in the order of `items`."""
    if not items:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(threads, len(items))), thread_name_prefix="wayfinder-decide") as pool:
        decisions = list(pool.map(lambda item: decide_job(item, hasher, force=force), items))
    hasher.save()
    return decisions
