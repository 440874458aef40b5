"""The overlays drawn over the programme (effectful: reads the logo, writes images): the
`[logo]` and each `[[lower_third]]` checked against the output frame and the programme,
rendered by Pillow into RGBA images at their exact output size, and stored in the cache
(`cache_dir()/overlays`, named by a hash of their pixels).

What reaches the render graph (`pipeline.video.overlay_graph`) is a `PlacedOverlay`: an
image file, a box and a window. Text is drawn here with the font shipped in the package
(`pipeline.video.fonts`), never by ffmpeg, so no user text is ever placed in a graph.
Every problem of every overlay is reported at once (ConfigError naming the table and key).
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from PIL import Image, ImageDraw

from pipeline import paths
from pipeline.config import Job
from pipeline.errors import ConfigError, OutputError, os_error_reason
from pipeline.overlay_specs import LogoSpec, LowerThirdSpec
from pipeline.video import overlay_layout as layout
from pipeline.video.colors import parse_color
from pipeline.video.fonts import (
    BOLD_FONT, FONT_NAME, REGULAR_FONT, describe_characters, load_font, missing_characters, normalize_text,
)

SVG_HINT = ("SVG logos are not supported (rasterizing SVG needs a library such as cairo); "
            "export the logo as a PNG with transparency")
_SVG_SNIFF_BYTES = 1024


@dataclass(frozen=True)
class PlacedOverlay:
    """One overlay ready for the graph: its image (RGBA, at its output size), where it is
    drawn and when."""

    kind: Literal["logo", "lower_third"]
    key: str  # "logo", "lower_third[0]": the job-file table
    image_path: Path
    box: layout.Box
    window: layout.OverlayWindow
    details: dict[str, object]

    def to_report(self, intro_s: float) -> dict[str, object]:
        return {
            "kind": self.kind,
            "table": self.key,
            **self.details,
            "start_s": round(self.window.start_s, 3),
            "end_s": round(self.window.end_s, 3),
            "fade_s": round(self.window.fade_s, 3),
            # Where the window lands in the output file, after the intro card.
            "output_start_s": round(self.window.start_s + intro_s, 3),
            "output_end_s": round(self.window.end_s + intro_s, 3),
            "x_px": self.box.x_px,
            "y_px": self.box.y_px,
            "width_px": self.box.width_px,
            "height_px": self.box.height_px,
            "image": str(self.image_path),
        }


class _Problems:
    """Problems as (key, full line), so one error can name the first and list them all."""

    def __init__(self, job: Job) -> None:
        self.where = job.source or job.main_path
        self.items: list[tuple[str, str]] = []

    def add(self, key: str, message: str) -> None:
        self.items.append((key, f"{self.where}: {key}: {message}"))

    def raise_any(self) -> None:
        if not self.items:
            return
        key, line = self.items[0]
        message = line.split(f"{key}: ", 1)[1]
        more = len(self.items) - 1
        raise ConfigError(
            message if not more else f"{message} (and {more} more overlay problem{'s' if more > 1 else ''})",
            file=self.where, field=key, problems=[line for _, line in self.items] if more else (),
        )


def _looks_like_svg(path: Path) -> bool:
    if path.suffix.lower() in (".svg", ".svgz"):
        return True
    try:
        with open(path, "rb") as stream:
            head = stream.read(_SVG_SNIFF_BYTES).lower()
    except OSError:
        return False
    return b"<svg" in head


def read_logo(path: Path) -> Image.Image:
    """The logo as RGBA (the first frame of an animated file); ValueError saying why not."""
    if not path.exists():
        raise ValueError(f"no such file: {path}")
    if path.is_dir():
        raise ValueError(f"is a folder, not an image: {path}")
    if _looks_like_svg(path):
        raise ValueError(f"{SVG_HINT}: {path}")
    try:
        with Image.open(path) as image:
            image.load()
            return image.convert("RGBA")
    except Image.DecompressionBombError:
        raise ValueError(f"image is too large to be a logo: {path}") from None
    except (OSError, SyntaxError, ValueError) as exc:
        reason = "not an image Pillow can read" if isinstance(exc, Image.UnidentifiedImageError) else "cannot be read"
        raise ValueError(f"{reason} (PNG with transparency expected): {path}") from None


def is_still_image(path: Path) -> bool:
    """Whether `path` is a picture Pillow reads (PNG, JPEG, ...), not a clip."""
    try:
        with Image.open(path) as image:
            return getattr(image, "n_frames", 1) == 1
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return False


def render_logo(image: Image.Image, size_px: tuple[int, int], opacity: float) -> Image.Image:
    """The logo scaled to its box (Pillow resizes RGBA with premultiplied alpha, so
    transparent pixels do not bleed into the edges), its alpha scaled by `opacity`."""
    scaled = image.resize(size_px, Image.Resampling.LANCZOS)
    if opacity < 1.0:
        scaled.putalpha(scaled.getchannel("A").point(lambda value: round(value * opacity)))
    return scaled


@dataclass(frozen=True)
class LowerThirdText:
    """A lower third's lines as drawn: text (NFC), font file and size, measured width."""

    lines: tuple[str, ...]
    fonts: tuple[Path, ...]
    sizes_px: tuple[int, ...]
    widths_px: tuple[int, ...]
    heights_px: tuple[int, ...]


