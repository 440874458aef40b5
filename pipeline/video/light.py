"""Automatic light correction (pure, numpy): split the sampled picture into shots at cuts,
and plan one constant correction per shot, with the estimates behind it.

The correction model is the one the render graph applies (see `light_graph`), per RGB
channel on code values (0..1, BT.709):

    out = (in - black) * balance * gain

- black: lifted blacks (a veil, a camera's raised pedestal) show as a darkest level well
  above black. When the 0.3rd percentile of luma is above LIFT_MIN, it is brought down
  to BLACK_FLOOR in the output (the same in every channel); below LIFT_MIN nothing
  changes, since many pictures simply have nothing black in them.
- balance: the light's colour, removed by per-channel gains with the luma of grey kept
  (see `light_balance`: grey-world, grey-edge and white-patch weighted by how well each
  fits the shot, refined on the achromatic pixels present).
- gain: exposure, one factor on all three channels. Equal gains keep hue and saturation
  (chroma grows exactly with luma, as it would under more light), so a lift never adds
  colour. The gain brings the shot's diffuse white (the 99.5th percentile of luma) to
  TARGET_WHITE when the shot has highlights that stand out from its mid-tones, else its
  median luma to TARGET_MEDIAN, blending the two in between; the median is
  kept within MEDIAN_RANGE, at most MAX_NEW_CLIP_FRACTION of the pixels may newly clip,
  and gains within EXPOSURE_DEAD_ZONE of 1 are left at 1 (a well-exposed shot stays
  untouched).
- `strength` (0..1) scales all three, and the shots change over a short transition
  around each cut, never frame by frame.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.config import LightSettings
from pipeline.video.light_balance import LUMA_WEIGHTS, NO_BALANCE, Balance, channel_max, channel_min, estimate_balance
from pipeline.video.sampling import ColourSample, FrameSamples

TARGET_WHITE = 0.95  # diffuse white just under peak white, leaving headroom for speculars
TARGET_MEDIAN = 0.45  # median luma of a well-exposed shot without clear whites
MEDIAN_RANGE = (0.28, 0.62)
WHITE_PERCENTILE = 99.5
# Highlights "stand out" from 1.5x the median (no trust) to 2.0x (full trust).
STANDOUT_RANGE = (1.5, 2.0)
EXPOSURE_DEAD_ZONE = 0.04  # relative: 4 %
MAX_NEW_CLIP_FRACTION = 0.005
CLIPPED_LEVEL = 0.98
MIN_GAIN, MAX_GAIN = 0.5, 4.5
DARK_LEVEL = 0.03
BLACK_PERCENTILE = 0.3
LIFT_MIN = 0.06
BLACK_FLOOR = 0.02
MAX_SAMPLES_PER_SHOT = 48  # about 0.7 M pixels at the sampling size
SATURATED_CHROMA = 0.25  # chroma/luma above which a pixel counts as a signage-like colour
# Cuts: relative luma change between decoded frames, against the local motion level.
CUT_MIN_CHANGE = 0.25
CUT_OVER_MOTION = 3.0
CUT_MOTION_WINDOW = 8
MIN_SHOT_S = 1.0
TRANSITION_S = 0.2

RGB = tuple[float, float, float]


@dataclass(frozen=True)
class Correction:
    """What the graph applies to one shot: out = (in - black_rgb) * balance_rgb * gain."""

    gain: float = 1.0
    black_rgb: RGB = (0.0, 0.0, 0.0)
    balance_rgb: RGB = (1.0, 1.0, 1.0)

    @property
    def channel_gains(self) -> RGB:
        r, g, b = (self.gain * v for v in self.balance_rgb)
        return r, g, b


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
            "model": "per RGB channel: out = (in - black) * balance * gain, one per shot (applied on Y'CbCr: colorcorrect, lutyuv)",
            "target_white": TARGET_WHITE,
            "target_median_luma": TARGET_MEDIAN,
            "shots": [shot.report for shot in self.shots],
            "transitions_s": [[round(a, 3), round(b, 3)] for a, b in self.transitions],
        }


# ---------------------------------------------------------------- the correction model


def to_rgb(luma: np.ndarray, cb: np.ndarray, cr: np.ndarray) -> np.ndarray:
    """Normalized BT.709 Y'CbCr planes to R'G'B' (last axis), not clipped."""
    return np.stack([luma + 1.5748 * cr, luma - 0.1873 * cb - 0.4681 * cr, luma + 1.8556 * cb], axis=-1)


def apply_correction(rgb: np.ndarray, correction: Correction) -> np.ndarray:
    """The graph's correction on RGB code values (without the 8-bit rounding)."""
    return np.clip((rgb - np.asarray(correction.black_rgb)) * np.asarray(correction.channel_gains), 0.0, 1.0)


