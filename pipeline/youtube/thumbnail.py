"""Thumbnails: checking a given image against YouTube's limits, and picking one from the video.

`auto` samples frames from the middle of the video (30% to 70% of its length, where a
navigation walk is under way rather than on a title card), scores each for sharpness
(variance of the Laplacian) and exposure (mean level near mid-grey, few clipped pixels),
and writes the best as a 1280x720 JPEG, optionally with the title drawn on a dark band.
Frames are decoded with PyAV; no ffmpeg process is started.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAX_THUMBNAIL_BYTES = 2 * 1024 * 1024  # YouTube: "under 2 MB"
MIN_THUMBNAIL_WIDTH_PX = 640  # YouTube: "minimum width of 640 pixels"
THUMBNAIL_SIZE_PX = (1280, 720)
SAMPLE_FRACTIONS = tuple(0.30 + 0.05 * i for i in range(9))  # 0.30 ... 0.70
ANALYSIS_WIDTH_PX = 640  # score every frame at one size so sharpness compares fairly
MID_GREY = 118.0
ALLOWED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png"}


@dataclass(frozen=True)
class FrameScore:
    time_s: float
    sharpness: float
    mean_level: float
    clipped_fraction: float
    score: float


@dataclass(frozen=True)
class Thumbnail:
    path: Path
    mimetype: str
    frame_time_s: float | None = None
    scores: tuple[FrameScore, ...] = ()


def check_thumbnail_file(path: Path, *, field: str = "thumbnail") -> list[str]:
    """Problems that would make YouTube refuse this image."""
    if not path.is_file():
        return [f"{field}: no such file: {path}"]
    from PIL import Image, UnidentifiedImageError

    problems: list[str] = []
    size_bytes = path.stat().st_size
    if size_bytes > MAX_THUMBNAIL_BYTES:
        problems.append(f"{field}: {path.name} is {size_bytes} bytes; YouTube accepts at most {MAX_THUMBNAIL_BYTES} (2 MB)")
    try:
        with Image.open(path) as image:
            kind, width_px = image.format, image.width
    except (UnidentifiedImageError, OSError):
        return [*problems, f"{field}: {path.name} is not a JPEG or PNG image"]
    if kind not in ALLOWED_FORMATS:
        problems.append(f"{field}: {path.name} is {kind}; use JPEG or PNG")
    if width_px < MIN_THUMBNAIL_WIDTH_PX:
        problems.append(f"{field}: {path.name} is {width_px} px wide; YouTube needs at least {MIN_THUMBNAIL_WIDTH_PX} px")
    return problems


def thumbnail_mimetype(path: Path) -> str:
    from PIL import Image

    with Image.open(path) as image:
        return ALLOWED_FORMATS.get(image.format or "", "image/jpeg")


def score_frame(gray: np.ndarray, time_s: float = 0.0) -> FrameScore:
    """Sharpness and exposure of one 8-bit grey frame, combined into one score (higher is better)."""
    level = gray.astype(np.float32)
    laplacian = (4 * level[1:-1, 1:-1] - level[:-2, 1:-1] - level[2:, 1:-1]
                 - level[1:-1, :-2] - level[1:-1, 2:])
    sharpness = float(laplacian.var())
    mean_level = float(level.mean())
    clipped = float(np.mean((level < 10) | (level > 245)))
    exposure = max(0.0, 1.0 - abs(mean_level - MID_GREY) / MID_GREY)
    # log: doubling the detail matters less than a frame being dark or blown out.
    score = math.log1p(sharpness) * exposure * max(0.0, 1.0 - 2.0 * clipped)
    return FrameScore(time_s, sharpness, mean_level, clipped, score)


def pick_frame(video: Path, duration_s: float) -> tuple[object, tuple[FrameScore, ...]]:
    """The best-scoring frame (a PIL image) among frames sampled from the middle of the video."""
    import av

    scored: list[tuple[FrameScore, object]] = []
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        time_base = stream.time_base
        for fraction in SAMPLE_FRACTIONS:
            target_s = duration_s * fraction
            container.seek(int(target_s / time_base), stream=stream, backward=True)
            for frame in container.decode(stream):
                if frame.time is None or frame.time + 1e-6 >= target_s:
                    height_px = max(2, round(ANALYSIS_WIDTH_PX * frame.height / frame.width / 2) * 2)
                    small = frame.reformat(width=ANALYSIS_WIDTH_PX, height=height_px, format="gray")
                    score = score_frame(small.to_ndarray(), float(frame.time or target_s))
                    scored.append((score, frame.to_image()))
                    break
    if not scored:
        raise ValueError("no frame could be decoded from the middle of the video")
    best = max(scored, key=lambda item: item[0].score)
    return best[1], tuple(item[0] for item in scored)


def cover_resize(image: object, size_px: tuple[int, int] = THUMBNAIL_SIZE_PX) -> object:
    """Scale to cover the target size and crop the centre: no bars, no distortion."""
    from PIL import Image

    assert isinstance(image, Image.Image)
    width_px, height_px = size_px
    scale = max(width_px / image.width, height_px / image.height)
    resized = image.convert("RGB").resize(
        (max(width_px, round(image.width * scale)), max(height_px, round(image.height * scale))),
        Image.Resampling.LANCZOS,
    )
    left = (resized.width - width_px) // 2
    top = (resized.height - height_px) // 2
    return resized.crop((left, top, left + width_px, top + height_px))


def draw_title(image: object, title: str) -> object:
    """The title in white on a translucent dark band across the lower third."""
    from PIL import Image, ImageDraw, ImageFont

    assert isinstance(image, Image.Image)
    font_size_px = image.height // 12
    font = ImageFont.load_default(size=font_size_px)
    margin_px = image.width // 20
    draw = ImageDraw.Draw(image)
    lines = _wrap(title, lambda text: draw.textlength(text, font=font), image.width - 2 * margin_px, max_lines=3)
    line_height_px = int(font_size_px * 1.25)
    band_height_px = line_height_px * len(lines) + 2 * (margin_px // 2)
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    ImageDraw.Draw(overlay).rectangle((0, image.height - band_height_px, image.width, image.height),
                                      fill=(0, 0, 0, 170))
    composed = Image.alpha_composite(image.convert("RGBA"), overlay)
    draw = ImageDraw.Draw(composed)
    y = image.height - band_height_px + margin_px // 2
    for line in lines:
        draw.text((margin_px, y), line, font=font, fill=(255, 255, 255, 255))
        y += line_height_px
    return composed.convert("RGB")


def _wrap(text: str, width_of: object, max_width_px: float, *, max_lines: int) -> list[str]:
    measure = width_of  # callable: str -> px
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if current and measure(candidate) > max_width_px:  # type: ignore[operator]
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1].rstrip(".,;: ") + "…"
    return lines


def encode_jpeg(image: object) -> bytes:
    """JPEG bytes under YouTube's 2 MB limit (quality steps down if a noisy frame is too big)."""
    from PIL import Image

    assert isinstance(image, Image.Image)
    for quality in (90, 80, 70, 60, 50):
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=quality, optimize=True)
        if buffer.tell() <= MAX_THUMBNAIL_BYTES:
            return buffer.getvalue()
    return buffer.getvalue()


def write_auto_thumbnail(video: Path, duration_s: float, out_path: Path, *, title: str | None = None) -> Thumbnail:
    """Pick a frame, make it 1280x720 (with the title if given) and write it as JPEG."""
    frame, scores = pick_frame(video, duration_s)
    image = cover_resize(frame)
    if title:
        image = draw_title(image, title)
    data = encode_jpeg(image)
    partial = out_path.with_name(out_path.name + ".partial")
    partial.write_bytes(data)
    partial.replace(out_path)
    best = max(scores, key=lambda s: s.score)
    return Thumbnail(path=out_path, mimetype="image/jpeg", frame_time_s=best.time_s, scores=scores)
