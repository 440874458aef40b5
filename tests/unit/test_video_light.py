"""Auto-light estimates on synthetic pictures (pure numpy; no ffmpeg, no video files).

Scenes are made here in RGB code values (0..1): neutral textured walls, a white ceiling
light, a near-black door gap, saturated signs and a skin-toned patch, then degraded the way
a camera is: times the colour of a black-body light (`kelvin_to_rgb`), times an exposure
factor, then blacks lifted. The expected corrections follow from how each scene is made.
"""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.config import LightSettings
from pipeline.video import light
from pipeline.video.light_balance import estimate_balance, kelvin_to_rgb, log_chroma
from pipeline.video.sampling import ColourSample, FrameSamples

RNG = np.random.default_rng(4)
H, W = 40, 64


def corridor(*, ceiling: bool = True, signs: float = 0.15) -> np.ndarray:
    """An undegraded corridor picture (H, W, 3): walls around 0.45, a ceiling light at
    0.93, a door gap at 0.03, red/green/blue/yellow signs and a skin patch."""
    y, x = np.mgrid[0:H, 0:W]
    wall = 0.45 + 0.12 * np.sin(x / 3.0) * np.sin(y / 2.5) + RNG.normal(0, 0.01, (H, W))
    picture = np.repeat(wall[..., None], 3, axis=2)
    if ceiling:
        picture[:4, 20:44] = 0.93
    picture[12:32, 54:58] = 0.03
    colours = [(0.78, 0.06, 0.18), (0.0, 0.47, 0.29), (0.12, 0.31, 0.61), (0.95, 0.76, 0.0)]
    width = int(signs * W)
    for i, colour in enumerate(colours):
        if width:
            picture[8 + 7 * i:13 + 7 * i, 4:4 + width] = colour
    picture[20:28, 30:36] = (0.85, 0.64, 0.54)  # skin
    return np.clip(picture, 0.0, 1.0)


def degrade(picture: np.ndarray, *, kelvin: float = 6500, exposure: float = 1.0, lift: float = 0.0) -> np.ndarray:
    lit = picture * kelvin_to_rgb(kelvin) / kelvin_to_rgb(6500) * exposure
    return np.clip(lift + (1 - lift) * lit, 0.0, 1.0)


def to_sample(time_s: float, rgb: np.ndarray) -> ColourSample:
    """BT.709 normalized Y'CbCr planes of an RGB picture, as sampling.py gives them."""
    luma = rgb @ np.array([0.2126, 0.7152, 0.0722])
    cb = (rgb[..., 2] - luma) / 1.8556
    cr = (rgb[..., 0] - luma) / 1.5748
    return ColourSample(time_s, luma.astype(np.float32), cb.astype(np.float32), cr.astype(np.float32))


def plan_one(rgb: np.ndarray, strength: float = 1.0) -> tuple[light.Correction, dict[str, object]]:
    return light.plan_shot([to_sample(0.0, rgb)], LightSettings(mode="auto", strength=strength))


@pytest.mark.parametrize("kelvin", [4500, 5200, 5900, 7200, 8500])
def test_the_light_of_a_cast_is_found(kelvin: float) -> None:
    balance = estimate_balance([degrade(corridor(), kelvin=kelvin, exposure=0.5)])
    truth = kelvin_to_rgb(kelvin) / kelvin_to_rgb(6500)
    # Same chromaticity within 1.5 % per channel ratio.
    assert np.abs(log_chroma(balance.light) - log_chroma(truth)).max() < 0.015, (balance.light, truth)
    assert balance.amount == 1.0 and balance.winner in {"grey_world", "white_patch", "grey_edge"}


def test_a_neutral_well_exposed_shot_is_left_alone() -> None:
    correction, report = plan_one(corridor())
    assert correction == light.Correction(gain=1.0, black_rgb=(0.0, 0.0, 0.0), balance_rgb=correction.balance_rgb)
    assert np.allclose(correction.balance_rgb, 1.0, atol=0.01)
    assert report["luma_gain"] == 1.0


