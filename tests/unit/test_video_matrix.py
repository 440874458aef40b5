"""Which YCbCr matrix a source is read in (pure): the probe's tag mapping, the HD/SD
convention for untagged sources, and where the render graph uses it."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from pipeline import config
from pipeline.plan import build_render_plan
from pipeline.probe import AudioStreamInfo, MediaInfo, VideoStreamInfo, color_matrix_name
from pipeline.video.cards import RenderedCard
from pipeline.video.matrix import source_color_matrix, untagged_frame_colorspace
from pipeline.video.pip import build_window
from pipeline.video.prepare import PicturePrep


def video(width: int, height: int, *, rotation: int = 0, matrix: str | None = None) -> VideoStreamInfo:
    return VideoStreamInfo(0, "h264", "High", width, height, "yuv420p", 30.0, False, rotation, matrix)


@pytest.mark.parametrize(("code", "name"), [
    (1, "bt709"), (5, "bt470"), (6, "smpte170m"), (7, "smpte240m"), (4, "fcc"), (9, "bt2020"), (10, "bt2020"),
    (2, None), (0, None), (None, None), (3, None), (14, None),
])
def test_h273_matrix_codes_map_to_scale_names(code: int | None, name: str | None) -> None:
    assert color_matrix_name(code) == name


def test_the_matrix_is_optional_and_last_so_old_constructors_work() -> None:
    info = VideoStreamInfo(0, "h264", "High", 1920, 1080, "yuv420p", 30.0, False, 0)
    assert info.color_matrix is None
    names = [f.name for f in dataclasses.fields(VideoStreamInfo)]
    # Fields added later (colour tags, HDR peak, duration) come after it, all optional.
    later = dataclasses.fields(VideoStreamInfo)[names.index("color_matrix"):]
    assert all(f.default is not dataclasses.MISSING for f in later)


def test_the_probe_json_shows_the_matrix() -> None:
    info = MediaInfo(Path("/m.mp4"), "mov,mp4", 1.0, 1, video(1920, 1080, matrix="smpte170m"), ())
    assert info.to_dict()["video"]["color_matrix"] == "smpte170m"  # type: ignore[index]
    untagged = MediaInfo(Path("/m.mp4"), "mov,mp4", 1.0, 1, video(1920, 1080), ())
    assert '"color_matrix": null' in untagged.to_json()


@pytest.mark.parametrize(("width", "height", "rotation", "matrix", "expected"), [
    # a tag always wins, whatever the size
    (1920, 1080, 0, "smpte170m", "smpte170m"),
    (640, 360, 0, "bt709", "bt709"),
    (3840, 2160, 0, "bt2020", "bt2020"),
    # untagged HD: BT.709
    (1920, 1080, 0, None, "bt709"),
    (1280, 720, 0, None, "bt709"),
    (1280, 544, 0, None, "bt709"),  # a 2.35:1 letterbox of 720p is still HD
    (960, 720, 0, None, "bt709"),
    (1080, 1920, 0, None, "bt709"),  # portrait phone clip stored upright
    (1920, 1080, 90, None, "bt709"),  # shown 1080x1920
    # untagged SD: BT.601
    (640, 360, 0, None, "bt601"),
    (720, 576, 0, None, "bt601"),
    (720, 480, 0, None, "bt601"),
    (1278, 718, 0, None, "bt601"),
    (720, 576, 90, None, "bt601"),  # shown 576x720: a rotated DV clip is still SD
])
def test_source_matrix_is_the_tag_else_hd_709_sd_601(
    width: int, height: int, rotation: int, matrix: str | None, expected: str
) -> None:
    assert source_color_matrix(video(width, height, rotation=rotation, matrix=matrix)) == expected


def test_only_untagged_frames_are_tagged_for_rgb_filters() -> None:
    assert untagged_frame_colorspace(video(1920, 1080)) == "bt709"
    assert untagged_frame_colorspace(video(640, 360)) == "smpte170m"  # setparams' name for BT.601
    assert untagged_frame_colorspace(video(1920, 1080, matrix="bt709")) is None
    assert untagged_frame_colorspace(video(640, 360, matrix="bt709")) is None


# ---------------------------------------------------------------- in the graph


def main_media(width: int, height: int, matrix: str | None = None) -> MediaInfo:
    return MediaInfo(
        path=Path("/media/in.mp4"), container="mov,mp4", duration_s=20.0, size_bytes=1,
        video=video(width, height, matrix=matrix), audio=(AudioStreamInfo(1, "aac", 48000, 2, "stereo"),),
    )


def load_job(tmp_path: Path, tables: str) -> config.Job:
    path = tmp_path / "job.toml"
    path.write_text(f'preset = "youtube"\n[input]\nmain = "/media/in.mp4"\n[output]\npath = "/out/x.mp4"\n'
                    f'[video]\ncopy_when_possible = false\n{tables}')
    return config.load_job(path)


def scales(args: list[str]) -> list[str]:
    """The in_color_matrix of every scale in the graph, in order."""
    graph = args[args.index("-filter_complex") + 1]
    return re.findall(r"scale=[^;\[]*?in_color_matrix=(\w+):out_color_matrix=bt709", graph)


@pytest.mark.parametrize(("width", "height", "matrix", "expected"), [
    (1920, 1080, None, "bt709"),
    (640, 360, None, "bt601"),
    (1920, 1080, "smpte170m", "smpte170m"),
])
def test_the_main_picture_is_scaled_from_its_own_matrix(
    tmp_path: Path, width: int, height: int, matrix: str | None, expected: str
) -> None:
    args = build_render_plan(load_job(tmp_path, ""), main_media(width, height, matrix), None, work_dir=Path("/work")).picture.args
    assert scales(args) == [expected]


def test_insets_use_their_own_matrix_and_cards_bt709(tmp_path: Path) -> None:
    the_job = load_job(tmp_path, """
