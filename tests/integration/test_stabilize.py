"""Stabilization through `wayfinder render` with the real ffmpeg: a textured scene moved
by a known random walk of translation and small rotation (tests/shaky_media.py) comes
out with its frame-to-frame motion (phase correlation on the output) cut by at least
80 %, and with less than the maximum crop (measured on the output's magnification); a
steady clip in `auto` is left untouched (no vid.stab in the graph); in an edit list only
the shaky take is stabilized; bad [stabilize] values are a one-line job error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.cli import leftovers, wayfinder
from tests.shaky_media import grey_frames, make_shaky_clip, mean_motion_px, measured_crop_percent

MAX_CROP_PERCENT = 8.0
CROP_STEP_PERCENT = 0.25  # the crop meter's resolution


def write_job(folder: Path, body: str, *, preset: str = "walkthrough") -> Path:
    job = folder / "job.toml"
    job.write_text(f'preset = "{preset}"\n[output]\npath = "out.mp4"\n[video]\nx264_preset = "ultrafast"\ncrf = 12\n{body}')
    return job


def render(job: Path) -> dict:
    result = wayfinder("render", job)
    assert result.returncode == 0, result.stderr
    return json.loads((job.parent / "out.mp4.wayfinder.json").read_text())


@pytest.fixture(scope="module")
def shaky(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # The folder's name has the characters a filter graph would split on: the transforms
    # file lives in the render's working folder beside the output, inside the graph.
    folder = tmp_path_factory.mktemp("shaky") / "a';[x],b:c=d"
    folder.mkdir()
    make_shaky_clip(folder / "shaky.mp4", seed=7)
    return folder / "shaky.mp4"


@pytest.fixture(scope="module")
def steady(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("steady") / "steady.mp4"
    make_shaky_clip(path, still=True)
    return path


def test_a_random_walk_is_stabilized_within_the_crop(shaky: Path) -> None:
    job = write_job(shaky.parent, f'[input]\nmain = "{shaky.name}"\n')
    report = render(job)
    output = shaky.parent / "out.mp4"

    before_px = mean_motion_px(shaky)
    after_px = mean_motion_px(output)
    assert before_px > 1.0  # the walk moves the picture (about 1.8 px a frame by its making)
    assert after_px <= 0.2 * before_px, (before_px, after_px)

    (take,) = report["measurements"]["picture"]["stabilize"]["takes"]
    assert take["stabilized"] is True and "shaky" in take["reason"]
    assert take["shake_after_percent"] < take["shake_before_percent"]
    assert 0 < take["crop_percent"] <= MAX_CROP_PERCENT
    source_frames, output_frames = grey_frames(shaky), grey_frames(output)
    assert len(output_frames) == len(source_frames)
    for index in (30, 60, 90):
        crop = measured_crop_percent(source_frames[index], output_frames[index])
        assert crop <= MAX_CROP_PERCENT + CROP_STEP_PERCENT, (index, crop)
        assert abs(crop - take["crop_percent"]) <= 2 * CROP_STEP_PERCENT, (index, crop, take["crop_percent"])
    assert "vidstabtransform" in report["command"]
    # The transforms lived in the render's working folder, removed with it.
    assert not leftovers(shaky.parent) and not list(shaky.parent.glob("*.trf"))


def test_the_crop_never_passes_the_maximum_when_the_walk_needs_more(tmp_path: Path) -> None:
    source = tmp_path / "wild.mp4"
    make_shaky_clip(source, step_px=3.0, step_rad=0.003, seed=11)
    job = write_job(tmp_path, f'[input]\nmain = "wild.mp4"\n[stabilize]\nmode = "on"\nmax_crop_percent = 3.0\n')
    report = render(job)
    (take,) = report["measurements"]["picture"]["stabilize"]["takes"]
    assert take["crop_needed_percent"] > 3.0  # by the walk's making: steps of 3 px, about 1 % of the width
    assert take["crop_percent"] == 3.0 and "limited to 3" in take["reason"]
    crop = measured_crop_percent(grey_frames(source)[60], grey_frames(tmp_path / "out.mp4")[60])
    assert crop <= 3.0 + CROP_STEP_PERCENT
    assert mean_motion_px(tmp_path / "out.mp4") < mean_motion_px(source)


def test_a_steady_clip_is_left_untouched_in_auto(steady: Path) -> None:
    job = write_job(steady.parent, f'[input]\nmain = "{steady.name}"\n')
    report = render(job)
    assert "vidstab" not in report["command"]
    (take,) = report["measurements"]["picture"]["stabilize"]["takes"]
    assert take["stabilized"] is False and take["reason"].startswith("steady")
    assert take["shake_before_percent"] < 0.01  # held still when it was made
    assert mean_motion_px(steady.parent / "out.mp4") < 0.05


def test_an_edit_list_stabilizes_only_its_shaky_take(shaky: Path, steady: Path, tmp_path: Path) -> None:
    job = write_job(tmp_path, f"""
[[take]]
source = "{steady}"
end_s = 2.0
[[take]]
source = "{shaky}"
start_s = 1.0
""")
    report = render(job)
    takes = report["measurements"]["picture"]["stabilize"]["takes"]
    assert [take["stabilized"] for take in takes] == [False, True]
    assert report["command"].count("vidstabtransform") == 1
    assert "stabilize-take1.trf" in report["command"] and "stabilize-take0.trf" not in report["command"]
    # The shaky take plays from 2.0 s of the programme (frame 60 on).
    frames = grey_frames(tmp_path / "out.mp4")
    assert len(frames) == 60 + 90
    import numpy as np

    from tests.shaky_media import phase_shift_px
    shaky_part = [np.hypot(*phase_shift_px(a, b, 24)) for a, b in zip(frames[61:], frames[62:])]
    assert float(np.mean(shaky_part)) <= 0.2 * mean_motion_px(shaky)


@pytest.mark.parametrize(("table", "key"), [
    ('mode = "wobbly"', "stabilize.mode"),
    ("max_crop_percent = 40", "stabilize.max_crop_percent"),
    ("smoothing_s = 0", "stabilize.smoothing_s"),
    ("crop = 5", "stabilize.crop"),
])
def test_a_bad_stabilize_value_is_a_one_line_job_error(steady: Path, tmp_path: Path, table: str, key: str) -> None:
    job = write_job(tmp_path, f'[input]\nmain = "{steady}"\n[stabilize]\n{table}\n')
    result = wayfinder("render", job)
    assert result.returncode == 3, result.stderr
    lines = [line for line in result.stderr.splitlines() if key in line]
    assert lines and str(job) in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out.mp4").exists() and not leftovers(tmp_path)
