"""Logo and lower-third geometry, windows, text checks and graph (no ffmpeg).

Expected values come from the title-safe standard (the central 90 % of the frame,
SMPTE ST 2046-1 / EBU R 95) and from the job's numbers."""

from __future__ import annotations

import tomllib
from pathlib import Path

import ffmpeg
import pytest
from PIL import Image

from pipeline import config
from pipeline.errors import ConfigError
from pipeline.overlay_specs import LowerThirdSpec
from pipeline.sources import job_sources
from pipeline.video import overlay_layout as layout
from pipeline.video.fonts import BOLD_FONT, FONT_LICENCE, REGULAR_FONT, missing_characters
from pipeline.video.overlay_graph import build_overlays
from pipeline.video.overlays import PlacedOverlay, prepare_overlays, read_logo

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("frame", "expected"), [
    ((1920, 1080), layout.Box(96, 54, 1728, 972)),  # 5 % of each side, already even
    ((1080, 1920), layout.Box(54, 96, 972, 1728)),  # vertical 9:16: its own area
    ((1280, 720), layout.Box(64, 36, 1152, 648)),
    ((320, 180), layout.Box(16, 10, 288, 160)),  # 9 px -> 10, 171 -> 170: never outside the standard's area
])
def test_title_safe_area_is_the_central_90_percent(frame: tuple[int, int], expected: layout.Box) -> None:
    assert layout.title_safe_area(frame) == expected


def test_logo_box_at_each_corner_of_the_title_safe_area() -> None:
    def box(corner: str | None) -> layout.Box:
        return layout.build_logo_box((400, 200), (1920, 1080), width=0.1, corner=corner, x=None, y=None, margin=None)

    assert box(None) == box("top-right") == layout.Box(1824 - 192, 54, 192, 96)
    assert box("top-left") == layout.Box(96, 54, 192, 96)
    assert box("bottom-left") == layout.Box(96, 1026 - 96, 192, 96)
    assert box("bottom-right") == layout.Box(1824 - 192, 1026 - 96, 192, 96)


def test_logo_box_with_margin_or_x_y_and_never_larger_than_the_frame() -> None:
    margin = layout.build_logo_box((100, 100), (1920, 1080), width=0.1, corner="bottom-left", x=None, y=None, margin=0.02)
    assert margin == layout.Box(38, 1080 - 38 - 192, 192, 192)  # 0.02 * 1920 = 38.4 -> 38
    placed = layout.build_logo_box((100, 50), (1920, 1080), width=0.25, corner=None, x=0.5, y=0.5, margin=None)
    assert placed == layout.Box(960, 540, 480, 240)
    pushed = layout.build_logo_box((100, 50), (1920, 1080), width=0.25, corner=None, x=1.0, y=1.0, margin=None)
    assert (pushed.right_px, pushed.bottom_px) == (1920, 1080)  # kept inside the frame
    tall = layout.build_logo_box((100, 1000), (1920, 1080), width=0.5, corner=None, x=None, y=None, margin=None)
    assert tall.height_px <= 1080 and tall.width_px % 2 == 0 and tall.height_px % 2 == 0


def test_windows_default_cut_and_fade() -> None:
    assert layout.build_window(0.0, None, 0.0, 20.0) == layout.OverlayWindow(0.0, 20.0, 0.0)
    assert layout.build_window(2.0, 20.05, 0.5, 20.0).end_s == 20.0  # rounding in a job file: cut
    assert layout.build_window(2.0, 2.4, 0.5, 20.0).fade_s == pytest.approx(0.2)  # half the window
    assert layout.default_lower_third_end_s(3.0, 20.0) == 8.0
    assert layout.default_lower_third_end_s(18.0, 20.0) == 20.0
    assert layout.check_window(21.0, None, 20.0)[0][0] == "start_s"
    assert layout.check_window(2.0, 25.0, 20.0)[0][0] == "end_s"
    assert layout.check_window(2.0, 20.05, 20.0) == []


