"""The logo bug and lower thirds rendered by the real ffmpeg, checked pixel by pixel.

Expected values come from how the media were made and from the documented geometry:
flat colour fields (colours read back from the inputs), a logo whose left half is opaque
red and right half transparent, the title-safe area as the central 90 % of the frame
(SMPTE ST 2046-1 safe title), sizes as fractions of the frame, letter sizes and line
heights from the shipped font's own metrics (Pillow), colours through the BT.709
limited-range matrix.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from pipeline.video.fonts import BOLD_FONT, REGULAR_FONT
from pipeline.render import report_path_for
from tests.integration import jobs
from tests.integration.cli import leftovers, wayfinder
from tests.integration.test_pip import MAIN_RGB, assert_colour, colour_clip, colour_of, frames_at, pixel

W, H = 320, 180
EXACT_VIDEO = 'x264_preset = "ultrafast"\ncrf = 10'  # text edges survive the encode
RED = (255, 0, 0)
BOX_RGB = (0xE0, 0x80, 0x20)


def yuv709(rgb: tuple[int, int, int]) -> np.ndarray:
    """8-bit limited-range BT.709 Y, Cb, Cr of an RGB colour (ITU-R BT.709 table 3)."""
    r, g, b = (channel / 255 for channel in rgb)
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return np.array([16 + 219 * y, 128 + 224 * (b - y) / 1.8556, 128 + 224 * (r - y) / 1.5748])


def blend(under: np.ndarray, over: np.ndarray, alpha: float) -> np.ndarray:
    return under * (1 - alpha) + over * alpha


def even_up(value: float) -> int:
    return math.ceil(value / 2) * 2


def safe_area(width: int, height: int) -> tuple[int, int, int, int]:
    """Left, top, right, bottom of the central 90 %, edges moved inwards to even pixels."""
    return (even_up(0.05 * width), even_up(0.05 * height),
            int(0.95 * width) // 2 * 2, int(0.95 * height) // 2 * 2)


def half_red_logo(path: Path) -> Path:
    """100 x 50: the left half opaque red, the right half fully transparent."""
    image = Image.new("RGBA", (100, 50), (0, 0, 0, 0))
    ImageDraw.Draw(image).rectangle([0, 0, 49, 49], fill=(*RED, 255))
    image.save(path)
    return path


def lower_third_box(lines: list[str], frame: tuple[int, int], text_size: float = 0.055,
                    padding: float = 0.02) -> tuple[int, int, int, int, int, list[ImageFont.FreeTypeFont]]:
    """x, y, width, height and padding of a lower third's box, from the documented rules:
    the first line `text_size` of the shorter side in bold, the second 0.8 of it, each as
    tall as the font's ascent + descent, `padding` of the shorter side all round, sizes
    even, at the bottom left of the title-safe area."""
    short = min(frame)
    first = round(text_size * short)
    sizes = [first, round(first * 0.8)][:len(lines)]
    fonts = [ImageFont.truetype(str(path), size) for path, size in zip((BOLD_FONT, REGULAR_FONT), sizes)]
    pad = round(padding * short)
    widths = [math.ceil(max(font.getlength(line), font.getbbox(line, anchor="la")[2])) for font, line in zip(fonts, lines)]
    box_w = even_up(max(widths) + 2 * pad)
    box_h = even_up(sum(sum(font.getmetrics()) for font in fonts) + 2 * pad)
    left, _, _, bottom = safe_area(*frame)
    return left, bottom - box_h, box_w, box_h, pad, fonts


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("overlay-media")


@pytest.fixture(scope="module")
def wide(media: Path) -> Path:
    return colour_clip(media / "wide.mp4", MAIN_RGB)


@pytest.fixture(scope="module")
def tall(media: Path) -> Path:
    return colour_clip(media / "tall.mp4", MAIN_RGB, size="180x320")


@pytest.fixture(scope="module")
def logo(media: Path) -> Path:
    # A name that would change a filter graph if it were ever placed in one.
    return half_red_logo(media / "logo it's [a]; b,c:d=e %d.png")


def render(folder: Path, main: Path, tables: str, *, video: str = EXACT_VIDEO) -> Path:
    job = jobs.write_job(folder, main, tables, video=video)
    result = wayfinder("render", job)
    assert result.returncode == 0, result.stderr
    return folder / "out.mp4"


def overlay_report(out: Path) -> list[dict[str, object]]:
    report = json.loads(report_path_for(out).read_text())
    return report["measurements"]["picture"]["overlays"]


def test_logo_position_size_opacity_and_window_on_16_9(media: Path, wide: Path, logo: Path, tmp_path: Path) -> None:
    out = render(tmp_path, wide, f"""
