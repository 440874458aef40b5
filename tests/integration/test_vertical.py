"""Vertical and square video with the real ffmpeg: a vertical source keeps its full size
with `youtube`, a rotated phone clip is shown upright, `youtube-shorts` keeps a square
source square, and the report says whether YouTube will treat the output as a Short."""

from __future__ import annotations

import json
from pathlib import Path

import av
import pytest

from pipeline import config
from pipeline.probe import probe
from pipeline.render import run_render
from tests.integration.cli import wayfinder
from tests.integration.jobs import write_job
from tests.media import ffmpeg, make_clip

ENCODE = 'x264_preset = "ultrafast"\ncopy_when_possible = false'


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("vertical")


def report_of(out: Path) -> dict[str, object]:
    return json.loads(out.with_name(out.name + ".wayfinder.json").read_text())


def test_a_vertical_source_renders_at_1080x1920_with_youtube(folder: Path, tmp_path: Path) -> None:
    source = make_clip(folder / "vertical.mp4", size="1080x1920", duration_s=1.0)
    job = write_job(tmp_path, source, video=ENCODE)
    result = wayfinder("render", job, "--preset", "youtube")
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out.mp4"
    video = probe(out).video
    assert video is not None and (video.width_px, video.height_px) == (1080, 1920)
    report = report_of(out)
    assert report["video_mode"] == "encode"
    assert report["youtube_short"]["is_short"] is True


def test_a_rotated_phone_clip_is_rendered_upright(folder: Path, tmp_path: Path) -> None:
    stored = make_clip(folder / "stored.mp4", size="1280x720", duration_s=1.0)
    rotated = folder / "rotated.mp4"
    ffmpeg("-display_rotation", "90", "-i", str(stored), "-c", "copy", str(rotated))
    assert probe(rotated).video.rotation_deg == 90  # stored 1280x720, shown 720x1280
    out = tmp_path / "out.mp4"
    run_render(config.quick_job(rotated, out, preset_name="youtube", flag_layer={
        "video": {"copy_when_possible": False, "x264_preset": "ultrafast"},
    }))
    with av.open(str(out)) as container:
        frame = next(container.decode(video=0))
        assert (frame.width, frame.height) == (720, 1280)  # not shrunk to 1080 rows
        assert int(frame.rotation or 0) % 360 == 0  # upright pixels, no rotation flag left


def test_a_square_source_stays_square_with_youtube_shorts(folder: Path, tmp_path: Path) -> None:
    source = make_clip(folder / "square.mp4", size="720x720", duration_s=1.0)
    out = tmp_path / "square.mp4"
    result = wayfinder("render", source, "-o", out, "--preset", "youtube-shorts")
    assert result.returncode == 0, result.stderr
    video = probe(out).video
    assert video is not None and (video.display_width_px, video.display_height_px) == (720, 720)
    assert report_of(out)["youtube_short"]["is_short"] is True


def test_a_landscape_render_is_not_a_short(folder: Path, tmp_path: Path) -> None:
    source = make_clip(folder / "landscape.mp4", size="640x360", duration_s=1.0)
    out = tmp_path / "landscape.mp4"
    assert wayfinder("render", source, "-o", out, "--preset", "youtube-draft").returncode == 0
    verdict = report_of(out)["youtube_short"]
    assert verdict["is_short"] is False and "wider than tall" in verdict["reason"]


def test_youtube_shorts_centres_a_landscape_source_in_a_square_frame(folder: Path, tmp_path: Path) -> None:
    source = make_clip(folder / "landscape2.mp4", size="640x360", duration_s=1.0)
    out = tmp_path / "short.mp4"
    assert wayfinder("render", source, "-o", out, "--preset", "youtube-shorts").returncode == 0
    with av.open(str(out)) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="gray")
    assert frame.shape == (640, 640)
    bar = (640 - 360) // 2
    assert frame[: bar - 4].max() <= 20 and frame[-(bar - 4):].max() <= 20  # black above and below
    assert frame[bar + 20: -bar - 20].mean() > 40  # the picture in the middle
