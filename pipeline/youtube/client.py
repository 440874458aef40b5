"""The only module that imports googleapiclient: the YouTube service and the calls Wayfinder makes.

The service is built from the discovery document bundled with google-api-python-client,
with its root URL replaced when `WAYFINDER_YOUTUBE_API_ROOT` / `--api-root` is given, so
every call, uploads included, goes to that server (`client_options` would keep https for
upload URLs). The transport is `googleapiclient.http.build_http()` wrapped for OAuth:
a bare `httplib2.Http` would follow a resumable upload's 308 as a redirect.

Upload chunks are read from the file as bytes, one chunk at a time: the library's
stream slices can go out empty when a request is re-sent (token refresh, a dropped
keep-alive connection), and reading the whole file would not fit large videos in memory.

Every failure leaves here as a Wayfinder error (see `errors.py`); every call reports its
API method name to `on_call` so quota spent can be counted.
"""

from __future__ import annotations

import http.client
import json
import os
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import googleapiclient
import httplib2
from google.auth import exceptions as auth_exceptions
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.discovery import build_from_document
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaInMemoryUpload, MediaIoBaseUpload, build_http

from pipeline.errors import UsageError, WayfinderError
from pipeline.youtube.errors import (
    LOGIN_HINT,
    AuthorizationError,
    SessionExpiredError,
    TransientError,
    YouTubeRequestError,
    error_from_response,
)

API_ROOT_ENV = "WAYFINDER_YOUTUBE_API_ROOT"
DISCOVERY_DOCUMENT = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents" / "youtube.v3.json"
CHUNK_GRANULE_BYTES = 256 * 1024  # resumable chunks must be multiples of 256 KiB
TRANSPORT_ERRORS = (httplib2.HttpLib2Error, OSError, http.client.HTTPException)

OnCall = Callable[[str], None]


def resolve_api_root(flag: str | None) -> str | None:
    """The API root from `--api-root`, else `WAYFINDER_YOUTUBE_API_ROOT`, else None (Google)."""
    value = flag or os.environ.get(API_ROOT_ENV) or None
    if value is None:
        return None
    parts = urllib.parse.urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc or parts.query or parts.fragment:
        raise UsageError(f"the YouTube API root must be a base URL like http://127.0.0.1:8765/, got {value!r}")
    return value if value.endswith("/") else value + "/"


def load_discovery_document(api_root: str | None) -> dict[str, Any]:
    document = json.loads(DISCOVERY_DOCUMENT.read_text(encoding="utf-8"))
    if api_root:
        document["rootUrl"] = api_root
        document["mtlsRootUrl"] = api_root
        document["baseUrl"] = api_root + document["servicePath"]
    return document


class _BytesChunkUpload(MediaIoBaseUpload):
    """A file upload whose chunks the library reads with getbytes(): bytes, never a stream."""

    def has_stream(self) -> bool:
        return False


def _translate(exc: BaseException, call: str) -> WayfinderError:
    if isinstance(exc, HttpError):
        return error_from_response(exc.resp.status, exc.content, call=call)
    if isinstance(exc, auth_exceptions.RefreshError):
        # The exception text can quote the token endpoint's reply; show only what to do.
        return AuthorizationError(f"the saved authorization could not be refreshed: {LOGIN_HINT}")
    if isinstance(exc, auth_exceptions.TransportError):
        return TransientError(f"network error while refreshing the authorization during {call}")
    return TransientError(f"network error during {call}: {type(exc).__name__}: {exc}")