[logo]
source = '''{logo}'''
width = 0.25
opacity = 0.5
start_s = 1.0
end_s = 3.0
""")
    main = colour_of(wide)
    half_red = blend(main, yuv709(RED), 0.5)
    # 0.25 * 320 = 80 px wide, 2:1 -> 40 high; top-right corner of the title-safe area
    # (right edge 0.95 * 320 = 304, top 0.05 * 180 = 9 -> 10 even).
    left, top, right, _ = safe_area(W, H)
    x0, y0 = right - 80, top
    assert (x0, y0) == (224, 10)
    frames = frames_at(out, [0.5, 1.5, 2.9, 3.5])
    during = frames[1.5]
    for x, y in ((x0 + 4, y0 + 4), (x0 + 20, y0 + 20), (x0 + 36, y0 + 36)):
        assert_colour(pixel(during, x, y), half_red, f"opaque half of the logo at 50 % ({x}, {y})")
    assert_colour(pixel(during, x0 + 60, y0 + 20), main, "transparent half of the logo")
    for x, y, where in ((x0 - 4, y0 + 20, "left of"), (x0 + 20, y0 + 44, "below"), (x0 + 20, y0 - 6, "above"),
                        (right + 6, y0 + 20, "right of")):
        assert_colour(pixel(during, x, y), main, f"main picture {where} the logo")
    assert_colour(pixel(frames[2.9], x0 + 20, y0 + 20), half_red, "logo just before its window ends")
    for t in (0.5, 3.5):
        assert_colour(pixel(frames[t], x0 + 20, y0 + 20), main, f"no logo at {t} s")
    (row,) = overlay_report(out)
    assert row["kind"] == "logo" and row["start_s"] == 1.0 and row["end_s"] == 3.0
    assert (row["x_px"], row["y_px"], row["width_px"], row["height_px"]) == (x0, y0, 80, 40)
    assert leftovers(tmp_path) == []


def test_logo_corner_and_lower_third_on_9_16(media: Path, tall: Path, logo: Path, tmp_path: Path) -> None:
    lines = ["Gonda Building", "Level 2"]
    out = render(tmp_path, tall, f"""
[logo]
source = '''{logo}'''
corner = "top-left"
width = 0.4

[[lower_third]]
lines = {json.dumps(lines)}
start_s = 0.0
end_s = 4.0
fade_s = 0.0
box_color = "#e08020"
box_opacity = 1.0
""")
    main, box = colour_of(tall), yuv709(BOX_RGB)
    left, top, right, bottom = safe_area(180, 320)
    assert (left, top, right, bottom) == (10, 16, 170, 304)
    # Logo: 0.4 * 180 = 72 x 36 at the top-left of the title-safe area.
    lx, ly = left, top
    frame = frames_at(out, [1.0])[1.0]
    assert frame[0].shape == (320, 180)
    assert_colour(pixel(frame, lx + 18, ly + 18), yuv709(RED), "opaque logo")
    assert_colour(pixel(frame, lx + 54, ly + 18), main, "transparent half of the logo")
    assert_colour(pixel(frame, lx + 18, ly + 40), main, "below the logo")
    # Lower third: bottom left of the same title-safe area, letters sized on the short side.
    x0, y0, box_w, box_h, _, _ = lower_third_box(lines, (180, 320))
    assert box_w <= right - left
    assert_colour(pixel(frame, x0 + 2, y0 + 2), box, "box top-left corner (padding)")
    assert_colour(pixel(frame, x0 + box_w - 3, y0 + box_h - 3), box, "box bottom-right corner (padding)")
    for x, y, where in ((x0 - 4, y0 + box_h // 2, "left of"), (x0 + 4, y0 + box_h + 4, "below"),
                        (x0 + 4, y0 - 6, "above"), (x0 + box_w + 4, y0 + box_h // 2, "right of")):
        assert_colour(pixel(frame, x, y), main, f"main picture {where} the box")
    logo_row, third_row = overlay_report(out)
    assert (third_row["x_px"], third_row["y_px"], third_row["width_px"], third_row["height_px"]) == (x0, y0, box_w, box_h)
    assert (logo_row["x_px"], logo_row["y_px"]) == (lx, ly)


def test_lower_third_fade_and_timing(media: Path, wide: Path, tmp_path: Path) -> None:
    lines = ["Gonda Building, Level 2", "Cardiology check-in"]
    out = render(tmp_path, wide, f"""
