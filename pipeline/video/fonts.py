"""The fonts shipped with the package (DejaVu Sans, in `font_files/` with its licence):
where they are, loading them at a size, and which characters they cannot draw.

Text drawn by Wayfinder never depends on the fonts a machine happens to have, so a lower
third looks the same on every render host, and a character the font lacks is found
before rendering (a job error) instead of being drawn as an empty box.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT_DIR = Path(__file__).resolve().with_name("font_files")
FONT_NAME = "DejaVu Sans"
REGULAR_FONT = FONT_DIR / "DejaVuSans.ttf"
BOLD_FONT = FONT_DIR / "DejaVuSans-Bold.ttf"
FONT_LICENCE = FONT_DIR / "LICENSE_DEJAVU"
# A private-use code point: no font maps it, so it draws the font's "missing" glyph.
_MISSING_PROBE = "\ue000"
_PROBE_SIZE_PX = 32


@lru_cache(maxsize=64)
def load_font(path: Path, size_px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size_px)


def normalize_text(text: str) -> str:
    """NFC: a name typed with combining accents (e + U+0301) uses the font's precomposed
    letters, which every layout engine draws alike."""
    return unicodedata.normalize("NFC", text)


@lru_cache(maxsize=4096)
def _glyph_bitmap(path: Path, character: str) -> bytes:
    font = load_font(path, _PROBE_SIZE_PX)
    image = Image.new("L", (3 * _PROBE_SIZE_PX, 2 * _PROBE_SIZE_PX))
    ImageDraw.Draw(image).text((_PROBE_SIZE_PX // 2, _PROBE_SIZE_PX // 4), character, font=font, fill=255)
    return image.tobytes()


def missing_characters(text: str, path: Path) -> list[str]:
    """The characters of `text` (after `normalize_text`) the font at `path` has no glyph
    for, in order of first appearance; spaces are never missing."""
    missing: list[str] = []
    probe = _glyph_bitmap(path, _MISSING_PROBE)
    for character in dict.fromkeys(normalize_text(text)):
        if character.isspace() or unicodedata.category(character) in ("Mn", "Cf"):
            continue  # combining marks and format characters have no box of their own
        if _glyph_bitmap(path, character) == probe:
            missing.append(character)
    return missing


def describe_characters(characters: list[str]) -> str:
    """`'中' (U+4E2D), 'ع' (U+0639)`: what a message quotes."""
    return ", ".join(f"{ch!r} (U+{ord(ch):04X})" for ch in characters)
