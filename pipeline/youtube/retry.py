"""Exponential backoff with full jitter, bounded, for YouTube calls that can be retried.

Only `TransientError` is retried (5xx, 429, rateLimitExceeded, network errors); every
other error is final. Rate limiting waits longer (4x) because the server asked for it.
`WAYFINDER_RETRY_BASE_S` scales every delay (tests set it tiny).
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from pipeline.youtube.errors import TransientError

T = TypeVar("T")

RETRY_BASE_ENV = "WAYFINDER_RETRY_BASE_S"
RATE_LIMIT_FACTOR = 4.0


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8  # tries in a row without progress, the first included
    base_delay_s: float = 1.0
    max_delay_s: float = 64.0

    @classmethod
    def from_env(cls, max_attempts: int = 8) -> RetryPolicy:
        base = os.environ.get(RETRY_BASE_ENV)
        return cls(max_attempts=max_attempts, base_delay_s=float(base) if base else 1.0)

    def delay_s(self, failures: int, *, rate_limited: bool = False, rand: Callable[[], float] = random.random) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2^(failures-1))]."""
        ceiling_s = min(self.max_delay_s, self.base_delay_s * 2 ** max(0, failures - 1))
        if rate_limited:
            ceiling_s = min(self.max_delay_s * RATE_LIMIT_FACTOR, ceiling_s * RATE_LIMIT_FACTOR)
        return rand() * ceiling_s


RetryNotice = Callable[[TransientError, int, float], None]


def call_with_retries(
    call: Callable[[], T],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: RetryNotice | None = None,
    before_retry: Callable[[], T | None] | None = None,
) -> T:
    """Run `call` until it succeeds, retrying TransientError with backoff.

    `before_retry`, if given, runs after the wait and may return a result that makes the
    retry unnecessary (e.g. the playlist item a dropped response had already created).
    """
    failures = 0
    while True:
        try:
            return call()
        except TransientError as error:
            failures += 1
            if failures >= policy.max_attempts:
                raise
            delay_s = policy.delay_s(failures, rate_limited=error.rate_limited)
            if on_retry is not None:
                on_retry(error, failures, delay_s)
            sleep(delay_s)
            if before_retry is not None:
                found = before_retry()
                if found is not None:
                    return found