def test_lower_third_layout_sits_at_the_bottom_left_of_the_title_safe_area() -> None:
    frame = (1080, 1920)
    sizes = layout.lower_third_font_sizes_px(0.055, 2, frame)
    assert sizes == [59, 47]  # 0.055 * 1080 = 59.4; 0.8 of it
    built = layout.build_lower_third_layout([501, 300], [70, 56], 22, frame)
    assert built.box == layout.Box(54, 1824 - 170, 546, 170)  # 501 + 44 -> 546 even; 126 + 44
    assert built.line_origins_px == ((22, 22), (22, 92))
    assert layout.max_text_width_px(frame, 22) == 972 - 44
    with pytest.raises(ValueError, match="title-safe"):
        layout.build_lower_third_layout([100], [2000], 22, frame)


def test_the_shipped_font_draws_accented_and_somali_names_and_finds_what_it_cannot() -> None:
    assert FONT_LICENCE.is_file() and "Bitstream" in FONT_LICENCE.read_text()
    for font in (BOLD_FONT, REGULAR_FONT):
        for text in ("Nguyễn Thị Hương", "Cardiología, Señora Muñoz", "Xarunta Wadnaha", "Ça, Ōsaka, Łódź"):
            assert missing_characters(text, font) == [], text
        # Combining accents (as some keyboards type them) are composed first.
        assert missing_characters("Nguye\u0302\u0303n", font) == []
        assert missing_characters("Clinic 診療所 क", font) == ["診", "療", "所", "क"]


def test_fonts_are_package_data() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    patterns = data["pipeline.video.font_files"]
    for path in (BOLD_FONT, REGULAR_FONT, FONT_LICENCE):
        relative = path.relative_to(ROOT / "pipeline" / "video" / "font_files")
        assert any(relative.match(pattern) for pattern in patterns), relative


def test_the_graph_loops_each_image_and_carries_no_text_or_user_path(tmp_path: Path) -> None:
    odd = tmp_path / "it's [a]; b,c:d=e %d" / "lower-third.png"
    overlay = PlacedOverlay("lower_third", "lower_third[0]", odd, layout.Box(96, 900, 600, 120),
                            layout.OverlayWindow(2.0, 7.0, 0.5), {"lines": ["Cardiología: [a]; b"]})
    main = ffmpeg.input("file:/media/main.mp4")["0"]
    args = ffmpeg.output(build_overlays(main, [overlay], "30000/1001"), "file:/out.mp4").compile(cmd=[])
    graph = args[args.index("-filter_complex") + 1]
    assert str(odd) not in graph and "Cardiolog" not in graph
    image_input = args.index(f"file:{odd}")
    # A still looped at the output rate for its window only (5 s, not the programme);
    # no file-name pattern, so "%d" in a folder is just characters.
    assert args[image_input - 11:image_input] == [
        "-f", "image2", "-framerate", "30000/1001", "-loop", "1", "-pattern_type", "none", "-t", "5.000000", "-i",
    ]
    assert "fade=alpha=1:duration=0.5:start_time=0:type=in" in graph
    assert "fade=alpha=1:duration=0.5:start_time=4.5:type=out" in graph
    assert "PTS-STARTPTS+2.000000/TB" in graph
    assert "overlay=enable=gte(t\\,2.000000)*lt(t\\,7.000000):eof_action=pass:x=96:y=900" in graph
    assert "out_color_matrix=bt709" in graph


def job_with(tmp_path: Path, tables: str) -> config.Job:
    path = tmp_path / "job.toml"
    path.write_text(f'[input]\nmain = "main.mp4"\n{tables}\n')
    return config.load_job(path)


def test_job_tables_resolve_the_logo_and_keep_lower_thirds(tmp_path: Path) -> None:
    job = job_with(tmp_path, """
[logo]
source = "brand/logo.png"
[[lower_third]]
lines = ["Gonda Building, Level 2", "Cardiology check-in"]
start_s = 2
""")
    assert job.logo is not None and job.logo.source == tmp_path / "brand" / "logo.png"
    assert job.lower_thirds[0].lines == ["Gonda Building, Level 2", "Cardiology check-in"]
    assert job.lower_thirds[0].end_s is None
    # The logo is one of the job's files: batch checks see it, an output may not overwrite it.
    assert ("logo", tmp_path / "brand" / "logo.png") in [(s.role, s.path) for s in job_sources(job)]


