"""Title cards (effectful): the intro and outro clips, composed with moviepy and Pillow,
encoded once at the output size and frame rate, and cached.

A card is a still: a background (colour, or an image cropped to fill the frame) with its
text lines centred on it, the first line as the headline and the others smaller, long
lines wrapped. moviepy composes the layers; the frame is written as PNG and turned into a
short H.264 clip by the one ffmpeg runner (moviepy would start its own ffmpeg, which the
runner could not stop on Ctrl-C). The clip is cached in `cache_dir()/cards` under a hash
of everything that changes its pixels (settings, size, rate, background image bytes,
font, this module's version), so a second render reuses it. The card's sound (silence
or its own audio) is added in the render graph, not here.

Text never goes near a filter graph: Pillow draws it, so quotes, colons and brackets in
card lines are just text.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from pipeline import paths
from pipeline.config import CardSpec
from pipeline.errors import ConfigError, InputError, OutputError, os_error_reason
from pipeline.media import run_ffmpeg
from pipeline.probe import MediaInfo, probe
from pipeline.state import sha256_of_file
from pipeline.video.colors import parse_color
from pipeline.video.fonts import BOLD_FONT

CARD_VERSION = 2  # bump when the layout or encoding changes: old cache entries retire
HEADLINE_HEIGHT_FRACTION = 1 / 13  # default headline size, of the frame height
OTHER_LINES_SCALE = 0.7
TEXT_WIDTH_FRACTION = 0.86
LINE_GAP_FRACTION = 0.2  # of the headline size, between line boxes
DESCENT_ROOM = 0.3  # of a line's font size, above and below its text
CARD_CRF = 12  # a still at this quality costs little and survives the final encode


@dataclass(frozen=True)
class RenderedCard:
    """A card clip ready to be joined: its file, exact length and sound source."""

    name: str  # "intro" or "outro"
    video_path: Path
    duration_s: float
    size_px: tuple[int, int]
    fps_text: str
    audio: MediaInfo | None  # None: silence
    cache_hit: bool

    def to_report(self) -> dict[str, object]:
        return {
            "duration_s": round(self.duration_s, 3),
            "clip": str(self.video_path),
            "cache": "hit" if self.cache_hit else "rendered",
            "audio": str(self.audio.path) if self.audio else "silence",
        }


def find_font() -> str | None:
    """The bold font shipped with the package (as for lower thirds): cards look the same
    on every machine, whatever fonts it has."""
    return str(BOLD_FONT)


def card_frames(duration_s: float, fps: float) -> int:
    return max(1, round(duration_s * fps))


def build_card_key(
    spec: CardSpec, size_px: tuple[int, int], fps: float, *, font: str | None, image_digest: str | None
) -> str:
    """The cache key: a hash of everything that changes the card's pixels."""
    settings = {
        "version": CARD_VERSION,
        "lines": list(spec.lines),
        "frames": card_frames(spec.duration_s, fps),
        "fps": round(fps, 6),
        "size_px": list(size_px),
        "background": parse_color(spec.background),
        "background_image": image_digest,
        "text_color": parse_color(spec.text_color),
        "font_size_px": spec.font_size_px,
        "font": font or "pillow-default",
    }
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:24]


def check_card(name: str, spec: CardSpec, job_file: Path | None) -> tuple[str | None, MediaInfo | None]:
    """Validate a card's colours, image and audio (ConfigError naming the field).
    Returns the background image's digest and the probed audio."""
    for field_name in ("background", "text_color"):
        try:
            parse_color(getattr(spec, field_name))
        except ValueError as exc:
            raise ConfigError(str(exc), file=job_file, field=f"{name}.{field_name}") from None
    digest = None
    if spec.background_image is not None:
        try:
            with Image.open(spec.background_image) as image:
                image.verify()
            digest = sha256_of_file(spec.background_image)
        except (OSError, SyntaxError, ValueError) as exc:
            raise ConfigError(
                f"background image cannot be read: {spec.background_image} ({exc.__class__.__name__})",
                file=job_file, field=f"{name}.background_image",
            ) from None
    audio = None
    if spec.audio is not None:
        try:
            audio = probe(spec.audio)
        except InputError as exc:
            raise ConfigError(f"card audio: {exc.one_line()}", file=job_file, field=f"{name}.audio") from None
        if audio.first_audio is None:
            raise ConfigError(f"card audio has no audio stream: {spec.audio}", file=job_file, field=f"{name}.audio")
    return digest, audio


