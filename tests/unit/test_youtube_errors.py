"""Google's error bodies become the right Wayfinder error, message and exit code."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from pipeline.youtube.errors import (
    AuthorizationError,
    MetadataRejectedError,
    NotFoundError,
    QuotaExceededError,
    TransientError,
    UploadLimitError,
    YouTubeRequestError,
    error_from_response,
    parse_error_body,
)


def body(status: int, reason: str, message: str) -> bytes:
    return json.dumps({"error": {"code": status, "message": message,
                                 "errors": [{"message": message, "domain": "youtube.x", "reason": reason}]}}).encode()


NOW = datetime(2025, 1, 15, 3, 30, tzinfo=timezone.utc)


def test_quota_exceeded_says_when_it_resets_and_exits_4() -> None:
    error = error_from_response(403, body(403, "quotaExceeded", "exceeded your <a href='x'>quota</a>."),
                                call="videos.insert", now=NOW)
    assert isinstance(error, QuotaExceededError) and error.exit_code == 4
    assert "midnight Pacific time" in error.message and "2025-01-15 00:00 PST" in error.message


def test_upload_limit_says_wait_a_day_and_exits_4() -> None:
    error = error_from_response(400, body(400, "uploadLimitExceeded", "The user has exceeded..."), call="videos.insert")
    assert isinstance(error, UploadLimitError) and error.exit_code == 4 and "about a day" in error.message


@pytest.mark.parametrize("status, reason", [(403, "rateLimitExceeded"), (403, "userRateLimitExceeded"), (429, "")])
def test_rate_limits_are_transient_and_marked(status: int, reason: str) -> None:
    error = error_from_response(status, body(status, reason, "slow down") if reason else b"", call="x")
    assert isinstance(error, TransientError) and error.rate_limited


@pytest.mark.parametrize("reason, field", [("invalidTitle", "title"), ("invalidDescription", "description"),
                                           ("invalidTags", "tags"), ("invalidPublishAt", "publish_at"),
                                           ("invalidCategoryId", "category"), ("invalidFooBar", "foo_bar")])
def test_invalid_reasons_name_the_field_and_exit_3(reason: str, field: str) -> None:
    error = error_from_response(400, body(400, reason, "bad"), call="videos.insert")
    assert isinstance(error, MetadataRejectedError) and error.exit_code == 3
    assert error.field == field and reason in error.message and error.problems[0].startswith(f"{field}:")


def test_401_tells_the_user_to_log_in_again() -> None:
    error = error_from_response(401, body(401, "authError", "Invalid Credentials"), call="channels.list")
    assert isinstance(error, AuthorizationError) and error.exit_code == 4 and "wayfinder auth login" in error.message


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_transient(status: int) -> None:
    error = error_from_response(status, body(status, "backendError", "Backend Error"), call="videos.insert")
    assert isinstance(error, TransientError) and not error.rate_limited and error.status == status


def test_other_4xx_is_final_and_shows_youtubes_message() -> None:
    error = error_from_response(400, body(400, "badRequest", "The <b>request</b> is bad &amp; wrong."), call="thumbnails.set")
    assert type(error) is YouTubeRequestError and error.exit_code == 1
    assert "The request is bad & wrong." in error.message  # HTML removed, entities decoded


def test_404_is_not_found() -> None:
    assert isinstance(error_from_response(404, body(404, "playlistNotFound", "x"), call="playlistItems.insert"),
                      NotFoundError)


def test_parse_error_body_shapes() -> None:
    assert parse_error_body(b'{"error": "invalid_grant", "error_description": "Token expired"}') == ("invalid_grant", "Token expired")
    assert parse_error_body(b"<html>Bad gateway</html>") == (None, "Bad gateway")
    assert parse_error_body(None) == (None, "")
    details = b'{"error": {"message": "m", "details": [{"reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT"}]}}'
    assert parse_error_body(details) == ("ACCESS_TOKEN_SCOPE_INSUFFICIENT", "m")