class ResumableInsert:
    """One videos.insert resumable upload: start or resume a session, send chunks, ask status."""

    def __init__(self, client: YouTubeClient, *, path: Path, body: dict[str, Any], part: str,
                 mimetype: str, chunk_size_bytes: int, notify_subscribers: bool | None) -> None:
        if chunk_size_bytes <= 0 or chunk_size_bytes % CHUNK_GRANULE_BYTES:
            raise UsageError(f"the chunk size must be a positive multiple of 256 KiB, got {chunk_size_bytes} bytes")
        self._client = client
        self._body = body
        self._part = part
        self._notify = notify_subscribers
        self._file = open(path, "rb")
        self._media = _BytesChunkUpload(self._file, mimetype=mimetype, chunksize=chunk_size_bytes, resumable=True)
        self.size_bytes: int = self._media.size()
        self.session_uri: str | None = None
        self._request: Any = None
        self._on_session: Callable[[str], None] | None = None

    def close(self) -> None:
        self._file.close()

    def _new_request(self) -> Any:
        params: dict[str, Any] = {"part": self._part, "body": self._body, "media_body": self._media}
        if self._notify is not None:
            params["notifySubscribers"] = self._notify
        return self._client.service.videos().insert(**params)

    def begin(self, on_session: Callable[[str], None]) -> None:
        """Prepare a new session; `on_session(uri)` runs after it is created, before any byte is sent."""
        self._request = self._new_request()
        self.session_uri = None
        self._on_session = on_session

    def resume(self, session_uri: str, offset_bytes: int) -> None:
        """Continue an existing session from the byte the server said it holds."""
        self._request = self._new_request()
        self._request.resumable_uri = session_uri
        self._request.resumable_progress = offset_bytes
        self.session_uri = session_uri

    def next_chunk_end_bytes(self) -> int:
        """Where the next chunk sent would end: the file's size when it is the last one."""
        assert self._request is not None, "begin() or resume() first"
        return min(self.size_bytes, int(self._request.resumable_progress) + int(self._media.chunksize()))

    def send_next_chunk(self) -> tuple[int, dict[str, Any] | None]:
        """Send one chunk: (bytes the server holds, the video resource once complete)."""
        assert self._request is not None, "begin() or resume() first"
        http = _SessionRecordingHttp(self._client.http, self._session_created)
        try:
            status, response = self._request.next_chunk(http=http, num_retries=0)
        except HttpError as exc:
            if self.session_uri and exc.resp.status in {404, 410}:
                raise SessionExpiredError("the resumable upload session expired") from None
            raise _translate(exc, "videos.insert") from None
        except (*TRANSPORT_ERRORS, auth_exceptions.GoogleAuthError) as exc:
            raise _translate(exc, "videos.insert") from None
        if response is not None:
            return self.size_bytes, response
        return int(status.resumable_progress), None

    def _session_created(self, uri: str) -> None:
        self.session_uri = uri
        self._client.count("videos.insert")
        if self._on_session is not None:
            self._on_session(uri)

    def query(self, session_uri: str | None = None) -> tuple[int, dict[str, Any] | None]:
        """Ask the server how many bytes it holds (or the video, if the upload completed)."""
        uri = session_uri or self.session_uri
        assert uri, "no session to query"
        headers = {"Content-Range": f"bytes */{self.size_bytes}", "Content-Length": "0"}
        try:
            resp, content = self._client.http.request(uri, "PUT", body=b"", headers=headers)
        except (*TRANSPORT_ERRORS, auth_exceptions.GoogleAuthError) as exc:
            raise _translate(exc, "videos.insert (status query)") from None
        if resp.status in {200, 201}:
            return self.size_bytes, json.loads(content.decode("utf-8"))
        if resp.status == 308:
            received = resp.get("range")
            return (int(received.split("-")[1]) + 1 if received else 0), None
        if resp.status in {404, 410}:
            raise SessionExpiredError("the resumable upload session expired")
        raise error_from_response(resp.status, content, call="videos.insert (status query)")


class _SessionRecordingHttp:
    """Passes requests through; when a resumable session is created, reports its URI first."""

    def __init__(self, http: Any, on_session: Callable[[str], None]) -> None:
        self._http = http
        self._on_session = on_session

    def request(self, uri: str, method: str = "GET", body: Any = None, headers: Any = None,
                **kwargs: Any) -> tuple[Any, bytes]:
        resp, content = self._http.request(uri, method, body=body, headers=headers, **kwargs)
        if method == "POST" and resp.status == 200 and "location" in resp:
            self._on_session(resp["location"])
        return resp, content


