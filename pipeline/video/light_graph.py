"""Automatic light corrections as filters of the render graph (pure).

Each shot's correction is planned per RGB channel, out = (in - black) * gain (see
`light.Correction`). It is applied on the frames' own Y'CbCr planes, never converting
them to RGB and back: that round trip (in 16 bits, for 8-bit rounding accuracy) cost more
CPU than the rest of the edit together, 60-80 % more than the bare encode (issue 16).

On Y'CbCr (BT.709, normalized: Y 0..1, Cb and Cr -0.5..0.5) the RGB correction is an
affine map, out = A @ in + c. Two cheap filters apply the part of it that matters:

    Cb1 = Cb + cb_slope * Y + cb_offset       colorcorrect (bl, bh: a chroma shift
    Cr1 = Cr + cr_slope * Y + cr_offset        that grows with luma)
    Y'  = luma_gain * Y + luma_offset         lutyuv (one table per plane, rounded and
    Cb' = cb_gain * Cb1,  Cr' = cr_gain * Cr1   clipped to the legal range)

The numbers are chosen so that the map is exact on the source's grey axis (the colours
the correction turns into neutral greys: a cast's tinted greys become grey at the planned
luma) and has the exact chroma gains (A's diagonal). With one gain on all three channels
(exposure and lifted blacks, no cast) it is exactly the RGB correction. What it leaves
out is the cross terms of a colour cast's correction on coloured objects (luma from
chroma, Cb from Cr and back) and the RGB clipping of single channels: small next to the
cast itself (measured against the undegraded scenes in bench/bench_light.py).

With one shot the values are constant. With several, `sendcmd` sets each shot's values
when the shot begins and, during a transition around each cut, changes them with the
transition's progress: colorcorrect by expression (TI), the tables in steps of
TRANSITION_STEP_S. Arguments hold no spaces, and their commas are escaped, since sendcmd
splits commands at both. The commands travel inside -filter_complex: about 1.8 KB per
cut (a longer graph than one argument may hold, 128 KiB, the runner passes in a file).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.filters import Filter
from pipeline.video.light import Correction, LightPlan

# Named instances, so the commands reach these filters and no others in the graph.
COLORCORRECT = "colorcorrect@light"
LUTYUV = "lutyuv@light"
# Below these a correction is invisible (under 1 % of a channel, under one code value of
# black), and the filters are left out.
IDENTITY_GAIN = 0.01
IDENTITY_BLACK = 0.004
# A chroma shift under a tenth of a code value is not worth a filter.
IDENTITY_SHIFT = 0.0004
ESCAPED_COMMA = "\\,"  # sendcmd's escape: a backslash before it
TRANSITION_STEP_S = 1 / 15  # each step is a command per plane: short, for the argument limit

KR, KB = 0.2126, 0.0722  # BT.709, as the analysis reads the picture (`light.to_rgb`)
KG = 1.0 - KR - KB
RGB_TO_YUV = np.array([
    [KR, KG, KB],
    [-KR / (2 * (1 - KB)), -KG / (2 * (1 - KB)), 0.5],
    [0.5, -KG / (2 * (1 - KR)), -KB / (2 * (1 - KR))],
])


@dataclass(frozen=True)
class YuvLight:
    """One shot's correction on normalized Y'CbCr (see the module docstring)."""

    luma_gain: float = 1.0
    luma_offset: float = 0.0
    cb_gain: float = 1.0
    cr_gain: float = 1.0
    cb_slope: float = 0.0
    cb_offset: float = 0.0
    cr_slope: float = 0.0
    cr_offset: float = 0.0

    @property
    def shifts_chroma(self) -> bool:
        return max(abs(self.cb_slope), abs(self.cb_offset), abs(self.cr_slope), abs(self.cr_offset)) > IDENTITY_SHIFT

    def apply(self, yuv: np.ndarray) -> np.ndarray:
        """The map on normalized Y'CbCr values (last axis), without rounding or clipping."""
        y, cb, cr = yuv[..., 0], yuv[..., 1], yuv[..., 2]
        return np.stack([
            self.luma_gain * y + self.luma_offset,
            self.cb_gain * (cb + self.cb_slope * y + self.cb_offset),
            self.cr_gain * (cr + self.cr_slope * y + self.cr_offset),
        ], axis=-1)


def exact_yuv_map(correction: Correction) -> tuple[np.ndarray, np.ndarray]:
    """A and c of the RGB correction on normalized Y'CbCr: out = A @ in + c (unclipped)."""
    gains = np.asarray(correction.channel_gains, dtype=np.float64)
    black = np.asarray(correction.black_rgb, dtype=np.float64)
    matrix = RGB_TO_YUV @ np.diag(gains) @ np.linalg.inv(RGB_TO_YUV)
    return matrix, -RGB_TO_YUV @ (gains * black)


def build_yuv_light(correction: Correction) -> YuvLight:
    """The Y'CbCr form of `correction`, exact on the source's grey axis."""
    matrix, offset = exact_yuv_map(correction)
    inverse = np.linalg.inv(matrix)
    # The source colours that come out neutral: start + t * direction gives (t, 0, 0).
    direction, start = inverse[:, 0], -inverse @ offset
    luma_gain = 1.0 / direction[0]
    cb_slope, cr_slope = -direction[1] / direction[0], -direction[2] / direction[0]
    return YuvLight(
        luma_gain=float(luma_gain),
        luma_offset=float(-start[0] * luma_gain),
        cb_gain=float(matrix[1, 1]),
        cr_gain=float(matrix[2, 2]),
        cb_slope=float(cb_slope),
        cb_offset=float(-start[1] - cb_slope * start[0]),
        cr_slope=float(cr_slope),
        cr_offset=float(-start[2] - cr_slope * start[0]),
    )


