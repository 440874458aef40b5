"""YouTube-specific errors, and the one place an API error response becomes one of them.

`error_from_response()` reads the machine reason from Google's JSON error body (the
`HttpError.reason` attribute is only the human text) and picks the error kind, so the
caller can decide: retry (`TransientError`), start a new session (`SessionExpiredError`),
stop until the quota resets (`QuotaExceededError`), wait a day (`UploadLimitError`),
re-authorize (`AuthorizationError`), fix a field (`MetadataRejectedError`) or give up
and show YouTube's message (`YouTubeRequestError`).

Nothing here imports googleapiclient; messages never contain tokens or session URIs.
"""

from __future__ import annotations

import html
import json
import re
from datetime import datetime

from pipeline.errors import (
    EXIT_FAILED,
    ConfigError,
    CredentialsError,
    QuotaError,
    WayfinderError,
)

LOGIN_HINT = "run `wayfinder auth login` to authorize again"

# YouTube's `invalid*` reasons and the metadata field each one is about.
INVALID_REASON_FIELDS: dict[str, str] = {
    "invalidTitle": "title",
    "invalidDescription": "description",
    "invalidTags": "tags",
    "invalidPublishAt": "publish_at",
    "invalidCategoryId": "category",
    "invalidVideoMetadata": "metadata",
    "invalidVideoGameRating": "metadata",
    "invalidRecordingDetails": "metadata",
    "invalidFilename": "video",
    "invalidLanguage": "default_language",
    "defaultLanguageNotSet": "default_language",
    "invalidLicense": "license",
    "invalidPrivacyStatus": "privacy",
    "invalidImage": "thumbnail",
    "mediaBodyRequired": "video",
    "invalidPlaylistSnippet": "playlist",
    "playlistTitleRequired": "playlist",
    "invalidMetadata": "captions",
    "nameAlreadyExists": "captions",
    "contentRequired": "captions",
}


class TransientError(WayfinderError):
    """A failure worth retrying: 5xx, 429, rateLimitExceeded or a network error."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, *, status: int | None = None, reason: str | None = None,
                 rate_limited: bool = False, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.status = status
        self.reason = reason
        self.rate_limited = rate_limited


class SessionExpiredError(WayfinderError):
    """The resumable upload session is gone (404 or 410): a new session is needed."""

    exit_code = EXIT_FAILED


class QuotaExceededError(QuotaError):
    """The project's daily YouTube quota is spent; it resets at midnight Pacific time."""


class UploadLimitError(QuotaError):
    """The channel reached YouTube's upload limit; it lifts after about a day."""


class AuthorizationError(CredentialsError):
    """YouTube refused the credentials (401) or they lack a needed scope."""


class MetadataRejectedError(ConfigError):
    """YouTube rejected a metadata field (`invalid*`): the field is named."""


class YouTubeRequestError(WayfinderError):
    """Any other refusal (4xx): not retried; YouTube's own message is shown."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, *, status: int | None = None, reason: str | None = None,
                 **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.status = status
        self.reason = reason


class NotFoundError(YouTubeRequestError):
    """A 404 on a resource (video, playlist) other than an upload session."""


def parse_error_body(content: bytes | str | None) -> tuple[str | None, str]:
    """The machine reason and the human message of a Google JSON error body."""
    if not content:
        return None, ""
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
    try:
        data = json.loads(text)
    except ValueError:
        return None, _plain(text)[:300]
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, str):  # OAuth token endpoint: {"error": "invalid_grant", ...}
        return error, _plain(str(data.get("error_description", "")))
    if not isinstance(error, dict):
        return None, ""
    reason = None
    errors = error.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        reason = errors[0].get("reason")
    if reason is None:
        details = error.get("details")
        if isinstance(details, list):
            for detail in details:
                if isinstance(detail, dict) and detail.get("reason"):
                    reason = detail["reason"]
                    break
    return reason, _plain(str(error.get("message", "")))


def _plain(text: str) -> str:
    """YouTube's messages contain HTML links; show them as plain text."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", text)).split())


def error_from_response(
    status: int,
    content: bytes | str | None,
    *,
    call: str,
    now: datetime | None = None,
) -> WayfinderError:
    """The Wayfinder error for a YouTube API error response to `call` (e.g. "videos.insert")."""
    from pipeline.youtube.quota import format_reset

    reason, message = parse_error_body(content)
    said = f": {message}" if message else ""
    if reason == "quotaExceeded":
        return QuotaExceededError(
            f"YouTube quota exceeded during {call}: the daily quota resets at midnight Pacific "
            f"time ({format_reset(now)}); nothing more was sent. Run the command again after the "
            "reset; an unfinished upload resumes where it stopped."
        )
    if reason == "uploadLimitExceeded":
        return UploadLimitError(
            "this channel has reached YouTube's upload limit (uploadLimitExceeded): wait about a "
            "day (24 hours) before uploading again; an unfinished upload resumes where it stopped."
        )
    if reason in {"rateLimitExceeded", "userRateLimitExceeded"} or status == 429:
        return TransientError(
            f"YouTube asked to slow down ({reason or status}) during {call}",
            status=status, reason=reason, rate_limited=True,
        )
    if status == 401:
        return AuthorizationError(f"YouTube refused the credentials (401) during {call}: {LOGIN_HINT}")
    if status == 403 and reason in {"insufficientPermissions", "forbidden", "ACCESS_TOKEN_SCOPE_INSUFFICIENT"} \
            and call in {"videos.insert", "channels.list"}:
        return AuthorizationError(
            f"the saved authorization does not allow {call} ({reason}): {LOGIN_HINT}"
        )
    if reason and (reason.startswith("invalid") or reason in INVALID_REASON_FIELDS) and 400 <= status < 500:
        field = INVALID_REASON_FIELDS.get(reason) or _field_from_reason(reason)
        return MetadataRejectedError(
            f"YouTube rejected the {field} ({reason}){said}",
            field=field,
            problems=[f"{field}: YouTube says {reason}{said}"],
        )
    if status >= 500:
        return TransientError(f"YouTube server error {status} during {call}{said}",
                              status=status, reason=reason)
    if status == 404:
        return NotFoundError(f"YouTube could not find what {call} refers to (404 {reason or 'notFound'}){said}",
                             status=status, reason=reason)
    return YouTubeRequestError(
        f"YouTube refused {call} ({status} {reason or 'error'}){said}", status=status, reason=reason
    )


def _field_from_reason(reason: str) -> str:
    """`invalidFooBar` names the field `foo_bar`."""
    stem = reason.removeprefix("invalid") or reason
    return re.sub(r"(?<!^)(?=[A-Z])", "_", stem).lower()
