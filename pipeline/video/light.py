"""Automatic light correction (pure, numpy): split the sampled picture into shots at cuts,
estimate one exposure and one white-balance correction per shot, and say what they do.

The correction model is the one the render graph applies (see `light_graph`), in
normalized video terms (luma 0..1, chroma -0.5..0.5):

    white balance:  cb += cb_slope * luma,  cr += cr_slope * luma
    exposure:       luma *= gain,  cb *= gain,  cr *= gain   (about black)

A colour cast from the light makes neutral surfaces carry chroma in proportion to their
luma, so the white balance removes a chroma slope; exposure is a gain on the encoded
values, which for a power-law transfer is the same as a gain on linear light (only the
number of stops differs).

- Exposure brings a shot's median luma into TARGET_BAND (to its nearest edge), but stops
  where more than MAX_NEW_CLIP_FRACTION of the pixels would be pushed into clipping
  (pixels already clipped in the source do not count). The gain is capped.
- White balance combines two estimates of the cast, each weighted by how much it can be
  trusted: "grey pixels" (the luma-weighted mean chroma slope of the largest cluster of
  near-neutral pixels; trusted when many pixels are near neutral) and "white patch" (the
  slope of the brightest unclipped pixels; trusted when they are clearly brighter than
  the rest and agree with each other). A low overall confidence corrects only partly;
  per-channel gains are capped so skin and signage never go to extremes.
- `strength` (0..1) scales both, and the shots change over a short transition around
  each cut, never frame by frame.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.config import LightSettings
from pipeline.video.sampling import ColourSample, FrameSamples

TARGET_BAND = (0.40, 0.55)  # median luma of a well-exposed shot
MAX_NEW_CLIP_FRACTION = 0.005
CLIPPED_LEVEL = 0.98  # a channel at or above this is taken as clipped in the source
MIN_GAIN, MAX_GAIN = 0.5, 3.0
# Per-channel gain of the white balance, relative to luma: at most +-25 %.
MAX_CHANNEL_CHANGE = 0.25
MAX_CB_SLOPE = MAX_CHANNEL_CHANGE / 1.8556
MAX_CR_SLOPE = MAX_CHANNEL_CHANGE / 1.5748
DARK_LEVEL = 0.03  # pixels this dark carry no colour information
# Chroma per luma that a grey surface can take under ordinary lights (about 2500 K to
# 12000 K, and fluorescent green): anything further out is a coloured surface.
PLAUSIBLE_CAST = 0.25
NEAR_NEUTRAL_RADII = (0.12, 0.06, 0.04)  # narrowing onto the grey cluster
NEUTRAL_SHARE_FOR_FULL_TRUST = 0.35
WHITE_PATCH_PERCENTILE = 98.0
WHITE_PATCH_MAX_SPREAD = 0.08
# Cuts: relative luma change between decoded frames, against the local motion level.
CUT_MIN_CHANGE = 0.25
CUT_OVER_MOTION = 3.0
CUT_MOTION_WINDOW = 8
MIN_SHOT_S = 1.0
TRANSITION_S = 0.2


@dataclass(frozen=True)
class Cast:
    """A colour cast as chroma per unit of luma, with how far it can be trusted (0..1)."""

    cb_slope: float
    cr_slope: float
    confidence: float = 1.0

    def rgb_gains(self) -> tuple[float, float, float]:
        """The cast as the light's RGB relative to neutral (BT.709): (1, 1, 1) is no cast."""
        red = 1 + 1.5748 * self.cr_slope
        blue = 1 + 1.8556 * self.cb_slope
        green = 1 - 0.4681 * self.cr_slope - 0.1873 * self.cb_slope
        return red, green, blue

    def to_dict(self) -> dict[str, object]:
        return {
            "cb_per_luma": round(self.cb_slope, 4),
            "cr_per_luma": round(self.cr_slope, 4),
            "light_rgb": [round(v, 3) for v in self.rgb_gains()],
            "confidence": round(self.confidence, 2),
        }


