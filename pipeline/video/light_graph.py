"""Automatic light corrections as filters of the render graph (pure).

Two filters, both working on the YUV planes as decoded (no RGB round trip, which would
cost more than the correction itself at 1080p):
- `colorcorrect` adds the white balance's chroma slope: cb += slope * luma (its
  "shadows" and "highlights" offsets are set so the shift is zero at black);
- `eq` applies the exposure gain about black to luma (contrast and brightness) and to
  chroma (saturation), so colours keep their saturation as they brighten.

With one shot the values are constant. With several, `sendcmd` sets each shot's values
when the shot begins and, during a transition around each cut, sends values blended by
the transition's progress TI (0..1) on every frame: one constant correction per shot,
changing smoothly across cuts. Every command is numbers only.
"""

from __future__ import annotations

from pipeline.filters import Filter
from pipeline.video.light import Correction, LightPlan


# Named instances, so the commands reach these filters and no others in the graph.
EQ = "eq@light"
COLORCORRECT = "colorcorrect@light"
# Below these a correction is invisible (under 1 % of exposure, or under one code value
# of chroma at peak white), and the filter is left out rather than run on every pixel.
IDENTITY_GAIN = 0.01
IDENTITY_SLOPE = 0.004


def eq_values(correction: Correction, full_range: bool) -> dict[str, float]:
    """eq's contrast/brightness/saturation for a luma gain about black.

    With gamma 1, eq works in integers on 8-bit codes (vf_eq.c):
        out = (in * c4096 >> 12) + (int(100 * b + 100) * 511) / 200 - 128 - c4096 / 32
    with c4096 = contrast * 4096: about out = c*in - 128*c + 255.5*b + 127.5, less about
    half a code lost to the truncations on average. With c = gain, black (16, or 0 in full
    range) stays put when 255.5*b = (128 - black)*gain - (127.5 - black) + 0.5. eq takes
    brightness in steps of 0.01 (2.6 codes), truncated, so the value is rounded to a step
    and nudged onto it: within 2.5 codes of the exact gain, unbiased on average.
    """
    black = 0.0 if full_range else 16.0
    gain = correction.gain
    brightness = round(((128.0 - black) * gain - (127.5 - black) + 0.5) / 255.5, 2) + 0.0001
    return {"contrast": round(gain, 4), "brightness": round(brightness, 4), "saturation": round(gain, 4)}


def colorcorrect_values(correction: Correction, full_range: bool, *, before_eq: bool = False) -> dict[str, float]:
    """colorcorrect's offsets for cb += cb_slope * luma (normalized luma).

    colorcorrect shifts normalized chroma by  low + y * (high - low)  with y = code / 255.
    In limited range luma = (code - 16) / 219 and chroma codes span 224, so the slope per
    luma code is slope * 224 / 219 and the shift must be zero at code 16.

    Both filters round down: colorcorrect truncates its result (half a code low on
    average), and eq's saturation computes  (in * s4096 >> 12) + 127 - (128 * s4096 >> 12),
    which puts neutral (128) at 127 and loses about another quarter code. The offsets add
    what makes the average come out right (measured over textured neutral pictures).
    """
    if full_range:
        per_code, black = 1.0, 0.0
    else:
        per_code, black = 224.0 / 219.0, 16.0
    bias = (0.5 + (1.25 / correction.gain if before_eq else 0.0)) / 255.0

    def offsets(slope: float) -> tuple[float, float]:
        span = slope * per_code
        low = -black / 255.0 * span + bias
        return round(low, 5), round(low + span, 5)

    bl, bh = offsets(correction.cb_slope)
    rl, rh = offsets(correction.cr_slope)
    return {"rl": rl, "bl": bl, "rh": rh, "bh": bh}


def _commands(target: str, start: dict[str, float], end: dict[str, float] | None) -> list[str]:
    """sendcmd commands; flags belong to each command, not to the interval."""
    if end is None:
        return [f"[enter] {target} {key} {value:.5f}" for key, value in start.items()]
    return [f"[expr] {target} {key} {start[key]:.5f}+({end[key] - start[key]:.5f})*TI" for key in start]


def build_auto_light_filters(plan: LightPlan) -> list[Filter]:
    """The filters for `light.mode = "auto"`; empty when no shot needs a correction."""
    corrections = [shot.correction for shot in plan.shots]
    use_eq = any(abs(c.gain - 1.0) > IDENTITY_GAIN for c in corrections)
    use_cc = any(max(abs(c.cb_slope), abs(c.cr_slope)) > IDENTITY_SLOPE for c in corrections)
    if not (use_eq or use_cc):
        return []

    def values(correction: Correction) -> list[tuple[str, dict[str, float]]]:
        parts = []
        if use_cc:
            parts.append((COLORCORRECT, colorcorrect_values(correction, plan.full_range, before_eq=use_eq)))
        if use_eq:
            parts.append((EQ, eq_values(correction, plan.full_range)))
        return parts

    filters: list[Filter] = []
    if len(plan.shots) > 1:
        intervals = []
        for i, shot in enumerate(plan.shots):
            hold_from_s = plan.transitions[i - 1][1] if i > 0 else 0.0
            hold_to = f"-{plan.transitions[i][0]:.3f}" if i < len(plan.transitions) else ""
            commands = [c for target, v in values(shot.correction) for c in _commands(target, v, None)]
            intervals.append(f"{hold_from_s:.3f}{hold_to} " + ", ".join(commands))
            if i < len(plan.transitions):
                start_s, end_s = plan.transitions[i]
                now, then = values(shot.correction), values(plan.shots[i + 1].correction)
                blended = [
                    c for (target, v0), (_, v1) in zip(now, then, strict=True) for c in _commands(target, v0, v1)
                ]
                intervals.append(f"{start_s:.3f}-{end_s:.3f} " + ", ".join(blended))
        filters.append(("sendcmd", {"commands": "; ".join(intervals)}))
    # The first shot's values as options: right from the first frame, before any command.
    for target, options in values(plan.shots[0].correction):
        filters.append((target, dict(options)))
    return filters
