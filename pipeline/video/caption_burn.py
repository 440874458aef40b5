"""Open captions in the picture graph (pure): the approved caption file drawn by ffmpeg's
`subtitles` filter (libass) over the finished programme, cards included, in the same
graph as every other picture edit (one decode, one encode).

Owns the look: the shipped DejaVu Sans (libass is given the package's font folder, so the
captions look the same on every render host), white text on a semi-opaque black box
(libass BorderStyle 3: each line on its own box, in the outline colour), centred at the
bottom inside the title-safe area. ffmpeg turns SRT and WebVTT into ASS on a 384 x 288
script grid (PlayResX/PlayResY), which libass scales to the frame's height, so every
size below is in units of 1/288 of the frame's height and the captions keep their
proportions at any output size. Paths reach the graph through ffmpeg-python, which
escapes option values and the graph's own special characters.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.filters import Stream

SCRIPT_HEIGHT = 288  # ffmpeg's PlayResY for converted SRT/WebVTT (libavcodec/ass.h)
SCRIPT_WIDTH = 384  # its PlayResX
FONT_NAME = "DejaVu Sans"
FONT_SIZE = 16  # 16/288 of the height: about 60 px at 1080p, 10 px at 180p
BOX_PADDING = 2  # the box's edge beyond the glyphs (libass: Outline with BorderStyle 3)
# Title-safe: 5 % of the frame on every side (EBU R 95 graphics-safe area); the margins
# count from the box's edge, so the box's padding is added to them.
SAFE_FRACTION = 0.05
MARGIN_V = round(SAFE_FRACTION * SCRIPT_HEIGHT) + BOX_PADDING
MARGIN_H = round(SAFE_FRACTION * SCRIPT_WIDTH) + BOX_PADDING
TEXT_COLOUR = "&H00FFFFFF"  # ASS colours are &HAABBGGRR, alpha 00 opaque ... FF clear
BOX_ALPHA = 0x60  # 0x60/0xFF clear: the box hides 62 % of the picture behind it
BOX_COLOUR = f"&H{BOX_ALPHA:02X}000000"


@dataclass(frozen=True)
class BurnIn:
    """What the graph needs: the caption file to draw (a copy of the approved one, made
    when it was checked) and a folder holding only the shipped font."""

    captions_path: Path
    fonts_dir: Path


def build_force_style() -> str:
    """The ASS style fields that override the converted file's default style."""
    fields = {
        "FontName": FONT_NAME,
        "FontSize": FONT_SIZE,
        "PrimaryColour": TEXT_COLOUR,
        "OutlineColour": BOX_COLOUR,
        "BackColour": BOX_COLOUR,
        "BorderStyle": 3,
        "Outline": BOX_PADDING,
        "Shadow": 0,
        "Alignment": 2,  # bottom centre
        "MarginV": MARGIN_V,
        "MarginL": MARGIN_H,
        "MarginR": MARGIN_H,
    }
    return ",".join(f"{key}={value}" for key, value in fields.items())


def build_burned_captions(video: Stream, burn: BurnIn) -> Stream:
    """`video` with the captions drawn on it; its timestamps are the output's."""
    return video.filter(
        "subtitles",
        filename=f"file:{burn.captions_path.resolve()}",
        fontsdir=str(burn.fonts_dir.resolve()),
        force_style=build_force_style(),
    )


def box_region_px(frame_px: tuple[int, int], lines: int = 1) -> tuple[int, int]:
    """The rows (top, bottom) a caption box of `lines` lines may occupy: from its
    lowest possible edge, the title-safe line, up by the lines' height and padding (for
    tests and for anyone placing graphics clear of the captions)."""
    height = frame_px[1]
    scale = height / SCRIPT_HEIGHT
    bottom = height - (MARGIN_V - BOX_PADDING) * scale
    # A line of libass text is about 1.2 font sizes tall, plus the padding above and below.
    top = bottom - lines * (1.2 * FONT_SIZE + 2 * BOX_PADDING) * scale
    return int(top), int(round(bottom))