def test_a_picture_of_saturated_colours_is_not_pulled_to_an_implausible_light() -> None:
    """Mostly red and yellow signs, little grey: grey-world alone would call the light
    orange; the light stays near the black-body locus and the correction is partial."""
    picture = corridor(signs=0.9)
    picture[:, : W // 2] = (0.78, 0.06, 0.18)
    balance = estimate_balance([picture])
    assert balance.amount < 1.0 or np.abs(log_chroma(balance.light)).max() < 0.1
    gains = balance.gains()
    assert gains.max() / gains.min() < 1.6


@pytest.mark.parametrize("ev", [-1.0, -1.5, -2.0])
def test_underexposure_is_undone_from_the_white(ev: float) -> None:
    correction, report = plan_one(degrade(corridor(), exposure=2.0 ** ev))
    # The ceiling light (0.93) goes back to about TARGET_WHITE: gain 2^-ev within 5 %.
    assert correction.gain == pytest.approx(2.0 ** -ev * light.TARGET_WHITE / 0.93, rel=0.05)
    assert "white" in str(report["exposure_reason"])


def test_without_whites_the_median_is_brought_to_its_target() -> None:
    _, report = plan_one(degrade(corridor(ceiling=False, signs=0.0), exposure=0.4))
    assert report["after"]["median_luma"] == pytest.approx(light.TARGET_MEDIAN, abs=0.03)  # type: ignore[index]


def test_exposure_gain_is_capped() -> None:
    very_dark = degrade(corridor(), exposure=0.08)
    correction, report = plan_one(very_dark)
    assert correction.gain == light.MAX_GAIN and "capped" in str(report["exposure_reason"])
    black = np.full((H, W, 3), 0.01)
    assert plan_one(black)[0].gain == 1.0


def test_lifted_blacks_are_brought_down_and_unlifted_ones_are_not() -> None:
    lifted = degrade(corridor(), exposure=0.5, lift=0.10)
    correction, report = plan_one(lifted)
    after = light.apply_correction(lifted.reshape(-1, 3), correction)
    original = corridor().reshape(-1, 3)
    # The door gap (0.03) comes back near black, not at the lifted level.
    assert np.percentile(after, light.BLACK_PERCENTILE, axis=0).max() < 0.05
    assert np.abs(np.median(after, axis=0) - np.median(original, axis=0)).max() < 0.04
    assert plan_one(degrade(corridor(), exposure=0.5))[0].black_rgb == (0.0, 0.0, 0.0)


def test_saturation_is_kept_by_equal_channel_gains() -> None:
    """A lift does not add colour: chroma per luma of the signs is the original's."""
    dark = degrade(corridor(), exposure=0.35)
    correction, report = plan_one(dark)
    before = report["before"]["median_saturation"]  # type: ignore[index]
    after = report["after"]["median_saturation"]  # type: ignore[index]
    assert after == pytest.approx(before, abs=0.01)
    assert len(set(correction.balance_rgb)) == 1 or np.allclose(correction.balance_rgb, 1.0, atol=0.01)


def test_skin_and_signs_keep_their_hue_after_a_warm_cast_is_removed() -> None:
    original = corridor()
    correction, _ = plan_one(degrade(original, kelvin=4500, exposure=0.5))
    restored = light.apply_correction(degrade(original, kelvin=4500, exposure=0.5), correction)
    skin_before, skin_after = original[24, 32], restored[24, 32]
    assert np.abs(log_chroma(skin_after) - log_chroma(skin_before)).max() < 0.04
    sign_before, sign_after = original[10, 6], restored[10, 6]  # red
    assert np.abs(sign_after - sign_before).max() < 0.05


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


def test_plan_light_gives_one_correction_per_shot() -> None:
    dark_warm = degrade(corridor(), kelvin=4500, exposure=0.35)
    bright_cool = degrade(corridor(), kelvin=8500, exposure=0.9)
    samples = tuple([to_sample(i / 4, dark_warm) for i in range(8)] + [to_sample(2 + i / 4, bright_cool) for i in range(8)])
    thumbs = thumbs_for([0.3] * 30 + [-0.7] * 30)
    frames = FrameSamples(np.arange(60) / 15, thumbs, samples, duration_s=4.0, full_range=False, frames_decoded=60)
    plan = light.plan_light(frames, LightSettings(mode="auto"))
    assert len(plan.shots) == 2 and len(plan.transitions) == 1
    first, second = (shot.correction for shot in plan.shots)
    assert first.gain > 2.0 and second.gain < first.gain
    r, _, b = first.balance_rgb
    assert b > 1.1 and r < 1.0  # warm: add blue, take red
    r, _, b = second.balance_rgb
    assert b < 1.0 and r > 1.0  # cool: the other way
    report = plan.to_report()["shots"]
    for shot in report:
        wb = shot["white_balance"]
        assert set(wb["estimates"]) == {"grey_world", "grey_edge", "white_patch"}
        assert wb["winner"] in wb["estimates"] and abs(sum(e["weight"] for e in wb["estimates"].values()) - 1) < 0.01
    assert report[0]["white_balance"]["nearest_k"] == pytest.approx(4500, abs=300)

    half = light.plan_light(frames, LightSettings(mode="auto", strength=0.5))
    assert half.shots[0].correction.gain < first.gain
    none = light.plan_light(frames, LightSettings(mode="auto", strength=0.0))
    assert all(shot.correction == light.Correction() for shot in none.shots)


def test_a_long_shot_is_judged_on_a_bounded_spread_of_its_samples() -> None:
    dark = degrade(corridor(), kelvin=5200, exposure=0.4)
    many = [to_sample(i / 4, dark) for i in range(light.MAX_SAMPLES_PER_SHOT * 3)]
    correction, report = light.plan_shot(many, LightSettings(mode="auto"))
    assert report["samples"] == light.MAX_SAMPLES_PER_SHOT and report["samples_in_shot"] == len(many)
    assert correction.gain == pytest.approx(plan_one(dark)[0].gain, rel=0.01)


def test_scores_from_the_shots_log_chroma_equal_the_direct_definition() -> None:
    """The scores are computed on the shot's log chroma once (removing a light is a shift
    there): the same numbers as removing the light from each pixel, then measuring."""
    from pipeline.video.light_balance import LUMA_WEIGHTS, ShotPixels, achromatic_refine, log_chroma, neutral_share

    rng = np.random.default_rng(7)
    pixels = rng.uniform(0.07, 0.97, (20_000, 3)) * kelvin_to_rgb(3400.0) / kelvin_to_rgb(3400.0).max()
    pixels[:8_000] = rng.uniform(0.1, 0.9, (8_000, 1)) * kelvin_to_rgb(3400.0) / 1.3  # a grey wall under the light
    light = kelvin_to_rgb(3300.0)
    luma = pixels @ LUMA_WEIGHTS
    for radius in (0.04, 0.06, 0.10):
        direct = np.hypot(*log_chroma(pixels / light).T) < radius
        expected = luma[direct].sum() / luma.sum()
        assert neutral_share(ShotPixels.of(pixels), light, radius) == pytest.approx(expected, abs=1e-12)
    refined, share = achromatic_refine(ShotPixels.of(pixels), light)
    near = np.hypot(*(log_chroma(pixels) - log_chroma(refined)).T) < 0.10
    cast = kelvin_to_rgb(3400.0)
    assert share > 0.3 and np.allclose(refined / refined[1], cast / cast[1], atol=0.01)
    assert near.sum() >= 8_000