def is_identity(correction: Correction) -> bool:
    return (all(abs(g - 1.0) <= IDENTITY_GAIN for g in correction.channel_gains)
            and max(correction.black_rgb) <= IDENTITY_BLACK)


# ---------------------------------------------------------------- filter options


def colorcorrect_values(light: YuvLight, full_range: bool) -> dict[str, float]:
    """colorcorrect options for the chroma shifts. It computes, on code / max values,
    cb' = cb + y * (bh - bl) + bl and truncates; normalized values are converted to its
    units (limited range: chroma 224 and luma 219 codes of 255 from 16), and half a
    code is added so that the truncation rounds."""
    half_code = 0.5 / 255
    chroma_scale, luma_scale, luma_black = (1.0, 1.0, 0.0) if full_range else (224 / 255, 219 / 255, 16 / 255)
    values: dict[str, float] = {}
    for low, high, slope, offset in (("bl", "bh", light.cb_slope, light.cb_offset),
                                     ("rl", "rh", light.cr_slope, light.cr_offset)):
        per_y = chroma_scale * slope / luma_scale
        at_zero = chroma_scale * offset - per_y * luma_black + half_code
        values[low] = round(at_zero, 6)
        values[high] = round(at_zero + per_y, 6)
    return values


def _rounded_within(value: str) -> str:
    """`value` clipped to the plane's legal range (lutyuv's minval..maxval), plus half a
    code so that lutyuv's truncation rounds."""
    return f"clip({value},minval,maxval)+0.5"


def lutyuv_values(light: YuvLight, full_range: bool) -> dict[str, str]:
    """lutyuv expressions (of the code value `val`; minval and maxval are the plane's
    legal range, which also scales them to the bit depth)."""
    # Limited-range chroma is centred between its limits; full range (8-bit yuvj) at 128.
    centre = "(maxval+1)/2" if full_range else "(minval+maxval)/2"
    luma = f"minval+{light.luma_gain:.6f}*(val-minval)+({light.luma_offset:.6f})*(maxval-minval)"
    return {
        "y": _rounded_within(luma),
        "u": _rounded_within(f"{centre}+{light.cb_gain:.6f}*(val-{centre})"),
        "v": _rounded_within(f"{centre}+{light.cr_gain:.6f}*(val-{centre})"),
    }


def _blend(a: YuvLight, b: YuvLight, progress: float) -> YuvLight:
    fields = a.__dataclass_fields__
    return YuvLight(**{name: (1 - progress) * getattr(a, name) + progress * getattr(b, name) for name in fields})


# ---------------------------------------------------------------- commands


def _set(target: str, values: dict[str, float] | dict[str, str]) -> list[str]:
    """sendcmd commands; flags belong to each command, not to the interval. sendcmd
    splits commands at commas: those inside an argument (clip's) are escaped."""
    return [f"[enter] {target} {key} {value:.6f}" if isinstance(value, float)
            else f"[enter] {target} {key} {value.replace(',', ESCAPED_COMMA)}"
            for key, value in values.items()]


def _ramp_colorcorrect(start: dict[str, float], end: dict[str, float]) -> list[str]:
    return [f"[expr] {COLORCORRECT} {key} {start[key]:.6f}+({end[key] - start[key]:.6f})*TI" for key in start]


def _commands(lights: list[YuvLight], plan: LightPlan, chroma: bool) -> str:
    full = plan.full_range
    intervals = []
    for i, light in enumerate(lights):
        hold_from_s = plan.transitions[i - 1][1] if i > 0 else 0.0
        hold_to = f"-{plan.transitions[i][0]:.3f}" if i < len(plan.transitions) else ""
        now = _set(LUTYUV, lutyuv_values(light, full))
        if chroma:
            now += _set(COLORCORRECT, colorcorrect_values(light, full))
        intervals.append(f"{hold_from_s:.3f}{hold_to} " + ", ".join(now))
        if i < len(plan.transitions):
            start_s, end_s = plan.transitions[i]
            following = lights[i + 1]
            if chroma:
                ramp = _ramp_colorcorrect(colorcorrect_values(light, full), colorcorrect_values(following, full))
                intervals.append(f"{start_s:.3f}-{end_s:.3f} " + ", ".join(ramp))
            steps = max(1, round((end_s - start_s) / TRANSITION_STEP_S))
            for step in range(steps):
                a_s = start_s + (end_s - start_s) * step / steps
                b_s = start_s + (end_s - start_s) * (step + 1) / steps
                table = lutyuv_values(_blend(light, following, (step + 0.5) / steps), full)
                intervals.append(f"{a_s:.3f}-{b_s:.3f} " + ", ".join(_set(LUTYUV, table)))
    return "; ".join(intervals)


def build_auto_light_filters(plan: LightPlan) -> list[Filter]:
    """The filters for `light.mode = "auto"`; empty when no shot needs a correction.
    All of them work on the frames' Y'CbCr planes: no conversion to RGB."""
    if all(is_identity(shot.correction) for shot in plan.shots):
        return []
    lights = [build_yuv_light(shot.correction) for shot in plan.shots]
    chroma = any(light.shifts_chroma for light in lights)
    filters: list[Filter] = []
    if len(lights) > 1:
        filters.append(("sendcmd", {"commands": _commands(lights, plan, chroma)}))
    # The first shot's values as options: right from the first frame, before any command.
    if chroma:
        # First: its shift grows with the source's luma, which lutyuv then changes.
        filters.append((COLORCORRECT, colorcorrect_values(lights[0], plan.full_range)))
    filters.append((LUTYUV, lutyuv_values(lights[0], plan.full_range)))
    return filters
