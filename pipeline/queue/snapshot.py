"""The metadata snapshot a queued item carries: the checked upload plan as JSON, and back.

`queue add` renders templates and checks everything when the producer is at the
machine; the runner, days later at 3 a.m., uploads exactly what was checked. So the
snapshot holds the rendered `videos.insert` body verbatim (its hash keys the resumable
session, so every run resumes the same one), the resolved metadata (captions,
thumbnail, playlist, release), the publishing policy, the video's facts, and the hash of
every file the upload will read, for the file-changed check. Paths are absolute: the
runner's working folder is not the producer's.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError
from pipeline.youtube.metadata import Chapter, Release, VideoMetadata
from pipeline.youtube.plan import UploadPlan
from pipeline.youtube.policy import PublishPolicy
from pipeline.youtube.video_facts import VideoFacts

SNAPSHOT_FORMAT = 1


def _absolute(path: Path | None) -> str | None:
    return str(path.expanduser().resolve()) if path is not None else None


def build_snapshot(plan: UploadPlan, file_hashes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """JSON-ready snapshot of a checked plan. `file_hashes`: role -> {path, sha256, size_bytes}."""
    meta = plan.metadata
    fields: dict[str, Any] = {f.name: getattr(meta, f.name) for f in dataclasses.fields(meta)}
    fields["chapters"] = [chapter.model_dump() for chapter in meta.chapters]
    fields["release"] = meta.release.model_dump() if meta.release is not None else None
    fields["captions"] = _absolute(Path(meta.captions)) if meta.captions is not None else None
    if meta.thumbnail is None or meta.thumbnail == "auto":
        fields["thumbnail"] = meta.thumbnail
    else:
        fields["thumbnail"] = {"path": _absolute(Path(meta.thumbnail))}
    # What was checked and will be sent: the body's normalized RFC 3339 time (or nothing).
    fields["publish_at"] = plan.body.get("status", {}).get("publishAt")
    for key, value in fields.items():
        if isinstance(value, (datetime, date)):
            fields[key] = value.isoformat()
    return {
        "format": SNAPSHOT_FORMAT,
        "video": {"path": _absolute(plan.video.path), "size_bytes": plan.video.size_bytes,
                  "duration_s": plan.video.duration_s, "mimetype": plan.video.mimetype},
        "part": plan.part,
        "body": plan.body,
        "metadata": fields,
        "policy": dataclasses.asdict(plan.policy),
        "job_file": _absolute(plan.job_file),
        "template_file": _absolute(plan.template_file),
        "files": file_hashes,
    }


def restore_plan(snapshot: dict[str, Any]) -> UploadPlan:
    """The UploadPlan a snapshot was made from (same body, same metadata hash)."""
    if snapshot.get("format") != SNAPSHOT_FORMAT:
        raise ConfigError(f"this queue item was stored by another Wayfinder version (snapshot format "
                          f"{snapshot.get('format')!r}); cancel it and add it again")
    fields = dict(snapshot["metadata"])
    fields["chapters"] = [Chapter(**chapter) for chapter in fields.get("chapters", [])]
    fields["release"] = Release(**fields["release"]) if fields.get("release") else None
    fields["captions"] = Path(fields["captions"]) if fields.get("captions") else None
    thumbnail = fields.get("thumbnail")
    fields["thumbnail"] = Path(thumbnail["path"]) if isinstance(thumbnail, dict) else thumbnail
    video = snapshot["video"]
    return UploadPlan(
        video=VideoFacts(path=Path(video["path"]), size_bytes=int(video["size_bytes"]),
                         duration_s=video["duration_s"], mimetype=str(video["mimetype"])),
        metadata=VideoMetadata(**fields),
        body=snapshot["body"],
        part=str(snapshot["part"]),
        policy=PublishPolicy(**snapshot["policy"]),
        job_file=Path(snapshot["job_file"]) if snapshot.get("job_file") else None,
        template_file=Path(snapshot["template_file"]) if snapshot.get("template_file") else None,
    )
