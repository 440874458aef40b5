"""Whether the limiter can reach the loudness target, decided from the calibration's
measured (gain, loudness) points (issue 12: peaky sound must be told up front)."""

from __future__ import annotations

import pytest

from pipeline.audio.gain import plan_gain
from pipeline.audio.prepare import MAX_MAKEUP_DB, measure_limited_gain
from pipeline.audio.reach import check_target_reachable, loudness_slope, reachable_target_lufs
from pipeline.config import AudioSettings

SETTINGS = AudioSettings()  # -14 LUFS, -1 dBTP, 0.5 dB encoder margin


def saturating(gain_db: float) -> float:
    """Sparse clicks: measured -31.7 LUFS with peaks at -6.3 dBTP; the limiter gives back
    1 LU per dB up to +13 dB, then 0.2 LU per dB."""
    return -31.7 + min(gain_db, 13.0) + 0.2 * max(0.0, gain_db - 13.0)


def volume_db(filters: list[tuple[str, dict[str, object]]]) -> float:
    return float(str(filters[0][1]["volume"]).removesuffix("dB"))


def test_a_saturating_limiter_is_out_of_reach_with_what_is_reachable() -> None:
    plan = plan_gain(SETTINGS, -31.7, -6.3)  # +17.7 dB puts the peak at +11.4 dBTP
    _, tries = measure_limited_gain(lambda f: saturating(volume_db(f)), SETTINGS, plan)
    assert max(g for g, _ in tries) == pytest.approx(plan.gain_db + MAX_MAKEUP_DB)
    assert loudness_slope(tries) == pytest.approx(0.2)
    problem = check_target_reachable(SETTINGS, plan, tries, MAX_MAKEUP_DB)
    assert problem is not None
    # best: +23.7 dB gives -31.7 + 13 + 0.2 * 10.7 = -16.56 LUFS; its peaks +17.4 dBTP
    # over a -1.5 ceiling: 18.9 dB of limiting
    assert "-14 LUFS is out of reach" in problem and "best -16.6 LUFS at +23.7 dB" in problem
    assert "18.9 dB of limiting" in problem
    # linear: peak -6.3 -> -1.5 is +4.8 dB, so -26.9 LUFS
    assert 'limiter_policy = "lower-target" (linear, lands at -26.9 LUFS)' in problem
    # +17.7 dB gave -31.7 + 13 + 0.2 * 4.7 = -17.76 LUFS, 3.76 dB more gain than that
    # loudness needs plainly (within the 6 dB of make-up): a target of -18 is reachable;
    # +23.7 dB's point needed 8.56 dB of make-up
    assert reachable_target_lufs(plan, tries, MAX_MAKEUP_DB) == -18.0
    assert "target_lufs = -18 or lower" in problem


def test_a_limiter_that_still_gives_back_loudness_is_not_judged() -> None:
    plan = plan_gain(SETTINGS, -31.7, -6.3)
    climbing = [(17.7, -17.0), (19.0, -15.9)]  # 0.85 LU per dB, not at the make-up cap
    assert check_target_reachable(SETTINGS, plan, climbing, MAX_MAKEUP_DB) is None
    landed = [(17.7, -17.0), (23.7, -14.1)]
    assert check_target_reachable(SETTINGS, plan, landed, MAX_MAKEUP_DB) is None
    # at the cap and still short: out of reach even though the slope looks healthy
    short = [(17.7, -19.0), (23.7, -15.0)]
    assert check_target_reachable(SETTINGS, plan, short, MAX_MAKEUP_DB) is not None
    # no limiter (plain gain), or a single point: nothing to judge
    assert check_target_reachable(SETTINGS, plan_gain(SETTINGS, -20.0, -12.0), short, MAX_MAKEUP_DB) is None
    assert check_target_reachable(SETTINGS, plan, short[:1], MAX_MAKEUP_DB) is None
