"""Auto-light corrections as filters: colorlevels' documented arithmetic
(out = (in - imin) / (imax - imin) * (omax - omin) + omin, per RGB channel) gives the
planned out = (in - black) * gain, and shots change by commands (pure; no ffmpeg)."""

from __future__ import annotations

import pytest

from pipeline.video.light import Correction, LightPlan, ShotLight
from pipeline.video.light_graph import COLORLEVELS, RGB_FORMAT, build_auto_light_filters, colorlevels_values


def colorlevels_output(value: float, values: dict[str, float], channel: str) -> float:
    imin, imax, omax = values[f"{channel}imin"], values[f"{channel}imax"], values[f"{channel}omax"]
    return (value - imin) / (imax - imin) * omax


@pytest.mark.parametrize("gains", [(2.0, 1.7, 1.4), (0.6, 0.8, 1.0), (3.9, 4.4, 5.2)])
@pytest.mark.parametrize("black", [(0.0, 0.0, 0.0), (0.06, 0.07, 0.05)])
def test_colorlevels_applies_black_and_gain_per_channel(gains: tuple[float, float, float],
                                                        black: tuple[float, float, float]) -> None:
    correction = Correction(gain=1.0, black_rgb=black, balance_rgb=gains)
    values = colorlevels_values(correction)
    for channel, b, g in zip("rgb", black, gains, strict=True):
        assert 0.0 <= values[f"{channel}omax"] <= 1.0 and values[f"{channel}imax"] <= 1.0  # within the options' ranges
        for code in (b + 0.01, 0.3, 0.5):
            expected = (code - b) * g
            if expected <= 1.0:
                assert colorlevels_output(code, values, channel) == pytest.approx(expected, abs=1e-4)


def plan(*corrections: Correction, transitions: tuple[tuple[float, float], ...] = ()) -> LightPlan:
    bounds = [0.0, *[(a + b) / 2 for a, b in transitions], 10.0]
    shots = tuple(ShotLight(bounds[i], bounds[i + 1], c, {}) for i, c in enumerate(corrections))
    return LightPlan(shots=shots, transitions=transitions)


def test_one_shot_is_constant_options_in_16_bit_rgb_and_identity_is_nothing() -> None:
    correction = Correction(gain=2.0, balance_rgb=(1.1, 1.0, 0.9))
    filters = build_auto_light_filters(plan(correction))
    assert filters == [("format", {"pix_fmts": RGB_FORMAT}), (COLORLEVELS, colorlevels_values(correction))]
    assert build_auto_light_filters(plan(Correction())) == []
    # Changes under 1 % of a channel are not worth a conversion to RGB and back.
    assert build_auto_light_filters(plan(Correction(gain=1.005))) == []


def test_shots_change_by_commands_held_per_shot_and_ramped_at_cuts() -> None:
    a, b = Correction(gain=2.0), Correction(gain=1.0, black_rgb=(0.05, 0.05, 0.05))
    filters = build_auto_light_filters(plan(a, b, transitions=((4.9, 5.1),)))
    assert [name for name, _ in filters] == ["sendcmd", "format", COLORLEVELS]
    first, second = colorlevels_values(a), colorlevels_values(b)
    intervals = filters[0][1]["commands"].split("; ")
    # Flags belong to each command (an interval's second command would otherwise be
    # sent as plain text, and colorlevels would fail to parse "TI").
    assert intervals[0] == "0.000-4.900 " + ", ".join(f"[enter] {COLORLEVELS} {k} {v:.5f}" for k, v in first.items())
    assert intervals[1] == "4.900-5.100 " + ", ".join(
        f"[expr] {COLORLEVELS} {k} {first[k]:.5f}+({second[k] - first[k]:.5f})*TI" for k in first
    )
    assert intervals[2] == "5.100 " + ", ".join(f"[enter] {COLORLEVELS} {k} {v:.5f}" for k, v in second.items())
    # sendcmd separates commands with commas: none may appear inside an argument.
    assert all("," not in part.split(" ", 4)[-1] for iv in intervals for part in iv.split(", "))
