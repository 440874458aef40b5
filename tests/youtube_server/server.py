"""A YouTube-compatible HTTP server for tests, with fault injection.

It speaks the parts of the YouTube Data API v3 and Google OAuth that Wayfinder uses, the
way Google documents them: resumable uploads (POST to start, `Location` session URI,
PUT chunks with `Content-Range`, `308` with `Range: bytes=0-N` while incomplete, status
queries with `Content-Range: bytes */TOTAL`, `200` with the video resource when done,
`404` (or `410`) for unknown sessions, non-final chunks must be multiples of 256 KiB),
thumbnails.set, captions.insert (multipart/related) and captions.list, playlists,
playlistItems (including the channel's uploads playlist `UU…`, newest first, with
`snippet.publishedAt` and `contentDetails.videoId`), videos.list with processingDetails and
fileDetails, channels.list with `part=snippet,contentDetails` (`relatedPlaylists.uploads`),
and a token endpoint (refresh and authorization-code grants). Only the parts asked for are
returned, as YouTube does. Errors use Google's JSON shape with `errors[0].reason`.

Faults (see `Fault`) answer a matching request with an error status, reset the TCP
connection partway through a chunk (keeping what was read, rounded down to 256 KiB as
Google persists it), drop the connection after fully processing a request, or drop the
reply to the last chunk and then forget the session (404 or 410 from then on).
Standard library only; binds 127.0.0.1 on an ephemeral port.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import hashlib
import json
import re
import secrets
import socket
import struct
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

GRANULE = 256 * 1024
SCOPES = "https://www.googleapis.com/auth/youtube.upload https://www.googleapis.com/auth/youtube.force-ssl"

# Google's own texts for the errors the tests inject.
ERROR_MESSAGES = {
    "quotaExceeded": 'The request cannot be completed because you have exceeded your <a href="/youtube/v3/getting-started#quota">quota</a>.',
    "uploadLimitExceeded": "The user has exceeded the number of videos they may upload.",
    "rateLimitExceeded": "The request cannot be completed because you have exceeded your rate limit.",
    "invalidTitle": "The request metadata specifies an invalid or empty video title.",
    "backendError": "Backend Error",
    "authError": "Invalid Credentials",
}
ERROR_DOMAINS = {"quotaExceeded": "youtube.quota", "uploadLimitExceeded": "youtube.video",
                 "invalidTitle": "youtube.video", "rateLimitExceeded": "youtube.quota"}


@dataclass
class Fault:
    """One injected fault.

    target: initiate | chunk | final_chunk | query | thumbnail | caption | playlist_insert |
            playlist_item | playlist_items_list | videos_list | channels | token
    action: status (answer `status` with `reason`) | reset (TCP reset after reading half of
            the body) | drop (process fully, then reset instead of answering) |
            drop_forget (final_chunk: process fully, reset instead of answering, then forget
            the session, as an expired session is forgotten: later requests to it get
            `status`, 404 or 410) |
            expire_token (forget every access token and answer 401)
    at_or_after_bytes: for chunk faults, only chunks starting at or after this offset.
    times: how many matching requests it affects.
    """

    target: str
    action: str = "status"
    status: int = 503
    reason: str = "backendError"
    at_or_after_bytes: int = 0
    times: int = 1
    fired: int = 0


@dataclass
class Session:
    upload_id: str
    total_bytes: int
    metadata: dict[str, Any]
    params: dict[str, str]
    data: bytearray = field(default_factory=bytearray)
    video_id: str | None = None


@dataclass
class Logged:
    method: str
    route: str
    status: int | None
    detail: dict[str, Any]


class FakeYouTube:
    """Start with `with FakeYouTube() as server:`; point Wayfinder at `server.url`."""

    def __init__(self, *, playlist_page_size: int = 50, processing_polls: int = 1) -> None:
        self.lock = threading.RLock()
        self.channel = {"id": "UCwayfinderTestChannel01", "title": "Riverside Hospital Wayfinding"}
        self.client_id = "1234567890-wayfinder.apps.googleusercontent.com"
        self.client_secret = "test-client-secret-" + secrets.token_hex(8)
        self.refresh_token = "1//test-refresh-" + secrets.token_hex(16)
        self.access_tokens: set[str] = set()
        self.auth_codes: set[str] = set()
        self.token_grants: list[str] = []
        self.sessions: dict[str, Session] = {}
        self.gone_sessions: dict[str, int] = {}  # upload id -> 404 or 410, for sessions forgotten on purpose
        self.videos: dict[str, dict[str, Any]] = {}
        self.video_content: dict[str, bytes] = {}
        self.video_polls: dict[str, int] = {}
        self.thumbnails: dict[str, tuple[bytes, str]] = {}
        self.captions: list[dict[str, Any]] = []
        self.playlists: dict[str, dict[str, Any]] = {}
        self.playlist_items: list[dict[str, Any]] = []
        self.faults: list[Fault] = []
        self.log: list[Logged] = []
        self.playlist_page_size = playlist_page_size
        self.processing_polls = processing_polls
        self.processing_outcome = "succeeded"
        self.chunk_delay_s = 0.0
        # Requests being answered right now: a test waits for none (wait_idle) before
        # reading what the server holds, instead of sleeping past a chunk in flight.
        self._in_flight = 0
        self._idle = threading.Condition(self.lock)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------

    def start(self) -> FakeYouTube:
        handler = type("BoundHandler", (_Handler,), {"api": self})
        self._httpd = _QuietServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), name="fake-youtube", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def __enter__(self) -> FakeYouTube:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def token_uri(self) -> str:
        return f"{self.url}token"

    # --- test helpers ---------------------------------------------------------------

    def new_access_token(self) -> str:
        token = "ya29.test-access-" + secrets.token_hex(16)
        with self.lock:
            self.access_tokens.add(token)
        return token

    def expire_access_tokens(self) -> None:
        with self.lock:
            self.access_tokens.clear()

    def credentials_info(self, *, valid_token: bool = True) -> dict[str, Any]:
        """An authorized-user JSON for this server (a token it knows, or a stale one)."""
        token = self.new_access_token() if valid_token else "ya29.stale-" + secrets.token_hex(8)
        # The client believes the token is good for an hour either way; only the server knows.
        expiry = datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(hours=1)
        return {
            "token": token,
            "expiry": expiry.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "refresh_token": self.refresh_token,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "token_uri": self.token_uri,
            "scopes": SCOPES.split(),
            "type": "authorized_user",
        }

    def write_credentials(self, path: Path, *, valid_token: bool = True) -> dict[str, Any]:
        info = self.credentials_info(valid_token=valid_token)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(info))
        path.chmod(0o600)
        return info

    def client_secrets_info(self) -> dict[str, Any]:
        return {"installed": {
            "client_id": self.client_id, "client_secret": self.client_secret,
            "auth_uri": f"{self.url}o/oauth2/auth", "token_uri": self.token_uri,
            "redirect_uris": ["http://localhost"],
        }}

    def add_fault(self, target: str, action: str = "status", *, status: int = 503, reason: str = "backendError",
                  at_or_after_bytes: int = 0, times: int = 1) -> Fault:
        fault = Fault(target, action, status, reason, at_or_after_bytes, times)
        with self.lock:
            self.faults.append(fault)
        return fault

    def wait_idle(self, timeout_s: float = 120.0) -> None:
        """Return once no request is being answered (a chunk whose client was killed is
        read to its end or dropped); fail if the server never gets there."""
        with self._idle:
            if not self._idle.wait_for(lambda: self._in_flight == 0, timeout=timeout_s):
                raise AssertionError(f"the fake YouTube server was still answering {self._in_flight} request(s)")

    def requests(self, route: str | None = None) -> list[Logged]:
        with self.lock:
            return [entry for entry in self.log if route is None or entry.route == route]

    def chunk_starts(self) -> list[int]:
        """Start offset of every data-carrying PUT to an upload session, in order."""
        return [entry.detail["start"] for entry in self.requests("upload_put") if entry.detail.get("kind") == "chunk"]

    def received_bytes(self) -> int:
        with self.lock:
            return max((len(s.data) for s in self.sessions.values()), default=0)

    def sha256_of_video(self, video_id: str) -> str:
        return hashlib.sha256(self.video_content[video_id]).hexdigest()

    def add_video(self, title: str, content: bytes, *, published_at: datetime | None = None,
                  privacy: str = "private") -> str:
        """A video on the channel as if uploaded some other way (YouTube Studio, another tool)."""
        with self.lock:
            video_id = _new_video_id()
            self.videos[video_id] = {
                "kind": "youtube#video", "id": video_id,
                "snippet": {"title": title, "description": "", "channelId": self.channel["id"],
                            "publishedAt": _rfc3339(published_at or datetime.now(timezone.utc))},
                "status": {"privacyStatus": privacy, "uploadStatus": "uploaded"},
            }
            self.video_content[video_id] = content
        return video_id

    @property
    def uploads_playlist_id(self) -> str:
        """The channel's uploads playlist: YouTube derives it from the channel id (UC... -> UU...)."""
        return "UU" + self.channel["id"][2:]

    def _take_fault(self, target: str, start: int = 0) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.target == target and fault.fired < fault.times and start >= fault.at_or_after_bytes:
                    fault.fired += 1
                    return fault
        return None