@pytest.mark.parametrize(("tables", "key"), [
    ('[logo]\nsource = "l.png"\ncorner = "middle"', "logo.corner"),
    ('[logo]\nsource = "l.png"\nx = 0.5', "logo"),
    ('[logo]\nsource = "l.png"\nopacity = 1.5', "logo.opacity"),
    ('[logo]\nsource = "l.png"\nstart_s = 5\nend_s = 2', "logo"),
    ('[[lower_third]]\nlines = []', "lower_third[0].lines"),
    ('[[lower_third]]\nlines = ["a", "b", "c"]', "lower_third[0].lines"),
    ('[[lower_third]]\nlines = ["two\\nlines"]', "lower_third[0].lines"),
    ('[[lower_third]]\nlines = ["   "]', "lower_third[0].lines"),
    ('[[lower_third]]\nlines = ["a"]\nfont = "Arial"', "lower_third[0].font"),
])
def test_bad_tables_name_their_key(tmp_path: Path, tables: str, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        job_with(tmp_path, tables)
    assert any(f": {key}" in line for line in caught.value.problems), caught.value.problems


def test_logo_files_that_are_not_pictures_are_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.png").write_text("a shopping list")
    (tmp_path / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    (tmp_path / "hidden-svg.png").write_text('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>')
    for name, says in (("missing.png", "no such file"), ("notes.png", "not an image"), ("logo.svg", "SVG"),
                       ("hidden-svg.png", "SVG"), (".", "folder")):
        with pytest.raises(ValueError, match=says):
            read_logo(tmp_path / name)
    Image.new("P", (4, 2)).save(tmp_path / "palette.png")
    assert read_logo(tmp_path / "palette.png").mode == "RGBA"


def test_every_overlay_problem_is_reported_at_once(tmp_path: Path) -> None:
    job = job_with(tmp_path, """
[logo]
source = "nope.png"
[[lower_third]]
lines = ["Clinic"]
text_color = "not-a-colour"
[[lower_third]]
lines = ["Clinic"]
start_s = 30
""")
    with pytest.raises(ConfigError) as caught:
        prepare_overlays(job, 20.0, (1920, 1080))
    assert caught.value.field == "logo.source"
    keys = [line.split(": ")[1] for line in caught.value.problems]
    assert keys == ["logo.source", "lower_third[0].text_color", "lower_third[1].start_s"]


def test_text_longer_than_the_title_safe_area_is_an_error_not_a_clipped_line(tmp_path: Path) -> None:
    spec = LowerThirdSpec(lines=["Gonda Building, Level 2 — Cardiology"])
    job = job_with(tmp_path, f'[[lower_third]]\nlines = ["{spec.lines[0]}"]')
    assert prepare_overlays(job, 20.0, (1920, 1080))  # fits 16:9
    with pytest.raises(ConfigError, match="title-safe") as caught:
        prepare_overlays(job, 20.0, (1080, 1920))  # not 9:16
    assert caught.value.field == "lower_third[0].lines[0]"


def test_lower_thirds_on_screen_at_the_same_time_are_refused(tmp_path: Path) -> None:
    job = job_with(tmp_path, """
[[lower_third]]
lines = ["Gonda Building"]
start_s = 2
[[lower_third]]
lines = ["Cardiology"]
start_s = 7
[[lower_third]]
lines = ["Pharmacy"]
start_s = 6
end_s = 8
""")
    with pytest.raises(ConfigError, match="same time as lower_third") as caught:
        prepare_overlays(job, 20.0, (1920, 1080))
    # The first two touch (2-7 s, then 7-12 s) and are fine; the third overlaps both.
    assert [line.split(": ")[1] for line in caught.value.problems] == ["lower_third[2].start_s"] * 2
