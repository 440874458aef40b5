"""Auto-light corrections as filters on the frames' Y'CbCr planes (pure; no ffmpeg).

Expected values come from the planned RGB correction, out = (in - black) * gain per
channel, carried to Y'CbCr with the BT.709 matrix, and from the filters' documented
arithmetic: lutyuv evaluates its expression for every code value and truncates;
colorcorrect computes cb' = cb + y * (bh - bl) + bl on code / 255 values (cb centred
at 0.5) and truncates."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from pipeline.video.light import Correction, LightPlan, ShotLight
from pipeline.video.light_graph import (
    COLORCORRECT, LUTYUV, build_auto_light_filters, build_yuv_light, colorcorrect_values, lutyuv_values,
)

KR, KB = 0.2126, 0.0722
CASTS = [(1.0, 1.0, 1.0), (0.75, 1.0, 1.6), (1.3, 1.0, 0.7), (1.1, 0.95, 1.05)]


def to_yuv(rgb: np.ndarray) -> np.ndarray:
    """BT.709 R'G'B' (last axis) to normalized Y'CbCr, from the standard's equations."""
    y = KR * rgb[..., 0] + (1 - KR - KB) * rgb[..., 1] + KB * rgb[..., 2]
    return np.stack([y, (rgb[..., 2] - y) / (2 * (1 - KB)), (rgb[..., 0] - y) / (2 * (1 - KR))], axis=-1)


def lutyuv_table(expression: str, minval: int, maxval: int) -> list[int]:
    """What lutyuv stores for each 8-bit code: the expression's value, truncated.
    The expressions use only arithmetic and ffmpeg's clip, which Python evaluates the same way."""
    assert set(expression) <= set("0123456789.,+-*/()acilmnpvx"), expression
    table = []
    for val in range(256):
        value = eval(expression, {"__builtins__": {}}, {"clip": lambda x, lo, hi: min(max(x, lo), hi), "val": val, "minval": minval, "maxval": maxval})
        table.append(int(value))
    return table


@pytest.mark.parametrize("cast", CASTS)
@pytest.mark.parametrize("gain", [0.8, 2.0, 3.5])
@pytest.mark.parametrize("black", [0.0, 0.05])
def test_the_sources_greys_come_out_neutral_at_the_planned_luma(cast: tuple[float, float, float], gain: float,
                                                                 black: float) -> None:
    correction = Correction(gain=gain, black_rgb=(black, black * 1.1, black * 0.9), balance_rgb=cast)
    light = build_yuv_light(correction)
    gains, blacks = np.asarray(correction.channel_gains), np.asarray(correction.black_rgb)
    for level in (0.05, 0.2, 0.4):
        # The source colour the RGB correction turns into the grey `level` (a tinted grey).
        source = blacks + level / gains
        assert light.apply(to_yuv(source)) == pytest.approx([level, 0.0, 0.0], abs=1e-9)


@pytest.mark.parametrize("gain", [0.6, 1.5, 3.0])
@pytest.mark.parametrize("black", [0.0, 0.07])
def test_without_a_cast_the_yuv_map_is_the_rgb_correction_for_every_colour(gain: float, black: float) -> None:
    correction = Correction(gain=gain, black_rgb=(black, black, black))
    light = build_yuv_light(correction)
    rng = np.random.default_rng(1)
    rgb = black + rng.uniform(0.0, 1.0 / gain, size=(200, 3)) * 0.99  # inside the range, nothing clips
    assert light.apply(to_yuv(rgb)) == pytest.approx(to_yuv((rgb - black) * gain), abs=1e-9)


@pytest.mark.parametrize("cast", CASTS[1:])
def test_with_a_cast_the_chroma_gains_are_the_exact_ones(cast: tuple[float, float, float]) -> None:
    correction = Correction(gain=1.5, balance_rgb=cast)
    light = build_yuv_light(correction)
    grey = to_yuv(np.array([0.3, 0.3, 0.3]) / np.asarray(correction.channel_gains))
    for axis, gain in ((1, light.cb_gain), (2, light.cr_gain)):
        moved = grey.copy()
        moved[axis] += 0.01
        exact = to_yuv(np.asarray(correction.channel_gains) * (
            np.array([moved[0] + 1.5748 * moved[2], moved[0] - 0.1873 * moved[1] - 0.4681 * moved[2],
                      moved[0] + 1.8556 * moved[1]])))
        assert (exact[axis] - 0.0) / 0.01 == pytest.approx(gain, rel=1e-3)


@pytest.mark.parametrize("full_range", [False, True])
def test_the_tables_round_and_stay_in_the_legal_range(full_range: bool) -> None:
    correction = Correction(gain=2.2, black_rgb=(0.03, 0.03, 0.03), balance_rgb=(1.0, 1.0, 1.0))
    light = build_yuv_light(correction)
    expressions = lutyuv_values(light, full_range)
    y_min, y_max, c_min, c_max = (0, 255, 0, 255) if full_range else (16, 235, 16, 240)
    luma = lutyuv_table(expressions["y"], y_min, y_max)
    chroma = lutyuv_table(expressions["u"], c_min, c_max)
    luma_black, luma_span = (0, 255) if full_range else (16, 219)
    for code in range(y_min, y_max + 1):
        expected = luma_black + luma_span * ((code - luma_black) / luma_span - 0.03) * 2.2
        assert luma[code] == min(y_max, max(y_min, math.floor(expected + 0.5)))
    for code in range(c_min, c_max + 1):
        expected = 128 + (code - 128) * 2.2
        assert chroma[code] == min(c_max, max(c_min, math.floor(expected + 0.5))), code