[[lower_third]]
lines = {json.dumps(lines)}
start_s = 1.0
end_s = 3.0
fade_s = 0.4
box_color = "#e08020"
box_opacity = 1.0
""")
    main, box = colour_of(wide), yuv709(BOX_RGB)
    x0, y0, box_w, box_h, _, _ = lower_third_box(lines, (W, H))
    assert (x0, y0 + box_h) == (16, 170)
    corner = (x0 + box_w - 3, y0 + 3)  # inside the padding: box colour, never a letter
    frames = frames_at(out, [0.8, 1.2, 1.5, 2.5, 2.8, 3.3])
    assert_colour(pixel(frames[0.8], *corner), main, "before the window")
    for t in (1.2, 2.8):  # half-way through the 0.4 s fade in, and the fade out
        mid = pixel(frames[t], *corner)
        expected = blend(main, box, 0.5)
        assert np.abs(mid - expected).max() <= 0.15 * np.abs(main - box).max() + 2, (t, mid, expected)
    for t in (1.5, 2.5):
        assert_colour(pixel(frames[t], *corner), box, f"box at full opacity at {t} s")
    assert_colour(pixel(frames[3.3], *corner), main, "after the window")
    (row,) = overlay_report(out)
    assert (row["start_s"], row["end_s"], row["fade_s"]) == (1.0, 3.0, 0.4)


def test_windows_are_on_the_edited_timeline_after_the_intro(media: Path, logo: Path, tmp_path: Path) -> None:
    first = colour_clip(media / "take-a.mp4", MAIN_RGB)
    second = colour_clip(media / "take-b.mp4", "0x20C040", duration_s=2.0)
    job = tmp_path / "job.toml"
    job.write_text(f"""
preset = "youtube-draft"
[output]
path = "out.mp4"
[video]
{EXACT_VIDEO}
[[take]]
source = "{first}"
start_s = 1.0
end_s = 2.0
[[take]]
source = "{second}"
[intro]
lines = ["Welcome"]
duration_s = 1.0
background = "#000000"
[logo]
source = '''{logo}'''
width = 0.25
[[lower_third]]
lines = ["Cardiology"]
start_s = 1.5
end_s = 2.5
fade_s = 0.0
box_color = "#e08020"
box_opacity = 1.0
""")
    result = wayfinder("render", job)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out.mp4"
    black = np.array([16, 128, 128])
    green = colour_of(second)
    logo_at = (224 + 20, 10 + 20)
    x0, y0, box_w, _, _, _ = lower_third_box(["Cardiology"], (W, H))
    box_at = (x0 + box_w - 3, y0 + 3)
    frames = frames_at(out, [0.5, 1.2, 2.2, 3.0, 3.7, 3.95])
    assert_colour(pixel(frames[0.5], *logo_at), black, "no logo on the intro card")
    assert_colour(pixel(frames[1.2], *logo_at), yuv709(RED), "logo from the programme's first frame")
    assert_colour(pixel(frames[3.95], *logo_at), yuv709(RED), "logo to the programme's last frame")
    # Programme 1.5-2.5 s (in the second take) is output 2.5-3.5 s after the 1 s intro.
    assert_colour(pixel(frames[2.2], *box_at), green, "lower third not yet")
    assert_colour(pixel(frames[3.0], *box_at), yuv709(BOX_RGB), "lower third in its window")
    assert_colour(pixel(frames[3.7], *box_at), green, "lower third gone")
    logo_row, third_row = overlay_report(out)
    assert (logo_row["start_s"], logo_row["end_s"]) == (0.0, 3.0)
    assert (logo_row["output_start_s"], logo_row["output_end_s"]) == (1.0, 4.0)
    assert (third_row["output_start_s"], third_row["output_end_s"]) == (2.5, 3.5)


def luma709(rgb: np.ndarray) -> np.ndarray:
    weights = np.array([0.2126, 0.7152, 0.0722])
    return 16 + 219 * (rgb.astype(np.float64) @ weights) / 255


def reference_lower_third(lines: list[str], frame: tuple[int, int], background: tuple[int, int, int],
                          box_rgb: tuple[int, int, int]) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The whole frame as Pillow draws it: flat background, the opaque box, white lines
    in the shipped fonts at the documented places (each line's ascender line `padding`
    below the box top, then one font line height lower)."""
    x0, y0, box_w, box_h, pad, fonts = lower_third_box(lines, frame)
    image = Image.new("RGB", frame, background)
    draw = ImageDraw.Draw(image)
    draw.rectangle([x0, y0, x0 + box_w - 1, y0 + box_h - 1], fill=box_rgb)
    top = y0 + pad
    for line, font in zip(lines, fonts):
        draw.text((x0 + pad, top), line, font=font, fill=(255, 255, 255), anchor="la")
        top += sum(font.getmetrics())
    return np.asarray(image), (x0, y0, box_w, box_h)


