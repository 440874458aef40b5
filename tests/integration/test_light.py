"""Automatic light correction, end to end: a well-exposed, neutral clip is degraded in a
known way, rendered with `light.mode = "auto"`, and compared with the original by
ffmpeg's own SSIM filter.

The clip has two shots cut at 2.0 s, both like a corridor: neutral textured walls (median
luma about 0.45, in the target band) with a few coloured signs. Shot A is static with
sensor-like noise; shot B has a moving object. The degradation is ffmpeg's `exposure`
(code values times 2^EV: -1.5 EV for shot A, -0.75 EV for shot B) followed by a warm
cast from `colortemperature` at 5700 K (800 K below neutral 6500 K).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest

from pipeline import config
from pipeline.media import find_ffmpeg
from pipeline.render import run_render
from tests.integration.jobs import write_job
from tests.media import ffmpeg

W, H, FPS = 320, 180, 30
CUT_S = 2.0
SHOT_A_EV, SHOT_B_EV = -1.5, -0.75
WARM_K = 5700
LOSSLESS = ("-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-pix_fmt", "yuv420p",
            "-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709", "-color_range", "tv")
TAG = "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv"
WALL_A = "clip(122+45*sin(X/9)*sin(Y/7)-0.35*(Y-90)\\,16\\,235)"
WALL_B = "clip(118+50*sin(X/5+3*T)-0.3*(X-160)\\,16\\,235)"


def shot(wall: str, signs: list[tuple[int, int, int, int, str]]) -> str:
    boxes = ",".join(f"drawbox=x={x}:y={y}:w={w}:h={h}:color={c}:t=fill" for x, y, w, h, c in signs)
    return f"color=c=gray:s={W}x{H}:r={FPS}:d={CUT_S},format=yuv420p,geq=lum='{wall}':cb=128:cr=128,{boxes}"


def ssim_all(distorted: Path, reference: Path) -> float:
    result = subprocess.run(
        [find_ffmpeg(), "-hide_banner", "-i", str(distorted), "-i", str(reference),
         "-lavfi", "[0:v][1:v]ssim", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )
    return float(re.findall(r"SSIM Y:.* All:([0-9.]+)", result.stderr)[-1])


def median_chroma(path: Path, until_s: float) -> np.ndarray:
    """Median U and V codes over the frames before `until_s` (the walls dominate: neutral
    is 128)."""
    planes = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if frame.time < until_s:
                data = frame.to_ndarray()
                planes.append((data[H:H + H // 4].ravel(), data[H + H // 4:].ravel()))
    return np.array([np.median(np.concatenate([p[i] for p in planes])) for i in (0, 1)], dtype=float)


def mean_luma_per_frame(path: Path) -> list[tuple[float, float]]:
    with av.open(str(path)) as container:
        return [(frame.time, float(frame.to_ndarray()[:H].mean())) for frame in container.decode(video=0)]


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("light-media")
    original, degraded = folder / "original.mp4", folder / "degraded.mp4"
    static = shot(WALL_A, [(20, 30, 60, 30, "0xC03030"), (230, 40, 50, 25, "0x2050C0"), (150, 120, 40, 30, "0x30A040")])
    static += ",noise=c0s=6:c0f=t"  # temporal luma noise: the frames of a static shot still differ
    moving = shot(WALL_B, [(40, 100, 70, 40, "0xE0C020"), (200, 20, 60, 30, "0xC03090")])
    ffmpeg(
        "-f", "lavfi", "-i", static, "-f", "lavfi", "-i", moving,
        "-f", "lavfi", "-i", f"testsrc2=s=80x45:r={FPS}:d={CUT_S}",
        "-filter_complex", f"[1][2]overlay=x='mod(t*80,240)':y=60[b];[0][b]concat=n=2:v=1,{TAG}[v]",
        "-map", "[v]", *LOSSLESS, str(original),
    )
    warm = f"colortemperature=temperature={WARM_K}"
    ffmpeg(
        "-i", str(original),
        "-filter_complex",
        f"[0:v]trim=0:{CUT_S},exposure=exposure={SHOT_A_EV},{warm},format=yuv420p[a];"
        f"[0:v]trim={CUT_S},setpts=PTS-STARTPTS,exposure=exposure={SHOT_B_EV},{warm},format=yuv420p[b];"
        f"[a][b]concat=n=2:v=1,{TAG}[v]",
        "-map", "[v]", *LOSSLESS, str(degraded),
    )
    return original, degraded


def test_auto_light_restores_a_dark_warm_clip(clips: tuple[Path, Path], tmp_path: Path) -> None:
    original, degraded = clips
    job_path = write_job(tmp_path, degraded, '[light]\nmode = "auto"', output="corrected.mp4", video="crf = 12")
    result = run_render(config.load_job(job_path))
    corrected = result.plan.output_path

    uncorrected_ssim = ssim_all(degraded, original)
    corrected_ssim = ssim_all(corrected, original)
    assert corrected_ssim >= 0.93, (corrected_ssim, uncorrected_ssim)
    assert corrected_ssim - uncorrected_ssim >= 0.15, (corrected_ssim, uncorrected_ssim)

    light = result.measurements["picture"]["light"]  # type: ignore[index]
    shots = light["shots"]
    assert len(shots) == 2 and shots[1]["start_s"] == pytest.approx(CUT_S, abs=0.1)
    a, b = shots
    # Shot A was darkened 0.75 EV more than shot B, so it needs about 2^0.75 = 1.7x the gain.
    assert 1.4 <= a["luma_gain"] / b["luma_gain"] <= 2.0, (a["luma_gain"], b["luma_gain"])
    for one in shots:
        assert one["before"]["median_luma"] < 0.3 and 0.38 <= one["after"]["median_luma"] <= 0.56
        assert one["after"]["mean_luma"] > one["before"]["mean_luma"]
        # Warm: blue below luma (cb < 0), red above (cr > 0); removed by the correction.
        cast_before, cast_after = one["before"]["cast"], one["after"]["cast"]
        assert cast_before["cb_per_luma"] < -0.01 and cast_before["cr_per_luma"] > 0.01
        assert abs(cast_after["cb_per_luma"]) < 0.01 and abs(cast_after["cr_per_luma"]) < 0.01

    # The cast is gone from the picture itself: the walls are neutral again, where the
    # exposure gain alone would have scaled the degraded file's chroma offset by the gain.
    left_by_gain = (median_chroma(degraded, CUT_S - 0.3) - 128) * a["luma_gain"]
    assert np.abs(left_by_gain).max() >= 2.5, left_by_gain
    assert np.abs(median_chroma(corrected, CUT_S - 0.3) - 128).max() <= 1.0

    # The static shot: one constant correction, so the picture does not flicker.
    per_frame = mean_luma_per_frame(corrected)
    levels = [level for time_s, level in per_frame if time_s < CUT_S - 0.2]
    changes = np.abs(np.diff(levels)) / np.asarray(levels[1:])
    assert len(levels) > 40 and changes.max() <= 0.01, changes.max()

    # Each shot got its own correction: both land about as bright as the original shots
    # (shot B did not get shot A's larger gain).
    source = mean_luma_per_frame(original)
    def shot_ratio(lo_s: float, hi_s: float) -> float:
        out = np.mean([v for t, v in per_frame if lo_s <= t < hi_s])
        return out / np.mean([v for t, v in source if lo_s <= t < hi_s])
    ratio_a, ratio_b = shot_ratio(0.0, CUT_S - 0.3), shot_ratio(CUT_S + 0.3, 4.0)
    assert 0.9 <= ratio_b / ratio_a <= 1.1, (ratio_a, ratio_b)

    # Across the cut the correction changes over the transition, not in one step: the
    # static shot's last frames dim towards shot B's smaller gain, frame by frame.
    start_s, _ = light["transitions_s"][0]
    ramp = [v for t, v in per_frame if start_s < t < CUT_S]
    steady = np.mean([v for t, v in per_frame if CUT_S - 0.6 <= t < start_s])
    assert len(ramp) >= 2 and all(later < earlier for earlier, later in zip(ramp, ramp[1:]))
    assert b["luma_gain"] / a["luma_gain"] < ramp[-1] / steady < 0.99


def test_the_light_analysis_stops_when_asked(clips: tuple[Path, Path]) -> None:
    """A render that fails or is interrupted stops its light analysis thread."""
    import threading

    from pipeline.background import Background, Cancelled
    from pipeline.probe import probe
    from pipeline.video.sampling import sample_frames

    info = probe(clips[1])
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        sample_frames(info, stop=stop)
    # Not stopped: it reads the whole clip, at least one thumbnail per decoded frame.
    samples = Background(lambda flag: sample_frames(info, stop=flag), name="light").result()
    assert samples.frames_decoded == len(samples.thumbs) > 0
