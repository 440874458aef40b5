"""The source's YCbCr matrix, end to end: untagged HD is read as BT.709 and passes through
the render unconverted, untagged SD is read as BT.601 and converted to the BT.709 output,
and a tag wins over either convention.

The clips are one flat colour, so every expected value comes from the BT.601 and BT.709
limited-range equations applied to that colour's RGB.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from pipeline import config
from pipeline.probe import probe
from pipeline.render import run_render
from tests.integration.jobs import FAST_VIDEO, write_job
from tests.media import ffmpeg

RGB = (40, 180, 60)  # a green where the two matrices differ by about 15 luma codes
TOLERANCE = 3  # 8-bit codes: x264 on a flat field, twice
TAG_FLAGS = ("-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709", "-color_range", "tv")
TAG = "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv"
# scale tags the frames it converts with the matrix it used: take that back off.
UNTAG = "setparams=color_primaries=unknown:color_trc=unknown:colorspace=unknown"


def limited_range_yuv(rgb: tuple[int, int, int], kr: float, kb: float) -> np.ndarray:
    """Y, Cb, Cr codes of an 8-bit RGB colour by the ITU equations with luma weights kr, kb."""
    r, g, b = (c / 255 for c in rgb)
    y = kr * r + (1 - kr - kb) * g + kb * b
    return np.array([16 + 219 * y, 128 + 224 * (b - y) / (2 * (1 - kb)), 128 + 224 * (r - y) / (2 * (1 - kr))])


BT601 = limited_range_yuv(RGB, 0.299, 0.114)  # ITU-R BT.601
BT709 = limited_range_yuv(RGB, 0.2126, 0.0722)  # ITU-R BT.709


def flat_clip(path: Path, size: str, matrix: str, *, tagged: bool = False) -> Path:
    """1 s of the colour converted with `matrix`; untagged unless asked (no frame tags, no
    header tags), as many cameras and screen recorders write them."""
    picture = f"color=c=0x{RGB[0]:02X}{RGB[1]:02X}{RGB[2]:02X}:s={size}:r=30:d=1,"
    picture += f"scale=out_color_matrix={matrix}:out_range=tv,format=yuv420p"
    picture, flags = (f"{picture},{TAG}", TAG_FLAGS) if tagged else (f"{picture},{UNTAG}", ())
    ffmpeg("-f", "lavfi", "-i", picture, "-c:v", "libx264", "-preset", "ultrafast", "-crf", "10", *flags, str(path))
    return path


def centre_yuv(path: Path) -> np.ndarray:
    """Y, Cb, Cr at the centre of the first frame, as decoded."""
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        planes = frame.to_ndarray()  # yuv420p: Y rows, then U and V rows stacked
    h, w = frame.height, frame.width
    u = planes[h:h + h // 4].reshape(h // 2, w // 2)
    v = planes[h + h // 4:].reshape(h // 2, w // 2)
    return np.array([planes[h // 2, w // 2], u[h // 4, w // 4], v[h // 4, w // 4]], dtype=float)


def render(source: Path, folder: Path, extra: str = "") -> Path:
    """The source through the render with the video encoded (not copied)."""
    job = write_job(folder, source, extra, output=f"{source.stem}-out.mp4",
                    video=f"{FAST_VIDEO}\ncopy_when_possible = false")
    result = run_render(config.load_job(job))
    assert result.plan.video_mode == "encode"
    return result.plan.output_path


def assert_yuv(actual: np.ndarray, expected: np.ndarray, what: str) -> None:
    assert np.abs(actual - expected).max() <= TOLERANCE, f"{what}: got YCbCr {actual}, expected {expected.round(1)}"


def test_the_two_matrices_are_far_enough_apart_to_tell() -> None:
    assert np.abs(BT709 - BT601).max() > 4 * TOLERANCE, (BT601, BT709)


def test_untagged_hd_is_read_as_bt709_and_not_converted(tmp_path: Path) -> None:
    source = flat_clip(tmp_path / "hd.mp4", "1280x720", "bt709")
    assert probe(source).video.color_matrix is None  # type: ignore[union-attr]
    made = centre_yuv(source)
    assert_yuv(made, BT709, "source as made")
    out = render(source, tmp_path)
    assert_yuv(centre_yuv(out), made, "untagged HD after the render")
    assert probe(out).video.color_matrix == "bt709"  # type: ignore[union-attr]


def test_untagged_sd_is_read_as_bt601_and_converted_to_bt709(tmp_path: Path) -> None:
    source = flat_clip(tmp_path / "sd.mp4", "640x360", "bt601")
    assert probe(source).video.color_matrix is None  # type: ignore[union-attr]
    assert_yuv(centre_yuv(source), BT601, "source as made")
    out = render(source, tmp_path)
    assert_yuv(centre_yuv(out), BT709, "untagged SD after the render")


def test_a_tag_wins_over_the_size_convention(tmp_path: Path) -> None:
    source = flat_clip(tmp_path / "sd-tagged.mp4", "640x360", "bt709", tagged=True)
    assert probe(source).video.color_matrix == "bt709"  # type: ignore[union-attr]
    made = centre_yuv(source)
    assert_yuv(made, BT709, "source as made")
    out = render(source, tmp_path)
    assert_yuv(centre_yuv(out), made, "SD tagged BT.709 after the render")


def test_untagged_hd_through_an_rgb_light_filter_matches_the_tagged_clip(tmp_path: Path) -> None:
    # colortemperature works in RGB; ffmpeg's conversion into RGB honours a BT.709 tag, so
    # the tagged clip is the reference the untagged one must match.
    light = '[light]\nmode = "manual"\ntemperature_shift_k = 400\n'
    untagged = render(flat_clip(tmp_path / "hd.mp4", "1280x720", "bt709"), tmp_path, light)
    tagged = render(flat_clip(tmp_path / "hd-tagged.mp4", "1280x720", "bt709", tagged=True), tmp_path, light)
    reference = centre_yuv(tagged)
    assert np.abs(reference - BT709).max() > TOLERANCE  # the light filter did change the colour
    assert_yuv(centre_yuv(untagged), reference, "untagged HD after colortemperature")
