"""Finding the video of an upload whose last reply was lost after its session was forgotten.

Every byte of a file was sent, but the reply to the last chunk never arrived (a dropped
connection, a killed process, retries run out), and the resumable session is then gone
(404 or 410 on the status query). The video may exist or not; a new session would make
a second one if it does. So before sending the file again, look for it:

1. `channels.list(mine, part=contentDetails)`: the channel's uploads playlist;
2. `playlistItems.list` on it (newest first, one page of 50): items with exactly the title
   that was sent, added no earlier than the session began (less `CLOCK_SKEW_S`, since the
   two clocks are not the same clock);
3. `videos.list(part=snippet,status,processingDetails,fileDetails)` for those: a candidate
   whose file size YouTube reports and which differs from this file's is not it.

Exactly one candidate: that video is the upload's result (adopted). None, several, or a
lookup that fails: `UploadUnconfirmedError`, naming the file and the likely video, and
nothing is uploaded again; the producer decides (`--adopt VIDEO_ID` or `--again`).
Costs 3 quota units.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from pipeline.errors import EXIT_FAILED, CredentialsError, QuotaError, WayfinderError
from pipeline.youtube.client import YouTubeClient
from pipeline.youtube.errors import TransientError
from pipeline.youtube.retry import RetryPolicy, call_with_retries

CLOCK_SKEW_S = 300.0  # our clock against YouTube's: a candidate may look up to this much older
VIDEO_PARTS = "snippet,status,processingDetails,fileDetails"
RESOLVE_HINT = ("check the channel in YouTube Studio, then run the same command with --adopt VIDEO_ID if that video "
                "is this file, or with --again to upload it anew")


class UploadUnconfirmedError(WayfinderError):
    """Every byte was sent, the reply and the session were lost, and which video (if any) the
    upload made cannot be told: nothing is uploaded again until the producer says (exit 1)."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, *, likely_video_id: str | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.likely_video_id = likely_video_id


@dataclass(frozen=True)
class LostUpload:
    """What is known of the upload whose reply was lost."""

    file_name: str
    title: str  # as sent in videos.insert
    size_bytes: int
    session_started_at: datetime  # aware, UTC


def parse_google_time(text: str | None) -> datetime | None:
    """An RFC 3339 time as Google writes it (`2025-06-02T15:04:05.000Z`), or None."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def pick_candidates(items: list[dict[str, Any]], lost: LostUpload) -> list[str]:
    """Video ids of uploads-playlist items titled as sent and added since the session began."""
    earliest = lost.session_started_at - timedelta(seconds=CLOCK_SKEW_S)
    found: list[str] = []
    for item in items:
        snippet = item.get("snippet") or {}
        details = item.get("contentDetails") or {}
        video_id = details.get("videoId") or (snippet.get("resourceId") or {}).get("videoId")
        added = parse_google_time(snippet.get("publishedAt")) or parse_google_time(details.get("videoPublishedAt"))
        if video_id and snippet.get("title") == lost.title and added is not None and added >= earliest:
            found.append(str(video_id))
    return found


def same_size(video: dict[str, Any], size_bytes: int) -> bool:
    """False only when YouTube reports a file size and it is not this file's (fileDetails can lag)."""
    reported = (video.get("fileDetails") or {}).get("fileSize")
    try:
        return reported is None or int(reported) == size_bytes
    except (TypeError, ValueError):
        return True


def find_uploaded_video(
    client: YouTubeClient,
    lost: LostUpload,
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], None],
    on_retry: Callable[[TransientError, int, float], None] | None = None,
) -> dict[str, Any]:
    """The video resource the lost upload made, or UploadUnconfirmedError."""
    started = lost.session_started_at.astimezone(timezone.utc).isoformat(timespec="seconds")
    head = (f"{lost.file_name}: every byte was sent, but YouTube's reply was lost and the upload session is gone "
            f"(session began {started})")
    try:
        playlist_id = call_with_retries(client.uploads_playlist_id, policy, sleep=sleep, on_retry=on_retry)
        items = call_with_retries(lambda: client.recent_uploads(playlist_id), policy, sleep=sleep,
                                  on_retry=on_retry)
        candidates = pick_candidates(items, lost)
        videos = (call_with_retries(lambda: client.list_videos(candidates, VIDEO_PARTS), policy, sleep=sleep,
                                    on_retry=on_retry) if candidates else [])
    except (QuotaError, CredentialsError):
        raise  # these stop everything anyway; the session record stays for the next run
    except WayfinderError as error:
        raise UploadUnconfirmedError(
            f"{head}; looking for the video failed ({error.one_line()}); nothing was uploaded again: "
            f"{RESOLVE_HINT}") from None
    matching = [video for video in videos if same_size(video, lost.size_bytes)]
    if len(matching) == 1:
        return matching[0]
    title = lost.title if len(lost.title) <= 60 else lost.title[:57] + "..."
    if not matching:
        seen = (f"the video(s) titled {title!r} uploaded since then ({', '.join(candidates)}) are not this file's "
                "size" if candidates else f"no video titled {title!r} uploaded since then is on the channel (yet)")
        raise UploadUnconfirmedError(f"{head}; {seen}; nothing was uploaded again: {RESOLVE_HINT}")
    ids = [str(video["id"]) for video in matching]
    raise UploadUnconfirmedError(
        f"{head}; {len(ids)} videos titled {title!r} were uploaded since then ({', '.join(ids)}; the likely one is "
        f"{ids[0]}, the newest); nothing was uploaded again: {RESOLVE_HINT}", likely_video_id=ids[0])