@dataclass(frozen=True)
class Correction:
    """What the graph applies to one shot."""

    gain: float = 1.0
    cb_slope: float = 0.0
    cr_slope: float = 0.0


@dataclass(frozen=True)
class ShotLight:
    start_s: float
    end_s: float
    correction: Correction
    report: dict[str, object]


@dataclass(frozen=True)
class LightPlan:
    """One correction per shot; shot i changes into shot i+1 over transitions[i]."""

    shots: tuple[ShotLight, ...]
    transitions: tuple[tuple[float, float], ...]
    full_range: bool = False
    strength: float = 1.0

    def to_report(self) -> dict[str, object]:
        return {
            "mode": "auto",
            "strength": self.strength,
            "target_median_luma": list(TARGET_BAND),
            "shots": [shot.report for shot in self.shots],
            "transitions_s": [[round(a, 3), round(b, 3)] for a, b in self.transitions],
        }


# ---------------------------------------------------------------- the correction model


def max_rgb(luma: np.ndarray, cb: np.ndarray, cr: np.ndarray) -> np.ndarray:
    """The largest of R, G, B (BT.709, normalized) for every pixel."""
    red = luma + 1.5748 * cr
    blue = luma + 1.8556 * cb
    green = luma - 0.4681 * cr - 0.1873 * cb
    return np.maximum(np.maximum(red, green), blue)