def test_non_ascii_lower_third_matches_a_pillow_reference(media: Path, tmp_path: Path) -> None:
    frame = (640, 360)
    main = colour_clip(media / "wide-640.mp4", MAIN_RGB, size="640x360")
    lines = ["Nguyễn Thị Hương", "Cardiología · Xarunta Wadnaha"]
    out = render(tmp_path, main, f"""
[[lower_third]]
lines = {json.dumps(lines, ensure_ascii=False)}
start_s = 0.5
end_s = 3.5
box_color = "#1d3557"
box_opacity = 1.0
""")
    with av.open(str(out)) as container:
        for decoded in container.decode(video=0):
            if decoded.time >= 2.0:
                luma = decoded.to_ndarray()[:frame[1]].astype(np.float64)
                break
    background = tuple(int(MAIN_RGB[i:i + 2], 16) for i in (2, 4, 6))
    reference, (x0, y0, box_w, box_h) = reference_lower_third(lines, frame, background, (0x1D, 0x35, 0x57))
    # The box and 8 px of picture around it: the box's place and size are compared too.
    area = (slice(y0 - 8, y0 + box_h + 8), slice(x0 - 8, x0 + box_w + 8))
    error = np.abs(luma[area] - luma709(reference)[area])
    # Without the accents (what a font without them, or a wrong layout, would give) the
    # same comparison must fail: the test can tell the diacritics apart.
    plain, _ = reference_lower_third(["Nguyen Thi Huong", "Cardiologia · Xarunta Wadnaha"], frame, background,
                                     (0x1D, 0x35, 0x57))
    plain_error = np.abs(luma[area] - luma709(plain)[area])
    # A pixel "differs" when off by a quarter of the white-on-box luma step: a wrong glyph.
    step = abs(235 - luma709(np.array([0x1D, 0x35, 0x57])))
    differs, plain_differs = int((error > step / 4).sum()), int((plain_error > step / 4).sum())
    assert error.mean() < 1.5 and differs <= 0.002 * error.size, (error.mean(), differs)
    assert plain_differs > 5 * differs + 20, (plain_differs, differs)


def test_a_flat_frame_outside_the_windows_is_untouched(media: Path, wide: Path, logo: Path, tmp_path: Path) -> None:
    """Outside every window the programme is the source: nothing is drawn at 0 opacity."""
    out = render(tmp_path, wide, f"""
[logo]
source = '''{logo}'''
start_s = 2.0
[[lower_third]]
lines = ["Gonda Building"]
start_s = 2.0
""")
    luma = frames_at(out, [1.0])[1.0][0].astype(int)
    assert np.abs(luma - int(colour_of(wide)[0])).max() <= 3


@pytest.mark.parametrize("case", ["missing", "not-an-image", "svg", "bad-corner", "too-long", "too-long-vertical",
                                  "no-glyph", "late", "still-as-inset"])
def test_bad_overlays_are_one_line_job_errors(case: str, media: Path, wide: Path, tall: Path, tmp_path: Path) -> None:
    main = tall if case == "too-long-vertical" else wide
    fake = tmp_path / "logo.png"
    fake.write_text("not a picture\n")
    svg = tmp_path / "logo.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')
    still = half_red_logo(tmp_path / "still.png")
    # About 190 px of 10 px bold letters (the short side is 180 px in both frames): fits
    # the 16:9 title-safe width less padding (288 - 8), not the 9:16 one (160 - 8).
    fits_wide_only = "Cardiology check-in desk, Level 2"
    tables, key, says = {
        "missing": ('[logo]\nsource = "nope.png"', "logo.source", "no such file"),
        "not-an-image": (f'[logo]\nsource = "{fake}"', "logo.source", "not an image"),
        "svg": (f'[logo]\nsource = "{svg}"', "logo.source", "export the logo as a PNG"),
        "bad-corner": (f'[logo]\nsource = "{fake}"\ncorner = "middle"', "logo.corner", "top-left"),
        "too-long": ('[[lower_third]]\nlines = ["' + "Gonda Building " * 6 + '"]', "lower_third[0].lines[0]", "title-safe"),
        "too-long-vertical": (f'[[lower_third]]\nlines = ["{fits_wide_only}"]', "lower_third[0].lines[0]", "title-safe"),
        "no-glyph": ('[[lower_third]]\nlines = ["Clinic 診療所"]', "lower_third[0].lines[0]", "U+8A3A"),
        "late": ('[[lower_third]]\nlines = ["Clinic"]\nstart_s = 9.0', "lower_third[0].start_s", "4.00 s"),
        # An inset plays a clip: a still gets pointed to [logo] (it used to say "clip is 0.00 s long").
        "still-as-inset": (f'[[pip]]\nsource = "{still}"', "pip[0].source", "[logo]"),
    }[case]
    job = jobs.write_job(tmp_path, main, tables)
    result = wayfinder("render", job)
    assert result.returncode == 3, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert key in result.stderr and says in result.stderr, result.stderr
    assert not (tmp_path / "out.mp4").exists() and leftovers(tmp_path) == []
