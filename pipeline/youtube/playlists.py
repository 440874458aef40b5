"""Playlists by name: find (ids cached per channel), create if missing, add a video once.

Names match exactly. A cached id that YouTube no longer knows (the playlist was deleted)
is forgotten and the playlist is looked up again. Inserts are not idempotent, so after an
ambiguous failure (the reply was lost) the retry first checks whether the first attempt
took effect: a playlist with that name, or the video already in the playlist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipeline.state import StateStore
from pipeline.youtube.client import YouTubeClient
from pipeline.youtube.errors import NotFoundError
from pipeline.youtube.retry import RetryNotice, RetryPolicy, call_with_retries


@dataclass(frozen=True)
class PlaylistResult:
    name: str
    playlist_id: str
    created: bool
    playlist_item_id: str | None
    already_in_playlist: bool


def find_playlist_id(client: YouTubeClient, name: str, policy: RetryPolicy, on_retry: RetryNotice | None,
                     sleep: Callable[[float], None]) -> str | None:
    def search() -> str | None:
        for playlist in client.iter_playlists():
            if playlist.get("snippet", {}).get("title") == name:
                return str(playlist["id"])
        return None

    return call_with_retries(search, policy, sleep=sleep, on_retry=on_retry)


def ensure_playlist(client: YouTubeClient, store: StateStore, channel_id: str, name: str, privacy: str,
                    policy: RetryPolicy, *, on_retry: RetryNotice | None = None,
                    sleep: Callable[[float], None]) -> tuple[str, bool]:
    """(playlist id, whether it was created now)."""
    cached = store.cached_playlist(channel_id, name)
    if cached:
        return cached, False
    found = find_playlist_id(client, name, policy, on_retry, sleep)
    created = False
    if found is None:
        body = {"snippet": {"title": name}, "status": {"privacyStatus": privacy}}
        created_playlist = call_with_retries(
            lambda: client.insert_playlist(body), policy, sleep=sleep, on_retry=on_retry,
            before_retry=lambda: _as_resource(find_playlist_id(client, name, policy, on_retry, sleep)),
        )
        found = str(created_playlist["id"])
        created = True
    store.cache_playlist(channel_id, name, found)
    return found, created


def _as_resource(playlist_id: str | None) -> dict[str, Any] | None:
    return {"id": playlist_id} if playlist_id else None


def add_to_playlist(client: YouTubeClient, store: StateStore, channel_id: str, name: str, video_id: str,
                    privacy: str, policy: RetryPolicy, *, on_retry: RetryNotice | None = None,
                    sleep: Callable[[float], None]) -> PlaylistResult:
    playlist_id, created = ensure_playlist(client, store, channel_id, name, privacy, policy,
                                           on_retry=on_retry, sleep=sleep)

    def insert(target: str) -> dict[str, Any]:
        body = {"snippet": {"playlistId": target, "resourceId": {"kind": "youtube#video", "videoId": video_id}}}
        return call_with_retries(
            lambda: client.insert_playlist_item(body), policy, sleep=sleep, on_retry=on_retry,
            before_retry=lambda: client.find_playlist_item(target, video_id),
        )

    if not created:
        existing = call_with_retries(lambda: client.find_playlist_item(playlist_id, video_id), policy,
                                     sleep=sleep, on_retry=on_retry) if _worth_checking(store, video_id) else None
        if existing:
            return PlaylistResult(name, playlist_id, False, str(existing.get("id")), True)
    try:
        item = insert(playlist_id)
    except NotFoundError:
        # The cached playlist was deleted on YouTube: look it up (or create it) once more.
        store.forget_playlist(channel_id, name)
        playlist_id, created = ensure_playlist(client, store, channel_id, name, privacy, policy,
                                               on_retry=on_retry, sleep=sleep)
        item = insert(playlist_id)
    return PlaylistResult(name, playlist_id, created, str(item.get("id")), False)


def _worth_checking(store: StateStore, video_id: str) -> bool:
    """Only a re-run (an earlier attempt may have added it) pays 1 unit to check first."""
    return "playlist_attempted" in store.steps_done(video_id)