def apply_correction(
    luma: np.ndarray, cb: np.ndarray, cr: np.ndarray, correction: Correction
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The graph's correction on normalized planes (without the 8-bit clipping)."""
    gain = correction.gain
    return (
        luma * gain,
        (cb + correction.cb_slope * luma) * gain,
        (cr + correction.cr_slope * luma) * gain,
    )


# ---------------------------------------------------------------- estimates


def _weighted_mean_slopes(luma: np.ndarray, cb: np.ndarray, cr: np.ndarray) -> tuple[float, float]:
    total = float(luma.sum())
    return float(cb.sum()) / total, float(cr.sum()) / total


def estimate_cast(luma: np.ndarray, cb: np.ndarray, cr: np.ndarray) -> Cast:
    """The light's colour cast on these pixels (flattened planes of equal size)."""
    usable = (luma > DARK_LEVEL) & (max_rgb(luma, cb, cr) < CLIPPED_LEVEL)
    if usable.sum() < 16:
        return Cast(0.0, 0.0, 0.0)
    luma, cb, cr = luma[usable], cb[usable], cr[usable]
    cb_slope, cr_slope = cb / luma, cr / luma
    total = float(luma.sum())
    # Only pixels whose colour a light could have given a grey surface can be grey.
    plausible = np.hypot(cb_slope, cr_slope) < PLAUSIBLE_CAST

    # Grey pixels: from the median of the plausible ones, narrow onto the densest cluster.
    grey, grey_trust = (0.0, 0.0), 0.0
    if plausible.sum() >= 16:
        grey = (float(np.median(cb_slope[plausible])), float(np.median(cr_slope[plausible])))
        near = plausible
        for radius in NEAR_NEUTRAL_RADII:
            candidates = plausible & (np.hypot(cb_slope - grey[0], cr_slope - grey[1]) < radius)
            if candidates.sum() < 16:
                break
            near = candidates
            grey = _weighted_mean_slopes(luma[near], cb[near], cr[near])
        grey_trust = min(1.0, float(luma[near].sum()) / total / NEUTRAL_SHARE_FOR_FULL_TRUST)

    # White patch: the brightest unclipped pixels, if they stand out, agree, and could be white.
    bright = luma >= np.percentile(luma, WHITE_PATCH_PERCENTILE)
    patch = _weighted_mean_slopes(luma[bright], cb[bright], cr[bright])
    spread = float(np.hypot(np.std(cb_slope[bright]), np.std(cr_slope[bright])))
    stands_out = float(luma[bright].mean()) / max(1e-6, float(np.median(luma)))
    patch_trust = max(0.0, 1 - spread / WHITE_PATCH_MAX_SPREAD) * min(1.0, max(0.0, (stands_out - 1.2) / 1.3))
    if math.hypot(*patch) >= PLAUSIBLE_CAST:
        patch_trust = 0.0

    weight = grey_trust + patch_trust
    if weight <= 0:
        return Cast(0.0, 0.0, 0.0)
    return Cast(
        cb_slope=(grey_trust * grey[0] + patch_trust * patch[0]) / weight,
        cr_slope=(grey_trust * grey[1] + patch_trust * patch[1]) / weight,
        confidence=max(grey_trust, patch_trust),
    )


def white_balance_for(cast: Cast, strength: float) -> tuple[float, float]:
    """Chroma slopes that remove the cast, scaled by confidence and strength, capped."""
    amount = cast.confidence * strength
    cb_slope = float(np.clip(-cast.cb_slope * amount, -MAX_CB_SLOPE, MAX_CB_SLOPE))
    cr_slope = float(np.clip(-cast.cr_slope * amount, -MAX_CR_SLOPE, MAX_CR_SLOPE))
    return cb_slope, cr_slope


def exposure_gain_for(
    luma: np.ndarray, cb: np.ndarray, cr: np.ndarray, cb_slope: float, cr_slope: float
) -> tuple[float, str]:
    """The luma gain that brings the median into the band, limited by highlights; and why."""
    median = float(np.median(luma))
    low, high = TARGET_BAND
    if median < DARK_LEVEL:
        return 1.0, "too dark to judge (black frames)"
    if median < low:
        gain, why = low / median, "median below the target band"
    elif median > high:
        gain, why = high / median, "median above the target band"
    else:
        return 1.0, "median already in the target band"
    if gain > 1:
        balanced = max_rgb(luma, cb + cb_slope * luma, cr + cr_slope * luma)
        unclipped = np.sort(balanced[max_rgb(luma, cb, cr) < CLIPPED_LEVEL])[::-1]
        allowed = int(MAX_NEW_CLIP_FRACTION * luma.size)
        if allowed < unclipped.size and unclipped[allowed] > 0:
            highlight_gain = max(1.0, 1.0 / float(unclipped[allowed]))
            if highlight_gain < gain:
                gain, why = highlight_gain, "limited by highlights (at most 0.5% newly clipped)"
    if gain > MAX_GAIN or gain < MIN_GAIN:
        gain, why = float(np.clip(gain, MIN_GAIN, MAX_GAIN)), why + f"; capped at {MIN_GAIN:g}..{MAX_GAIN:g}x"
    return gain, why


# ---------------------------------------------------------------- shots


def find_cuts(times_s: np.ndarray, thumbs: np.ndarray) -> list[int]:
    """Indices i of decoded frames that start a new shot (a cut between i-1 and i)."""
    if len(thumbs) < 2:
        return []
    change = np.abs(np.diff(thumbs, axis=0)).mean(axis=(1, 2))
    level = (thumbs[1:].mean(axis=(1, 2)) + thumbs[:-1].mean(axis=(1, 2))) / 2
    # Relative change, so that a cut between two dark shots counts as much as a bright one.
    relative = change / np.maximum(level, 0.02)
    cuts: list[int] = []
    for i, value in enumerate(relative):
        lo, hi = max(0, i - CUT_MOTION_WINDOW), min(len(relative), i + CUT_MOTION_WINDOW + 1)
        neighbours = np.concatenate([relative[lo:i], relative[i + 1:hi]])
        motion = float(np.median(neighbours)) if neighbours.size else 0.0
        if value >= CUT_MIN_CHANGE and value >= CUT_OVER_MOTION * motion:
            cuts.append(i + 1)
    return cuts


def split_shots(
    times_s: np.ndarray, thumbs: np.ndarray, duration_s: float
) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """Shots as (start_s, end_s) and the transitions between them as (start_s, end_s).

    Shots shorter than MIN_SHOT_S are not split off (flashes, fast pans). A transition is
    centred on the cut and covers at least the frames the decoder skipped around it."""
    accepted: list[int] = []
    for index in find_cuts(times_s, thumbs):
        cut_s = float(times_s[index])
        previous_s = float(times_s[accepted[-1]]) if accepted else 0.0
        if cut_s - previous_s >= MIN_SHOT_S and duration_s - cut_s >= MIN_SHOT_S / 2:
            accepted.append(index)
    bounds = [0.0]
    transitions = []
    for index in accepted:
        before_s, after_s = float(times_s[index - 1]), float(times_s[index])
        middle_s = (before_s + after_s) / 2
        bounds.append(middle_s)
        transitions.append((min(before_s, middle_s - TRANSITION_S / 2), max(after_s, middle_s + TRANSITION_S / 2)))
    bounds.append(duration_s)
    return [(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)], transitions


def _shot_samples(
    samples: Sequence[ColourSample], start_s: float, end_s: float, transitions: Sequence[tuple[float, float]]
) -> list[ColourSample]:
    def in_transition(time_s: float) -> bool:
        return any(a - 1e-6 <= time_s <= b + 1e-6 for a, b in transitions)

    inside = [s for s in samples if start_s <= s.time_s < end_s and not in_transition(s.time_s)]
    if inside:
        return inside
    middle_s = (start_s + end_s) / 2
    return [min(samples, key=lambda s: abs(s.time_s - middle_s))]


def _stats(luma: np.ndarray, cb: np.ndarray, cr: np.ndarray) -> dict[str, object]:
    return {
        "mean_luma": round(float(luma.mean()), 4),
        "median_luma": round(float(np.median(luma)), 4),
        "clipped_fraction": round(float((max_rgb(luma, cb, cr) >= 1.0).mean()), 4),
        "cast": estimate_cast(luma, cb, cr).to_dict(),
    }


def plan_shot(samples: Sequence[ColourSample], settings: LightSettings) -> tuple[Correction, dict[str, object]]:
    """One constant correction for the pixels of a shot's samples, and its report."""
    luma = np.concatenate([s.luma.ravel() for s in samples])
    cb = np.concatenate([s.cb.ravel() for s in samples])
    cr = np.concatenate([s.cr.ravel() for s in samples])
    cast = estimate_cast(luma, cb, cr)
    cb_slope, cr_slope = white_balance_for(cast, settings.strength)
    gain, why = exposure_gain_for(luma, cb, cr, cb_slope, cr_slope)
    gain = gain ** settings.strength
    correction = Correction(gain=gain, cb_slope=cb_slope, cr_slope=cr_slope)
    report = {
        "samples": len(samples),
        "luma_gain": round(gain, 4),
        "exposure_change_stops": round(math.log2(gain), 3),
        "exposure_reason": why,
        "white_balance": {"cb_per_luma": round(cb_slope, 4), "cr_per_luma": round(cr_slope, 4)},
        "before": _stats(luma, cb, cr),
        "after": _stats(*apply_correction(luma, cb, cr, correction)),
    }
    return correction, report


def plan_light(frames: FrameSamples, settings: LightSettings) -> LightPlan:
    """Shots and their corrections for `light.mode = "auto"`."""
    shots, transitions = split_shots(frames.thumb_times_s, frames.thumbs, frames.duration_s)
    planned = []
    for start_s, end_s in shots:
        correction, report = plan_shot(_shot_samples(frames.samples, start_s, end_s, transitions), settings)
        planned.append(ShotLight(
            start_s=start_s, end_s=end_s, correction=correction,
            report={"start_s": round(start_s, 3), "end_s": round(end_s, 3), **report},
        ))
    return LightPlan(
        shots=tuple(planned), transitions=tuple(transitions), full_range=frames.full_range, strength=settings.strength
    )