def _rfc3339(moment: datetime) -> str:
    """Google's timestamp form: UTC with milliseconds and a Z."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _new_video_id() -> str:
    return secrets.token_urlsafe(8)[:11]


def google_error(status: int, reason: str, message: str | None = None) -> dict[str, Any]:
    text = message or ERROR_MESSAGES.get(reason, reason)
    return {"error": {"code": status, "message": text,
                      "errors": [{"message": text, "domain": ERROR_DOMAINS.get(reason, "global"), "reason": reason}]}}


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client killed or reset mid-request (the tests do this on purpose) is not news.
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class _Abort(Exception):
    """The handler reset the connection: nothing more is written."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    api: FakeYouTube

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence the default stderr log
        pass

    # --- plumbing -------------------------------------------------------------------

    def setup(self) -> None:
        super().setup()
        self._aborted = False

    def finish(self) -> None:
        if not self._aborted:
            super().finish()

    def _route(self) -> tuple[str, dict[str, str]]:
        parts = urllib.parse.urlsplit(self.path)
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(parts.query, keep_blank_values=True).items()}
        return parts.path, query

    def _read_body(self, limit: int | None = None) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        want = length if limit is None else min(limit, length)
        chunks = []
        remaining = want
        while remaining > 0:
            piece = self.rfile.read(min(65536, remaining))
            if not piece:
                break
            chunks.append(piece)
            remaining -= len(piece)
        return b"".join(chunks)

    def _reset(self) -> None:
        """Close with a TCP reset (SO_LINGER 0), like a dropped connection."""
        self._aborted = True
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.rfile.close()
            self.connection.close()
        except OSError:
            pass
        raise _Abort()

    def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None, *,
              route: str = "", detail: dict[str, Any] | None = None) -> None:
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)
        self._log(route, status, detail)

    def _log(self, route: str, status: int | None, detail: dict[str, Any] | None) -> None:
        with self.api.lock:
            self.api.log.append(Logged(self.command, route, status, dict(detail or {})))

    def _error(self, status: int, reason: str, route: str, message: str | None = None,
               detail: dict[str, Any] | None = None) -> None:
        headers = {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'} if status == 401 else None
        self._send(status, google_error(status, reason, message), headers, route=route, detail=detail)

    def _fault_response(self, fault: Fault, route: str, detail: dict[str, Any] | None = None) -> None:
        self._error(fault.status, fault.reason, route, detail={**(detail or {}), "fault": fault.reason})

    def _authorized(self, route: str) -> bool:
        header = self.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ").strip()
        with self.api.lock:
            ok = header.startswith("Bearer ") and token in self.api.access_tokens
        if not ok:
            self._read_body()
            self._error(401, "authError", route, "Request had invalid authentication credentials.")
        return ok

    def _dispatch(self) -> None:
        with self.api._idle:
            self.api._in_flight += 1
        try:
            self._answer()
        finally:
            with self.api._idle:
                self.api._in_flight -= 1
                self.api._idle.notify_all()

    def _answer(self) -> None:
        try:
            path, query = self._route()
            handler = getattr(self, f"_{self.command.lower()}_{self._name(path)}", None)
            if path == "/token" and self.command == "POST":
                self._token()
                return
            if handler is None:
                self._read_body()
                self._error(404, "notFound", "unknown", f"no route for {self.command} {path}")
                return
            if not self._authorized(self._name(path)):
                return
            handler(query)
        except _Abort:
            return

    @staticmethod
    def _name(path: str) -> str:
        return {
            "/upload/youtube/v3/videos": "upload",
            "/upload/youtube/v3/thumbnails/set": "thumbnail",
            "/upload/youtube/v3/captions": "caption",
            "/youtube/v3/captions": "captions",
            "/youtube/v3/channels": "channels",
            "/youtube/v3/videos": "videos",
            "/youtube/v3/playlists": "playlists",
            "/youtube/v3/playlistItems": "playlist_items",
        }.get(path, "unknown")

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._dispatch()

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch()

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch()

    # --- OAuth ----------------------------------------------------------------------

    def _token(self) -> None:
        form = {k: v[-1] for k, v in urllib.parse.parse_qs(self._read_body().decode()).items()}
        api = self.api
        grant = form.get("grant_type", "")
        with api.lock:
            api.token_grants.append(grant)
        fault = api._take_fault("token")
        if fault:
            self._send(fault.status, {"error": fault.reason, "error_description": "Token has been expired or revoked."},
                       route="token", detail={"grant": grant})
            return
        basic = self.headers.get("Authorization", "")
        if basic.startswith("Basic "):  # RFC 6749 client authentication, as requests-oauthlib sends it
            user, _, password = base64.b64decode(basic[6:]).decode().partition(":")
            form.setdefault("client_id", urllib.parse.unquote_plus(user))
            form.setdefault("client_secret", urllib.parse.unquote_plus(password))
        if form.get("client_id") != api.client_id or form.get("client_secret") != api.client_secret:
            self._send(401, {"error": "invalid_client", "error_description": "Unauthorized"}, route="token")
            return
        if grant == "refresh_token" and form.get("refresh_token") == api.refresh_token:
            self._send(200, {"access_token": api.new_access_token(), "expires_in": 3599, "scope": SCOPES,
                             "token_type": "Bearer"}, route="token", detail={"grant": grant})
            return
        if grant == "authorization_code" and form.get("code") in api.auth_codes:
            with api.lock:
                api.auth_codes.discard(form["code"])
            self._send(200, {"access_token": api.new_access_token(), "refresh_token": api.refresh_token,
                             "expires_in": 3599, "scope": SCOPES, "token_type": "Bearer"},
                       route="token", detail={"grant": grant})
            return
        self._send(400, {"error": "invalid_grant", "error_description": "Bad Request"}, route="token",
                   detail={"grant": grant})

    # --- resumable video upload -----------------------------------------------------

    def _post_upload(self, query: dict[str, str]) -> None:
        api = self.api
        body = self._read_body()
        if query.get("uploadType") != "resumable":
            self._error(400, "badRequest", "upload_start", "only resumable uploads are supported here")
            return
        fault = api._take_fault("initiate")
        if fault:
            self._fault_response(fault, "upload_start")
            return
        try:
            metadata = json.loads(body or b"{}")
        except ValueError:
            self._error(400, "parseError", "upload_start")
            return
        title = str(metadata.get("snippet", {}).get("title", ""))
        if not title.strip() or len(title) > 100 or "<" in title or ">" in title:
            self._error(400, "invalidTitle", "upload_start")
            return
        total = self.headers.get("X-Upload-Content-Length")
        if total is None or not total.isdigit():
            self._error(400, "badRequest", "upload_start", "X-Upload-Content-Length is required")
            return
        upload_id = secrets.token_urlsafe(24)
        with api.lock:
            api.sessions[upload_id] = Session(upload_id, int(total), metadata, query)
        location = f"{api.url}upload/youtube/v3/videos?uploadType=resumable&upload_id={upload_id}"
        self._send(200, None, {"Location": location}, route="upload_start",
                   detail={"upload_id": upload_id, "total": int(total), "part": query.get("part")})

    def _put_upload(self, query: dict[str, str]) -> None:
        api = self.api
        with api.lock:
            session = api.sessions.get(query.get("upload_id", ""))
        if session is None:
            self._read_body()
            with api.lock:
                gone = api.gone_sessions.get(query.get("upload_id", ""), 404)
            self._error(gone, "notFound" if gone == 404 else "gone", "upload_put", "upload session not found",
                        {"kind": "unknown"})
            return
        content_range = self.headers.get("Content-Range", "")
        query_match = re.fullmatch(r"bytes \*/(\d+|\*)", content_range)
        chunk_match = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+|\*)", content_range)
        if query_match:
            self._read_body()
            fault = api._take_fault("query")
            if fault:
                self._fault_response(fault, "upload_put", {"kind": "query"})
                return
            self._answer_session(session, {"kind": "query"})
            return
        if not chunk_match:
            self._read_body()
            self._error(400, "badRequest", "upload_put", f"bad Content-Range {content_range!r}")
            return
        start, end = int(chunk_match.group(1)), int(chunk_match.group(2))
        total = session.total_bytes
        detail = {"kind": "chunk", "start": start, "end": end}
        final = end + 1 == total
        fault = api._take_fault("final_chunk" if final else "chunk", start) or (api._take_fault("chunk", start) if final else None)
        if api.chunk_delay_s:
            time.sleep(api.chunk_delay_s)
        if fault and fault.action == "reset":
            data = self._read_body(limit=(end - start + 1) // 2)
            self._store(session, start, data, granular=True)
            self._log("upload_put", None, {**detail, "fault": "reset", "read": len(data)})
            self._reset()
        data = self._read_body()
        if fault and fault.action == "status":
            self._fault_response(fault, "upload_put", detail)
            return
        if fault and fault.action == "expire_token":  # the access token runs out mid-upload
            api.expire_access_tokens()
            self._error(401, "authError", "upload", "Request had invalid authentication credentials.", detail)
            return
        if session.video_id is not None:
            self._answer_session(session, detail)
            return
        if len(data) != end - start + 1 or chunk_match.group(3) not in {str(total), "*"}:
            self._error(400, "badRequest", "upload_put", "Content-Range does not match the body", detail)
            return
        if start > len(session.data):
            self._error(400, "badRequest", "upload_put", "chunk starts after the received data", detail)
            return
        if not final and (end - start + 1) % GRANULE:
            self._error(400, "badRequest", "upload_put", "chunk size must be a multiple of 256 KiB", detail)
            return
        self._store(session, start, data, granular=False)
        if fault and fault.action == "drop":
            self._log("upload_put", None, {**detail, "fault": "drop"})
            self._reset()
        if fault and fault.action == "drop_forget":
            with api.lock:
                del api.sessions[session.upload_id]
                api.gone_sessions[session.upload_id] = fault.status
            self._log("upload_put", None, {**detail, "fault": "drop_forget"})
            self._reset()
        self._answer_session(session, detail)

    def _store(self, session: Session, start: int, data: bytes, *, granular: bool) -> None:
        with self.api.lock:
            have = len(session.data)
            if start > have:
                return  # a gap: nothing of this chunk can be kept
            if start + len(data) > have:
                session.data += data[have - start:]
            if granular and len(session.data) < session.total_bytes:
                del session.data[len(session.data) // GRANULE * GRANULE:]
            if len(session.data) == session.total_bytes and session.video_id is None:
                self._create_video(session)

    def _create_video(self, session: Session) -> None:
        api = self.api
        video_id = _new_video_id()
        snippet = dict(session.metadata.get("snippet", {}))
        snippet["channelId"] = api.channel["id"]
        snippet["publishedAt"] = _rfc3339(datetime.now(timezone.utc))
        status = dict(session.metadata.get("status", {}))
        status["uploadStatus"] = "uploaded"
        api.videos[video_id] = {"kind": "youtube#video", "id": video_id, "snippet": snippet, "status": status}
        api.video_content[video_id] = bytes(session.data)
        session.video_id = video_id

    def _answer_session(self, session: Session, detail: dict[str, Any]) -> None:
        with self.api.lock:
            if session.video_id is not None:
                video = self.api.videos[session.video_id]
                self._send(200, video, route="upload_put", detail={**detail, "complete": True})
                return
            received = len(session.data)
        headers = {"Range": f"bytes=0-{received - 1}"} if received else {}
        self._send(308, None, headers, route="upload_put", detail={**detail, "received": received})

    # --- other calls ----------------------------------------------------------------

    def _post_thumbnail(self, query: dict[str, str]) -> None:
        data = self._read_body()
        fault = self.api._take_fault("thumbnail")
        if fault:
            self._fault_response(fault, "thumbnail")
            return
        video_id = query.get("videoId", "")
        if video_id not in self.api.videos:
            self._error(404, "videoNotFound", "thumbnail")
            return
        kind = self.headers.get("Content-Type", "")
        if kind not in {"image/jpeg", "image/png"} or len(data) > 2 * 1024 * 1024:
            self._error(400, "invalidImage", "thumbnail")
            return
        with self.api.lock:
            self.api.thumbnails[video_id] = (data, kind)
        self._send(200, {"kind": "youtube#thumbnailSetResponse",
                         "items": [{"default": {"url": f"{self.api.url}vi/{video_id}/default.jpg"}}]},
                   route="thumbnail", detail={"video_id": video_id, "bytes": len(data)})

    def _post_caption(self, query: dict[str, str]) -> None:
        raw = self._read_body()
        fault = self.api._take_fault("caption")
        if fault and fault.action == "status":
            self._fault_response(fault, "caption")
            return
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + self.headers.get("Content-Type", "").encode() + b"\r\n\r\n" + raw)
        parts = list(message.iter_parts()) if message.is_multipart() else []
        if query.get("uploadType") != "multipart" or len(parts) != 2:
            self._error(400, "badRequest", "caption", "expected multipart/related with metadata and media")
            return
        metadata = json.loads(parts[0].get_payload(decode=True))
        content = parts[1].get_payload(decode=True)
        snippet = metadata.get("snippet", {})
        if snippet.get("videoId") not in self.api.videos:
            self._error(404, "videoNotFound", "caption")
            return
        caption = {"kind": "youtube#caption", "id": "cap" + secrets.token_hex(6),
                   "snippet": {**snippet, "trackKind": "standard"}}
        with self.api.lock:
            self.api.captions.append({**caption, "content": content})
        if fault and fault.action == "drop":
            self._log("caption", None, {"fault": "drop"})
            self._reset()
        self._send(200, caption, route="caption", detail={"bytes": len(content)})

    def _get_captions(self, query: dict[str, str]) -> None:
        items = [{k: v for k, v in c.items() if k != "content"} for c in self.api.captions
                 if c["snippet"].get("videoId") == query.get("videoId")]
        self._send(200, {"kind": "youtube#captionListResponse", "items": items}, route="captions")

    def _get_channels(self, query: dict[str, str]) -> None:
        fault = self.api._take_fault("channels")
        if fault:
            self._fault_response(fault, "channels")
            return
        channel = self.api.channel
        parts = set(query.get("part", "").split(","))
        item: dict[str, Any] = {"kind": "youtube#channel", "id": channel["id"]}
        if "snippet" in parts:
            item["snippet"] = {"title": channel["title"]}
        if "contentDetails" in parts:
            item["contentDetails"] = {"relatedPlaylists": {"likes": "", "uploads": self.api.uploads_playlist_id}}
        self._send(200, {"kind": "youtube#channelListResponse", "items": [item]}, route="channels",
                   detail={"part": query.get("part")})

    def _get_videos(self, query: dict[str, str]) -> None:
        api = self.api
        fault = api._take_fault("videos_list")
        if fault:
            self._fault_response(fault, "videos_list")
            return
        items = []
        for video_id in query.get("id", "").split(","):
            if video_id not in api.videos:
                continue
            with api.lock:
                api.video_polls[video_id] = polls = api.video_polls.get(video_id, 0) + 1
            video = json.loads(json.dumps(api.videos[video_id]))
            if polls <= api.processing_polls:
                video["processingDetails"] = {"processingStatus": "processing", "processingProgress": {
                    "partsTotal": api.processing_polls + 1, "partsProcessed": polls, "timeLeftMs": 1000}}
            elif api.processing_outcome == "succeeded":
                video["processingDetails"] = {"processingStatus": "succeeded"}
                video["status"]["uploadStatus"] = "processed"
            else:
                video["processingDetails"] = {"processingStatus": "failed", "processingFailureReason": "transcodeFailed"}
                video["status"]["uploadStatus"] = "failed"
                video["status"]["failureReason"] = "codec"
            if "fileDetails" in query.get("part", "").split(","):
                # uint64 fields travel as JSON strings in Google's APIs.
                video["fileDetails"] = {"fileSize": str(len(api.video_content.get(video_id, b""))),
                                        "fileType": "video"}
            items.append(video)
        self._send(200, {"kind": "youtube#videoListResponse", "items": items}, route="videos_list")

    def _get_playlists(self, query: dict[str, str]) -> None:
        api = self.api
        size = min(int(query.get("maxResults", 5)), api.playlist_page_size)
        offset = int(query.get("pageToken") or 0)
        with api.lock:
            playlists = list(api.playlists.values())
        page = playlists[offset:offset + size]
        body: dict[str, Any] = {"kind": "youtube#playlistListResponse", "items": page}
        if offset + size < len(playlists):
            body["nextPageToken"] = str(offset + size)
        self._send(200, body, route="playlists_list", detail={"offset": offset})

    def _post_playlists(self, query: dict[str, str]) -> None:
        body = json.loads(self._read_body() or b"{}")
        fault = self.api._take_fault("playlist_insert")
        if fault and fault.action == "status":
            self._fault_response(fault, "playlist_insert")
            return
        title = body.get("snippet", {}).get("title", "")
        if not title:
            self._error(400, "playlistTitleRequired", "playlist_insert")
            return
        playlist = {"kind": "youtube#playlist", "id": "PL" + secrets.token_hex(16),
                    "snippet": {"title": title, "channelId": self.api.channel["id"]},
                    "status": body.get("status", {"privacyStatus": "public"})}
        with self.api.lock:
            self.api.playlists[playlist["id"]] = playlist
        if fault and fault.action == "drop":
            self._log("playlist_insert", None, {"fault": "drop"})
            self._reset()
        self._send(200, playlist, route="playlist_insert", detail={"title": title})

    def _get_playlist_items(self, query: dict[str, str]) -> None:
        fault = self.api._take_fault("playlist_items_list")
        if fault:
            self._fault_response(fault, "playlist_items_list")
            return
        if query.get("playlistId") == self.api.uploads_playlist_id:
            self._get_uploads(query)
            return
        items = [item for item in self.api.playlist_items
                 if item["snippet"]["playlistId"] == query.get("playlistId")
                 and (not query.get("videoId") or item["snippet"]["resourceId"]["videoId"] == query.get("videoId"))]
        self._send(200, {"kind": "youtube#playlistItemListResponse", "items": items}, route="playlist_items_list")

    def _get_uploads(self, query: dict[str, str]) -> None:
        """The channel's uploads playlist, newest first, paged like YouTube's (maxResults 0-50, default 5)."""
        api = self.api
        parts = set(query.get("part", "").split(","))
        size = max(0, min(int(query.get("maxResults", 5)), 50))
        offset = int(query.get("pageToken") or 0)
        with api.lock:
            videos = sorted(api.videos.values(), key=lambda v: v["snippet"].get("publishedAt", ""), reverse=True)
        items = []
        for position, video in enumerate(videos[offset:offset + size], start=offset):
            snippet = video["snippet"]
            item: dict[str, Any] = {"kind": "youtube#playlistItem", "id": "UU" + video["id"] + "item"}
            if "snippet" in parts:
                item["snippet"] = {
                    "publishedAt": snippet.get("publishedAt"), "channelId": api.channel["id"],
                    "title": snippet.get("title", ""), "description": snippet.get("description", ""),
                    "thumbnails": {}, "channelTitle": api.channel["title"], "playlistId": api.uploads_playlist_id,
                    "position": position, "resourceId": {"kind": "youtube#video", "videoId": video["id"]},
                    "videoOwnerChannelTitle": api.channel["title"], "videoOwnerChannelId": api.channel["id"],
                }
            if "contentDetails" in parts:
                details = {"videoId": video["id"]}
                if video.get("status", {}).get("privacyStatus") == "public":
                    details["videoPublishedAt"] = snippet.get("publishedAt")
                item["contentDetails"] = details
            if "status" in parts:
                item["status"] = {"privacyStatus": video.get("status", {}).get("privacyStatus", "public")}
            items.append(item)
        body: dict[str, Any] = {"kind": "youtube#playlistItemListResponse", "items": items,
                                "pageInfo": {"totalResults": len(videos), "resultsPerPage": size}}
        if offset + size < len(videos):
            body["nextPageToken"] = str(offset + size)
        self._send(200, body, route="uploads_list", detail={"offset": offset})

    def _post_playlist_items(self, query: dict[str, str]) -> None:
        body = json.loads(self._read_body() or b"{}")
        fault = self.api._take_fault("playlist_item")
        if fault and fault.action == "status":
            self._fault_response(fault, "playlist_item")
            return
        snippet = body.get("snippet", {})
        if snippet.get("playlistId") not in self.api.playlists:
            self._error(404, "playlistNotFound", "playlist_item")
            return
        if snippet.get("resourceId", {}).get("videoId") not in self.api.videos:
            self._error(404, "videoNotFound", "playlist_item")
            return
        item = {"kind": "youtube#playlistItem", "id": "PLI" + secrets.token_hex(8), "snippet": snippet}
        with self.api.lock:
            self.api.playlist_items.append(item)
        if fault and fault.action == "drop":
            self._log("playlist_item", None, {"fault": "drop"})
            self._reset()
        self._send(200, item, route="playlist_item")
