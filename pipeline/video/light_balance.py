"""White balance of one shot (pure, numpy): what colour the light is, from the shot's own
pixels.

Pixels are RGB code values (0..1, BT.709, blacks already removed). A light's colour
multiplies R, G and B, so it is estimated as an RGB triple, normalized to luma 1, and
removed by dividing by it. Three classic estimates each make one assumption:

- grey-world: the scene averages to grey (mean of the usable pixels);
- grey-edge: the scene's edges average to grey (mean gradient magnitude per channel);
- white-patch: the brightest surfaces are white (mean of the brightest 1 % of pixels).

Each is scored by how well it fits the shot: the share of the picture (luma-weighted)
that its correction turns neutral (walls, ceilings, floors, lettering), times how
plausible the light is (how close to the black-body locus, where real lights lie, with
room for the green/magenta tint of fluorescent tubes). The weighted (geometric) mean is
then refined on the achromatic pixels actually present: the pixels near neutral under it,
narrowed twice. The final light is kept within the plausible region (2500 K to 12000 K,
limited tint), which keeps a shot full of red signs or skin from being "corrected" into
cyan. When few pixels are near neutral the correction is only partly applied.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

LUMA_WEIGHTS = np.array([0.2126, 0.7152, 0.0722])  # BT.709


def channel_max(pixels: np.ndarray) -> np.ndarray:
    """The largest of R, G and B (last axis): `max(axis=-1)` reduces over three strided
    values per pixel, several times slower on the analysis' pixel arrays."""
    return np.maximum(np.maximum(pixels[..., 0], pixels[..., 1]), pixels[..., 2])


def channel_min(pixels: np.ndarray) -> np.ndarray:
    return np.minimum(np.minimum(pixels[..., 0], pixels[..., 1]), pixels[..., 2])

USABLE_MIN_LUMA = 0.06  # darker pixels carry mostly noise in their colour
CLIPPED_LEVEL = 0.98
WHITE_PATCH_SHARE = 0.01
NEUTRAL_RADIUS = 0.06  # log-chroma distance counted as neutral when scoring a fit
REFINE_RADII = (0.10, 0.06, 0.04)
MIN_REFINE_PIXELS = 64
# A light is plausible near the black-body locus: within LOCUS_TOLERANCE (log chroma,
# about the tint of a fluorescent tube) of it, between these temperatures.
LOCUS_RANGE_K = (2500.0, 12000.0)
LOCUS_TOLERANCE = 0.06
# Share of neutral pixels from which the white balance is applied in full.
NEUTRAL_SHARE_FOR_FULL_TRUST = 0.20
SCORE_POWER = 2.0


def kelvin_to_rgb(kelvin: float) -> np.ndarray:
    """Colour of a black body at `kelvin` (Tanner Helland's fit, the one ffmpeg's
    colortemperature uses), normalized to luma 1."""
    k = kelvin / 100.0
    if k <= 66.0:
        red = 1.0
        green = 0.39008157876901960784 * math.log(k) - 0.63184144378862745098
    else:
        t = max(k - 60.0, 1e-6)
        red = 1.29293618606274509804 * t ** -0.1332047592
        green = 1.12989086089529411765 * t ** -0.0755148492
    if k >= 66.0:
        blue = 1.0
    elif k <= 19.0:
        blue = 0.0
    else:
        blue = 0.54320678911019607843 * math.log(k - 10.0) - 1.19625408914
    rgb = np.clip(np.array([red, green, blue]), 1e-3, 1.0)
    return rgb / float(LUMA_WEIGHTS @ rgb)


_LOCUS_K = np.geomspace(LOCUS_RANGE_K[0], LOCUS_RANGE_K[1], 200)


def log_chroma(rgb: np.ndarray) -> np.ndarray:
    """(log R/G, log B/G) of RGB triples (last axis)."""
    rgb = np.maximum(rgb, 1e-6)
    return np.stack([np.log(rgb[..., 0] / rgb[..., 1]), np.log(rgb[..., 2] / rgb[..., 1])], axis=-1)


_LOCUS = log_chroma(np.stack([kelvin_to_rgb(k) for k in _LOCUS_K]))


def nearest_on_locus(light: np.ndarray) -> tuple[float, float, np.ndarray]:
    """The locus temperature nearest to `light`, the distance to it (log chroma), and
    that locus point in log chroma."""
    distances = np.hypot(*(_LOCUS - log_chroma(light)).T)
    index = int(np.argmin(distances))
    return float(_LOCUS_K[index]), float(distances[index]), _LOCUS[index]


