"""The overlays' part of the render graph (pure): each rendered overlay image looped
into a stream for its window, converted to BT.709 limited range with its alpha, faded,
and drawn over the finished programme picture (after the insets, before the cards are
joined, so the cards stay clean).

The image files enter the graph only as `-i` arguments (`file:` paths, image2 with no
pattern, so `%` in a folder name is just a character); the filters carry only numbers
and fixed words.
"""

from __future__ import annotations

from collections.abc import Sequence

import ffmpeg

from pipeline.filters import Stream
from pipeline.video.overlays import PlacedOverlay

OVERLAY_PIX_FMT = "yuva444p"  # alpha for the blend; full chroma until the overlay itself


def build_overlay_picture(overlay: PlacedOverlay, fps_text: str) -> Stream:
    """The overlay's frames for its window, placed on the programme's timeline."""
    window = overlay.window
    still = ffmpeg.input(
        f"file:{overlay.image_path.resolve()}", f="image2", pattern_type="none",
        loop=1, framerate=fps_text, t=f"{window.shown_s:.6f}",
    )["0"]
    # The same matrix and range as the programme: left to ffmpeg, RGB would become BT.601.
    picture = still.filter("scale", out_color_matrix="bt709", out_range="tv", flags="bicubic")
    picture = picture.filter("format", OVERLAY_PIX_FMT)
    if window.fade_s > 0:
        fade_s = round(window.fade_s, 6)
        picture = picture.filter("fade", type="in", start_time=0, duration=fade_s, alpha=1)
        picture = picture.filter("fade", type="out", start_time=round(window.shown_s - window.fade_s, 6),
                                 duration=fade_s, alpha=1)
    return picture.filter("setpts", f"PTS-STARTPTS+{window.start_s:.6f}/TB")


def build_overlays(main: Stream, overlays: Sequence[PlacedOverlay], fps_text: str) -> Stream:
    """`main` with every overlay drawn over it, in order (later on top)."""
    for overlay in overlays:
        window = overlay.window
        main = ffmpeg.overlay(
            main, build_overlay_picture(overlay, fps_text), x=overlay.box.x_px, y=overlay.box.y_px,
            eof_action="pass", enable=f"gte(t,{window.start_s:.6f})*lt(t,{window.end_s:.6f})",
        )
    return main