[[pip]]
source = "/media/sd.mp4"
start_s = 1.0
end_s = 3.0
[[pip]]
source = "/media/hd.mp4"
start_s = 1.0
end_s = 3.0
[[pip]]
source = "/media/tagged.mp4"
start_s = 1.0
end_s = 3.0
[intro]
lines = ["a"]
""")
    insets = tuple(
        dataclasses.replace(main_media(w, h, matrix), path=Path(f"/media/{name}.mp4"))
        for name, w, h, matrix in (("sd", 640, 480, None), ("hd", 1280, 720, None), ("tagged", 640, 480, "bt709"))
    )
    windows = tuple(build_window(spec, 20.0, 20.0) for spec in the_job.pip)
    card = RenderedCard("intro", Path("/cache/cards/intro.mp4"), 2.0, (640, 360), "30", None, cache_hit=True)
    prep = PicturePrep(insets=insets, windows=windows, cards={"intro": card})
    args = build_render_plan(the_job, main_media(640, 360), None, prep=prep, work_dir=Path("/work")).picture.args
    # the card first (its own input), then the main picture, then the insets in job order
    assert scales(args) == ["bt709", "bt601", "bt601", "bt709", "bt709"]


@pytest.mark.parametrize(("width", "height", "matrix", "light", "prefix"), [
    (1920, 1080, None, "temperature_shift_k = -800", "[0:0]setparams=colorspace=bt709[s0];[s0]colortemperature="),
    (640, 360, None, "temperature_shift_k = 500", "[0:0]setparams=colorspace=smpte170m[s0];[s0]colortemperature="),
    # tagged: ffmpeg's RGB conversion already reads the tag
    (1920, 1080, "bt709", "temperature_shift_k = -800", "[0:0]colortemperature="),
    # eq works on YUV: no RGB conversion to mislead
    (1920, 1080, None, "brightness = 0.1", "[0:0]eq="),
])
def test_untagged_frames_are_tagged_before_rgb_light_filters(
    tmp_path: Path, width: int, height: int, matrix: str | None, light: str, prefix: str
) -> None:
    the_job = load_job(tmp_path, f'[light]\nmode = "manual"\n{light}\n')
    args = build_render_plan(the_job, main_media(width, height, matrix), None, work_dir=Path("/work")).picture.args
    assert args[args.index("-filter_complex") + 1].startswith(prefix)