def plausibility(light: np.ndarray) -> float:
    """1 on the locus, falling off with the distance from it."""
    _, distance, _ = nearest_on_locus(light)
    return math.exp(-((distance / LOCUS_TOLERANCE) ** 2) / 2)


def keep_plausible(light: np.ndarray) -> np.ndarray:
    """`light` moved onto the plausible region if it lies outside it."""
    _, distance, point = nearest_on_locus(light)
    if distance <= LOCUS_TOLERANCE:
        return light
    chroma = point + (log_chroma(light) - point) * (LOCUS_TOLERANCE / distance)
    rgb = np.array([math.exp(chroma[0]), 1.0, math.exp(chroma[1])])
    return rgb / float(LUMA_WEIGHTS @ rgb)


def _normalized(rgb: np.ndarray) -> np.ndarray:
    rgb = np.maximum(np.asarray(rgb, dtype=np.float64), 1e-6)
    return rgb / float(LUMA_WEIGHTS @ rgb)


def usable_mask(pixels: np.ndarray) -> np.ndarray:
    luma = pixels @ LUMA_WEIGHTS
    return (luma > USABLE_MIN_LUMA) & (channel_max(pixels) < CLIPPED_LEVEL) & (channel_min(pixels) > 0)


def grey_world(pixels: np.ndarray) -> np.ndarray:
    return _normalized(pixels.mean(axis=0))


def grey_edge(images: Sequence[np.ndarray]) -> np.ndarray | None:
    """Mean gradient magnitude per channel over the usable parts of each image (H, W, 3)."""
    totals, count = np.zeros(3), 0
    for image in images:
        ok = usable_mask(image)
        dx = np.abs(np.diff(image, axis=1))[:-1]
        dy = np.abs(np.diff(image, axis=0))[:, :-1]
        both = ok[:-1, :-1] & ok[1:, :-1] & ok[:-1, 1:]
        magnitude = np.sqrt(dx ** 2 + dy ** 2)[both]
        totals += magnitude.sum(axis=0)
        count += magnitude.shape[0]
    if count == 0 or totals.min() <= 0:
        return None
    return _normalized(totals / count)


def white_patch(pixels: np.ndarray) -> np.ndarray:
    luma = pixels @ LUMA_WEIGHTS
    bright = luma >= np.quantile(luma, 1 - WHITE_PATCH_SHARE)
    return _normalized(pixels[bright].mean(axis=0))


@dataclass(frozen=True)
class ShotPixels:
    """A shot's usable pixels with their luma and log chroma, computed once: each
    estimate's score and the refinement measure distances in log chroma, and removing a
    light is a shift there (log(R/L_R / (G/L_G)) = log(R/G) - log(L_R/L_G)). The two
    chroma axes are kept as contiguous rows, which numpy reads several times faster than
    the columns of an (n, 2) array."""

    rgb: np.ndarray
    luma: np.ndarray
    red_green: np.ndarray  # log(R/G) per pixel
    blue_green: np.ndarray  # log(B/G) per pixel

    @classmethod
    def of(cls, pixels: np.ndarray) -> ShotPixels:
        chroma = log_chroma(pixels)
        red_green, blue_green = np.ascontiguousarray(chroma[:, 0]), np.ascontiguousarray(chroma[:, 1])
        return cls(pixels, pixels @ LUMA_WEIGHTS, red_green, blue_green)

    def near(self, light: np.ndarray, radius: float) -> np.ndarray:
        """Whether each pixel lies within `radius` (log chroma) of `light`'s chroma."""
        red_green, blue_green = log_chroma(light)
        return np.square(self.red_green - red_green) + np.square(self.blue_green - blue_green) < radius * radius


def neutral_share(pixels: np.ndarray | ShotPixels, light: np.ndarray, radius: float = NEUTRAL_RADIUS) -> float:
    """Luma-weighted share of `pixels` that are neutral once `light` is removed."""
    shot = pixels if isinstance(pixels, ShotPixels) else ShotPixels.of(pixels)
    return float(shot.luma[shot.near(light, radius)].sum() / shot.luma.sum())


def achromatic_refine(pixels: np.ndarray | ShotPixels, light: np.ndarray) -> tuple[np.ndarray, float]:
    """The light of the pixels that are near neutral under `light` (narrowing onto them),
    and their luma-weighted share of the picture."""
    shot = pixels if isinstance(pixels, ShotPixels) else ShotPixels.of(pixels)
    share = 0.0
    for radius in REFINE_RADII:
        near = shot.near(light, radius)
        if np.count_nonzero(near) < MIN_REFINE_PIXELS:
            break
        luma = shot.luma[near]
        # Luma-weighted mean of RGB: brighter pixels have less noise in their colour.
        light = _normalized(luma @ shot.rgb[near])
        share = float(luma.sum() / shot.luma.sum())
    return light, share


