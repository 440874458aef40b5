"""Auto-light estimates on synthetic planes (pure numpy; no ffmpeg, no video files).

Scenes are made here in normalized video terms: luma 0..1, chroma -0.5..0.5. A cast of a
light is chroma proportional to luma on neutral surfaces; the expected corrections follow
from how each scene is made.
"""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.config import LightSettings
from pipeline.video import light
from pipeline.video.sampling import ColourSample, FrameSamples

RNG = np.random.default_rng(4)


def corridor(median_luma: float = 0.45, *, cast: tuple[float, float] = (0.0, 0.0), size: int = 4000,
             signs: float = 0.1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Neutral walls around `median_luma` with some saturated signs, under a light with
    chroma slopes `cast` (cb, cr per unit luma)."""
    # Surfaces vary by reflectance, so luma spreads in proportion to the light on them.
    luma = np.clip(median_luma * np.exp(RNG.normal(0.0, 0.3, size)), 0.0, 0.95)
    cb = np.zeros(size)
    cr = np.zeros(size)
    coloured = RNG.random(size) < signs
    # A sign's colour scales with the light on it, like its luma.
    cb[coloured] = RNG.choice([-0.35, 0.35], coloured.sum()) * luma[coloured]
    cr[coloured] = RNG.choice([-0.35, 0.35], coloured.sum()) * luma[coloured]
    return luma, cb + cast[0] * luma, cr + cast[1] * luma


def test_a_neutral_scene_has_no_cast_and_trusted_grey() -> None:
    cast = light.estimate_cast(*corridor())
    assert abs(cast.cb_slope) < 0.005 and abs(cast.cr_slope) < 0.005
    assert cast.confidence > 0.9


def test_a_warm_cast_is_found_and_removed() -> None:
    warm = (-0.06, 0.05)  # blue below luma, red above: an incandescent look
    luma, cb, cr = corridor(cast=warm)
    cast = light.estimate_cast(luma, cb, cr)
    assert cast.cb_slope == pytest.approx(warm[0], abs=0.005)
    assert cast.cr_slope == pytest.approx(warm[1], abs=0.005)
    red, _, blue = cast.rgb_gains()
    assert red > 1.05 and blue < 0.93
    cb_slope, cr_slope = light.white_balance_for(cast, strength=1.0)
    after = light.estimate_cast(*light.apply_correction(luma, cb, cr, light.Correction(1.0, cb_slope, cr_slope)))
    assert abs(after.cb_slope) < 0.005 and abs(after.cr_slope) < 0.005


def test_a_scene_of_saturated_colours_is_not_trusted() -> None:
    # Only colour bars: nothing a light could have made of a grey surface.
    size = 3000
    luma = RNG.uniform(0.2, 0.6, size)
    cb = RNG.choice([-0.3, 0.3], size) * 0.8
    cr = RNG.choice([-0.3, 0.3], size) * 0.8
    cast = light.estimate_cast(luma, cb, cr)
    assert cast.confidence < 0.2
    assert max(map(abs, light.white_balance_for(cast, 1.0))) < 0.02


def test_white_balance_is_capped_and_scaled_by_strength() -> None:
    strong = light.Cast(-0.2, 0.2, confidence=1.0)  # beyond what the cap allows
    cb_slope, cr_slope = light.white_balance_for(strong, 1.0)
    assert cb_slope == pytest.approx(light.MAX_CB_SLOPE) and cr_slope == pytest.approx(-light.MAX_CR_SLOPE)
    # +-25 % per channel at most.
    assert 1.8556 * cb_slope == pytest.approx(0.25) and 1.5748 * -cr_slope == pytest.approx(0.25)
    mild = light.Cast(-0.04, 0.03, confidence=1.0)
    half = light.white_balance_for(mild, 0.5)
    assert half == pytest.approx((0.02, -0.015))


def test_exposure_brings_the_median_into_the_band() -> None:
    low, high = light.TARGET_BAND
    dark = corridor(median_luma=0.15, signs=0.0)  # no saturated highlights to hold it back
    gain, why = light.exposure_gain_for(*dark, 0.0, 0.0)
    assert np.median(dark[0]) * gain == pytest.approx(low, rel=1e-6) and "below" in why
    bright = corridor(median_luma=0.7)
    gain, _ = light.exposure_gain_for(*bright, 0.0, 0.0)
    assert np.median(bright[0]) * gain == pytest.approx(high, rel=1e-6)
    fine = corridor(median_luma=0.47)
    assert light.exposure_gain_for(*fine, 0.0, 0.0)[0] == 1.0


def test_exposure_clips_at_most_half_a_percent_of_new_highlights() -> None:
    luma, cb, cr = corridor(median_luma=0.15, signs=0.0)
    luma[:120] = 0.5  # 3 % of the pixels are lamps, well below clipping for now
    gain, why = light.exposure_gain_for(luma, cb, cr, 0.0, 0.0)
    assert "highlights" in why
    assert ((luma * gain) > 1.0 + 1e-9).mean() <= light.MAX_NEW_CLIP_FRACTION
    assert gain == pytest.approx(2.0, rel=0.01)  # exactly where the lamps reach white
    # Pixels already clipped in the source do not hold the exposure back.
    luma2 = luma.copy()
    luma2[:120] = 1.0
    assert light.exposure_gain_for(luma2, cb, cr, 0.0, 0.0)[0] > 2.5


def test_exposure_gain_is_capped() -> None:
    very_dark = corridor(median_luma=0.06, signs=0.0)
    gain, why = light.exposure_gain_for(*very_dark, 0.0, 0.0)
    assert gain == light.MAX_GAIN and "capped" in why
    black = (np.full(1000, 0.01), np.zeros(1000), np.zeros(1000))
    assert light.exposure_gain_for(*black, 0.0, 0.0)[0] == 1.0


def thumbs_for(levels: list[float], *, noise: float = 0.01, motion: float = 0.0) -> np.ndarray:
    frames = []
    base = RNG.uniform(0.2, 0.8, (18, 32))
    other = RNG.uniform(0.2, 0.8, (18, 32))
    for i, level in enumerate(levels):
        scene = base if level >= 0 else other
        moving = np.roll(scene, int(i * motion), axis=1)
        frames.append(moving * abs(level) + RNG.normal(0, noise, (18, 32)))
    return np.stack(frames)


def test_cuts_are_found_between_dark_shots_but_not_in_noise_or_motion() -> None:
    # 2 s of one dark scene, then 2 s of another (negative level = the other scene), 15 fps.
    levels = [0.3] * 30 + [-0.3] * 30
    times = np.arange(60) / 15
    assert light.find_cuts(times, thumbs_for(levels)) == [30]
    assert light.find_cuts(times, thumbs_for([0.3] * 60, noise=0.02)) == []
    assert light.find_cuts(times, thumbs_for([0.5] * 60, motion=1.0)) == []


def test_shots_shorter_than_a_second_are_not_split_off() -> None:
    levels = [0.5] * 30 + [-0.5] * 5 + [0.5] * 25  # a 1/3 s flash of another scene
    times = np.arange(60) / 15
    shots, transitions = light.split_shots(times, thumbs_for(levels), 4.0)
    assert len(shots) == 2  # the flash's start is a cut; its end comes too soon after
    assert shots[0][1] == pytest.approx((29 + 30) / 2 / 15)
    start_s, end_s = transitions[0]
    assert end_s - start_s >= light.TRANSITION_S - 1e-9 and start_s < shots[0][1] < end_s


def samples_of(scenes: list[tuple[float, tuple[np.ndarray, np.ndarray, np.ndarray]]]) -> tuple[ColourSample, ...]:
    return tuple(ColourSample(t, *(p.reshape(40, -1).astype(np.float32) for p in planes)) for t, planes in scenes)


def test_plan_light_gives_one_correction_per_shot() -> None:
    dark_warm = corridor(median_luma=0.15, cast=(-0.05, 0.04), signs=0.0)
    bright_cool = corridor(median_luma=0.7, cast=(0.04, -0.03))
    samples = samples_of([(i / 4, dark_warm) for i in range(8)] + [(2 + i / 4, bright_cool) for i in range(8)])
    thumbs = thumbs_for([0.3] * 30 + [-0.7] * 30)
    frames = FrameSamples(np.arange(60) / 15, thumbs, samples, duration_s=4.0, full_range=False, frames_decoded=60)
    plan = light.plan_light(frames, LightSettings(mode="auto"))
    assert len(plan.shots) == 2 and len(plan.transitions) == 1
    first, second = (shot.correction for shot in plan.shots)
    assert first.gain > 2.0 and second.gain < 1.0
    assert first.cb_slope > 0.03 and first.cr_slope < -0.02  # warm: add blue, take red
    assert second.cb_slope < -0.02 and second.cr_slope > 0.02  # cool: the other way
    report = plan.to_report()["shots"]
    assert report[0]["after"]["median_luma"] == pytest.approx(light.TARGET_BAND[0], abs=0.01)
    assert report[1]["after"]["median_luma"] == pytest.approx(light.TARGET_BAND[1], abs=0.01)
    assert report[0]["before"]["cast"]["cr_per_luma"] > 0.03 and abs(report[0]["after"]["cast"]["cr_per_luma"]) < 0.005

    half = light.plan_light(frames, LightSettings(mode="auto", strength=0.5))
    assert half.shots[0].correction.gain == pytest.approx(first.gain ** 0.5)
    none = light.plan_light(frames, LightSettings(mode="auto", strength=0.0))
    assert all(shot.correction == light.Correction() for shot in none.shots)
