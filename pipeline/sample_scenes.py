"""Pictures for the demo media, drawn with Pillow (deterministic, no downloads).

- `CorridorShot`: a walk down a hospital corridor seen by a hand-held camera: floor with
  tile joints and a blue wayfinding line, walls with doors and room plates, ceiling light
  panels, a hanging direction sign; one-point perspective, the camera moving forward with
  a walker's bob and sway. Light falls off between the ceiling lights. The shot's
  `exposure` and `tint` stand for a camera that got the light wrong (dark, warm): they
  scale the colours as drawn, so what auto light must undo is known.
- `guide_frames`: a talking head for a picture-in-picture inset: a person (head,
  shoulders, hair, a badge) in front of an office wall, whose mouth opens with the loudness
  of their voice, who blinks and sways a little.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from pipeline.video.cards import find_font

RGB = tuple[int, int, int]
NEAR_M = 0.25  # nothing closer than this to the camera is drawn


@dataclass(frozen=True)
class CorridorLook:
    """The place: sizes in metres, colours as they would look well exposed."""

    width_m: float = 2.6
    height_m: float = 2.7
    length_m: float = 60.0
    wall: RGB = (214, 218, 210)
    floor: RGB = (176, 170, 158)
    ceiling: RGB = (226, 228, 224)
    end_wall: RGB = (200, 215, 230)
    door: RGB = (142, 104, 70)
    door_frame: RGB = (90, 96, 104)
    line: RGB = (30, 96, 200)  # "follow the blue line"
    light_every_m: float = 4.0
    door_every_m: float = 7.0
    sign_at_m: float = 17.0
    sign_text: str = "Clinic desk  \u2192"
    sign_colour: RGB = (24, 70, 140)


@dataclass(frozen=True)
class CorridorShot:
    look: CorridorLook
    start_m: float = 0.0  # where the camera starts along the corridor
    speed_m_s: float = 1.1
    exposure: float = 1.0  # multiplies every colour (0.35: about 1.5 stops dark)
    tint: tuple[float, float, float] = (1.0, 1.0, 1.0)  # per-channel gain: a colour cast


def _shade(colour: RGB, light: float, shot: CorridorShot) -> RGB:
    return tuple(  # type: ignore[return-value]
        max(0, min(255, round(c * light * shot.exposure * g))) for c, g in zip(colour, shot.tint)
    )


def _light_at(z_m: float, look: CorridorLook, camera_z_m: float) -> float:
    """Brightness of a surface at world depth z: brighter under each ceiling light, and
    dimmer far away (the eye adapts to what is near)."""
    phase = (z_m % look.light_every_m) / look.light_every_m
    pool = 0.88 + 0.12 * math.cos(2 * math.pi * (phase - 0.5))
    distance = max(0.0, z_m - camera_z_m)
    return pool * (0.55 + 0.45 * math.exp(-distance / 14.0))


@cache
def _font(size_px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = find_font()
    if path is not None:
        return ImageFont.truetype(path, size_px)
    return ImageFont.load_default(size=size_px)


@cache
def _sign_image(text: str, colour: RGB, height_px: int) -> Image.Image:
    font = _font(int(height_px * 0.55))
    box = font.getbbox(text)
    width_px = box[2] - box[0] + height_px
    image = Image.new("RGB", (width_px, height_px), colour)
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 0, width_px - 1, height_px - 1], outline=(235, 235, 235), width=max(2, height_px // 20))
    draw.text((height_px // 2 - box[0], (height_px - (box[3] - box[1])) // 2 - box[1]), text, fill=(255, 255, 255),
              font=font)
    return image


class _Camera:
    """Projects world points (x right, y up, z forward, metres) to pixels."""

    def __init__(self, width_px: int, height_px: int, x_m: float, y_m: float, z_m: float, yaw_px: float) -> None:
        self.f_px = 0.85 * width_px
        self.cx = width_px / 2 + yaw_px
        self.cy = height_px / 2
        self.x_m, self.y_m, self.z_m = x_m, y_m, z_m

    def point(self, x_m: float, y_m: float, z_m: float) -> tuple[float, float]:
        depth = max(z_m - self.z_m, NEAR_M)
        return (self.cx + self.f_px * (x_m - self.x_m) / depth, self.cy - self.f_px * (y_m - self.y_m) / depth)

    def quad(self, corners: list[tuple[float, float, float]]) -> list[tuple[float, float]]:
        return [self.point(*c) for c in corners]


def _clip_span(z0: float, z1: float, camera: _Camera, far_m: float) -> tuple[float, float] | None:
    z0, z1 = max(z0, camera.z_m + NEAR_M), min(z1, far_m)
    return (z0, z1) if z1 > z0 else None


def draw_corridor_frame(shot: CorridorShot, t_s: float, width_px: int, height_px: int) -> Image.Image:
    look = shot.look
    half_w, top = look.width_m / 2, look.height_m
    # A walker's camera: forward motion, a bob at step rate, a slow sway and turn.
    camera = _Camera(
        width_px, height_px,
        x_m=0.12 * math.sin(2 * math.pi * 0.23 * t_s),
        y_m=1.6 + 0.025 * math.sin(2 * math.pi * 1.8 * t_s),
        z_m=shot.start_m + shot.speed_m_s * t_s,
        yaw_px=width_px * 0.02 * math.sin(2 * math.pi * 0.11 * t_s + 1.0),
    )
    far = look.length_m
    image = Image.new("RGB", (width_px, height_px), _shade(look.end_wall, _light_at(far, look, camera.z_m), shot))
    draw = ImageDraw.Draw(image)

    # Surfaces in 0.5 m slices from far to near, each shaded by its light.
    step_m = 0.25
    z = far
    while z > camera.z_m + NEAR_M:
        z0 = max(z - step_m, camera.z_m + NEAR_M)
        light = _light_at((z0 + z) / 2, look, camera.z_m)
        for colour, corners, factor in (
            (look.floor, [(-half_w, 0, z0), (half_w, 0, z0), (half_w, 0, z), (-half_w, 0, z)], 1.0),
            (look.ceiling, [(-half_w, top, z0), (half_w, top, z0), (half_w, top, z), (-half_w, top, z)], 0.8),
            (look.wall, [(-half_w, 0, z0), (-half_w, top, z0), (-half_w, top, z), (-half_w, 0, z)], 0.92),
            (look.wall, [(half_w, 0, z0), (half_w, top, z0), (half_w, top, z), (half_w, 0, z)], 0.97),
        ):
            draw.polygon(camera.quad(corners), fill=_shade(colour, light * factor, shot))
        z = z0

    def decal(colour: RGB, corners_at: list[tuple[float, float, float]], z0: float, z1: float,
              factor: float = 1.0) -> None:
        span = _clip_span(z0, z1, camera, far)
        if span is None:
            return
        a, b = span
        corners = [(x, y, a if zz == 0 else b) for x, y, zz in corners_at]
        draw.polygon(camera.quad(corners), fill=_shade(colour, _light_at((a + b) / 2, look, camera.z_m) * factor, shot))

    # Skirting boards and a handrail on both walls.
    for side in (-1, 1):
        x = side * half_w
        decal((120, 124, 130), [(x, 0, 0), (x, 0.12, 0), (x, 0.12, 1), (x, 0, 1)], camera.z_m, far, 0.9)
        decal((190, 170, 140), [(x, 0.9, 0), (x, 0.94, 0), (x, 0.94, 1), (x, 0.9, 1)], camera.z_m, far, 1.1)
    # Floor: tile joints every 0.6 m, and the blue line to follow.
    first_joint = math.ceil(camera.z_m / 0.6) * 0.6
    for k in range(int((far - first_joint) / 0.6)):
        zj = first_joint + k * 0.6
        decal((166, 160, 149), [(-half_w, 0, 0), (half_w, 0, 0), (half_w, 0, 1), (-half_w, 0, 1)], zj, zj + 0.02)
    decal(look.line, [(-0.55, 0.001, 0), (-0.4, 0.001, 0), (-0.4, 0.001, 1), (-0.55, 0.001, 1)], camera.z_m, far)
    # Ceiling light panels, glowing whatever the light around them.
    for k in range(int(far / look.light_every_m)):
        zl = (k + 0.5) * look.light_every_m
        span = _clip_span(zl - 0.6, zl + 0.6, camera, far)
        if span:
            corners = [(-0.35, top, span[0]), (0.35, top, span[0]), (0.35, top, span[1]), (-0.35, top, span[1])]
            draw.polygon(camera.quad(corners), fill=_shade((255, 252, 240), 1.0, shot))
    # Doors, alternating sides, each with a frame, a handle and a room plate.
    for k in range(int(far / look.door_every_m)):
        zd = 3.0 + k * look.door_every_m
        side = -1 if k % 2 == 0 else 1
        x = side * (half_w - 0.002)
        decal(look.door_frame, [(x, 0, 0), (x, 2.18, 0), (x, 2.18, 1), (x, 0, 1)], zd - 0.08, zd + 1.08)
        decal(look.door, [(x, 0, 0), (x, 2.1, 0), (x, 2.1, 1), (x, 0, 1)], zd, zd + 1.0)
        decal((200, 210, 220), [(x, 1.3, 0), (x, 1.8, 0), (x, 1.8, 1), (x, 1.3, 1)], zd + 0.6, zd + 0.8, 0.8)
        decal((60, 60, 64), [(x, 0.98, 0), (x, 1.04, 0), (x, 1.04, 1), (x, 0.98, 1)], zd + 0.82, zd + 0.94)
        decal((250, 250, 250), [(x, 1.5, 0), (x, 1.7, 0), (x, 1.7, 1), (x, 1.5, 1)], zd - 0.5, zd - 0.2)
    # The hanging sign: a board facing the camera, drawn last (it hides what is behind it).
    depth = look.sign_at_m - camera.z_m
    if depth > NEAR_M + 0.5:
        left, top_px = camera.point(-0.9, top - 0.25, look.sign_at_m)
        right, bottom_px = camera.point(0.9, top - 0.6, look.sign_at_m)
        w, h = int(right - left), int(bottom_px - top_px)
        if w > 4 and h > 2:
            sign = _sign_image(look.sign_text, _shade(look.sign_colour, 1.0, shot), 120).resize((w, h))
            for x_m in (-0.6, 0.6):  # the chains it hangs from
                x0, y0 = camera.point(x_m, top, look.sign_at_m)
                draw.line([(x0, y0), (x0, top_px)], fill=_shade((90, 90, 90), 1.0, shot), width=max(1, w // 200))
            image.paste(sign, (int(left), int(top_px)))
    return image


def corridor_frames(
    shots: list[tuple[float, CorridorShot]], duration_s: float, fps: int, width_px: int, height_px: int
) -> Iterator[bytes]:
    """RGB24 frames of consecutive shots (each (start_s, shot)); a hard cut between them."""
    for i in range(int(round(duration_s * fps))):
        t_s = i / fps
        start_s, shot = next((s, shot) for s, shot in reversed(shots) if t_s >= s)
        yield draw_corridor_frame(shot, t_s - start_s, width_px, height_px).tobytes()


# ---------------------------------------------------------------------------- guide


def _office_background(width_px: int, height_px: int) -> Image.Image:
    rows = np.linspace(0.0, 1.0, height_px)[:, None, None]
    cols = np.linspace(-1.0, 1.0, width_px)[None, :, None]
    base = np.array([196.0, 206.0, 200.0])
    wall = base * (1.0 - 0.18 * rows) * (1.0 - 0.12 * cols**2)
    image = Image.fromarray(np.broadcast_to(wall, (height_px, width_px, 3)).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    w, h = width_px, height_px
    # A framed poster, a window with daylight, a plant's pot and leaves.
    draw.rectangle([0.06 * w, 0.12 * h, 0.26 * w, 0.42 * h], fill=(60, 62, 70))
    draw.rectangle([0.075 * w, 0.14 * h, 0.245 * w, 0.40 * h], fill=(92, 140, 170))
    draw.rectangle([0.72 * w, 0.08 * h, 0.97 * w, 0.55 * h], fill=(225, 232, 238))
    draw.rectangle([0.735 * w, 0.1 * h, 0.955 * w, 0.53 * h], fill=(176, 206, 232))
    draw.line([(0.845 * w, 0.1 * h), (0.845 * w, 0.53 * h)], fill=(225, 232, 238), width=max(2, w // 160))
    draw.rectangle([0.05 * w, 0.78 * h, 0.16 * w, h], fill=(150, 90, 60))
    for k in range(7):
        angle = -1.2 + k * 0.4
        cx, cy = 0.105 * w + math.sin(angle) * 0.07 * w, 0.72 * h - math.cos(angle) * 0.07 * h
        draw.ellipse([cx - 0.03 * w, cy - 0.05 * h, cx + 0.03 * w, cy + 0.05 * h], fill=(60, 120, 60))
    return image


def draw_guide_frame(background: Image.Image, t_s: float, mouth_open: float, blink: bool) -> Image.Image:
    image = background.copy()
    draw = ImageDraw.Draw(image)
    w, h = image.size
    sway = 0.012 * w * math.sin(2 * math.pi * 0.3 * t_s)
    nod = 0.006 * h * math.sin(2 * math.pi * 0.5 * t_s) + 0.004 * h * mouth_open
    cx, cy = 0.5 * w + sway, 0.43 * h + nod
    head_w, head_h = 0.17 * w, 0.30 * h
    # Shoulders and a white coat over a teal top, a badge on a lanyard.
    draw.ellipse([0.5 * w - 0.36 * w + sway / 2, 0.63 * h, 0.5 * w + 0.36 * w + sway / 2, 1.35 * h], fill=(236, 238, 240))
    draw.polygon([(0.5 * w - 0.09 * w + sway / 2, 0.66 * h), (0.5 * w + 0.09 * w + sway / 2, 0.66 * h),
                  (0.5 * w + sway / 2, 0.9 * h)], fill=(40, 130, 140))
    draw.rectangle([0.58 * w + sway / 2, 0.8 * h, 0.66 * w + sway / 2, 0.9 * h], fill=(250, 250, 250),
                   outline=(30, 90, 170), width=2)
    # Neck, head, hair, ears.
    skin = (214, 170, 140)
    draw.rectangle([cx - 0.045 * w, cy + 0.1 * h, cx + 0.045 * w, cy + 0.24 * h], fill=(196, 152, 124))
    draw.ellipse([cx - head_w / 2 - 0.018 * w, cy - 0.03 * h, cx - head_w / 2 + 0.02 * w, cy + 0.07 * h], fill=skin)
    draw.ellipse([cx + head_w / 2 - 0.02 * w, cy - 0.03 * h, cx + head_w / 2 + 0.018 * w, cy + 0.07 * h], fill=skin)
    draw.ellipse([cx - head_w / 2, cy - head_h / 2, cx + head_w / 2, cy + head_h / 2], fill=skin)
    draw.chord([cx - head_w / 2 - 0.01 * w, cy - head_h / 2 - 0.03 * h, cx + head_w / 2 + 0.01 * w, cy + 0.02 * h],
               180, 360, fill=(70, 46, 30))
    # Eyes (closed for a blink), brows, nose, and a mouth that opens with the voice.
    for side in (-1, 1):
        ex, ey = cx + side * 0.038 * w, cy + 0.0 * h
        if blink:
            draw.line([(ex - 0.014 * w, ey), (ex + 0.014 * w, ey)], fill=(60, 40, 30), width=2)
        else:
            draw.ellipse([ex - 0.014 * w, ey - 0.012 * h, ex + 0.014 * w, ey + 0.012 * h], fill=(250, 250, 250))
            draw.ellipse([ex - 0.007 * w, ey - 0.01 * h, ex + 0.007 * w, ey + 0.01 * h], fill=(60, 40, 30))
        draw.line([(ex - 0.02 * w, ey - 0.03 * h), (ex + 0.016 * w, ey - 0.034 * h)], fill=(70, 46, 30), width=3)
    draw.line([(cx, cy + 0.01 * h), (cx - 0.008 * w, cy + 0.055 * h), (cx + 0.006 * w, cy + 0.058 * h)],
              fill=(170, 120, 100), width=2)
    mouth_h = 0.006 * h + 0.035 * h * mouth_open
    draw.ellipse([cx - 0.035 * w, cy + 0.09 * h - mouth_h / 2, cx + 0.035 * w, cy + 0.09 * h + mouth_h / 2],
                 fill=(120, 50, 50))
    return image


def guide_frames(levels: np.ndarray, fps: int, width_px: int, height_px: int) -> Iterator[bytes]:
    """RGB24 frames of the talking head; `levels` (0..1, one per frame) open the mouth."""
    background = _office_background(width_px, height_px)
    for i, level in enumerate(levels):
        t_s = i / fps
        blink = (t_s % 3.7) < 0.12
        yield draw_guide_frame(background, t_s, float(level), blink).tobytes()
