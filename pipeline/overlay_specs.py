"""The job-file schemas of the overlays drawn over the programme: the `[logo]` table and
the `[[lower_third]]` tables. A schema only: `pipeline.config` puts them in a job file,
`pipeline.video.overlays` renders and places them, so this module imports neither.

Times are seconds of the programme (the edited timeline of an edit list), before the
intro card; sizes are fractions of the output frame, so one job fits any output size.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

LogoCorner = Literal["top-left", "top-right", "bottom-left", "bottom-right"]
# A lower third is read at a glance: two short lines. The bound on characters keeps a
# mistaken 10 MB line from costing minutes of text layout; what fits the frame is
# checked against the output size later.
MAX_LOWER_THIRD_LINES = 2
MAX_LOWER_THIRD_LINE_CHARS = 200
MAX_LOWER_THIRDS = 64
OverlayLine = Annotated[str, StringConstraints(min_length=1, max_length=MAX_LOWER_THIRD_LINE_CHARS)]
OverlayColor = Annotated[str, StringConstraints(max_length=64)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _window_in_order(start_s: float, end_s: float | None) -> None:
    if end_s is not None and start_s >= end_s:
        raise ValueError(f"start_s ({start_s:g}) must be before end_s ({end_s:g})")


class LogoSpec(_Strict):
    """A logo bug: a still image with alpha, drawn at a corner or at x/y."""

    source: Path
    corner: LogoCorner | None = None  # default top-right (when x/y are not given)
    x: float | None = Field(None, ge=0.0, le=1.0)
    y: float | None = Field(None, ge=0.0, le=1.0)
    width: float = Field(0.12, gt=0.0, le=1.0)  # of the frame width
    opacity: float = Field(1.0, ge=0.0, le=1.0)
    # Gap to the frame edges at a corner, a fraction of the frame width (as in [[pip]]);
    # None: the corner of the title-safe area (5 % of the width and of the height).
    margin: float | None = Field(None, ge=0.0, le=0.5)
    start_s: float = Field(0.0, ge=0.0)
    end_s: float | None = Field(None, gt=0.0)  # None: to the end of the programme
    fade_s: float = Field(0.0, ge=0.0, le=10.0)

    @model_validator(mode="after")
    def _window_and_position(self) -> "LogoSpec":
        _window_in_order(self.start_s, self.end_s)
        if (self.x is None) != (self.y is None):
            raise ValueError("give both x and y, or neither (then corner is used)")
        if self.x is not None and self.corner is not None:
            raise ValueError("give either corner or x/y, not both")
        return self


class LowerThirdSpec(_Strict):
    """One or two lines of text on a box, at the bottom left of the title-safe area."""

    lines: list[OverlayLine] = Field(min_length=1, max_length=MAX_LOWER_THIRD_LINES)
    start_s: float = Field(0.0, ge=0.0)
    end_s: float | None = Field(None, gt=0.0)  # None: start_s + 5 s (cut at the programme's end)
    fade_s: float = Field(0.5, ge=0.0, le=5.0)
    # The first line's letter size, a fraction of the frame's shorter side (so a 9:16 frame
    # gets the same text as a 16:9 one); the second line is 0.8 of it, not bold.
    text_size: float = Field(0.055, ge=0.01, le=0.2)
    text_color: OverlayColor = "white"
    box_color: OverlayColor = "#1d3557"
    box_opacity: float = Field(0.85, ge=0.0, le=1.0)
    padding: float = Field(0.02, ge=0.0, le=0.2)  # of the frame's shorter side

    @field_validator("lines")
    @classmethod
    def _printable(cls, lines: list[str]) -> list[str]:
        for line in lines:
            if not line.strip():
                raise ValueError("a line is empty")
            if any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in line):
                raise ValueError("a line contains a control character (a new line?): give each line as its own string")
        return lines

    @model_validator(mode="after")
    def _window(self) -> "LowerThirdSpec":
        _window_in_order(self.start_s, self.end_s)
        return self
