"""The few facts about the video file the publishing step needs: size and duration.

The file is probed first with the same checks a render applies to its inputs
(`pipeline.probe`: not media, corrupt or truncated, too short), and it must have a
picture: a file YouTube would reject or fail to process is refused here, before any
quota is spent or anything is queued (InputError naming the file, exit 3).
Duration comes from PyAV (no ffprobe binary).
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from pathlib import Path

MAX_VIDEO_BYTES = 256 * 1024**3  # YouTube's upload limit: 256 GB
MAX_VIDEO_DURATION_S = 12 * 3600  # and 12 hours


@dataclass(frozen=True)
class VideoFacts:
    path: Path
    size_bytes: int
    duration_s: float | None
    mimetype: str


def check_uploadable(path: Path) -> None:
    """Raise InputError if `path` is not a video a render would accept as input."""
    from pipeline.errors import InputError
    from pipeline.probe import probe

    if probe(path).video is None:
        raise InputError("no video stream: YouTube needs a picture (this is audio only)", file=path)


def read_video_facts(path: Path) -> VideoFacts:
    check_uploadable(path)
    size_bytes = path.stat().st_size
    mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if not mimetype.startswith("video/"):
        mimetype = "application/octet-stream"
    return VideoFacts(path=path, size_bytes=size_bytes, duration_s=probe_duration_s(path), mimetype=mimetype)


def probe_duration_s(path: Path) -> float | None:
    """Duration of the video stream (else the container), or None if PyAV cannot read it."""
    try:
        import av

        with av.open(str(path)) as container:
            for stream in container.streams.video:
                if stream.duration is not None and stream.time_base is not None:
                    return float(stream.duration * stream.time_base)
            if container.duration is not None:
                return container.duration / 1_000_000
    except Exception:  # av raises many kinds (InvalidDataError, OSError...) for non-media
        return None
    return None
