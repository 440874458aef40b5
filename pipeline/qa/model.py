"""The results of a QA run: verdicts, checks, per-file results and the whole report.

Owns: the names of the checks (a contract: they appear in JSON, JUnit and presets'
`warn_as_fail`), the verdict order (pass < warn < fail), and the plain frozen
dataclasses every report writer reads. Nothing here measures or formats anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Status = Literal["pass", "warn", "fail"]
STATUS_ORDER: dict[str, int] = {"pass": 0, "warn": 1, "fail": 2}

# Check names, in the order they are reported.
INTEGRATED_LOUDNESS = "integrated_loudness"
TRUE_PEAK = "true_peak"
LOUDNESS_RANGE = "loudness_range"
MAX_SHORT_TERM = "max_short_term"
LEADING_SILENCE = "leading_silence"
TRAILING_SILENCE = "trailing_silence"
DROPOUTS = "dropouts"
CLIPPING = "clipping"
CHANNEL_BALANCE = "channel_balance"
PHASE = "phase"
HUM = "hum"
DURATION = "duration"
LIMITING = "limiting"
# Only for files with a caption file beside them (pipeline.qa.captions).
CAPTIONS = "captions"
# Only for files that could not be measured: one failing check that says why.
AUDIO_STREAM = "audio_stream"
READABLE = "readable"

MEASURED_CHECKS: tuple[str, ...] = (
    INTEGRATED_LOUDNESS, TRUE_PEAK, LOUDNESS_RANGE, MAX_SHORT_TERM, LEADING_SILENCE,
    TRAILING_SILENCE, DROPOUTS, CLIPPING, CHANNEL_BALANCE, PHASE, HUM, DURATION, LIMITING,
)
ALL_CHECKS: tuple[str, ...] = (*MEASURED_CHECKS, CAPTIONS, AUDIO_STREAM, READABLE)

# A moment on the timeline a check points at: (start_s, end_s).
Moment = tuple[float, float]


def worst_status(statuses: Iterable[str]) -> Status:
    """The most severe of `statuses` ("pass" for none)."""
    worst: Status = "pass"
    for status in statuses:
        if STATUS_ORDER[status] > STATUS_ORDER[worst]:
            worst = status  # type: ignore[assignment]
    return worst


@dataclass(frozen=True)
class CheckResult:
    """One check on one file: verdict, the measured value and what it was judged against.

    `value` and `limit` are in the check's own unit (named in `unit`); `moments` are the
    stretches of the timeline the check found at fault, for marking on plots.
    """

    name: str
    status: Status
    value: float | None
    limit: float | None
    message: str
    unit: str = ""
    moments: tuple[Moment, ...] = ()


@dataclass(frozen=True, eq=False)
class FileResult:
    """Everything QA found on one file. Loudness fields are None when not measurable."""

    path: str
    status: Status
    duration_s: float
    checks: tuple[CheckResult, ...]
    error: str | None = None
    integrated_lufs: float | None = None
    loudness_range_lu: float | None = None
    true_peak_dbtp: float | None = None
    sample_peak_dbfs: float | None = None
    max_momentary_lufs: float | None = None
    max_short_term_lufs: float | None = None
    sample_rate_hz: int | None = None
    channel_names: tuple[str, ...] = ()
    # Loudness over time, one value per `step_s` (may hold -inf for digital silence).
    momentary_lufs: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32), repr=False)
    short_term_lufs: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32), repr=False)
    step_s: float = 0.1
    peak_time_s: float | None = None
    analysis_s: float = 0.0  # time spent measuring this file

    def check(self, name: str) -> CheckResult | None:
        return next((c for c in self.checks if c.name == name), None)

    def problems(self) -> list[CheckResult]:
        """Checks that did not pass, failures first."""
        bad = [c for c in self.checks if c.status != "pass"]
        return sorted(bad, key=lambda c: -STATUS_ORDER[c.status])


@dataclass(frozen=True)
class QaSummary:
    files: int
    passed: int
    warned: int
    failed: int


@dataclass(frozen=True, eq=False)
class QaReport:
    """A QA run over many files, in the order the files were found."""

    preset: str
    target_lufs: float
    true_peak_dbtp: float
    tolerance_lu: float
    files: tuple[FileResult, ...]

    @property
    def summary(self) -> QaSummary:
        counts = {"pass": 0, "warn": 0, "fail": 0}
        for result in self.files:
            counts[result.status] += 1
        return QaSummary(len(self.files), counts["pass"], counts["warn"], counts["fail"])

    @property
    def failed(self) -> bool:
        return any(result.status == "fail" for result in self.files)
