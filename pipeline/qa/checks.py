"""QA verdicts: measurements in, PASS / WARN / FAIL with a one-line reason out.

Owns: every rule that judges a file (which threshold, which severity, what the message
says), the result for a file that could not be measured, and the preset's
`warn_as_fail` strictness. Pure: no I/O, no decoding; `check_file` works on an
`Analysis` and `QaLimits`.

Values are rounded to 0.01 before they are compared, so the numbers a report shows
always agree with its verdicts (a true peak of -1.004 dBTP shows as -1.00 and passes a
-1.00 dBTP ceiling). Each check's `value` and `limit` are in its own unit: integrated
loudness is judged against the target (`limit`), with the tolerance in the message.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from pipeline.qa.analyse import Analysis
from pipeline.qa.detectors import merge_intervals
from pipeline.qa.model import (
    AUDIO_STREAM,
    CHANNEL_BALANCE,
    CLIPPING,
    DROPOUTS,
    DURATION,
    HUM,
    INTEGRATED_LOUDNESS,
    LIMITING,
    LEADING_SILENCE,
    LOUDNESS_RANGE,
    MAX_SHORT_TERM,
    PHASE,
    READABLE,
    TRAILING_SILENCE,
    TRUE_PEAK,
    CheckResult,
    FileResult,
    Moment,
    worst_status,
)
from pipeline.qa.settings import QaLimits

ABSOLUTE_GATE_LUFS = -70.0
MIN_BLOCK_S = 0.4
SHORT_TERM_WINDOW_S = 3.0
# Below this a mains tone is inaudible at any sane listening level, however clean the
# surroundings (a synthetic file can have a floor of nothing at all).
HUM_MIN_LEVEL_DBFS = -80.0
EPSILON = 1e-9
FOLD_DOWN_CANCELS_DB = 20.0


def r2(value: float) -> float:
    """Round to 0.01, the precision of every reported number."""
    return round(float(value), 2) + 0.0  # + 0.0 turns -0.0 into 0.0


def format_duration(seconds: float) -> str:
    if seconds < 60.0:
        return f"{seconds:.2f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes}:{rest:02d}"


def _check(name: str, status: str, value: float | None, limit: float | None, message: str,
           unit: str, moments: tuple[Moment, ...] = ()) -> CheckResult:
    return CheckResult(
        name=name,
        status=status,  # type: ignore[arg-type]
        value=None if value is None else r2(value),
        limit=None if limit is None else r2(limit),
        message=message,
        unit=unit,
        moments=tuple((r2(start), r2(end)) for start, end in moments),
    )


# ------------------------------------------------------------------ loudness


def check_integrated(a: Analysis, limits: QaLimits) -> CheckResult:
    target, tolerance = limits.target_lufs, limits.qa.tolerance_lu
    measured = a.loudness.integrated_lufs
    if measured is None:
        if a.loudness.sample_peak_dbfs is None:
            why = "the audio is digital silence"
        elif a.loudness.duration_s < MIN_BLOCK_S:
            why = f"the audio is shorter than one {MIN_BLOCK_S:.1f} s block"
        else:
            why = f"all of it is below the {ABSOLUTE_GATE_LUFS:.0f} LUFS gate (near silence)"
        return _check(INTEGRATED_LOUDNESS, "fail", None, target, f"no measurable loudness: {why}", "LUFS")
    value = r2(measured)
    deviation = r2(value - target)
    if abs(deviation) <= tolerance + EPSILON:
        message = f"{value:.2f} LUFS, within ±{tolerance:.2f} LU of the {target:.2f} LUFS target"
        return _check(INTEGRATED_LOUDNESS, "pass", value, target, message, "LUFS")
    side = "above" if deviation > 0 else "below"
    message = (f"{value:.2f} LUFS is {abs(deviation):.2f} LU {side} the {target:.2f} LUFS target "
               f"(±{tolerance:.2f} LU allowed)")
    return _check(INTEGRATED_LOUDNESS, "fail", value, target, message, "LUFS")


def check_true_peak(a: Analysis, limits: QaLimits) -> CheckResult:
    ceiling = limits.true_peak_dbtp
    measured = a.loudness.true_peak_dbtp
    if measured is None:
        return _check(TRUE_PEAK, "pass", None, ceiling, "no peak: the audio is digital silence", "dBTP")
    value = r2(measured)
    if value <= ceiling + EPSILON:
        return _check(TRUE_PEAK, "pass", value, ceiling, f"{value:.2f} dBTP, at or under the {ceiling:.2f} dBTP ceiling", "dBTP")
    where = a.clips.peak_time_s
    near = f" (loudest sample at {where:.2f} s)" if where is not None else ""
    message = f"{value:.2f} dBTP is {r2(value - ceiling):.2f} dB over the {ceiling:.2f} dBTP ceiling{near}"
    moments = ((where, where),) if where is not None else ()
    return _check(TRUE_PEAK, "fail", value, ceiling, message, "dBTP", moments)


def check_loudness_range(a: Analysis, limits: QaLimits) -> CheckResult:
    maximum = limits.qa.max_lra_lu
    measured = a.loudness.loudness_range_lu
    if measured is None:
        message = f"not measured: needs {SHORT_TERM_WINDOW_S:.0f} s of sound above the gate"
        return _check(LOUDNESS_RANGE, "pass", None, maximum, message, "LU")
    value = r2(measured)
    if value <= maximum + EPSILON:
        return _check(LOUDNESS_RANGE, "pass", value, maximum, f"{value:.2f} LU, within the {maximum:.2f} LU maximum", "LU")
    message = f"{value:.2f} LU is over the {maximum:.2f} LU maximum: the level varies too much for phone speakers"
    return _check(LOUDNESS_RANGE, "warn", value, maximum, message, "LU")


def _short_term_moments(a: Analysis, limit_lufs: float) -> tuple[Moment, ...]:
    series = a.loudness.short_term_lufs
    loud = np.flatnonzero(np.asarray(series, dtype=np.float64) > limit_lufs)
    if loud.size == 0:
        return ()
    ends = (loud + 1) * a.loudness.step_s
    starts = np.maximum(0.0, ends - SHORT_TERM_WINDOW_S)
    return tuple(merge_intervals(starts, ends, 0.0))


def check_max_short_term(a: Analysis, limits: QaLimits) -> CheckResult:
    above = limits.qa.max_short_term_above_target_lu
    limit = limits.target_lufs + above
    measured = a.loudness.max_short_term_lufs
    if measured is None:
        return _check(MAX_SHORT_TERM, "pass", None, limit, "not measured: no sound", "LUFS")
    value = r2(measured)
    excess = r2(value - limits.target_lufs)
    if value <= limit + EPSILON:
        message = f"loudest 3 s at {value:.2f} LUFS ({excess:+.2f} LU from the target; up to +{above:.2f} LU allowed)"
        return _check(MAX_SHORT_TERM, "pass", value, limit, message, "LUFS")
    message = (f"loudest 3 s reach {value:.2f} LUFS, {excess:.2f} LU above the {limits.target_lufs:.2f} LUFS "
               f"target (more than {above:.2f} LU): sudden loud moments")
    return _check(MAX_SHORT_TERM, "warn", value, limit, message, "LUFS", _short_term_moments(a, limit))


# ------------------------------------------------------------------ silence, dropouts, clipping


def _silent_file_check(name: str, a: Analysis, limit: float, threshold_dbfs: float) -> CheckResult:
    message = f"no sound above {threshold_dbfs:.0f} dBFS anywhere in the file"
    return _check(name, "warn", a.silence.duration_s, limit, message, "s", ((0.0, a.silence.duration_s),))


def check_leading_silence(a: Analysis, limits: QaLimits) -> CheckResult:
    limit, threshold = limits.qa.max_leading_silence_s, limits.qa.silence_threshold_dbfs
    if not a.silence.has_sound:
        return _silent_file_check(LEADING_SILENCE, a, limit, threshold)
    value = r2(a.silence.leading_silence_s)
    if value <= limit + EPSILON:
        return _check(LEADING_SILENCE, "pass", value, limit, f"sound starts at {value:.2f} s", "s")
    message = f"{value:.2f} s of silence (below {threshold:.0f} dBFS) before the sound starts (more than {limit:.2f} s)"
    return _check(LEADING_SILENCE, "warn", value, limit, message, "s", ((0.0, value),))


def check_trailing_silence(a: Analysis, limits: QaLimits) -> CheckResult:
    limit, threshold = limits.qa.max_trailing_silence_s, limits.qa.silence_threshold_dbfs
    if not a.silence.has_sound:
        return _silent_file_check(TRAILING_SILENCE, a, limit, threshold)
    value = r2(a.silence.trailing_silence_s)
    if value <= limit + EPSILON:
        return _check(TRAILING_SILENCE, "pass", value, limit, f"sound ends {value:.2f} s before the end", "s")
    duration = a.silence.duration_s
    message = f"{value:.2f} s of silence (below {threshold:.0f} dBFS) after the sound ends (more than {limit:.2f} s)"
    return _check(TRAILING_SILENCE, "warn", value, limit, message, "s", ((duration - value, duration),))


def check_dropouts(a: Analysis, limits: QaLimits) -> CheckResult:
    minimum = limits.qa.min_dropout_s
    s = a.silence
    if s.dropout_count == 0:
        message = f"no digital silence of {minimum:.2f} s or more inside the programme"
        return _check(DROPOUTS, "pass", 0.0, minimum, message, "s")
    first = s.dropout_moments[0][0] if s.dropout_moments else None
    at = f", first at {first:.2f} s" if first is not None else ""
    plural = "s" if s.dropout_count != 1 else ""
    message = (f"{s.dropout_count} dropout{plural} (digital silence inside the programme), "
               f"longest {s.longest_dropout_s:.2f} s{at}")
    return _check(DROPOUTS, "fail", s.longest_dropout_s, minimum, message, "s", s.dropout_moments)


def check_clipping(a: Analysis, limits: QaLimits) -> CheckResult:
    allowed, run = limits.qa.max_clip_runs, limits.qa.clip_run_samples
    c = a.clips
    if c.clip_count <= allowed:
        detail = "no" if c.clip_count == 0 else f"{c.clip_count} (up to {allowed} allowed)"
        return _check(CLIPPING, "pass", c.clip_count, allowed, f"{detail} runs of {run} or more full-scale samples", "clips")
    at = f", first at {c.first_clip_s:.2f} s" if c.first_clip_s is not None else ""
    plural = "s" if c.clip_count != 1 else ""
    message = f"clipped: {c.clip_count} run{plural} of {run} or more full-scale samples{at}"
    return _check(CLIPPING, "fail", c.clip_count, allowed, message, "clips", c.clip_moments)


# ------------------------------------------------------------------ channels


def check_channel_balance(a: Analysis, limits: QaLimits) -> CheckResult:
    imbalance, silent = limits.qa.channel_imbalance_db, limits.qa.channel_silent_db
    if a.front_pair is None:
        return _check(CHANNEL_BALANCE, "pass", None, imbalance, f"{a.stream.channels} channel(s): no left/right pair to compare", "dB")
    names = a.loudness.channel_names
    left, right = names.index(a.front_pair[0]), names.index(a.front_pair[1])
    peaks = a.loudness.channel_sample_peak_dbfs
    levels = a.loudness.channel_integrated_lufs
    pair = (a.front_pair[0], a.front_pair[1])
    if peaks[left] is None and peaks[right] is None:
        return _check(CHANNEL_BALANCE, "pass", None, imbalance, "not measured: both channels are digital silence", "dB")
    for quiet, other in ((left, right), (right, left)):
        if peaks[quiet] is None:
            return _check(CHANNEL_BALANCE, "fail", None, silent, f"{names[quiet]} is silent (digital silence) while {names[other]} is not", "dB")
    if levels[left] is None and levels[right] is None:
        return _check(CHANNEL_BALANCE, "pass", None, imbalance, "not measured: both channels are below the -70 LUFS gate", "dB")
    for quiet, other in ((left, right), (right, left)):
        if levels[quiet] is None:
            message = f"{names[quiet]} is silent (below the {ABSOLUTE_GATE_LUFS:.0f} LUFS gate) while {names[other]} is not"
            return _check(CHANNEL_BALANCE, "fail", None, silent, message, "dB")
    left_lufs, right_lufs = float(levels[left]), float(levels[right])  # type: ignore[arg-type]
    difference = r2(abs(left_lufs - right_lufs))
    quieter, louder = (pair[1], pair[0]) if right_lufs < left_lufs else (pair[0], pair[1])
    if difference >= silent - EPSILON:
        return _check(CHANNEL_BALANCE, "fail", difference, silent,
                      f"{quieter} is {difference:.2f} dB quieter than {louder}: effectively silent", "dB")
    if difference > imbalance + EPSILON:
        return _check(CHANNEL_BALANCE, "warn", difference, imbalance,
                      f"{quieter} is {difference:.2f} dB quieter than {louder} (more than {imbalance:.2f} dB)", "dB")
    return _check(CHANNEL_BALANCE, "pass", difference, imbalance, f"{pair[0]} and {pair[1]} within {difference:.2f} dB", "dB")


def _fold_down_text(loss_db: float | None) -> str:
    if loss_db is None:
        return "the mono fold-down cancels completely"
    if loss_db >= FOLD_DOWN_CANCELS_DB:
        return f"the mono fold-down cancels almost completely ({r2(loss_db):.2f} dB lost)"
    return f"the mono fold-down loses {r2(loss_db):.2f} dB"


def check_phase(a: Analysis, limits: QaLimits) -> CheckResult:
    minimum, longest = limits.qa.phase_correlation_min, limits.qa.max_out_of_phase_s
    if a.phase is None or a.front_pair is None:
        return _check(PHASE, "pass", None, minimum, f"{a.stream.channels} channel(s): no left/right pair to compare", "")
    p = a.phase
    left, right = a.front_pair
    if p.correlation is None:
        return _check(PHASE, "pass", None, minimum, f"not measured: no passage where both {left} and {right} carry sound", "")
    value = r2(p.correlation)
    fold = _fold_down_text(p.fold_down_loss_db)
    if value < minimum - EPSILON:
        message = f"{left} and {right} are out of phase (correlation {value:.2f}, under {minimum:.2f}): {fold}"
        return _check(PHASE, "fail", value, minimum, message, "", p.out_of_phase_moments)
    if p.out_of_phase_s >= longest - EPSILON:
        message = (f"{left} and {right} are out of phase for {p.out_of_phase_s:.2f} s "
                   f"(correlation under {minimum:.2f} there; {value:.2f} overall)")
        return _check(PHASE, "fail", value, minimum, message, "", p.out_of_phase_moments)
    return _check(PHASE, "pass", value, minimum, f"correlation {value:.2f}; {fold}", "")


def check_hum(a: Analysis, limits: QaLimits) -> CheckResult:
    threshold = limits.qa.hum_above_floor_db
    peaks = a.hum.peaks
    if not peaks:
        return _check(HUM, "pass", None, threshold, "not measured: too short for a spectrum", "dB")

    def audible(peak_level: float | None, above_db: float) -> bool:
        return peak_level is not None and peak_level >= HUM_MIN_LEVEL_DBFS and above_db >= threshold - EPSILON

    fundamentals = [p for p in peaks if p.harmonic == 1]
    strongest = max(fundamentals, key=lambda p: p.above_floor_db if p.level_dbfs is not None else -math.inf)
    if not audible(strongest.level_dbfs, strongest.above_floor_db):
        readings = ", ".join(f"{p.mains_hz:.0f} Hz {p.above_floor_db:.1f} dB" for p in fundamentals)
        return _check(HUM, "pass", strongest.above_floor_db, threshold,
                      f"no mains hum ({readings} above the noise floor)", "dB")
    harmonics = [p for p in peaks if p.mains_hz == strongest.mains_hz and p.harmonic > 1
                 and audible(p.level_dbfs, p.above_floor_db)]
    also = f"; harmonics at {', '.join(f'{p.mains_hz * p.harmonic:.0f}' for p in harmonics)} Hz" if harmonics else ""
    message = (f"{strongest.mains_hz:.0f} Hz mains hum at {strongest.level_dbfs:.1f} dBFS, "
               f"{strongest.above_floor_db:.1f} dB above the noise floor{also}")
    return _check(HUM, "warn", strongest.above_floor_db, threshold, message, "dB")


def check_duration(a: Analysis, limits: QaLimits) -> CheckResult:
    limit = limits.qa.max_duration_s or None  # 0 means no limit
    value = a.loudness.duration_s
    if limit is None:
        return _check(DURATION, "pass", value, None, f"{format_duration(value)}; no length limit in this preset", "s")
    if value <= limit + EPSILON:
        return _check(DURATION, "pass", value, limit, f"{format_duration(value)}, within the {format_duration(limit)} limit", "s")
    message = f"{format_duration(value)} long, over the {format_duration(limit)} limit for short content"
    return _check(DURATION, "warn", value, limit, message, "s")


def check_limiting(a: Analysis, limits: QaLimits) -> CheckResult:
    limit = limits.qa.max_limiting_db
    found = a.limiting
    if found is None:
        return _check(LIMITING, "pass", None, limit, "not known: no render report beside the file describes it", "dB")
    if not found.limiter:
        return _check(LIMITING, "pass", 0.0, limit, "the render applied no limiter", "dB")
    value = r2(found.limiting_db)
    if value <= limit + EPSILON:
        return _check(LIMITING, "pass", value, limit,
                      f"the render's limiter took up to {value:.2f} dB off the loudest peaks (at most {limit:.2f})", "dB")
    message = (f"the render's limiter took up to {value:.2f} dB off the loudest peaks, over {limit:.2f} dB: speech can "
               "sound squashed; record louder or closer, or render with [audio] limiter_policy = \"lower-target\"")
    return _check(LIMITING, "warn", value, limit, message, "dB")


CHECKS: tuple[Callable[[Analysis, QaLimits], CheckResult], ...] = (
    check_integrated,
    check_true_peak,
    check_loudness_range,
    check_max_short_term,
    check_leading_silence,
    check_trailing_silence,
    check_dropouts,
    check_clipping,
    check_channel_balance,
    check_phase,
    check_hum,
    check_duration,
    check_limiting,
)


def apply_strictness(check: CheckResult, limits: QaLimits) -> CheckResult:
    """A preset's `warn_as_fail` turns the named checks' warnings into failures."""
    if check.status != "warn" or check.name not in limits.qa.warn_as_fail:
        return check
    return CheckResult(check.name, "fail", check.value, check.limit,
                       f"{check.message} (a failure under preset {limits.preset})", check.unit, check.moments)


def _round_or_none(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else r2(value)


def check_file(a: Analysis, limits: QaLimits) -> FileResult:
    """Every check on one measured file."""
    checks = tuple(apply_strictness(check(a, limits), limits) for check in CHECKS)
    loud = a.loudness
    return FileResult(
        path=a.path,
        status=worst_status(c.status for c in checks),
        duration_s=r2(loud.duration_s),
        checks=checks,
        error=None,
        integrated_lufs=_round_or_none(loud.integrated_lufs),
        loudness_range_lu=_round_or_none(loud.loudness_range_lu),
        true_peak_dbtp=_round_or_none(loud.true_peak_dbtp),
        sample_peak_dbfs=_round_or_none(loud.sample_peak_dbfs),
        max_momentary_lufs=_round_or_none(loud.max_momentary_lufs),
        max_short_term_lufs=_round_or_none(loud.max_short_term_lufs),
        sample_rate_hz=loud.sample_rate_hz,
        channel_names=loud.channel_names,
        momentary_lufs=loud.momentary_lufs,
        short_term_lufs=loud.short_term_lufs,
        step_s=loud.step_s,
        peak_time_s=a.clips.peak_time_s,
    )


def unmeasured_file(path: str, error: str, *, no_audio: bool, duration_s: float = 0.0) -> FileResult:
    """The result for a file that could not be measured: one failing check saying why."""
    if no_audio:
        check = _check(AUDIO_STREAM, "fail", None, None, "no audio stream: nothing to measure", "")
    else:
        check = _check(READABLE, "fail", None, None, f"cannot read the audio: {error}", "")
    return FileResult(path=path, status="fail", duration_s=r2(duration_s), checks=(check,), error=error)
