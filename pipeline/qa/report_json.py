"""The JSON contract of `wayfinder qa --json` (documented in the README's "Loudness QA").

Owns: turning a `QaReport` into exactly the documented shape — top-level `files` and
`summary`, per file `path`, `status`, `duration_s`, the six loudness numbers, `checks`
(`name`, `status`, `value`, `limit`, `message`) and `error` — with every number rounded
to 0.01 and unmeasurable values as null. Nothing else goes in: consumers may rely on
the keys being exactly these.
"""

from __future__ import annotations

import json
import math
from typing import Any

from pipeline.qa.model import CheckResult, FileResult, QaReport

LOUDNESS_KEYS = (
    "integrated_lufs",
    "loudness_range_lu",
    "true_peak_dbtp",
    "sample_peak_dbfs",
    "max_momentary_lufs",
    "max_short_term_lufs",
)


def _number(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), 2) + 0.0


def build_check_dict(check: CheckResult) -> dict[str, Any]:
    return {
        "name": check.name,
        "status": check.status,
        "value": _number(check.value),
        "limit": _number(check.limit),
        "message": check.message,
    }


def build_file_dict(result: FileResult) -> dict[str, Any]:
    data: dict[str, Any] = {
        "path": result.path,
        "status": result.status,
        "duration_s": _number(result.duration_s) or 0.0,
    }
    for key in LOUDNESS_KEYS:
        data[key] = _number(getattr(result, key))
    data["checks"] = [build_check_dict(check) for check in result.checks]
    data["error"] = result.error
    return data


def build_report_dict(report: QaReport) -> dict[str, Any]:
    summary = report.summary
    return {
        "files": [build_file_dict(result) for result in report.files],
        "summary": {"files": summary.files, "pass": summary.passed, "warn": summary.warned, "fail": summary.failed},
    }


def format_report_json(report: QaReport, *, indent: int | None = 2) -> str:
    return json.dumps(build_report_dict(report), indent=indent, ensure_ascii=False)
