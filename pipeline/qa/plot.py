"""The loudness-over-time plot of the HTML report, drawn as inline SVG (no libraries).

Owns: scales and ticks, the momentary (400 ms) and short-term (3 s) loudness lines,
the target band (target +- tolerance), the short-term limit and the true-peak ceiling,
the true peak's position, and the moments failing or warning checks point at (shaded
in the verdict's colour, with a tooltip naming the check). Long files are reduced to
at most `MAX_POINTS` points per line, keeping the loudest value of each stretch so no
peak disappears from the picture. Pure: returns markup.
"""

from __future__ import annotations

import html
import math

import numpy as np

from pipeline.qa.model import CheckResult, FileResult

WIDTH_PX = 960
HEIGHT_PX = 330
MARGIN_LEFT_PX = 58
MARGIN_RIGHT_PX = 18
MARGIN_TOP_PX = 14
MARGIN_BOTTOM_PX = 76
MAX_POINTS = 1200
MIN_MOMENT_WIDTH_PX = 3.0
TIME_STEPS_S = (0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200)
MAX_TIME_TICKS = 10
MOMENTARY_WINDOW_S = 0.4
SHORT_TERM_WINDOW_S = 3.0
LEGEND_CHAR_PX = 6.8  # average width of a 12 px legend character
LEGEND_ROW_PX = 18

COLOURS = {
    "momentary": "#8cb8e6",
    "short_term": "#1d4f91",
    "target": "#1a7f37",
    "band": "#1a7f37",
    "limit": "#bc4c00",
    "ceiling": "#cf222e",
    "grid": "#d0d7de",
    "axis": "#57606a",
    "fail": "#cf222e",
    "warn": "#d4a72c",
}


def _number(value: float) -> str:
    return f"{value:.1f}"


def format_time(seconds: float) -> str:
    if seconds < 60 and seconds != int(seconds):
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{int(seconds)} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes}:{rest:02d}"


def _time_step(duration_s: float) -> float:
    for step in TIME_STEPS_S:
        if duration_s / step <= MAX_TIME_TICKS:
            return float(step)
    return float(TIME_STEPS_S[-1])


