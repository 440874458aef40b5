"""Automatic light corrections as filters of the render graph (pure).

One filter, `colorlevels`, applies each shot's correction per RGB channel:
    out = (in - imin) / (imax - imin) * (omax - omin) + omin
which with imin = black, omin = 0 and imax or omax set from the channel's gain is
exactly  out = (in - black) * gain  (see `light.Correction`). ffmpeg converts the
frames to RGB for it and back; that conversion is the price of a correction that keeps
hue and saturation (an equal gain on R, G and B) and removes a cast the way the light
made it (a gain per channel), which the YUV filters (eq, colorcorrect) cannot express.
The RGB frames are 16 bits per channel: in 8 bits the conversion and colorlevels both
round down, and a gain of 3 turns that into about 6 codes too dark and a magenta tint
(measured on the light scenes: SSIM 0.989 in 8 bits, 0.991 in 16).

With one shot the values are constant. With several, `sendcmd` sets each shot's values
when the shot begins and, during a transition around each cut, sends values blended by
the transition's progress TI (0..1) on every frame: one constant correction per shot,
changing smoothly across cuts. Every command is numbers only.
"""

from __future__ import annotations

from pipeline.filters import Filter
from pipeline.video.light import Correction, LightPlan

# A named instance, so the commands reach this filter and no other in the graph.
COLORLEVELS = "colorlevels@light"
# Below these a correction is invisible (under 1 % of a channel, under one code value of
# black), and the filter is left out rather than convert every frame to RGB and back.
IDENTITY_GAIN = 0.01
IDENTITY_BLACK = 0.004
RGB_FORMAT = "gbrp16le"


def colorlevels_values(correction: Correction) -> dict[str, float]:
    """colorlevels options for out = (in - black) * gain per channel.

    A gain that brings some input below 1 up to 1 lowers the input white point
    (imax = black + 1/gain); otherwise the output white point comes down instead
    (omax = (1 - black) * gain), since imax may not exceed 1."""
    values: dict[str, float] = {}
    for channel, black, gain in zip("rgb", correction.black_rgb, correction.channel_gains, strict=True):
        values[f"{channel}imin"] = round(black, 5)
        if black + 1.0 / gain <= 1.0:
            values[f"{channel}imax"] = round(black + 1.0 / gain, 5)
            values[f"{channel}omax"] = 1.0
        else:
            values[f"{channel}imax"] = 1.0
            values[f"{channel}omax"] = round((1.0 - black) * gain, 5)
    return values


def is_identity(correction: Correction) -> bool:
    return (all(abs(g - 1.0) <= IDENTITY_GAIN for g in correction.channel_gains)
            and max(correction.black_rgb) <= IDENTITY_BLACK)


def _commands(start: dict[str, float], end: dict[str, float] | None) -> list[str]:
    """sendcmd commands; flags belong to each command, not to the interval."""
    if end is None:
        return [f"[enter] {COLORLEVELS} {key} {value:.5f}" for key, value in start.items()]
    return [f"[expr] {COLORLEVELS} {key} {start[key]:.5f}+({end[key] - start[key]:.5f})*TI" for key in start]


def build_auto_light_filters(plan: LightPlan) -> list[Filter]:
    """The filters for `light.mode = "auto"`; empty when no shot needs a correction."""
    if all(is_identity(shot.correction) for shot in plan.shots):
        return []
    filters: list[Filter] = []
    if len(plan.shots) > 1:
        intervals = []
        for i, shot in enumerate(plan.shots):
            hold_from_s = plan.transitions[i - 1][1] if i > 0 else 0.0
            hold_to = f"-{plan.transitions[i][0]:.3f}" if i < len(plan.transitions) else ""
            now = colorlevels_values(shot.correction)
            intervals.append(f"{hold_from_s:.3f}{hold_to} " + ", ".join(_commands(now, None)))
            if i < len(plan.transitions):
                start_s, end_s = plan.transitions[i]
                then = colorlevels_values(plan.shots[i + 1].correction)
                intervals.append(f"{start_s:.3f}-{end_s:.3f} " + ", ".join(_commands(now, then)))
        filters.append(("sendcmd", {"commands": "; ".join(intervals)}))
    filters.append(("format", {"pix_fmts": RGB_FORMAT}))
    # The first shot's values as options: right from the first frame, before any command.
    filters.append((COLORLEVELS, colorlevels_values(plan.shots[0].correction)))
    return filters
