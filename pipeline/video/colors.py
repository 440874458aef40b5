"""Colours given in job files (pure): validate them and turn them into forms that cannot
change a filter graph.

A job may say `border_color = "white"` or `"#1d3557"`. Names and hex codes are resolved
here (CSS colour names, `#rgb`, `#rrggbb`) into RGB, and only `0xRRGGBB` ever reaches an
ffmpeg graph: whatever text a user writes, the graph sees six hex digits.
"""

from __future__ import annotations

from PIL import ImageColor

from pipeline.errors import shown_value


def parse_color(text: str) -> tuple[int, int, int]:
    """RGB of a colour name or hex code; ValueError saying what is allowed otherwise."""
    candidate = text.strip()
    if candidate.lower().startswith("0x") and len(candidate) == 8:
        candidate = "#" + candidate[2:]  # ffmpeg's own spelling of hex colours
    try:
        rgba = ImageColor.getrgb(candidate)
    except ValueError:
        raise ValueError(
            f"not a colour: {shown_value(text)}; use a CSS colour name (white, navy, ...) or #rrggbb"
        ) from None
    if len(rgba) == 4 and rgba[3] != 255:
        raise ValueError(f"colour {shown_value(text)} has transparency; give an opaque colour")
    return int(rgba[0]), int(rgba[1]), int(rgba[2])


def format_ffmpeg_color(rgb: tuple[int, int, int]) -> str:
    """`0xRRGGBB`: the only colour text placed in a graph."""
    return "0x" + "".join(f"{channel:02X}" for channel in rgb)