def measure_lower_third(spec: LowerThirdSpec, frame_px: tuple[int, int], key: str, problems: _Problems) -> LowerThirdText | None:
    """The lines measured; a problem for each line the font cannot draw or the title-safe
    area cannot hold (never a clipped line)."""
    sizes = layout.lower_third_font_sizes_px(spec.text_size, len(spec.lines), frame_px)
    padding_px = layout.lower_third_padding_px(spec.padding, frame_px)
    limit_px = layout.max_text_width_px(frame_px, padding_px)
    fonts = [BOLD_FONT if index == 0 else REGULAR_FONT for index in range(len(spec.lines))]
    lines = [normalize_text(line) for line in spec.lines]
    widths, heights, ok = [], [], True
    for index, (line, font_path, size) in enumerate(zip(lines, fonts, sizes)):
        font = load_font(font_path, size)
        missing = missing_characters(line, font_path)
        if missing:
            problems.add(f"{key}.lines[{index}]", f"the shipped font ({FONT_NAME}) has no glyph for "
                                                  f"{describe_characters(missing)}")
            ok = False
        right = font.getbbox(line, anchor="la")[2]
        width = math.ceil(max(font.getlength(line), right))
        if width > limit_px:
            problems.add(f"{key}.lines[{index}]", (
                f"text is {width} px wide at {size} px letters, but at most {limit_px} px fit inside the title-safe "
                f"area of the {frame_px[0]}x{frame_px[1]} output (with padding): shorten the line or lower text_size"
            ))
            ok = False
        ascent, descent = font.getmetrics()
        widths.append(width)
        heights.append(ascent + descent)
    if not ok:
        return None
    return LowerThirdText(tuple(lines), tuple(fonts), tuple(sizes), tuple(widths), tuple(heights))


def render_lower_third(
    spec: LowerThirdSpec, text: LowerThirdText, text_layout: layout.LowerThirdLayout
) -> Image.Image:
    """The box with its lines: the box colour at `box_opacity`, the text opaque on it."""
    box = text_layout.box
    size = (box.width_px, box.height_px)
    image = Image.new("RGBA", size, (*parse_color(spec.box_color), round(255 * spec.box_opacity)))
    text_rgb = parse_color(spec.text_color)
    # Drawn on a layer of the text's own colour, transparent: antialiased edges then vary
    # in alpha only, not darken towards black.
    letters = Image.new("RGBA", size, (*text_rgb, 0))
    draw = ImageDraw.Draw(letters)
    for line, font_path, size_px, origin in zip(text.lines, text.fonts, text.sizes_px, text_layout.line_origins_px):
        draw.text(origin, line, font=load_font(font_path, size_px), fill=(*text_rgb, 255), anchor="la")
    return Image.alpha_composite(image, letters)


def store_image(image: Image.Image, kind: str) -> Path:
    """The image as a PNG in the overlay cache, named by a hash of its pixels; written
    beside its place and renamed in, so a second render never reads half a file."""
    digest = hashlib.sha256(f"{image.mode}{image.size}".encode() + image.tobytes()).hexdigest()[:24]
    folder = paths.cache_dir() / "overlays"
    path = folder / f"{kind}-{digest}.png"
    if path.is_file() and path.stat().st_size > 0:
        return path
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-", suffix=".png", delete=False) as stream:
            partial = Path(stream.name)
        try:
            image.save(partial, format="PNG")
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
    except OSError as exc:
        raise OutputError(f"{kind}: cannot write the overlay cache: {os_error_reason(exc)} "
                          "(free space there, or set WAYFINDER_CACHE_DIR)", file=folder) from None
    return path


