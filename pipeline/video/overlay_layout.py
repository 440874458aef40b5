"""Where and when the overlays are drawn (pure): the title-safe area, the logo's box, the
lower third's box and text lines, and their windows on the programme's timeline.

The title-safe area is the central 90 % of the frame in each direction (SMPTE ST 2046-1
safe title, EBU R 95 graphics safe), whatever the frame's shape: a vertical 9:16 output
gets its own. Every size and position is even, so 4:2:0 chroma lines up with the
overlay's edges. Times are seconds of the programme (the edited timeline of an edit
list), before any intro card.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

TITLE_SAFE_MARGIN = 0.05  # of the frame's width on the left and right, of its height above and below
DEFAULT_LOGO_CORNER = "top-right"
DEFAULT_LOWER_THIRD_S = 5.0
SECOND_LINE_SCALE = 0.8
# A window may end this far past the programme's end (rounding in job files) and is then
# cut there; further out it is a job error (as for [[pip]]).
END_TOLERANCE_S = 0.1


@dataclass(frozen=True)
class Box:
    """A rectangle in output pixels; x/y is its top-left corner."""

    x_px: int
    y_px: int
    width_px: int
    height_px: int

    @property
    def right_px(self) -> int:
        return self.x_px + self.width_px

    @property
    def bottom_px(self) -> int:
        return self.y_px + self.height_px


@dataclass(frozen=True)
class OverlayWindow:
    """When an overlay is on screen, in programme seconds; it fades in and out over fade_s."""

    start_s: float
    end_s: float
    fade_s: float

    @property
    def shown_s(self) -> float:
        return self.end_s - self.start_s


def _even_up(value: float) -> int:
    return int(math.ceil(value / 2 - 1e-9)) * 2


def _even_down(value: float) -> int:
    return max(0, int(math.floor(value / 2 + 1e-9)) * 2)


def _even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)


def title_safe_area(frame_px: tuple[int, int]) -> Box:
    """The central 90 %, shrunk to even edges (never larger than the standard's area)."""
    width, height = frame_px
    left, top = _even_up(width * TITLE_SAFE_MARGIN), _even_up(height * TITLE_SAFE_MARGIN)
    right, bottom = _even_down(width * (1 - TITLE_SAFE_MARGIN)), _even_down(height * (1 - TITLE_SAFE_MARGIN))
    return Box(left, top, right - left, bottom - top)


def check_window(start_s: float, end_s: float | None, programme_s: float) -> list[tuple[str, str]]:
    """Problems with a window as (field, message); empty when it fits the programme."""
    if start_s >= programme_s:
        return [("start_s", f"starts at {start_s:g} s, but the programme is only {programme_s:.2f} s long")]
    if end_s is not None and end_s > programme_s + END_TOLERANCE_S:
        return [("end_s", f"ends at {end_s:g} s, after the end of the programme ({programme_s:.2f} s)")]
    return []


def build_window(start_s: float, end_s: float | None, fade_s: float, programme_s: float) -> OverlayWindow:
    """The window cut to the programme (call `check_window` first); the fade shortened to
    half the window, so it always reaches full opacity."""
    end = min(programme_s, end_s if end_s is not None else programme_s)
    return OverlayWindow(start_s, end, min(fade_s, (end - start_s) / 2))


def default_lower_third_end_s(start_s: float, programme_s: float) -> float:
    return min(programme_s, start_s + DEFAULT_LOWER_THIRD_S)


def build_logo_box(
    image_px: tuple[int, int],
    frame_px: tuple[int, int],
    *,
    width: float,
    corner: str | None,
    x: float | None,
    y: float | None,
    margin: float | None,
) -> Box:
    """The logo's size (`width` of the frame width, aspect kept, never larger than the
    frame) and place: at x/y (fractions of the frame), or at a corner `margin` (of the
    frame width) from its edges, by default at the corner of the title-safe area."""
    frame_w, frame_h = frame_px
    image_w, image_h = image_px
    logo_w = _even(width * frame_w)
    logo_h = _even(logo_w * image_h / image_w)
    fit = min(1.0, frame_w / logo_w, frame_h / logo_h)
    if fit < 1.0:
        logo_w, logo_h = max(2, _even_down(logo_w * fit)), max(2, _even_down(logo_h * fit))
    if x is not None and y is not None:
        left, top = x * frame_w, y * frame_h
    else:
        corner = corner or DEFAULT_LOGO_CORNER
        if margin is None:
            safe = title_safe_area(frame_px)
            low_x, high_x, low_y, high_y = safe.x_px, safe.right_px, safe.y_px, safe.bottom_px
        else:
            gap = round(margin * frame_w)
            low_x, high_x, low_y, high_y = gap, frame_w - gap, gap, frame_h - gap
        left = low_x if corner.endswith("left") else high_x - logo_w
        top = low_y if corner.startswith("top") else high_y - logo_h
    left = min(max(0.0, left), frame_w - logo_w)
    top = min(max(0.0, top), frame_h - logo_h)
    return Box(_even_down(left), _even_down(top), logo_w, logo_h)


def lower_third_font_sizes_px(text_size: float, line_count: int, frame_px: tuple[int, int]) -> list[int]:
    """The letter size of each line: `text_size` of the frame's shorter side for the
    first, SECOND_LINE_SCALE of that for the second."""
    first = max(8, round(text_size * min(frame_px)))
    return [first if index == 0 else max(8, round(first * SECOND_LINE_SCALE)) for index in range(line_count)]


def lower_third_padding_px(padding: float, frame_px: tuple[int, int]) -> int:
    return round(padding * min(frame_px))


@dataclass(frozen=True)
class LowerThirdLayout:
    """The box in the frame, and each line's top-left corner inside the box (the line's
    ascender line, so a line's place does not depend on which letters it has)."""

    box: Box
    line_origins_px: tuple[tuple[int, int], ...]


def max_text_width_px(frame_px: tuple[int, int], padding_px: int) -> int:
    """The widest line that fits the title-safe area with the box's padding."""
    return title_safe_area(frame_px).width_px - 2 * padding_px


def build_lower_third_layout(
    text_widths_px: Sequence[int], line_heights_px: Sequence[int], padding_px: int, frame_px: tuple[int, int]
) -> LowerThirdLayout:
    """The box around the lines (their widths and font line heights, measured by the
    renderer) with `padding_px` on every side, at the bottom left of the title-safe area.
    ValueError when it does not fit; check each line with `max_text_width_px` first."""
    safe = title_safe_area(frame_px)
    box_w = _even_up(max(text_widths_px) + 2 * padding_px)
    box_h = _even_up(sum(line_heights_px) + 2 * padding_px)
    if box_w > safe.width_px or box_h > safe.height_px:
        raise ValueError(f"a {box_w}x{box_h} px box does not fit the {safe.width_px}x{safe.height_px} px title-safe area")
    origins = []
    top = padding_px
    for height in line_heights_px:
        origins.append((padding_px, top))
        top += height
    return LowerThirdLayout(Box(safe.x_px, safe.bottom_px - box_h, box_w, box_h), tuple(origins))