# ---------------------------------------------------------------- estimates


def black_level_for(pixels: np.ndarray) -> np.ndarray:
    """The darkest level, the same in every channel, when the blacks are clearly lifted
    (else 0). A veil or a raised pedestal lifts all three channels alike; read per
    channel, the few darkest pixels (thin dark lines, their colour smeared by 4:2:0
    chroma) give each channel a different and wrong black."""
    darkest = float(np.percentile(pixels @ LUMA_WEIGHTS, BLACK_PERCENTILE))
    if darkest < LIFT_MIN:
        return np.zeros(3)
    return np.full(3, darkest)


def exposure_gain_for(balanced: np.ndarray, source_clipped: np.ndarray) -> tuple[float, str, dict[str, float]]:
    """The gain for the balanced pixels (N, 3), why, and the levels it was judged on."""
    luma = balanced @ LUMA_WEIGHTS
    median = float(np.median(luma))
    # Luma, not the largest channel: the largest of three noisy values reads high.
    white = float(np.percentile(luma, WHITE_PERCENTILE))
    levels = {"median_luma": round(median, 4), "white_level": round(white, 4)}
    if median < DARK_LEVEL or white <= 0:
        return 1.0, "too dark to judge (black frames)", levels
    standout = white / median
    trust = float(np.clip((standout - STANDOUT_RANGE[0]) / (STANDOUT_RANGE[1] - STANDOUT_RANGE[0]), 0.0, 1.0))
    levels["white_trust"] = round(trust, 3)
    gain = (TARGET_WHITE / white) ** trust * (TARGET_MEDIAN / median) ** (1 - trust)
    why = ("white brought to the target" if trust == 1 else
           "median brought to the target (no clear whites)" if trust == 0 else
           f"white ({trust:.0%}) and median ({1 - trust:.0%}) brought to their targets")
    low, high = MEDIAN_RANGE[0] / median, MEDIAN_RANGE[1] / median
    if not low <= gain <= high:
        gain = float(np.clip(gain, low, high))
        why += "; median kept within the well-exposed range"
    if gain > 1:
        unclipped = np.sort(channel_max(balanced)[~source_clipped])[::-1]
        allowed = int(MAX_NEW_CLIP_FRACTION * balanced.shape[0])
        if allowed < unclipped.size and unclipped[allowed] > 0 and 1.0 / float(unclipped[allowed]) < gain:
            gain = max(1.0, 1.0 / float(unclipped[allowed]))
            why += "; limited by highlights (at most 0.5% newly clipped)"
    if not MIN_GAIN <= gain <= MAX_GAIN:
        gain = float(np.clip(gain, MIN_GAIN, MAX_GAIN))
        why += f"; capped at {MIN_GAIN:g}..{MAX_GAIN:g}x"
    if abs(math.log(gain)) < math.log1p(EXPOSURE_DEAD_ZONE):
        return 1.0, why + f"; within {EXPOSURE_DEAD_ZONE:.0%} of 1, left alone", levels
    return gain, why, levels


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


