"""Output frame size for one source (pure): the source's display size (after rotation)
fitted into the preset's box, never upscaled, and the frame the picture sits in.

The box is orientation-free: its long side (the larger of `max_width_px` and
`max_height_px`) bounds the picture's long side and its short side the short one, so the
`youtube` preset (1920x1080) renders a landscape source at up to 1920x1080 and a vertical
one at up to 1080x1920. `orientation` then decides the frame:

- "source": the frame is the fitted picture (landscape stays landscape);
- "vertical": a picture wider than 9:16 is centred in a 9:16 frame (bars above and below);
- "square-or-vertical": a landscape picture is centred in a square frame.

Sizes are even (yuv420p).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.config import VideoSettings
from pipeline.probe import VideoStreamInfo

VERTICAL_ASPECT = 16 / 9  # rows per column of a 9:16 frame


def _even(value: float) -> int:
    return max(2, int(value) // 2 * 2)


def _even_up(value: float) -> int:
    return max(2, -(-int(round(value)) // 2) * 2)


@dataclass(frozen=True)
class Fit:
    picture_px: tuple[int, int]  # the source's picture, scaled
    frame_px: tuple[int, int]  # the output frame; the picture is centred in it
    notes: list[str] = field(default_factory=list)

    @property
    def padded(self) -> bool:
        return self.picture_px != self.frame_px


def build_fit(video: VideoStreamInfo, settings: VideoSettings) -> Fit:
    """The picture's size (long side to the box's long side, short to its short side,
    never upscaled, even) and the frame it is shown in (see the module docstring)."""
    width, height = video.display_width_px, video.display_height_px
    long_px = max(settings.max_width_px, settings.max_height_px)
    short_px = min(settings.max_width_px, settings.max_height_px)
    portrait = height > width or settings.orientation != "source"
    box_w, box_h = (short_px, long_px) if portrait else (long_px, short_px)
    scale = min(1.0, box_w / width, box_h / height)
    picture = (_even(width * scale), _even(height * scale))
    notes: list[str] = []
    if scale < 1.0:
        notes.append(f"scaled {width}x{height} down to {picture[0]}x{picture[1]} to fit {box_w}x{box_h}")
    elif (width % 2) or (height % 2):
        notes.append(f"odd frame size {width}x{height}: scaled to {picture[0]}x{picture[1]} (yuv420p needs even sizes)")
    frame = picture
    if settings.orientation == "vertical" and picture[1] < picture[0] * VERTICAL_ASPECT - 1:
        frame = (picture[0], _even_up(picture[0] * VERTICAL_ASPECT))
    elif settings.orientation == "square-or-vertical" and picture[1] < picture[0]:
        frame = (picture[0], picture[0])
    if frame != picture:
        notes.append(
            f"{picture[0]}x{picture[1]} picture centred in a {frame[0]}x{frame[1]} frame "
            f"(orientation = \"{settings.orientation}\")"
        )
    return Fit(picture, frame, notes)


SHORTS_MAX_DURATION_S = 180.0  # YouTube: square-or-taller uploads up to 3 minutes (since 2024-10-15)


def build_shorts_verdict(frame_px: tuple[int, int] | None, duration_s: float) -> dict[str, object]:
    """Whether YouTube will treat the output as a Short (square or taller, at most 3
    minutes), and why (not)."""
    if frame_px is None:
        return {"is_short": False, "reason": "no picture"}
    width, height = frame_px
    shape_ok = height >= width
    length_ok = duration_s <= SHORTS_MAX_DURATION_S + 1e-3
    if shape_ok and length_ok:
        reason = f"{width}x{height} is square or taller and {duration_s:.1f} s is at most {SHORTS_MAX_DURATION_S:.0f} s"
    elif not shape_ok:
        reason = f"{width}x{height} is wider than tall"
    else:
        reason = f"{duration_s:.1f} s is longer than {SHORTS_MAX_DURATION_S:.0f} s"
    return {"is_short": shape_ok and length_ok, "reason": reason, "max_duration_s": SHORTS_MAX_DURATION_S}