def light_fields(light: np.ndarray) -> dict[str, object]:
    """A light's report fields: its RGB (luma 1), nearest colour temperature on the
    black-body locus and its distance off it."""
    kelvin, distance, _ = nearest_on_locus(light)
    return {
        "light_rgb": [round(float(v), 4) for v in light],
        "nearest_k": round(kelvin, -1),
        "off_locus": round(distance, 4),
    }


@dataclass(frozen=True)
class Estimate:
    name: str
    light: np.ndarray  # RGB, luma 1
    fit: float  # share of the picture neutral under its correction
    plausible: float
    weight: float = 0.0

    def to_dict(self) -> dict[str, object]:
        return {
            **light_fields(self.light),
            "neutral_share": round(self.fit, 3),
            "plausibility": round(self.plausible, 3),
            "weight": round(self.weight, 3),
        }


@dataclass(frozen=True)
class Balance:
    """The shot's light, how much of it to remove (0..1), and how it was found."""

    light: np.ndarray
    amount: float
    estimates: tuple[Estimate, ...]
    neutral_share: float

    @property
    def winner(self) -> str:
        if not self.estimates or max(e.weight for e in self.estimates) <= 0:
            return "none"
        return max(self.estimates, key=lambda e: e.weight).name

    @property
    def why(self) -> str:
        if self.amount <= 0:
            return "no estimate turns enough of the picture neutral: white balance left as it is"
        text = ("the estimates weighted by the share of the picture each turns neutral (squared) "
                "times the plausibility of its light; refined on the pixels neutral under the result")
        if self.amount < 1:
            text += (f"; only {self.neutral_share:.0%} of the picture is near neutral, so "
                     f"{self.amount:.0%} of the correction is applied")
        return text

    def gains(self, strength: float = 1.0) -> np.ndarray:
        """Per-channel gains that remove `amount * strength` of the light (luma kept)."""
        partial = self.light ** (self.amount * strength)
        gains = 1.0 / partial
        # A grey surface keeps its luma: exposure is set apart, on the balanced picture.
        return gains / float(LUMA_WEIGHTS @ (gains * self.light))

    def to_dict(self) -> dict[str, object]:
        return {
            **light_fields(self.light),
            "neutral_share": round(self.neutral_share, 3),
            "amount": round(self.amount, 3),
            "winner": self.winner,
            "why": self.why,
            "estimates": {e.name: e.to_dict() for e in self.estimates},
        }


NO_BALANCE = Balance(light=np.ones(3), amount=0.0, estimates=(), neutral_share=0.0)


def estimate_balance(images: Sequence[np.ndarray]) -> Balance:
    """The light of a shot from its sample images (H, W, 3 RGB, blacks removed)."""
    pixels = np.concatenate([image.reshape(-1, 3) for image in images]).astype(np.float64)
    pixels = pixels[usable_mask(pixels)]
    if pixels.shape[0] < MIN_REFINE_PIXELS:
        return NO_BALANCE
    candidates = {"grey_world": grey_world(pixels), "white_patch": white_patch(pixels)}
    edge = grey_edge([image.astype(np.float64) for image in images])
    if edge is not None:
        candidates["grey_edge"] = edge
    shot = ShotPixels.of(pixels)
    estimates = []
    for name, light in candidates.items():
        fit, plausible = neutral_share(shot, light), plausibility(light)
        estimates.append(Estimate(name, light, fit, plausible, (fit ** SCORE_POWER) * plausible))
    total = sum(e.weight for e in estimates)
    if total <= 1e-9:
        return Balance(np.ones(3), 0.0, tuple(estimates), 0.0)
    estimates = [Estimate(e.name, e.light, e.fit, e.plausible, e.weight / total) for e in estimates]
    combined = _normalized(np.exp(sum(e.weight * np.log(e.light) for e in estimates)))
    refined, share = achromatic_refine(shot, combined)
    light = keep_plausible(refined if share > 0 else combined)
    share = neutral_share(shot, light)
    amount = min(1.0, share / NEUTRAL_SHARE_FOR_FULL_TRUST)
    return Balance(light=light, amount=amount, estimates=tuple(estimates), neutral_share=share)
