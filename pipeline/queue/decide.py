"""What an error during an item's upload means for the item, and for the run.

| error | item | everything else |
|---|---|---|
| `quotaExceeded` | deferred to the next reset (midnight Pacific) | every waiting item too, and processing checks |
| `uploadLimitExceeded` | deferred by the upload-limit wait (default 24 h) | every waiting upload too |
| retryable (5xx, network, expired session, the file busy in another upload, a step after the upload) | deferred with backoff, `failed` after too many attempts | goes on |
| credentials (missing, refused, revoked), a missing tool, an interrupt | given back untouched (pending, resumable) | the run stops |
| anything YouTube or the checks refuse for good (invalid fields, other 4xx, processing failed) | `failed` with the reason | goes on |

Pure: the runner applies the decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pipeline.errors import Cancelled, QuotaError, WayfinderError
from pipeline.youtube.errors import (
    QuotaExceededError,
    SessionExpiredError,
    TransientError,
    UploadLimitError,
    YouTubeRequestError,
)
from pipeline.queue.model import QUOTA_HOLD, UPLOAD_LIMIT_HOLD
from pipeline.youtube.quota import next_reset


@dataclass(frozen=True)
class RetrySettings:
    retry_delay_s: float = 300.0  # first wait after a retryable failure; doubles per attempt
    max_retry_delay_s: float = 3600.0
    max_failures: int = 8  # this many retryable errors in a row end `failed`
    upload_limit_wait_s: float = 24 * 3600.0  # YouTube: the channel limit lifts after about a day


@dataclass(frozen=True)
class Decision:
    action: Literal["defer", "fail", "release", "hold"]
    reason: str
    until: datetime | None = None
    hold: str | None = None
    checks_too: bool = False  # the hold also stops processing checks (they spend quota)
    stop_run: bool = False


def retry_delay_s(failures: int, settings: RetrySettings) -> float:
    return min(settings.max_retry_delay_s, settings.retry_delay_s * 2 ** max(0, failures - 1))


def decide(error: BaseException, *, now: datetime, failures: int, settings: RetrySettings,
           video_uploaded: bool = False) -> Decision:
    """The decision for `error`, which is the item's `failures`-th retryable-looking failure in a row."""
    message = error.one_line() if isinstance(error, WayfinderError) else f"{type(error).__name__}: {error}"
    if isinstance(error, QuotaExceededError):
        until = next_reset(now)
        return Decision("hold", f"YouTube says the daily quota is spent (quotaExceeded); everything waits for the "
                                f"reset at {until:%Y-%m-%d %H:%M %Z}", until=until, hold=QUOTA_HOLD, checks_too=True)
    if isinstance(error, UploadLimitError):
        until = now + timedelta(seconds=settings.upload_limit_wait_s)
        hours = settings.upload_limit_wait_s / 3600
        return Decision("hold", f"YouTube says this channel reached its upload limit (uploadLimitExceeded); uploads "
                                f"wait {hours:g} h", until=until, hold=UPLOAD_LIMIT_HOLD)
    if isinstance(error, (KeyboardInterrupt, Cancelled)):
        return Decision("release", "interrupted: the upload resumes where it stopped on the next run", stop_run=True)
    if isinstance(error, WayfinderError) and error.fatal and not isinstance(error, QuotaError):
        return Decision("release", message, stop_run=True)
    retryable = isinstance(error, (TransientError, SessionExpiredError)) or not isinstance(error, WayfinderError)
    if _is_busy(error) or (video_uploaded and isinstance(error, YouTubeRequestError)):
        retryable = True
    if not retryable:
        return Decision("fail", message)
    if failures >= settings.max_failures:
        return Decision("fail", f"gave up after {failures} failed attempts in a row: {message}")
    delay_s = retry_delay_s(failures, settings)
    return Decision("defer", f"{message}; trying again in {_duration(delay_s)}",
                    until=now + timedelta(seconds=delay_s))


def _is_busy(error: BaseException) -> bool:
    from pipeline.youtube.publish import UploadBusyError

    return isinstance(error, UploadBusyError)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