def compose_card(spec: CardSpec, size_px: tuple[int, int], font: str | None) -> np.ndarray:
    """The card's picture (H x W x 3, uint8), composed by moviepy."""
    from moviepy import ColorClip, CompositeVideoClip, ImageClip, TextClip

    width, height = size_px
    if spec.background_image is not None:
        with Image.open(spec.background_image) as image:
            fitted = ImageOps.fit(image.convert("RGB"), size_px, method=Image.Resampling.LANCZOS)
        background = ImageClip(np.asarray(fitted))
    else:
        background = ColorClip(size_px, color=parse_color(spec.background))
    headline_px = spec.font_size_px or max(12, round(height * HEADLINE_HEIGHT_FRACTION))
    color = "#%02x%02x%02x" % parse_color(spec.text_color)
    texts = []
    for index, line in enumerate(spec.lines):
        size = headline_px if index == 0 else max(8, round(headline_px * OTHER_LINES_SCALE))
        texts.append(TextClip(
            font=font, text=line or " ", font_size=size, color=color, method="caption",
            size=(round(width * TEXT_WIDTH_FRACTION), None), text_align="center",
            # moviepy sizes the text box without the font's descent: room for g, p, y, ].
            margin=(0, round(size * DESCENT_ROOM)),
        ))
    gap_px = round(headline_px * LINE_GAP_FRACTION)
    total_px = sum(t.h for t in texts) + gap_px * (len(texts) - 1)
    top_px = max(0, (height - total_px) // 2)
    layers = [background]
    for text in texts:
        layers.append(text.with_position(((width - text.w) // 2, top_px)))
        top_px += text.h + gap_px
    frame = CompositeVideoClip(layers, size=size_px).with_duration(1).get_frame(0)
    return np.asarray(frame, dtype=np.uint8)[:, :, :3]


def build_card_encode_args(still: Path, clip: Path, frames: int, fps_text: str) -> list[str]:
    """Encode a still into a clip: BT.709 limited range, tagged like the programme."""
    return [
        "-f", "image2", "-pattern_type", "none", "-loop", "1", "-framerate", fps_text,
        "-i", f"file:{still}",
        "-frames:v", str(frames),
        "-vf", "scale=out_color_matrix=bt709:out_range=tv:flags=bicubic,format=yuv420p,"
               "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv",
        "-c:v", "libx264", "-preset", "veryfast", "-tune", "stillimage", "-crf", str(CARD_CRF),
        "-r", fps_text, "-an", "-map_metadata", "-1", "-f", "mp4", "-y", f"file:{clip}",
    ]


def render_card(
    name: str, spec: CardSpec, size_px: tuple[int, int], fps: float, fps_text: str, *, job_file: Path | None = None
) -> RenderedCard:
    """The card's clip from the cache, or rendered into it."""
    digest, audio = check_card(name, spec, job_file)
    font = find_font()
    key = build_card_key(spec, size_px, fps, font=font, image_digest=digest)
    folder = paths.cache_dir() / "cards"
    clip = folder / f"card-{key}.mp4"
    frames = card_frames(spec.duration_s, fps)
    duration_s = frames / fps
    if clip.is_file() and clip.stat().st_size > 0:
        return RenderedCard(name, clip, duration_s, size_px, fps_text, audio, cache_hit=True)
    picture = compose_card(spec, size_px, font)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Written beside the cache entry and renamed into place, so a crash or a second
        # render running at the same time never sees half a clip.
        with tempfile.TemporaryDirectory(dir=folder, prefix=".render-") as work:
            still = Path(work) / "card.png"
            Image.fromarray(picture).save(still)
            partial = Path(work) / "card.mp4"
            run_ffmpeg(build_card_encode_args(still, partial, frames, fps_text), total_s=duration_s,
                       what=f"{name} card", file=job_file)
            os.replace(partial, clip)
    except OSError as exc:  # a full or read-only cache disk: say which folder, not a traceback
        raise OutputError(f"{name} card: cannot write the card cache: {os_error_reason(exc)} "
                          "(free space there, or set WAYFINDER_CACHE_DIR)", file=folder) from None
    return RenderedCard(name, clip, duration_s, size_px, fps_text, audio, cache_hit=False)
