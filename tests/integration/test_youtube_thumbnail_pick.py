"""`--thumbnail auto` on a video made so that only some middle frames are sharp and well exposed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from youtube_server.fixtures import make_video

from pipeline.youtube.thumbnail import write_auto_thumbnail

DURATION_S = 10.0
DARK = (3.0, 4.6)     # sharp but underexposed
BLURRED = (4.6, 6.2)  # exposed well but soft
# Sharp and well exposed: 0 to 3 s (outside the sampled middle, 30% to 70%) and 6.2 s on.


@pytest.fixture(scope="module")
def staged_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    extra = (f"eq=brightness=-0.55:enable='between(t,{DARK[0]},{DARK[1]})',"
             f"boxblur=10:enable='between(t,{BLURRED[0]},{BLURRED[1]})'")
    return make_video(tmp_path_factory.mktemp("thumb") / "staged.mp4", duration_s=DURATION_S, extra_filter=extra)


def test_auto_picks_a_sharp_well_exposed_frame_from_the_middle(staged_video: Path, tmp_path: Path) -> None:
    out = tmp_path / "thumb.jpg"
    thumbnail = write_auto_thumbnail(staged_video, DURATION_S, out)
    assert thumbnail.frame_time_s is not None
    assert 0.3 * DURATION_S <= thumbnail.frame_time_s <= 0.7 * DURATION_S + 0.05  # from the middle only
    assert thumbnail.frame_time_s >= BLURRED[1]  # neither the dark nor the soft stretch
    by_time = {round(s.time_s, 1): s for s in thumbnail.scores}
    dark = [s for t, s in by_time.items() if DARK[0] + 0.1 < t < DARK[1] - 0.1]
    soft = [s for t, s in by_time.items() if BLURRED[0] + 0.1 < t < BLURRED[1] - 0.1]
    assert dark and soft
    assert all(s.mean_level < 60 for s in dark)
    assert all(s.sharpness < max(x.sharpness for x in thumbnail.scores) / 5 for s in soft)
    with Image.open(out) as image:
        assert image.format == "JPEG" and image.size == (1280, 720)
    assert out.stat().st_size <= 2 * 1024 * 1024


def test_title_is_drawn_on_request(staged_video: Path, tmp_path: Path) -> None:
    plain = write_auto_thumbnail(staged_video, DURATION_S, tmp_path / "plain.jpg")
    titled = write_auto_thumbnail(staged_video, DURATION_S, tmp_path / "titled.jpg", title="How to find the clinic")
    assert plain.frame_time_s == titled.frame_time_s
    a = np.asarray(Image.open(plain.path), dtype=np.float32)
    b = np.asarray(Image.open(titled.path), dtype=np.float32)
    assert np.abs(a[:360] - b[:360]).mean() < 2        # the top half is the same picture
    assert np.abs(a[-120:] - b[-120:]).mean() > 20     # the bottom carries the title band