def reduce_series(times_s: np.ndarray, values: np.ndarray, max_points: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most `max_points` points: the loudest value of each stretch, at the stretch's end."""
    factor = max(1, math.ceil(values.size / max_points))
    if factor == 1:
        return times_s, values
    starts = np.arange(0, values.size, factor)
    ends = np.minimum(starts + factor - 1, values.size - 1)
    return times_s[ends], np.maximum.reduceat(values, starts)


class _Scale:
    def __init__(self, duration_s: float, y_min: float, y_max: float) -> None:
        self.duration_s = max(duration_s, 0.1)
        self.y_min, self.y_max = y_min, y_max
        self.left, self.right = MARGIN_LEFT_PX, WIDTH_PX - MARGIN_RIGHT_PX
        self.top, self.bottom = MARGIN_TOP_PX, HEIGHT_PX - MARGIN_BOTTOM_PX

    def x(self, seconds: float) -> float:
        return self.left + (self.right - self.left) * min(max(seconds, 0.0), self.duration_s) / self.duration_s

    def y(self, level_db: float) -> float:
        clamped = min(max(level_db, self.y_min), self.y_max)
        return self.bottom - (self.bottom - self.top) * (clamped - self.y_min) / (self.y_max - self.y_min)


def _y_range(result: FileResult, target_lufs: float, ceiling_dbtp: float) -> tuple[float, float]:
    highest = max(0.0, ceiling_dbtp, result.true_peak_dbtp or -math.inf, result.max_momentary_lufs or -math.inf)
    y_max = 5.0 * math.ceil(highest / 5.0)
    y_min = 10.0 * math.floor((target_lufs - 30.0) / 10.0)
    return y_min, max(y_max, y_min + 10.0)


def _polyline(values: np.ndarray, step_s: float, window_s: float, scale: _Scale, colour: str, width: float,
              name: str) -> str:
    """The series from its first full window on (earlier values count time before the
    start as silence, which would draw a fade-in that is not in the audio)."""
    # Value k covers the window ending at (k + 1) * step_s.
    times = (np.arange(values.size) + 1) * step_s
    full = times >= window_s - 1e-9
    times, values = reduce_series(times[full], values[full])
    if values.size == 0:
        return ""
    finite = np.where(np.isfinite(values), values, scale.y_min)
    points = " ".join(f"{_number(scale.x(t))},{_number(scale.y(v))}" for t, v in zip(times.tolist(), finite.tolist()))
    return (f'<polyline class="{name}" fill="none" stroke="{colour}" stroke-width="{width}" '
            f'stroke-linejoin="round" points="{points}"/>')


def _moment_marks(checks: tuple[CheckResult, ...], scale: _Scale) -> list[str]:
    marks = []
    for check in checks:
        if check.status == "pass" or not check.moments:
            continue
        colour = COLOURS[check.status]
        for start_s, end_s in check.moments:
            x0, x1 = scale.x(start_s), scale.x(end_s)
            if x1 - x0 < MIN_MOMENT_WIDTH_PX:
                middle = (x0 + x1) / 2
                x0, x1 = middle - MIN_MOMENT_WIDTH_PX / 2, middle + MIN_MOMENT_WIDTH_PX / 2
            tip = html.escape(f"{check.name} ({check.status.upper()}) {format_time(start_s)}–{format_time(end_s)}: {check.message}")
            marks.append(
                f'<rect class="moment {check.status}" x="{_number(x0)}" y="{scale.top}" width="{_number(x1 - x0)}" '
                f'height="{scale.bottom - scale.top}" fill="{colour}" fill-opacity="0.22"><title>{tip}</title></rect>'
            )
    return marks


def _grid(scale: _Scale) -> list[str]:
    parts = []
    level = scale.y_min
    while level <= scale.y_max + 1e-9:
        y = _number(scale.y(level))
        parts.append(f'<line x1="{scale.left}" x2="{scale.right}" y1="{y}" y2="{y}" stroke="{COLOURS["grid"]}" stroke-width="1"/>')
        parts.append(f'<text x="{scale.left - 6}" y="{y}" dy="0.32em" text-anchor="end" class="tick">{level:.0f}</text>')
        level += 10.0
    step = _time_step(scale.duration_s)
    t = 0.0
    while t <= scale.duration_s + 1e-9:
        x = _number(scale.x(t))
        parts.append(f'<line x1="{x}" x2="{x}" y1="{scale.top}" y2="{scale.bottom}" stroke="{COLOURS["grid"]}" stroke-width="1" stroke-dasharray="2 3"/>')
        parts.append(f'<text x="{x}" y="{scale.bottom + 16}" text-anchor="middle" class="tick">{format_time(t)}</text>')
        t += step
    parts.append(f'<text x="14" y="{(scale.top + scale.bottom) / 2}" transform="rotate(-90 14 {(scale.top + scale.bottom) / 2})" '
                 f'text-anchor="middle" class="axis-label">LUFS / dBTP</text>')
    return parts


LEGEND_ITEMS = (
    ("line", COLOURS["momentary"], 1.5, "", "momentary (400 ms)"),
    ("line", COLOURS["short_term"], 2.5, "", "short-term (3 s)"),
    ("band", COLOURS["band"], 0, "", "target ± tolerance"),
    ("line", COLOURS["limit"], 1.5, "6 3", "short-term limit"),
    ("line", COLOURS["ceiling"], 1.5, "6 3", "true-peak ceiling"),
    ("band", COLOURS["fail"], 0, "", "failing moment"),
    ("band", COLOURS["warn"], 0, "", "warning"),
)


def _legend(first_row_y_px: float) -> str:
    """The legend, wrapped onto a second row when it does not fit the width."""
    parts, x, y = [], float(MARGIN_LEFT_PX), first_row_y_px
    for kind, colour, width, dash, label in LEGEND_ITEMS:
        item_px = 27 + LEGEND_CHAR_PX * len(label) + 16
        if x + item_px > WIDTH_PX - MARGIN_RIGHT_PX:
            x, y = float(MARGIN_LEFT_PX), y + LEGEND_ROW_PX
        if kind == "line":
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(f'<line x1="{_number(x)}" x2="{_number(x + 22)}" y1="{y}" y2="{y}" stroke="{colour}" '
                         f'stroke-width="{width}"{dash_attr}/>')
        else:
            parts.append(f'<rect x="{_number(x)}" y="{y - 6}" width="22" height="12" fill="{colour}" fill-opacity="0.25"/>')
        parts.append(f'<text x="{_number(x + 27)}" y="{y}" dy="0.32em" class="legend">{html.escape(label)}</text>')
        x += item_px
    return "".join(parts)


def build_loudness_svg(
    result: FileResult,
    *,
    target_lufs: float,
    tolerance_lu: float,
    ceiling_dbtp: float,
    short_term_limit_lufs: float | None = None,
    element_id: str = "plot",
) -> str:
    """An inline SVG of the file's loudness over time, or "" when there is nothing to draw."""
    momentary = np.asarray(result.momentary_lufs, dtype=np.float64)
    short_term = np.asarray(result.short_term_lufs, dtype=np.float64)
    if momentary.size == 0:
        return ""
    y_min, y_max = _y_range(result, target_lufs, ceiling_dbtp)
    scale = _Scale(result.duration_s or momentary.size * result.step_s, y_min, y_max)
    title = html.escape(f"Loudness over time: {result.path}")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" id="{element_id}" role="img" '
        f'aria-labelledby="{element_id}-title" viewBox="0 0 {WIDTH_PX} {HEIGHT_PX}" '
        f'width="100%" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{element_id}-title">{title}</title>',
        f'<rect x="{scale.left}" y="{scale.top}" width="{scale.right - scale.left}" height="{scale.bottom - scale.top}" fill="#ffffff"/>',
        *_grid(scale),
    ]
    band_top, band_bottom = scale.y(target_lufs + tolerance_lu), scale.y(target_lufs - tolerance_lu)
    parts.append(f'<rect class="target-band" x="{scale.left}" y="{_number(band_top)}" width="{scale.right - scale.left}" '
                 f'height="{_number(band_bottom - band_top)}" fill="{COLOURS["band"]}" fill-opacity="0.16">'
                 f'<title>target {target_lufs:.1f} LUFS ± {tolerance_lu:.1f} LU</title></rect>')
    parts.extend(_moment_marks(result.checks, scale))

    def hline(level: float, colour: str, css: str, label: str) -> None:
        y = _number(scale.y(level))
        parts.append(f'<line class="{css}" x1="{scale.left}" x2="{scale.right}" y1="{y}" y2="{y}" stroke="{colour}" '
                     f'stroke-width="1.5" stroke-dasharray="6 3"/>')
        parts.append(f'<text x="{scale.right - 4}" y="{y}" dy="-0.35em" text-anchor="end" class="line-label" '
                     f'fill="{colour}">{html.escape(label)}</text>')

    hline(ceiling_dbtp, COLOURS["ceiling"], "ceiling", f"true-peak ceiling {ceiling_dbtp:.1f} dBTP")
    if short_term_limit_lufs is not None and short_term_limit_lufs < y_max:
        hline(short_term_limit_lufs, COLOURS["limit"], "short-term-limit", f"short-term limit {short_term_limit_lufs:.1f} LUFS")
    target_y = _number(scale.y(target_lufs))
    parts.append(f'<line class="target" x1="{scale.left}" x2="{scale.right}" y1="{target_y}" y2="{target_y}" '
                 f'stroke="{COLOURS["target"]}" stroke-width="1"/>')
    parts.append(f'<text x="{scale.left + 4}" y="{target_y}" dy="-0.35em" class="line-label" fill="{COLOURS["target"]}">'
                 f'target {target_lufs:.1f} LUFS ± {tolerance_lu:.1f}</text>')

    parts.append(_polyline(momentary, result.step_s, MOMENTARY_WINDOW_S, scale, COLOURS["momentary"], 1.2, "momentary"))
    parts.append(_polyline(short_term, result.step_s, SHORT_TERM_WINDOW_S, scale, COLOURS["short_term"], 2.2, "short-term"))

    if result.true_peak_dbtp is not None and result.peak_time_s is not None:
        failing = result.true_peak_dbtp > ceiling_dbtp
        colour = COLOURS["ceiling"] if failing else COLOURS["axis"]
        x, y = scale.x(result.peak_time_s), scale.y(result.true_peak_dbtp)
        tip = html.escape(f"true peak {result.true_peak_dbtp:.2f} dBTP near {format_time(result.peak_time_s)}")
        parts.append(f'<path class="true-peak" d="M{_number(x)},{_number(y - 6)} l6,6 l-6,6 l-6,-6 z" fill="{colour}">'
                     f'<title>{tip}</title></path>')
    parts.append(f'<rect x="{scale.left}" y="{scale.top}" width="{scale.right - scale.left}" height="{scale.bottom - scale.top}" '
                 f'fill="none" stroke="{COLOURS["axis"]}" stroke-width="1"/>')
    parts.append(f'<text x="{(scale.left + scale.right) / 2}" y="{scale.bottom + 32}" text-anchor="middle" class="axis-label">time</text>')
    parts.append(_legend(scale.bottom + 50))
    parts.append("</svg>")
    return "\n".join(p for p in parts if p)
