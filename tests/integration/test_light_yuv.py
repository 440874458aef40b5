"""The auto-light filters in real ffmpeg (colorcorrect and lutyuv on the Y'CbCr planes)
do the planned RGB correction's arithmetic: the colours a correction should turn into
neutral greys come out as those greys, in limited and in full range.

The source is written by this test as raw 4:2:0 frames of flat patches (so chroma
subsampling changes nothing), from RGB values by the BT.709 equations: patch i holds the
tinted grey black + level_i / gain per channel, which out = (in - black) * gain maps to
the grey level_i. Tolerances: the source's own rounding (half a code per plane) times the
gains, and the filters' rounding."""

from __future__ import annotations

import subprocess

import ffmpeg
import numpy as np
import pytest

from pipeline.media import find_ffmpeg
from pipeline.video.light import Correction, LightPlan, ShotLight
from pipeline.video.light_graph import build_auto_light_filters

KR, KB = 0.2126, 0.0722
LEVELS = (0.1, 0.25, 0.4, 0.55, 0.7, 0.85)
PATCH_PX, HEIGHT_PX = 32, 32


def ycbcr(rgb: np.ndarray) -> np.ndarray:
    y = KR * rgb[..., 0] + (1 - KR - KB) * rgb[..., 1] + KB * rgb[..., 2]
    return np.stack([y, (rgb[..., 2] - y) / (2 * (1 - KB)), (rgb[..., 0] - y) / (2 * (1 - KR))], axis=-1)


def codes(yuv: np.ndarray, full_range: bool) -> np.ndarray:
    if full_range:
        return np.stack([yuv[..., 0] * 255, 128 + yuv[..., 1] * 255, 128 + yuv[..., 2] * 255], axis=-1)
    return np.stack([16 + yuv[..., 0] * 219, 128 + yuv[..., 1] * 224, 128 + yuv[..., 2] * 224], axis=-1)


def raw_frame(patch_codes: np.ndarray) -> bytes:
    """One yuv420p frame of flat patches, one patch per row of `patch_codes` (Y, Cb, Cr)."""
    rounded = np.clip(np.round(patch_codes), 0, 255).astype(np.uint8)
    luma = np.repeat(np.repeat(rounded[None, :, 0], HEIGHT_PX, axis=0), PATCH_PX, axis=1)
    planes = [luma]
    for index in (1, 2):
        planes.append(np.repeat(np.repeat(rounded[None, :, index], HEIGHT_PX // 2, axis=0), PATCH_PX // 2, axis=1))
    return b"".join(plane.tobytes() for plane in planes)


def run_filters(frame: bytes, filters: list[tuple[str, dict[str, object]]], full_range: bool) -> np.ndarray:
    """The filters on the frame in ffmpeg; the centre of each patch as (Y, Cb, Cr) codes."""
    width_px = PATCH_PX * len(LEVELS)
    pix_fmt = "yuvj420p" if full_range else "yuv420p"
    # Compiled by ffmpeg-python, as the render's graph is (it escapes the expressions).
    stream = ffmpeg.input("pipe:", f="rawvideo", pix_fmt=pix_fmt, s=f"{width_px}x{HEIGHT_PX}")["0"]
    for name, options in filters:
        stream = stream.filter(name, **options)
    argv = ffmpeg.output(stream, "pipe:", f="rawvideo", pix_fmt=pix_fmt).compile(cmd=[find_ffmpeg(), "-v", "error"])
    result = subprocess.run(argv, input=frame, capture_output=True, check=True)
    data = np.frombuffer(result.stdout, np.uint8)
    luma = data[: width_px * HEIGHT_PX].reshape(HEIGHT_PX, width_px)
    chroma_size = (width_px // 2) * (HEIGHT_PX // 2)
    cb = data[width_px * HEIGHT_PX: width_px * HEIGHT_PX + chroma_size].reshape(HEIGHT_PX // 2, width_px // 2)
    cr = data[width_px * HEIGHT_PX + chroma_size: width_px * HEIGHT_PX + 2 * chroma_size].reshape(
        HEIGHT_PX // 2, width_px // 2)
    centres = [(HEIGHT_PX // 2, PATCH_PX * i + PATCH_PX // 2) for i in range(len(LEVELS))]
    return np.array([[luma[r, c], cb[r // 2, c // 2], cr[r // 2, c // 2]] for r, c in centres], dtype=np.float64)


@pytest.mark.parametrize("full_range", [False, True])
@pytest.mark.parametrize(("gain", "balance", "black"), [
    (2.0, (1.0, 1.0, 1.0), 0.0),  # exposure only: lutyuv alone
    (1.8, (0.8, 1.0, 1.35), 0.0),  # a warm cast removed: colorcorrect's shift too
    (1.5, (1.25, 1.0, 0.75), 0.04),  # a cool cast and lifted blacks
])
def test_tinted_greys_come_out_as_the_planned_greys(full_range: bool, gain: float,
                                                    balance: tuple[float, float, float], black: float) -> None:
    correction = Correction(gain=gain, black_rgb=(black, black, black), balance_rgb=balance)
    gains = np.asarray(correction.channel_gains)
    source_rgb = np.array([[black + level / g for g in gains] for level in LEVELS])
    assert source_rgb.max() <= 1.0  # legal source colours
    plan = LightPlan(shots=(ShotLight(0.0, 1.0, correction, {}),), transitions=(), full_range=full_range)
    filters = build_auto_light_filters(plan)
    assert all(name in ("colorcorrect@light", "lutyuv@light") for name, _ in filters)
    got = run_filters(raw_frame(codes(ycbcr(source_rgb), full_range)), filters, full_range)
    want = codes(ycbcr(np.array([[level] * 3 for level in LEVELS])), full_range)
    # Half a code of source rounding per plane, amplified by the correction, plus rounding.
    tolerance = 0.5 * gains.max() * 1.6 + 1.0
    assert np.abs(got - want).max() <= tolerance, (got, want)
