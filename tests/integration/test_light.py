"""Automatic light correction, end to end: corridor-like scenes (tests/light_scenes.py)
degraded in known ways (1 to 2 EV under, cool and warm casts of 600 to 2000 K, lifted
blacks), rendered with `light.mode = "auto"` through the real render, and compared with
the undegraded original by ffmpeg's own SSIM filter, next to ffmpeg's stock
`grayworld,normalize` encoded the same way. A neutral, well-exposed scene is left as it is.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from pipeline import config
from pipeline.render import RenderResult, run_render
from tests.integration.jobs import write_job
from tests.light_scenes import SCENES, Scene, apply_stock, make_degraded, make_original, scene, ssim

SHOT_S = 1.5
BAR_SSIM, NEUTRAL_BAR_SSIM = 0.97, 0.99


def render_auto(folder: Path, source: Path) -> RenderResult:
    job_path = write_job(folder, source, '[light]\nmode = "auto"', output="corrected.mp4",
                         video='x264_preset = "ultrafast"\ncrf = 1')
    return run_render(config.load_job(job_path))


def scene_files(folder: Path, one: Scene) -> tuple[Path, Path]:
    original = make_original(folder / "original.mkv", one.layout, shots=len(one.shots), shot_s=SHOT_S)
    return original, make_degraded(original, folder / "degraded.mkv", one.shots, shot_s=SHOT_S)


@pytest.mark.parametrize("one", [s for s in SCENES if not all(d.is_identity for d in s.shots)], ids=lambda s: s.name)
def test_auto_light_restores_the_scene_and_beats_grayworld_normalize(one: Scene, tmp_path: Path) -> None:
    original, degraded = scene_files(tmp_path, one)
    result = render_auto(tmp_path, degraded)
    corrected = ssim(result.plan.output_path, original)
    stock = ssim(apply_stock(degraded, tmp_path / "stock.mp4", "grayworld,normalize"), original)
    assert corrected >= BAR_SSIM, (corrected, stock)
    assert corrected > stock, (corrected, stock)
    light = result.measurements["picture"]["light"]  # type: ignore[index]
    assert len(light["shots"]) == len(one.shots)
    for shot, degradation in zip(light["shots"], one.shots, strict=True):
        # Exposure: about the inverse of the degradation (the cast also dims the picture).
        assert shot["luma_gain"] >= 2 ** (-degradation.exposure_ev) * 0.85
        wb = shot["white_balance"]
        assert wb["nearest_k"] == pytest.approx(degradation.temperature_k, rel=0.12)
        if degradation.lift:
            assert min(shot["black_removed_rgb"]) >= degradation.lift * 0.5


def test_a_neutral_well_exposed_scene_is_left_as_it_is(tmp_path: Path) -> None:
    original, degraded = scene_files(tmp_path, scene("neutral"))
    result = render_auto(tmp_path, degraded)
    assert ssim(result.plan.output_path, original) >= NEUTRAL_BAR_SSIM
    (shot,) = result.measurements["picture"]["light"]["shots"]  # type: ignore[index]
    assert shot["luma_gain"] == 1.0 and shot["black_removed_rgb"] == [0.0, 0.0, 0.0]


def mean_luma_per_frame(path: Path) -> list[tuple[float, float]]:
    with av.open(str(path)) as container:
        return [(frame.time, float(frame.to_ndarray()[:180].mean())) for frame in container.decode(video=0)]


def test_two_shots_get_one_constant_correction_each_and_change_smoothly_at_the_cut(tmp_path: Path) -> None:
    original, degraded = scene_files(tmp_path, scene("two-shot"))
    result = render_auto(tmp_path, degraded)
    light = result.measurements["picture"]["light"]  # type: ignore[index]
    a, b = light["shots"]
    assert b["start_s"] == pytest.approx(SHOT_S, abs=0.1)
    # Shot A was darkened 0.75 EV more than shot B: about 2^0.75 = 1.7x the gain.
    assert 1.4 <= a["luma_gain"] / b["luma_gain"] <= 2.0, (a["luma_gain"], b["luma_gain"])
    per_frame = mean_luma_per_frame(result.plan.output_path)
    source = dict((round(t, 2), v) for t, v in mean_luma_per_frame(original))
    start_s, end_s = light["transitions_s"][0]
    # No flicker: within a shot, the output follows the original frame by frame (the
    # correction is constant; the picture itself pans).
    for lo_s, hi_s in ((0.0, start_s), (end_s, 2 * SHOT_S)):
        ratios = [v / source[round(t, 2)] for t, v in per_frame if lo_s <= t < hi_s and round(t, 2) in source]
        assert len(ratios) > 20 and np.ptp(ratios) <= 0.02, np.ptp(ratios)


def test_the_light_analysis_stops_when_asked(tmp_path: Path) -> None:
    """A render that fails or is interrupted stops its light analysis thread."""
    import threading

    from pipeline.background import Background, Cancelled
    from pipeline.probe import probe
    from pipeline.video.sampling import sample_frames

    _, degraded = scene_files(tmp_path, scene("dark-cool"))
    info = probe(degraded)
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        sample_frames(info, stop=stop)
    # Not stopped: it reads the whole clip, at least one thumbnail per decoded frame.
    samples = Background(lambda flag: sample_frames(info, stop=flag), name="light").result()
    assert samples.frames_decoded == len(samples.thumbs) > 0
