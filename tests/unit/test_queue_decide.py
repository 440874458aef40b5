"""What each kind of error means for a queued item and for the run."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from pipeline.errors import CredentialsError, InputError, ToolError
from pipeline.queue.decide import RetrySettings, decide
from pipeline.youtube.errors import (
    AuthorizationError,
    MetadataRejectedError,
    QuotaExceededError,
    SessionExpiredError,
    TransientError,
    UploadLimitError,
    YouTubeRequestError,
)
from pipeline.youtube.publish import ProcessingError, UploadBusyError

NOW = datetime(2025, 6, 2, 18, 0, tzinfo=timezone.utc)  # 11:00 PDT
SETTINGS = RetrySettings(retry_delay_s=60, max_retry_delay_s=600, max_failures=4, upload_limit_wait_s=7200)


def test_quota_exceeded_holds_everything_until_midnight_pacific() -> None:
    decision = decide(QuotaExceededError("quota"), now=NOW, failures=1, settings=SETTINGS)
    assert decision.action == "hold" and decision.hold == "quota" and decision.checks_too
    assert decision.until == datetime(2025, 6, 3, 7, 0, tzinfo=timezone.utc)  # 00:00 PDT
    assert not decision.stop_run


def test_upload_limit_holds_uploads_for_the_configured_time() -> None:
    decision = decide(UploadLimitError("limit"), now=NOW, failures=1, settings=SETTINGS)
    assert decision.action == "hold" and decision.hold == "upload_limit" and not decision.checks_too
    assert decision.until == NOW + timedelta(hours=2)
    assert decide(UploadLimitError("limit"), now=NOW, failures=1,
                  settings=RetrySettings()).until == NOW + timedelta(hours=24)


@pytest.mark.parametrize("error", [TransientError("503"), SessionExpiredError("gone"), UploadBusyError("busy"),
                                   OSError("disk")])
def test_retryable_errors_defer_with_doubling_delay_then_fail(error: BaseException) -> None:
    delays = [decide(error, now=NOW, failures=n, settings=SETTINGS).until for n in (1, 2, 3)]
    assert [d - NOW for d in delays] == [timedelta(seconds=60), timedelta(seconds=120), timedelta(seconds=240)]  # type: ignore[operator]
    last = decide(error, now=NOW, failures=4, settings=SETTINGS)
    assert last.action == "fail" and "gave up after 4 failed attempts" in last.reason


def test_the_delay_is_capped() -> None:
    decision = decide(TransientError("503"), now=NOW, failures=3, settings=RetrySettings(retry_delay_s=300,
                                                                                        max_retry_delay_s=900))
    assert decision.until == NOW + timedelta(seconds=900)


@pytest.mark.parametrize("error", [MetadataRejectedError("invalidTitle"), YouTubeRequestError("403 forbidden"),
                                   ProcessingError("rejected"), InputError("not media")])
def test_final_refusals_fail_the_item(error: BaseException) -> None:
    decision = decide(error, now=NOW, failures=1, settings=SETTINGS)
    assert decision.action == "fail" and decision.reason == error.one_line()  # type: ignore[attr-defined]


def test_a_step_failing_after_the_upload_is_retried_not_failed() -> None:
    error = YouTubeRequestError("uploaded as https://..., but thumbnail failed")
    assert decide(error, now=NOW, failures=1, settings=SETTINGS, video_uploaded=True).action == "defer"


@pytest.mark.parametrize("error", [CredentialsError("no credentials"), AuthorizationError("401"),
                                   ToolError("no ffmpeg"), KeyboardInterrupt()])
def test_credentials_tools_and_interrupts_give_the_item_back_and_stop(error: BaseException) -> None:
    decision = decide(error, now=NOW, failures=1, settings=SETTINGS)
    assert decision.action == "release" and decision.stop_run