def test_colorcorrect_shifts_chroma_with_the_sources_luma() -> None:
    correction = Correction(gain=1.0, balance_rgb=(0.75, 1.0, 1.6))
    light = build_yuv_light(correction)
    values = colorcorrect_values(light, full_range=False)
    for y_code in (16, 80, 180, 235):
        for cb_code in (100, 128, 150):
            cc = cb_code / 255 - 0.5 + (y_code / 255) * (values["bh"] - values["bl"]) + values["bl"]
            got = int((cc + 0.5) * 255)
            y, cb = (y_code - 16) / 219, (cb_code - 128) / 224
            want = 128 + 224 * (cb + light.cb_slope * y + light.cb_offset)
            assert abs(got - want) <= 0.5 + 1e-6, (y_code, cb_code, got, want)  # rounded, not truncated


def plan(*corrections: Correction, transitions: tuple[tuple[float, float], ...] = ()) -> LightPlan:
    bounds = [0.0, *[(a + b) / 2 for a, b in transitions], 10.0]
    shots = tuple(ShotLight(bounds[i], bounds[i + 1], c, {}) for i, c in enumerate(corrections))
    return LightPlan(shots=shots, transitions=transitions)


def test_the_correction_never_converts_the_frames_to_rgb() -> None:
    """Issue 16: the 16-bit RGB round trip cost more than the rest of the edit."""
    correction = Correction(gain=2.0, balance_rgb=(1.1, 1.0, 0.9))
    filters = build_auto_light_filters(plan(correction))
    assert [name for name, _ in filters] == [COLORCORRECT, LUTYUV]
    assert filters[0][1] == colorcorrect_values(build_yuv_light(correction), False)
    assert filters[1][1] == lutyuv_values(build_yuv_light(correction), False)
    # An exposure without a cast needs no chroma shift: one table per plane.
    assert [name for name, _ in build_auto_light_filters(plan(Correction(gain=2.0)))] == [LUTYUV]
    assert build_auto_light_filters(plan(Correction())) == []
    # Changes under 1 % of a channel are not worth a filter.
    assert build_auto_light_filters(plan(Correction(gain=1.005))) == []


def test_shots_change_by_commands_held_per_shot_and_ramped_at_cuts() -> None:
    a, b = Correction(gain=2.0, balance_rgb=(1.1, 1.0, 0.9)), Correction(gain=1.0, black_rgb=(0.05, 0.05, 0.05))
    filters = build_auto_light_filters(plan(a, b, transitions=((4.9, 5.1),)))
    assert [name for name, _ in filters] == ["sendcmd", COLORCORRECT, LUTYUV]
    intervals = filters[0][1]["commands"].split("; ")
    first, second = build_yuv_light(a), build_yuv_light(b)
    held = {iv.split(" ", 1)[0]: iv for iv in intervals}
    def sent(expression: str) -> str:
        return expression.replace(",", "\\,")

    assert held["0.000-4.900"].startswith(f"0.000-4.900 [enter] {LUTYUV} y {sent(lutyuv_values(first, False)['y'])}, ")
    assert f"[enter] {LUTYUV} y {sent(lutyuv_values(second, False)['y'])}" in held["5.100"]
    cc_a, cc_b = colorcorrect_values(first, False), colorcorrect_values(second, False)
    assert f"[expr] {COLORCORRECT} bl {cc_a['bl']:.6f}+({cc_b['bl'] - cc_a['bl']:.6f})*TI" in held["4.900-5.100"]
    # The tables step through the transition (3 steps of 1/15 s).
    steps = [iv for iv in intervals if iv.startswith(("4.9", "5.0")) and iv.split(" ", 1)[0] != "4.900-5.100"]
    assert len(steps) == 3
    # sendcmd splits at commas and spaces: an argument holds no space, and its commas
    # (clip's) are escaped with a backslash.
    for interval in intervals:
        for command in re.split(r"(?<!\\), ", interval.split(" ", 1)[1]):
            flag, target, key, argument = command.split(" ")
            assert flag in ("[enter]", "[expr]") and target in (LUTYUV, COLORCORRECT)
            assert re.search(r"(?<!\\),", argument) is None, argument


def test_sixty_cuts_fit_in_one_argument_of_ffmpeg() -> None:
    """The commands travel inside -filter_complex, one argument: kept small enough that a
    long edit's graph stays under Linux's 128 KiB per argument (MAX_ARG_STRLEN) without
    the runner's fallback to a file."""
    import ffmpeg

    corrections = [Correction(gain=1.5 + 0.05 * (i % 7), balance_rgb=(1.1, 1.0, 0.9 + 0.01 * i)) for i in range(61)]
    transitions = tuple((5.0 * i - 0.1, 5.0 * i + 0.1) for i in range(1, 61))
    shots = tuple(ShotLight(5.0 * i, 5.0 * (i + 1), c, {}) for i, c in enumerate(corrections))
    stream = ffmpeg.input("in.mp4")["0"]
    for name, options in build_auto_light_filters(LightPlan(shots=shots, transitions=transitions)):
        stream = stream.filter(name, **options)
    argv = ffmpeg.output(stream, "out.mp4").compile(cmd=[])
    assert len(argv[argv.index("-filter_complex") + 1].encode()) < 128 * 1024
