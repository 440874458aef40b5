"""Auto-light corrections as filters: the values follow eq's and colorcorrect's documented
arithmetic, checked here on 8-bit codes (pure; no ffmpeg)."""

from __future__ import annotations

import pytest

from pipeline.video.light import Correction, LightPlan, ShotLight
from pipeline.video.light_graph import build_auto_light_filters, colorcorrect_values, eq_values


def eq_output(code: int, values: dict[str, float]) -> int:
    """eq's integer luma arithmetic with gamma 1 (vf_eq.c, process_c)."""
    contrast = int(values["contrast"] * 256 * 16)
    brightness = (int(100.0 * values["brightness"] + 100.0) * 511) // 200 - 128 - contrast // 32
    return max(0, min(255, ((code * contrast) >> 12) + brightness))


def colorcorrect_shift(luma_code: float, low: float, high: float) -> float:
    """colorcorrect's chroma shift in 8-bit codes (vf_colorcorrect.c): 255*(low + y*(high - low)), y = code/255."""
    return 255 * (low + luma_code / 255 * (high - low))


# eq's brightness moves in steps of 0.01 (2.6 codes): a gain lands within 2.5 codes.
STEP_CODES = 2.5


@pytest.mark.parametrize("gain", [0.55, 0.8, 1.0, 1.37, 1.7, 2.21, 2.6, 3.0])
def test_eq_scales_limited_range_luma_about_black(gain: float) -> None:
    values = eq_values(Correction(gain=gain), full_range=False)
    for code in (16, 40, 60, 90, 120):
        expected = min(255.0, 16 + gain * (code - 16))  # black (16) stays black
        assert eq_output(code, values) == pytest.approx(expected, abs=STEP_CODES), code
    assert values["saturation"] == pytest.approx(gain)  # chroma scaled like luma


def test_eq_in_full_range_keeps_code_zero_black() -> None:
    values = eq_values(Correction(gain=2.0), full_range=True)
    assert eq_output(0, values) == pytest.approx(0, abs=STEP_CODES)
    assert eq_output(100, values) == pytest.approx(200, abs=STEP_CODES)


def test_colorcorrect_shifts_chroma_in_proportion_to_luma() -> None:
    slope = 0.05  # chroma per unit of normalized luma
    values = colorcorrect_values(Correction(cb_slope=slope, cr_slope=-slope), full_range=False)
    # Limited range: luma 16..235 is 0..1, chroma codes span 224 per unit; plus half a
    # code, since colorcorrect truncates its result.
    assert colorcorrect_shift(16, values["bl"], values["bh"]) == pytest.approx(0.5, abs=0.01)
    assert colorcorrect_shift(235, values["bl"], values["bh"]) == pytest.approx(slope * 224 + 0.5, abs=0.05)
    assert colorcorrect_shift(125.5, values["rl"], values["rh"]) == pytest.approx(-slope * 224 / 2 + 0.5, abs=0.05)


def test_colorcorrect_before_eq_makes_up_for_eqs_rounding() -> None:
    # eq's saturation maps neutral chroma 128 to 127 (and rounds down): the shift before
    # it grows by 1.25 codes / saturation, which eq scales back to 1.25 codes.
    alone = colorcorrect_values(Correction(gain=2.5, cb_slope=0.02), False)
    before = colorcorrect_values(Correction(gain=2.5, cb_slope=0.02), False, before_eq=True)
    for code in (16, 120, 235):
        extra = colorcorrect_shift(code, before["bl"], before["bh"]) - colorcorrect_shift(code, alone["bl"], alone["bh"])
        assert extra * 2.5 == pytest.approx(1.25, abs=0.01)


def plan(*corrections: Correction, transitions: tuple[tuple[float, float], ...] = ()) -> LightPlan:
    bounds = [0.0, *[(a + b) / 2 for a, b in transitions], 10.0]
    shots = tuple(ShotLight(bounds[i], bounds[i + 1], c, {}) for i, c in enumerate(corrections))
    return LightPlan(shots=shots, transitions=transitions)


def test_one_shot_is_constant_options_and_identity_is_nothing() -> None:
    filters = build_auto_light_filters(plan(Correction(gain=2.0, cb_slope=0.02)))
    assert [name for name, _ in filters] == ["colorcorrect@light", "eq@light"]
    assert filters[1][1] == eq_values(Correction(gain=2.0), False)
    assert build_auto_light_filters(plan(Correction())) == []
    # Exposure only: no colorcorrect at all.
    assert [n for n, _ in build_auto_light_filters(plan(Correction(gain=1.5)))] == ["eq@light"]


def test_shots_change_by_commands_held_per_shot_and_ramped_at_cuts() -> None:
    filters = build_auto_light_filters(plan(Correction(gain=2.0), Correction(gain=1.0), transitions=((4.9, 5.1),)))
    assert [name for name, _ in filters] == ["sendcmd", "eq@light"]
    first, second = eq_values(Correction(gain=2.0), False), eq_values(Correction(gain=1.0), False)
    commands = filters[0][1]["commands"]
    intervals = commands.split("; ")
    # Flags belong to each command (an interval's second command would otherwise be
    # sent as plain text, and eq would fail to parse "TI").
    assert intervals[0] == "0.000-4.900 " + ", ".join(f"[enter] eq@light {k} {v:.5f}" for k, v in first.items())
    assert intervals[1] == "4.900-5.100 " + ", ".join(
        f"[expr] eq@light {k} {first[k]:.5f}+({second[k] - first[k]:.5f})*TI" for k in first
    )
    assert intervals[2] == "5.100 " + ", ".join(f"[enter] eq@light {k} {v:.5f}" for k, v in second.items())
    # sendcmd separates commands with commas: none may appear inside an argument.
    assert all("," not in part.split(" ", 4)[-1] for iv in intervals for part in iv.split(", "))