def _check_colors(spec: LowerThirdSpec, key: str, problems: _Problems) -> bool:
    ok = True
    for name in ("text_color", "box_color"):
        try:
            parse_color(getattr(spec, name))
        except ValueError as exc:
            problems.add(f"{key}.{name}", str(exc))
            ok = False
    return ok


def _window(problems: _Problems, key: str, start_s: float, end_s: float | None, fade_s: float,
            programme_s: float) -> layout.OverlayWindow | None:
    window_problems = layout.check_window(start_s, end_s, programme_s)
    for name, message in window_problems:
        problems.add(f"{key}.{name}", message)
    return None if window_problems else layout.build_window(start_s, end_s, fade_s, programme_s)


def _place_logo(spec: LogoSpec, frame_px: tuple[int, int], programme_s: float, problems: _Problems) -> PlacedOverlay | None:
    window = _window(problems, "logo", spec.start_s, spec.end_s, spec.fade_s, programme_s)
    try:
        image = read_logo(spec.source)
    except ValueError as exc:
        problems.add("logo.source", str(exc))
        return None
    if window is None:
        return None
    box = layout.build_logo_box(image.size, frame_px, width=spec.width, corner=spec.corner, x=spec.x, y=spec.y,
                                margin=spec.margin)
    rendered = render_logo(image, (box.width_px, box.height_px), spec.opacity)
    details: dict[str, object] = {"source": str(spec.source), "opacity": spec.opacity}
    return PlacedOverlay("logo", "logo", store_image(rendered, "logo"), box, window, details)


def _place_lower_third(
    index: int, spec: LowerThirdSpec, frame_px: tuple[int, int], programme_s: float, problems: _Problems
) -> PlacedOverlay | None:
    key = f"lower_third[{index}]"
    end_s = spec.end_s if spec.end_s is not None else layout.default_lower_third_end_s(spec.start_s, programme_s)
    window = _window(problems, key, spec.start_s, end_s, spec.fade_s, programme_s)
    colors_ok = _check_colors(spec, key, problems)
    text = measure_lower_third(spec, frame_px, key, problems)
    if window is None or text is None or not colors_ok:
        return None
    padding_px = layout.lower_third_padding_px(spec.padding, frame_px)
    try:
        text_layout = layout.build_lower_third_layout(text.widths_px, text.heights_px, padding_px, frame_px)
    except ValueError as exc:
        problems.add(f"{key}.text_size", f"{exc} of the {frame_px[0]}x{frame_px[1]} output: lower text_size or padding")
        return None
    image = render_lower_third(spec, text, text_layout)
    details: dict[str, object] = {"lines": list(text.lines), "font": FONT_NAME, "font_sizes_px": list(text.sizes_px)}
    return PlacedOverlay("lower_third", key, store_image(image, "lower-third"), text_layout.box, window, details)


def has_overlays(job: Job) -> bool:
    return job.logo is not None or bool(job.lower_thirds)


def prepare_overlays(job: Job, programme_s: float, frame_px: tuple[int, int]) -> tuple[PlacedOverlay, ...]:
    """The job's logo and lower thirds checked, rendered and placed, in drawing order
    (the logo first, lower thirds over it in job order). ConfigError listing every
    problem of every overlay."""
    problems = _Problems(job)
    placed: list[PlacedOverlay | None] = []
    if job.logo is not None:
        placed.append(_place_logo(job.logo, frame_px, programme_s, problems))
    thirds: list[PlacedOverlay] = []
    for index, spec in enumerate(job.lower_thirds):
        third = _place_lower_third(index, spec, frame_px, programme_s, problems)
        for earlier in thirds if third is not None else []:
            if third.window.start_s < earlier.window.end_s and earlier.window.start_s < third.window.end_s:
                # They share a place (the bottom left of the title-safe area): one would hide the other.
                problems.add(f"{third.key}.start_s", (
                    f"on screen at the same time as {earlier.key} ({earlier.window.start_s:g}-"
                    f"{earlier.window.end_s:g} s), in the same place: give them windows that do not overlap"
                ))
        if third is not None:
            thirds.append(third)
        placed.append(third)
    problems.raise_any()
    return tuple(overlay for overlay in placed if overlay is not None)


def overlays_report(overlays: Sequence[PlacedOverlay], intro_s: float) -> list[dict[str, object]]:
    return [overlay.to_report(intro_s) for overlay in overlays]
