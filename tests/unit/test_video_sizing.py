"""Output size and frame (pure): the long side fits the box's long side and the short
side its short side, never upscaled; vertical and square frames; the Shorts verdict."""

from __future__ import annotations

import pytest

from pipeline import config
from pipeline.probe import VideoStreamInfo
from pipeline.video.compose import build_output_size
from pipeline.video.sizing import build_fit, build_shorts_verdict


def video(width: int, height: int, rotation: int = 0) -> VideoStreamInfo:
    return VideoStreamInfo(0, "h264", "High", width, height, "yuv420p", 30.0, False, rotation)


def preset(name: str) -> config.VideoSettings:
    return config.load_preset_settings(name).video


@pytest.mark.parametrize(("size", "rotation", "expected"), [
    ((1080, 1920), 0, (1080, 1920)),  # vertical phone clip: full size, not 606x1080
    ((1920, 1080), 90, (1080, 1920)),  # stored landscape, shown vertical
    ((2160, 3840), 0, (1080, 1920)),  # 4K vertical fitted
    ((3840, 2160), 0, (1920, 1080)),  # 4K landscape fitted
    ((1920, 1080), 0, (1920, 1080)),
    ((720, 1280), 0, (720, 1280)),  # never upscaled
    ((1440, 1440), 0, (1080, 1080)),  # square: the short side bounds it
])
def test_youtube_fits_the_long_side_to_1920_and_the_short_to_1080(size, rotation, expected) -> None:
    frame, _ = build_output_size(video(*size, rotation), preset("youtube"))
    assert frame == expected


def test_youtube_vertical_centres_a_landscape_picture_in_a_9_16_frame() -> None:
    fit = build_fit(video(1920, 1080), preset("youtube-vertical"))
    assert fit.frame_px == (1080, 1920)
    assert fit.picture_px == (1080, 606)  # 1920x1080 scaled by 1080/1920, even
    assert build_fit(video(1080, 1920), preset("youtube-vertical")).frame_px == (1080, 1920)


def test_youtube_shorts_is_square_or_vertical() -> None:
    shorts = preset("youtube-shorts")
    assert build_fit(video(720, 720), shorts).frame_px == (720, 720)
    assert build_fit(video(1080, 1920), shorts).frame_px == (1080, 1920)
    landscape = build_fit(video(1920, 1080), shorts)
    assert landscape.frame_px == (1080, 1080) and landscape.picture_px == (1080, 606)


def test_shorts_verdict_is_square_or_taller_and_at_most_three_minutes() -> None:
    assert build_shorts_verdict((1080, 1920), 59.0)["is_short"] is True
    assert build_shorts_verdict((1080, 1080), 180.0)["is_short"] is True
    assert build_shorts_verdict((1080, 1920), 181.0)["is_short"] is False
    assert build_shorts_verdict((1920, 1080), 30.0)["is_short"] is False
    assert build_shorts_verdict(None, 30.0)["is_short"] is False
