"""The closed loop: measure the ENCODED output, and correct it at most once.

The numbers reported are those of the file that ships. If the encoded audio misses the
target by more than the tolerance, or its true peak is over the ceiling (lossy encoding
can raise peaks), one more pass re-processes only the audio (the video stream is copied)
with a corrective gain, and a limiter with extra margin for the encoder's overshoot if
the peak needs it. If that still fails, the job fails with both measurements.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from pipeline.audio.analysis import analyse_audio
from pipeline.audio.chain import build_audio_fix_args, build_measure_args
from pipeline.audio.gain import build_gain_filters, check_landing, plan_gain
from pipeline.audio.measure import measure_pass
from pipeline.audio.prepare import AudioPrep, calibrate_limited_gain
from pipeline.config import AudioSettings
from pipeline.errors import VerifyError
from pipeline.filters import Filter
from pipeline.media import run_ffmpeg


def _numbers(loudness: object) -> dict[str, object]:
    data = loudness.to_dict()  # type: ignore[attr-defined]
    return {"integrated_lufs": data["integrated_lufs"], "true_peak_dbtp": data["true_peak_dbtp"]}


def verify_and_correct(
    partial: Path,
    muxer: str,
    settings: AudioSettings,
    prep: AudioPrep,
    *,
    duration_s: float,
    file: Path,
    on_note: Callable[[str], None] = lambda _text: None,
) -> dict[str, object]:
    """Measure `partial` (the encoded output) and correct it in place if needed."""
    assert prep.gain is not None
    landing = prep.gain.landing_lufs
    first = analyse_audio(partial, hum_min_prominence_db=settings.hum_min_prominence_db)
    report: dict[str, object] = {
        "target_lufs": round(landing, 2),
        "tolerance_lu": settings.tolerance_lu,
        "ceiling_dbtp": settings.true_peak_dbtp,
        "first_pass": _numbers(first.loudness),
        "corrected": False,
    }
    problems = check_landing(settings, landing, first.loudness.integrated_lufs, first.loudness.true_peak_dbtp)
    if not problems:
        report["output"] = first.to_dict()
        return report

    on_note("encoded output off target (" + "; ".join(problems) + "): one audio-only correction pass")
    overshoot_db = max(0.0, (first.loudness.true_peak_dbtp or 0.0) - prep.gain.predicted_true_peak_dbtp)
    fix = plan_gain(
        settings.model_copy(update={"target_lufs": landing, "limiter_policy": "limit"}),
        first.loudness.integrated_lufs,
        first.loudness.true_peak_dbtp,
        extra_margin_db=overshoot_db,
        file=str(file),
    )
    # The encoded file is already 48 kHz in the output layout: the format step is a no-op.
    def measure_with(gain_filters: list[Filter]) -> float | None:
        args = build_measure_args(partial, None, settings, gain_filters)
        return measure_pass(args, settings, duration_s=duration_s, file=file).integrated_lufs

    fix = calibrate_limited_gain(measure_with, settings, fix)
    fixed = partial.with_name(partial.name + ".fix")
    try:
        run_ffmpeg(
            build_audio_fix_args(partial, fixed, muxer, settings, build_gain_filters(fix, settings.sample_rate_hz)),
            total_s=duration_s,
            what="loudness correction",
            file=file,
        )
        os.replace(fixed, partial)
    finally:
        if fixed.exists():
            fixed.unlink()
    second = analyse_audio(partial, hum_min_prominence_db=settings.hum_min_prominence_db)
    report.update({"corrected": True, "correction": fix.to_dict(), "output": second.to_dict()})
    still = check_landing(settings, landing, second.loudness.integrated_lufs, second.loudness.true_peak_dbtp)
    if still:
        raise VerifyError(
            "encoded audio misses its target even after one correction: "
            f"first pass I={first.loudness.integrated_lufs:.2f} LUFS TP={first.loudness.true_peak_dbtp:.2f} dBTP, "
            f"corrected I={second.loudness.integrated_lufs:.2f} LUFS TP={second.loudness.true_peak_dbtp:.2f} dBTP "
            f"(target {landing:.2f} ±{settings.tolerance_lu:g} LU, ceiling {settings.true_peak_dbtp:g} dBTP)",
            file=file,
            field="audio",
        )
    return report
