"""Whether the limiter can bring the programme to its loudness target (pure).

Peaky sound (sparse loud syllables over near-silence) gives back less and less loudness
for more gain once the limiter saturates: past some point every added dB only flattens
the peaks. The limiter's calibration measures (gain, loudness) points; from them this
module decides, before anything is encoded, that the target is out of reach, and says
what is reachable instead.
"""

from __future__ import annotations

import math

from pipeline.audio.gain import GainPlan
from pipeline.config import AudioSettings

# A limiter working normally gives back most of each added dB (speech at the bench's
# levels: 0.6 to 0.9 LU per dB); under this it only flattens the peaks (measured on
# sparse clicks over near-silence: 0.47, then 0.15 LU per dB).
FLAT_SLOPE_LU_PER_DB = 0.5
SUGGESTION_STEP_LU = 0.5


def loudness_slope(tries: list[tuple[float, float]]) -> float | None:
    """LU of loudness bought by each dB of gain between the two loudest measured gains."""
    ordered = sorted(tries)
    if len(ordered) < 2 or ordered[-1][0] - ordered[-2][0] < 1e-6:
        return None
    (g0, l0), (g1, l1) = ordered[-2], ordered[-1]
    return (l1 - l0) / (g1 - g0)


def reachable_target_lufs(plan: GainPlan, tries: list[tuple[float, float]], max_makeup_db: float) -> float | None:
    """The loudest measured loudness that a lower target would reach within the make-up
    allowed (a target T plans the gain T - measured, and may add max_makeup_db), rounded
    down to SUGGESTION_STEP_LU."""
    feasible = [lufs for gain_db, lufs in tries if gain_db - (lufs - plan.measured_lufs) <= max_makeup_db + 1e-6]
    if not feasible:
        return None
    return math.floor(max(feasible) / SUGGESTION_STEP_LU) * SUGGESTION_STEP_LU


def check_target_reachable(
    settings: AudioSettings, plan: GainPlan, tries: list[tuple[float, float]], max_makeup_db: float
) -> str | None:
    """None when the calibration landed (or the limiter still had loudness to give);
    otherwise why the target is out of reach, with what is reachable, as one line."""
    if not plan.limiter or len(tries) < 2:
        return None
    best_gain_db, best_lufs = max(tries, key=lambda t: t[1])
    if plan.landing_lufs - best_lufs <= settings.tolerance_lu:
        return None
    slope = loudness_slope(tries)
    at_makeup_cap = best_gain_db >= plan.gain_db + max_makeup_db - 1e-6
    if not at_makeup_cap and (slope is None or slope >= FLAT_SLOPE_LU_PER_DB):
        return None  # still climbing: the check of the encoded track settles it
    limiting_db = plan.measured_true_peak_dbtp + best_gain_db - (plan.limiter_ceiling_dbtp or 0.0)
    linear_lufs = plan.measured_lufs + plan.predicted_true_peak_dbtp - plan.measured_true_peak_dbtp
    slope_text = f", {slope:.2f} LU per added dB" if slope is not None else ""
    reachable = reachable_target_lufs(plan, tries, max_makeup_db)
    lower = f" or target_lufs = {reachable:g} or lower" if reachable is not None else " or a lower target_lufs"
    return (
        f"loudness target {plan.landing_lufs:g} LUFS is out of reach under the {settings.true_peak_dbtp:g} dBTP "
        f"ceiling: the limiter saturates (best {best_lufs:.1f} LUFS at {best_gain_db:+.1f} dB of gain, "
        f"which needs {limiting_db:.1f} dB of limiting{slope_text}); the sound is too peaky for this target: "
        f"set [audio] limiter_policy = \"lower-target\" (linear, lands at {linear_lufs:.1f} LUFS){lower}"
    )