def _stats(pixels: np.ndarray) -> dict[str, object]:
    luma = pixels @ LUMA_WEIGHTS
    lit = luma > DARK_LEVEL
    chroma = channel_max(pixels) - channel_min(pixels)
    ratio = chroma[lit] / luma[lit]
    return {
        "mean_luma": round(float(luma.mean()), 4),
        "median_luma": round(float(np.median(luma)), 4),
        "black_level": [round(float(v), 4) for v in np.percentile(pixels, BLACK_PERCENTILE, axis=0)],
        "clipped_fraction": round(float((channel_max(pixels) >= 1.0).mean()), 4),
        # Saturation as chroma per luma: an equal gain on R, G and B leaves it as it is.
        "median_saturation": round(float(np.median(ratio)) if ratio.size else 0.0, 4),
        "saturated_share": round(float((ratio > SATURATED_CHROMA).mean()) if ratio.size else 0.0, 4),
    }


def _rgb_images(samples: Sequence[ColourSample]) -> list[np.ndarray]:
    return [to_rgb(s.luma.astype(np.float64), s.cb.astype(np.float64), s.cr.astype(np.float64)) for s in samples]


def _rounded(values: Sequence[float] | np.ndarray) -> list[float]:
    return [round(float(v), 4) for v in values]


def _balance_and_exposure(
    images: Sequence[np.ndarray], black: np.ndarray, source_clipped: np.ndarray, strength: float
) -> tuple[Balance, np.ndarray, float, str, dict[str, float]]:
    lifted = [np.clip(image - black, 0.0, None) for image in images]
    balance = estimate_balance(lifted) if strength > 0 else NO_BALANCE
    balance_rgb = balance.gains(strength)
    balanced = np.concatenate([image.reshape(-1, 3) for image in lifted]) * balance_rgb
    gain, why, levels = exposure_gain_for(balanced, source_clipped)
    return balance, balance_rgb, gain ** strength, why, levels


def plan_shot(samples: Sequence[ColourSample], settings: LightSettings) -> tuple[Correction, dict[str, object]]:
    """One constant correction for the pixels of a shot's samples, and its report."""
    in_shot = len(samples)
    if in_shot > MAX_SAMPLES_PER_SHOT:
        # Evenly spread over the shot: the statistics settle long before, and a long shot
        # would otherwise hold every sample's pixels (in float64, several times) at once.
        picks = np.linspace(0, in_shot - 1, MAX_SAMPLES_PER_SHOT).round().astype(int)
        samples = [samples[i] for i in picks]
    images = _rgb_images(samples)
    pixels = np.concatenate([image.reshape(-1, 3) for image in images])
    source_clipped = channel_max(pixels) >= CLIPPED_LEVEL
    strength = settings.strength
    darkest = black_level_for(pixels) * strength
    balance, balance_rgb, gain, why, levels = _balance_and_exposure(images, darkest, source_clipped, strength)
    if darkest.max() > 0:
        # The lift is removed down to BLACK_FLOOR in the output, not to zero: a picture's
        # darkest parts are rarely pure black. The gains are judged again without it.
        black = np.maximum(0.0, darkest - BLACK_FLOOR / (gain * balance_rgb))
        balance, balance_rgb, gain, why, levels = _balance_and_exposure(images, black, source_clipped, strength)
    else:
        black = darkest
    correction = Correction(
        gain=gain,
        black_rgb=tuple(_rounded(black)),  # type: ignore[arg-type]
        balance_rgb=tuple(_rounded(balance_rgb)),  # type: ignore[arg-type]
    )
    report = {
        "samples": len(samples),
        "samples_in_shot": in_shot,
        "luma_gain": round(gain, 4),
        "exposure_change_stops": round(math.log2(gain), 3),
        "exposure_reason": why,
        "exposure_levels": levels,
        "black_removed_rgb": _rounded(black),
        "white_balance": {"gains_rgb": _rounded(balance_rgb), **balance.to_dict()},
        "correction": {"black_rgb": list(correction.black_rgb), "channel_gains": _rounded(correction.channel_gains)},
        "before": _stats(pixels),
        "after": _stats(apply_correction(pixels, correction)),
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
