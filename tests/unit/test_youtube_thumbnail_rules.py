"""Thumbnail frame scoring and the checks on a given thumbnail image (YouTube's limits)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from pipeline.youtube.thumbnail import check_thumbnail_file, cover_resize, draw_title, encode_jpeg, score_frame

SIZE = (360, 640)


def checkerboard(level_low: int = 60, level_high: int = 180, square_px: int = 8) -> np.ndarray:
    y, x = np.indices(SIZE)
    return np.where(((y // square_px) + (x // square_px)) % 2 == 0, level_low, level_high).astype(np.uint8)


def box_blur(gray: np.ndarray, radius_px: int = 6) -> np.ndarray:
    padded = np.pad(gray.astype(np.float32), radius_px, mode="edge")
    out = np.zeros(SIZE, np.float32)
    width = 2 * radius_px + 1
    for dy in range(width):
        for dx in range(width):
            out += padded[dy:dy + SIZE[0], dx:dx + SIZE[1]]
    return (out / width**2).astype(np.uint8)


def test_sharp_beats_blurred_of_the_same_picture() -> None:
    sharp = score_frame(checkerboard())
    blurred = score_frame(box_blur(checkerboard()))
    assert sharp.sharpness > 10 * blurred.sharpness
    assert sharp.score > blurred.score


def test_well_exposed_beats_dark_and_blown_out_with_the_same_detail() -> None:
    good = score_frame(checkerboard(60, 180))       # mean 120: mid-grey
    dark = score_frame(checkerboard(0, 40))          # mean 20, half the pixels crushed to black
    bright = score_frame(checkerboard(215, 255))     # half the pixels clipped white
    assert good.score > dark.score and good.score > bright.score
    assert dark.clipped_fraction >= 0.5 and bright.clipped_fraction >= 0.5


def test_flat_grey_has_no_sharpness() -> None:
    flat = score_frame(np.full(SIZE, 118, np.uint8))
    assert flat.sharpness == 0 and flat.score == 0


def test_cover_resize_fills_1280x720_from_any_shape() -> None:
    for size in ((640, 360), (720, 1280), (1000, 1000)):
        assert cover_resize(Image.new("RGB", size, "white")).size == (1280, 720)


def test_title_band_darkens_the_lower_part_only() -> None:
    image = Image.new("RGB", (1280, 720), (200, 200, 200))
    drawn = np.asarray(draw_title(image, "How to find Cardiology Clinic – North Tower, floor 3"))
    assert drawn[:300].mean() == 200  # top untouched
    assert drawn[-60:].mean() < 150   # translucent dark band at the bottom
    assert (drawn[-200:] == 255).any()  # white text on it


def test_check_thumbnail_file_limits(tmp_path: Path) -> None:
    ok = tmp_path / "ok.jpg"
    ok.write_bytes(encode_jpeg(Image.new("RGB", (1280, 720), "white")))
    assert check_thumbnail_file(ok) == []
    png = tmp_path / "ok.png"
    Image.new("RGB", (640, 360)).save(png)
    assert check_thumbnail_file(png) == []
    narrow = tmp_path / "narrow.png"
    Image.new("RGB", (639, 360)).save(narrow)
    assert "at least 640" in check_thumbnail_file(narrow)[0]
    gif = tmp_path / "anim.gif"
    Image.new("RGB", (1280, 720)).save(gif)
    assert "use JPEG or PNG" in check_thumbnail_file(gif)[0]
    noise = tmp_path / "huge.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (1080, 1920, 3), dtype=np.uint8)).save(noise)
    assert noise.stat().st_size > 2 * 1024 * 1024
    assert any("2 MB" in p for p in check_thumbnail_file(noise))
    text = tmp_path / "notes.jpg"
    text.write_text("not an image")
    assert "not a JPEG or PNG" in check_thumbnail_file(text)[0]
    assert "no such file" in check_thumbnail_file(tmp_path / "missing.jpg")[0]


def test_encoded_jpeg_stays_under_2_mb_even_for_noise() -> None:
    noise = Image.fromarray(np.random.default_rng(2).integers(0, 255, (720, 1280, 3), dtype=np.uint8))
    assert len(encode_jpeg(noise)) <= 2 * 1024 * 1024
