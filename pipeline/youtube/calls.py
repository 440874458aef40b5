"""The API requests an upload plan will make, described exactly, with their quota cost.

`--dry-run` prints this list (request bodies as they would be sent, not paraphrased),
and the uploader uses the same list to warn before spending quota a day does not have
left. Requests that depend on the outcome of earlier ones say so in `when`.
"""

from __future__ import annotations

from typing import Any

from pipeline.youtube.plan import UploadPlan
from pipeline.youtube.quota import QuotaTable, format_reset

NEW_VIDEO_ID = "<id of the new video>"
NEW_PLAYLIST_ID = "<id of the playlist>"


def describe_requests(
    plan: UploadPlan,
    *,
    chunk_size_bytes: int,
    cached_playlist_id: str | None,
    wait: bool,
    table: QuotaTable,
) -> list[dict[str, Any]]:
    meta = plan.metadata
    insert_params: dict[str, Any] = {"part": plan.part, "uploadType": "resumable"}
    if meta.notify_subscribers is not None:
        insert_params["notifySubscribers"] = meta.notify_subscribers
    requests: list[dict[str, Any]] = [
        {"method": "channels.list", "http": "GET /youtube/v3/channels",
         "params": {"part": "snippet", "mine": True},
         "why": "the channel id keys the duplicate ledger"},
        {"method": "videos.insert", "http": "POST /upload/youtube/v3/videos",
         "params": insert_params, "body": plan.body,
         "media": {"file": str(plan.video.path), "size_bytes": plan.video.size_bytes,
                   "mimetype": plan.video.mimetype, "chunk_size_bytes": chunk_size_bytes}},
    ]
    if meta.thumbnail is not None:
        source = "auto: a sharp, well-exposed frame from the middle, 1280x720 JPEG" + (
            ", title drawn on it" if meta.thumbnail_title else "") if meta.thumbnail == "auto" else str(meta.thumbnail)
        requests.append({"method": "thumbnails.set", "http": "POST /upload/youtube/v3/thumbnails/set",
                         "params": {"videoId": NEW_VIDEO_ID, "uploadType": "media"}, "media": {"file": source}})
    if meta.captions is not None:
        requests.append({"method": "captions.insert", "http": "POST /upload/youtube/v3/captions",
                         "params": {"part": "snippet", "uploadType": "multipart"},
                         "body": plan.captions_body(NEW_VIDEO_ID), "media": {"file": str(meta.captions)}})
    if meta.playlist:
        playlist_id = cached_playlist_id or NEW_PLAYLIST_ID
        if cached_playlist_id is None:
            requests.append({"method": "playlists.list", "http": "GET /youtube/v3/playlists",
                             "params": {"part": "snippet", "mine": True, "maxResults": 50},
                             "when": f"the id of playlist {meta.playlist!r} is not cached (one call per 50 playlists)"})
            requests.append({"method": "playlists.insert", "http": "POST /youtube/v3/playlists",
                             "params": {"part": "snippet,status"},
                             "body": {"snippet": {"title": meta.playlist},
                                      "status": {"privacyStatus": plan.playlist_privacy}},
                             "when": f"no playlist named {meta.playlist!r} exists"})
        requests.append({"method": "playlistItems.insert", "http": "POST /youtube/v3/playlistItems",
                         "params": {"part": "snippet"},
                         "body": {"snippet": {"playlistId": playlist_id,
                                              "resourceId": {"kind": "youtube#video", "videoId": NEW_VIDEO_ID}}}})
    if wait:
        requests.append({"method": "videos.list", "http": "GET /youtube/v3/videos",
                         "params": {"part": "status,processingDetails", "id": NEW_VIDEO_ID},
                         "when": "--wait: once per poll until processing ends"})
    for request in requests:
        bucket, cost = table.cost(request["method"])
        request["quota"] = {"bucket": bucket, "cost": cost}
    return requests


def quota_summary(requests: list[dict[str, Any]], table: QuotaTable) -> dict[str, Any]:
    """Cost of the certain requests, and the most the conditional ones can add."""
    certain = table.total(r["method"] for r in requests if "when" not in r)
    at_most = table.total(r["method"] for r in requests)
    return {
        "cost": certain,
        "cost_at_most": at_most,
        "daily_limits": dict(table.daily_limits),
        "resets": f"midnight America/Los_Angeles ({format_reset()})",
    }


def build_dry_run(plan: UploadPlan, *, chunk_size_bytes: int, cached_playlist_id: str | None, wait: bool,
                  table: QuotaTable) -> dict[str, Any]:
    requests = describe_requests(plan, chunk_size_bytes=chunk_size_bytes, cached_playlist_id=cached_playlist_id,
                                 wait=wait, table=table)
    return {
        "dry_run": True,
        "video": {"file": str(plan.video.path), "size_bytes": plan.video.size_bytes,
                  "duration_s": plan.video.duration_s},
        "policy": {"preset": plan.policy.preset, "rules": plan.policy.rules_on()},
        "requests": requests,
        "quota": quota_summary(requests, table),
    }
