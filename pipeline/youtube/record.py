"""The JSON record written beside each uploaded video: `<video file name>.youtube.json`
(`walkthrough.mp4.youtube.json`, named like the render report `walkthrough.mp4.wayfinder.json`).

It holds the video id and URL, the metadata exactly as sent, what happened to the
thumbnail, captions and playlist, processing status, the release and policy, and the
QA numbers of the file (the `output` measurements of the render report
`<video>.wayfinder.json` when it exists, else measured now, else null). It never holds
tokens, client secrets or the upload session URI. Written to a partial file and renamed,
so a crash never leaves half a record. An earlier upload of the same file (`--again`)
is kept as a short entry under `previous`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pipeline.errors import WayfinderError

RECORD_SUFFIX = ".youtube.json"
RECORD_VERSION = 1


def record_path(video: Path) -> Path:
    return video.with_name(video.name + RECORD_SUFFIX)


def watch_url(video_id: str) -> str:
    return f"https://www.youtube.com/watch?v={video_id}"


def studio_url(video_id: str) -> str:
    return f"https://studio.youtube.com/video/{video_id}/edit"


def render_report_candidates(video: Path) -> list[Path]:
    return [video.with_name(video.name + ".wayfinder.json"), video.with_name(video.stem + ".wayfinder.json")]


def report_loudness(report: Any, video_sha256: str) -> dict[str, Any] | None:
    """The loudness a render report measured on its encoded output, if the report is about
    exactly this file (same sha256): a report left from an earlier render does not count."""
    if not isinstance(report, dict):
        return None
    output = report.get("output")
    if not isinstance(output, dict) or output.get("sha256") != video_sha256:
        return None
    verified = report.get("measurements", {}).get("audio", {}).get("verified", {})
    loudness = verified.get("output") if isinstance(verified, dict) else None
    return loudness if isinstance(loudness, dict) else None


def read_qa_numbers(video: Path) -> dict[str, Any]:
    """Loudness of the file that ships: from its render report, else measured, else null."""
    from pipeline.audio.meter import measure_file
    from pipeline.state import sha256_of_file

    video_sha256: str | None = None
    for candidate in render_report_candidates(video):
        if candidate.is_file():
            try:
                report = json.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            video_sha256 = video_sha256 or sha256_of_file(video)
            loudness = report_loudness(report, video_sha256)
            if loudness is not None:
                return {"source": candidate.name, "loudness": loudness}
    try:
        result = measure_file(video)
        return {"source": "measured at upload", "loudness": result.to_dict()}
    except WayfinderError as exc:  # a QA number is worth having, not worth failing a finished upload for
        return {"source": None, "loudness": None, "error": exc.one_line()}


def read_record(video: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(record_path(video).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_record(video: Path, record: dict[str, Any]) -> Path:
    path = record_path(video)
    previous: list[dict[str, Any]] = []
    if path.is_file():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(old, dict) and old.get("video_id") and old.get("video_id") != record.get("video_id"):
                previous = [*old.get("previous", []),
                            {key: old.get(key) for key in ("video_id", "url", "uploaded_at")}]
            elif isinstance(old, dict):
                previous = list(old.get("previous", []))
        except (OSError, ValueError):
            pass
    data = {"wayfinder_upload_record": RECORD_VERSION, **record, "previous": previous}
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(partial, path)
    return path