class YouTubeClient:
    """The YouTube Data API calls Wayfinder makes, each one attempt; callers retry."""

    def __init__(self, credentials: Any, *, api_root: str | None = None, on_call: OnCall | None = None) -> None:
        self.credentials = credentials
        self.api_root = api_root
        self.http = AuthorizedHttp(credentials, http=build_http())
        self.service = build_from_document(load_discovery_document(api_root), http=self.http)
        self._on_call = on_call

    def count(self, method: str) -> None:
        if self._on_call is not None:
            self._on_call(method)

    def _execute(self, method: str, request: Any) -> Any:
        self.count(method)
        try:
            return request.execute(num_retries=0)
        except (HttpError, *TRANSPORT_ERRORS, auth_exceptions.GoogleAuthError) as exc:
            raise _translate(exc, method) from None

    def video_insert(self, *, path: Path, body: dict[str, Any], part: str, mimetype: str,
                     chunk_size_bytes: int, notify_subscribers: bool | None = None) -> ResumableInsert:
        return ResumableInsert(self, path=path, body=body, part=part, mimetype=mimetype,
                               chunk_size_bytes=chunk_size_bytes, notify_subscribers=notify_subscribers)

    def my_channel(self) -> dict[str, Any]:
        response = self._execute("channels.list", self.service.channels().list(part="snippet", mine=True))
        items = response.get("items") or []
        if not items:
            raise AuthorizationError(f"these credentials have no YouTube channel: {LOGIN_HINT} with the channel's account")
        return dict(items[0])

    def set_thumbnail(self, video_id: str, data: bytes, mimetype: str) -> dict[str, Any]:
        media = MediaInMemoryUpload(data, mimetype=mimetype, resumable=False)
        return dict(self._execute("thumbnails.set", self.service.thumbnails().set(videoId=video_id, media_body=media)))

    def insert_caption(self, body: dict[str, Any], path: Path) -> dict[str, Any]:
        media = MediaInMemoryUpload(path.read_bytes(), mimetype="application/octet-stream", resumable=False)
        request = self.service.captions().insert(part="snippet", body=body, media_body=media)
        return dict(self._execute("captions.insert", request))

    def list_captions(self, video_id: str) -> list[dict[str, Any]]:
        response = self._execute("captions.list", self.service.captions().list(part="snippet", videoId=video_id))
        return list(response.get("items") or [])

    def iter_playlists(self) -> Iterator[dict[str, Any]]:
        token: str | None = None
        while True:
            params: dict[str, Any] = {"part": "snippet", "mine": True, "maxResults": 50}
            if token:
                params["pageToken"] = token
            response = self._execute("playlists.list", self.service.playlists().list(**params))
            yield from response.get("items") or []
            token = response.get("nextPageToken")
            if not token:
                return

    def insert_playlist(self, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self._execute("playlists.insert", self.service.playlists().insert(part="snippet,status", body=body)))

    def insert_playlist_item(self, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self._execute("playlistItems.insert", self.service.playlistItems().insert(part="snippet", body=body)))

    def find_playlist_item(self, playlist_id: str, video_id: str) -> dict[str, Any] | None:
        request = self.service.playlistItems().list(part="snippet", playlistId=playlist_id, videoId=video_id)
        items = self._execute("playlistItems.list", request).get("items") or []
        return dict(items[0]) if items else None

    def uploads_playlist_id(self) -> str:
        """The id of the playlist YouTube keeps of every video uploaded to the authorized channel."""
        request = self.service.channels().list(part="contentDetails", mine=True)
        items = self._execute("channels.list", request).get("items") or []
        uploads = (items[0].get("contentDetails", {}).get("relatedPlaylists", {}).get("uploads") if items else None)
        if not uploads:
            raise YouTubeRequestError("YouTube did not name this channel's uploads playlist (channels.list)")
        return str(uploads)

    def recent_uploads(self, playlist_id: str, max_results: int = 50) -> list[dict[str, Any]]:
        """The first page (newest first) of the uploads playlist, with snippet and contentDetails."""
        request = self.service.playlistItems().list(part="snippet,contentDetails", playlistId=playlist_id,
                                                    maxResults=max_results)
        return list(self._execute("playlistItems.list", request).get("items") or [])

    def list_videos(self, video_ids: list[str], part: str) -> list[dict[str, Any]]:
        request = self.service.videos().list(part=part, id=",".join(video_ids))
        return list(self._execute("videos.list", request).get("items") or [])

    def get_video(self, video_id: str, part: str = "status,processingDetails") -> dict[str, Any] | None:
        items = self._execute("videos.list", self.service.videos().list(part=part, id=video_id)).get("items") or []
        return dict(items[0]) if items else None
