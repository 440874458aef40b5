"""Stabilization decisions without ffmpeg: the camera's motion read from vidstabdetect's
fields (made here from a known shift and rotation), shake and the auto threshold, the
crop kept under the maximum with the correction clamped to what it covers, the
transform's place in the picture graph, and the [stabilize] table's settings."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from pipeline import config
from pipeline.config import StabilizeSettings
from pipeline.errors import ConfigError
from pipeline.plan import build_picture_plan
from pipeline.probe import MediaInfo, VideoStreamInfo
from pipeline.video.prepare import PicturePrep
from pipeline.video.stabilize import (
    StabilizePlan,
    _shift_room_px,
    parse_local_motions,
    plan_take,
    transforms_path_for,
    zoom_percent,
)

SIZE = (640, 360)
FPS = 30.0


def fields_line(frame: int, shift: tuple[float, float], angle_rad: float, *, movers: int = 0) -> str:
    """One frame of an ASCII vidstabdetect file: a grid of fields moved by `shift` and a
    rotation about the centre (rounded to whole pixels, as vidstabdetect writes them),
    plus `movers` fields on something moving on its own (20 px to the right)."""
    items = []
    for x in range(40, SIZE[0], 60):
        for y in range(40, SIZE[1], 60):
            rx, ry = x - SIZE[0] / 2, y - SIZE[1] / 2
            dx, dy = shift[0] - angle_rad * ry, shift[1] + angle_rad * rx
            items.append(f"(LM {round(dx)} {round(dy)} {x} {y} 32 0.5 1.0)")
    items += [f"(LM 20 0 {40 + 60 * i} 100 32 0.5 1.0)" for i in range(movers)]
    return f"Frame {frame} (List {len(items)} [{','.join(items)}])"


def trf(motions: list[tuple[tuple[float, float], float]], movers: int = 0) -> str:
    lines = ["VID.STAB 1", "#      accuracy = 9", "Frame 1 (List 0 [])"]
    lines += [fields_line(index + 2, shift, angle, movers=movers) for index, (shift, angle) in enumerate(motions)]
    return "\n".join(lines)


def test_a_frames_shift_and_rotation_are_read_from_its_fields() -> None:
    motions = parse_local_motions(trf([((3.0, -2.0), 0.01), ((0.0, 0.0), -0.005)]), SIZE)
    assert motions.frames == 3 and list(motions.measured) == [False, True, True]
    assert motions.dx_px[1] == pytest.approx(3.0, abs=0.3) and motions.dy_px[1] == pytest.approx(-2.0, abs=0.3)
    assert motions.da_rad[1] == pytest.approx(0.01, abs=0.001)
    assert motions.da_rad[2] == pytest.approx(-0.005, abs=0.001)


def test_something_moving_in_the_scene_is_not_the_camera() -> None:
    # 15 fields on a person walking by, against 60 on the still background.
    motions = parse_local_motions(trf([((0.0, 0.0), 0.0)] * 3, movers=15), SIZE)
    assert np.allclose(motions.dx_px[1:], 0.0, atol=0.05)


def shaky_motions(frames: int, step_px: float, seed: int) -> list[tuple[tuple[float, float], float]]:
    rng = np.random.default_rng(seed)
    return [((float(a), float(b)), float(c) * 1e-3) for a, b, c in rng.standard_normal((frames, 3)) * step_px]


def test_auto_leaves_a_steady_take_alone_and_stabilizes_a_shaky_one() -> None:
    settings = StabilizeSettings(mode="auto")
    steady = plan_take(0, parse_local_motions(trf([((0.0, 0.0), 0.0)] * 60), SIZE), SIZE, FPS, settings, None)
    assert not steady.stabilize and steady.shake_percent == 0.0 and steady.transform_filters() == []
    shaky = plan_take(1, parse_local_motions(trf(shaky_motions(60, 2.0, 1)), SIZE), SIZE, FPS, settings,
                      Path("/w/t.trf"))
    assert shaky.stabilize and shaky.shake_percent > settings.shake_threshold_percent
    assert shaky.shake_after_percent is not None and shaky.shake_after_percent < 0.5 * shaky.shake_percent
    assert shaky.smoothing_frames == 30  # 1 s at 30 fps


def test_on_stabilizes_even_a_steady_take_and_off_is_never_analysed() -> None:
    steady = plan_take(0, parse_local_motions(trf([((0.0, 0.0), 0.0)] * 60), SIZE), SIZE, FPS,
                       StabilizeSettings(mode="on"), Path("/w/t.trf"))
    assert steady.stabilize and steady.crop_percent <= 1.0


@pytest.mark.parametrize("max_crop", [2.0, 8.0])
def test_the_crop_stays_under_the_maximum_and_the_correction_fits_in_it(max_crop: float) -> None:
    settings = StabilizeSettings(mode="on", max_crop_percent=max_crop)
    take = plan_take(0, parse_local_motions(trf(shaky_motions(90, 4.0, 2)), SIZE), SIZE, FPS, settings,
                     Path("/w/t.trf"))
    assert take.needed_crop_percent > max_crop  # a 4 px walk needs more than either
    assert take.crop_percent == max_crop and "limited to" in take.reason
    # Any correction within maxshift and maxangle keeps vid.stab's window inside the source.
    room_x, room_y = _shift_room_px(SIZE, 1 - take.crop_percent / 100, take.max_angle_rad)
    assert take.max_shift_px <= min(room_x, room_y)
    assert take.max_shift_px >= 0 and take.max_angle_rad >= 0


def test_the_zoom_cuts_the_stated_crop() -> None:
    # vid.stab magnifies by 1 + zoom/100, so 8 % of the width off needs a zoom of 8.696 %.
    assert zoom_percent(8.0) == pytest.approx(100 * (1 / 0.92 - 1))
    assert 1 / (1 + zoom_percent(8.0) / 100) == pytest.approx(0.92)


def media(width: int = 1280, height: int = 720) -> MediaInfo:
    return MediaInfo(path=Path("/media/in.mp4"), container="mov,mp4", duration_s=4.0, size_bytes=1,
                     video=VideoStreamInfo(0, "h264", "High", width, height, "yuv420p", 30.0, False, 0), audio=())


def test_the_transform_works_on_the_picture_before_bars_are_padded() -> None:
    job = config.quick_job(Path("/media/in.mp4"), Path("/out/v.mp4"), preset_name="walkthrough",
                           flag_layer={"video": {"orientation": "vertical"}})
    shaky = plan_take(0, parse_local_motions(trf(shaky_motions(60, 2.0, 3)), (1080, 606)), (1080, 606), FPS,
                      job.settings.stabilize, transforms_path_for(Path("/work/it's"), 0))
    prep = PicturePrep(stabilize=StabilizePlan((shaky,), "auto", 8.0))
    graph = build_picture_plan(job, media(1920, 1080), Path("/work"), prep=prep).args
    assert graph is not None
    text = " ".join(graph)
    scale, transform, pad = text.index("scale=1080:606"), text.index("vidstabtransform"), text.index("pad=")
    assert scale < transform < pad
    # The quote in the folder's name is escaped, not a graph delimiter.
    assert "input=/work/it\\\\\\'s/stabilize-take0.trf" in text


def test_a_steady_decision_leaves_vidstab_out_of_the_graph() -> None:
    job = config.quick_job(Path("/media/in.mp4"), Path("/out/v.mp4"), preset_name="walkthrough")
    steady = plan_take(0, parse_local_motions(trf([((0.0, 0.0), 0.0)] * 60), (1280, 720)), (1280, 720), FPS,
                       job.settings.stabilize, transforms_path_for(Path("/work"), 0))
    graph = build_picture_plan(job, media(), Path("/work"), prep=PicturePrep(stabilize=StabilizePlan((steady,), "auto", 8.0))).args
    assert graph is not None and "vidstab" not in " ".join(graph)


def test_presets_youtube_is_off_walkthrough_is_auto() -> None:
    assert config.load_preset_settings("youtube").stabilize.mode == "off"
    walkthrough = config.load_preset_settings("walkthrough")
    assert walkthrough.stabilize.mode == "auto" and walkthrough.stabilize.max_crop_percent == 8.0
    assert walkthrough.video == config.load_preset_settings("youtube").video  # extends youtube


def test_bad_stabilize_values_name_the_key(tmp_path: Path) -> None:
    job = tmp_path / "job.toml"
    job.write_text('[input]\nmain = "in.mp4"\n[stabilize]\nmode = "sometimes"\nmax_crop_percent = -1\n')
    with pytest.raises(ConfigError) as caught:
        config.load_job(job)
    text = "\n".join(caught.value.problems)
    assert "stabilize.mode" in text and "stabilize.max_crop_percent" in text


def test_shake_is_the_wobble_not_the_walk() -> None:
    # A steady pan of 3 px a frame is the walk, not shake.
    pan = plan_take(0, parse_local_motions(trf([((3.0, 0.0), 0.0)] * 90), SIZE), SIZE, FPS,
                    StabilizeSettings(mode="auto"), None)
    assert pan.shake_percent < 0.02 and not pan.stabilize
    assert math.isfinite(pan.shake_percent)


def test_a_batch_sets_stabilize_inline_and_in_a_pattern(tmp_path: Path) -> None:
    from pipeline.batch.manifest import load_manifest

    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "ramp.mp4").write_bytes(b"")
    manifest = tmp_path / "inline.toml"
    manifest.write_text('jobs = [{ name = "ramp", input = { main = "media/ramp.mp4" }, stabilize = { mode = "on" } }]\n')
    (inline,) = load_manifest(manifest).jobs
    assert inline.job is not None and inline.job.settings.stabilize.mode == "on"
    manifest = tmp_path / "pattern.toml"
    manifest.write_text('[pattern]\ninputs = "media"\noutput_dir = "out"\n'
                        '[pattern.stabilize]\nmode = "auto"\nmax_crop_percent = 5.0\n')
    (pattern,) = load_manifest(manifest).jobs
    assert pattern.job is not None and pattern.job.settings.stabilize.max_crop_percent == 5.0
