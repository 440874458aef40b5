"""The checks a queued item passes right before it is uploaded.

1. **The files are the ones that were queued.** The video, and any caption or
   thumbnail file, is hashed again (not trusted to a size-and-time cache); a file that
   is missing or whose sha256 differs from the one taken at `queue add` is not uploaded.
2. **The audio is loud enough and not too loud** (the QA gate, unless `--skip-qa`):
   integrated loudness within the QA tolerance of the preset's `target_lufs`, and true
   peak at or under its `true_peak_dbtp`. The numbers come from the render report beside
   the file (`<video>.wayfinder.json`) when that report records this very file's sha256
   (`output.sha256`); otherwise the file is measured now with `pipeline.qa` (or, if that
   is not installed, with the loudness meter). Only loudness decides here: the full QA
   report (`wayfinder qa`) covers silence, clipping, hum and the rest.

`wayfinder upload` applies the same loudness gate before it reads credentials
(`require_loudness`), so a raw recording is not published by a direct upload either.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import EXIT_FAILED, WayfinderError
from pipeline.state import sha256_of_file

# R128 allows +-1 LU where exact normalization is not feasible; used when pipeline.qa
# (which owns the tolerance) is not installed.
FALLBACK_TOLERANCE_LU = 1.0
GATE_CHECKS = ("integrated_loudness", "true_peak", "audio_stream", "readable")


def check_files_unchanged(files: dict[str, dict[str, Any]]) -> str | None:
    """Why the upload must not go ahead (a file missing or changed), or None."""
    for role, entry in files.items():
        path = Path(entry["path"])
        if not path.is_file():
            return f"{role} file {path} is missing (it was there when the item was queued); not uploaded"
        if path.stat().st_size != int(entry["size_bytes"]) or sha256_of_file(path) != entry["sha256"]:
            return (f"{path.name} changed on disk since it was queued (sha256 {entry['sha256'][:12]}… then, "
                    f"now different); not uploaded: queue it again to upload the new version")
    return None


@dataclass(frozen=True)
class QaLimitsUsed:
    target_lufs: float
    tolerance_lu: float
    true_peak_dbtp: float


@dataclass(frozen=True)
class GateVerdict:
    passed: bool
    reason: str | None
    source: str  # "render report <name>" or "measured"
    integrated_lufs: float | None
    true_peak_dbtp: float | None
    file_sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "reason": self.reason, "source": self.source,
                "integrated_lufs": self.integrated_lufs, "true_peak_dbtp": self.true_peak_dbtp,
                "file_sha256": self.file_sha256}


def _qa_missing(exc: ModuleNotFoundError) -> bool:
    """True when pipeline.qa itself is absent (not when something inside it is broken)."""
    return bool(exc.name) and (exc.name == "pipeline.qa" or exc.name.startswith("pipeline.qa."))


def load_limits(preset: str) -> QaLimitsUsed:
    try:
        from pipeline.qa.limits import load_qa_limits
    except ModuleNotFoundError as exc:
        if not _qa_missing(exc):
            raise
        from pipeline.config import load_preset_settings

        audio = load_preset_settings(preset).audio
        return QaLimitsUsed(audio.target_lufs, FALLBACK_TOLERANCE_LU, audio.true_peak_dbtp)
    limits = load_qa_limits(preset)
    return QaLimitsUsed(limits.target_lufs, limits.qa.tolerance_lu, limits.true_peak_dbtp)


def judge_loudness(integrated_lufs: float | None, true_peak_dbtp: float | None,
                   limits: QaLimitsUsed) -> list[str]:
    """Problems with these numbers against the limits (rounded to 0.01 as QA reports them)."""
    problems: list[str] = []
    if integrated_lufs is None:
        problems.append("no measurable loudness (silent audio)")
    else:
        deviation = round(round(integrated_lufs, 2) - limits.target_lufs, 2)
        if abs(deviation) > limits.tolerance_lu + 1e-9:
            side = "above" if deviation > 0 else "below"
            problems.append(f"{integrated_lufs:.2f} LUFS is {abs(deviation):.2f} LU {side} the "
                            f"{limits.target_lufs:.2f} LUFS target (±{limits.tolerance_lu:.2f} LU allowed)")
    if true_peak_dbtp is not None and round(true_peak_dbtp, 2) > limits.true_peak_dbtp + 1e-9:
        problems.append(f"true peak {true_peak_dbtp:.2f} dBTP is over the {limits.true_peak_dbtp:.2f} dBTP ceiling")
    return problems


def render_report_numbers(video: Path, file_sha256: str) -> tuple[str, float | None, float | None] | None:
    """(report name, integrated LUFS, true peak dBTP) from a render report of exactly this file, if any."""
    from pipeline.youtube.record import render_report_candidates, report_loudness

    for candidate in render_report_candidates(video):
        try:
            report = json.loads(candidate.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        numbers = report_loudness(report, file_sha256)
        if numbers is not None:
            return candidate.name, numbers.get("integrated_lufs"), numbers.get("true_peak_dbtp")
    return None


def _measure(video: Path, preset: str, limits: QaLimitsUsed) -> tuple[list[str], float | None, float | None]:
    try:
        from pipeline.qa.run import run_qa
    except ModuleNotFoundError as exc:
        if not _qa_missing(exc):
            raise
        return _measure_with_meter(video, limits)
    [result] = run_qa([video], preset, jobs=1).files
    problems = [check.message for check in result.checks if check.name in GATE_CHECKS and check.status == "fail"]
    return problems, result.integrated_lufs, result.true_peak_dbtp


def _measure_with_meter(video: Path, limits: QaLimitsUsed) -> tuple[list[str], float | None, float | None]:
    from pipeline.audio.meter import measure_file
    from pipeline.errors import WayfinderError

    try:
        result = measure_file(video)
    except WayfinderError as error:
        return [f"cannot measure the audio: {error.one_line()}"], None, None
    return (judge_loudness(result.integrated_lufs, result.true_peak_dbtp, limits), result.integrated_lufs,
            result.true_peak_dbtp)


def check_loudness(video: Path, file_sha256: str, preset: str) -> GateVerdict:
    """The QA gate's verdict on `video` against preset `preset`."""
    limits = load_limits(preset)
    from_report = render_report_numbers(video, file_sha256)
    if from_report is not None:
        name, integrated, peak = from_report
        problems = judge_loudness(integrated, peak, limits)
        source = f"render report {name}"
    else:
        problems, integrated, peak = _measure(video, preset, limits)
        source = "measured"
    reason = None
    if problems:
        reason = f"QA ({source}, preset {preset}): " + "; ".join(problems)
    return GateVerdict(passed=not problems, reason=reason, source=source, integrated_lufs=integrated,
                       true_peak_dbtp=peak, file_sha256=file_sha256)


class QaGateError(WayfinderError):
    """The file fails the loudness gate and `--skip-qa` was not given (exit 1, as failed QA)."""

    exit_code = EXIT_FAILED


def require_loudness(video: Path, preset: str) -> GateVerdict:
    """The gate's verdict on `video`, or QaGateError saying which report failed or is missing."""
    from pipeline.youtube.record import render_report_candidates

    verdict = check_loudness(video, sha256_of_file(video), preset)
    if verdict.passed:
        return verdict
    if verdict.source == "measured":
        report = render_report_candidates(video)[0].name
        where = f"no render report of this exact file ({report}), so it was measured now and fails"
    else:
        where = f"its {verdict.source} fails"
    raise QaGateError(f"not uploaded: {where} the loudness gate: {verdict.reason}; render it with `wayfinder render` "
                      "(or fix the audio), or upload anyway with --skip-qa", file=video.name)
