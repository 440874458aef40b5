"""Mains hum: a streaming averaged spectrum, and which 50 or 60 Hz harmonics stand out.

The spectrum is taken one second at a time (1 Hz bins, Hann window) from a mono
fold-down, and only the quietest seconds are kept and averaged: hum is there all the
time, speech is not, so pauses and room tone show the hum clearly while voice partials
fade out. Memory is bounded by the number of seconds kept, not the duration. A harmonic counts as present when its
peak stands `min_prominence_db` above the median of its neighbourhood; the mains
frequency is the one whose harmonics stand out most, and only what is there is reported
(and later notched).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAINS_HZ = (50.0, 60.0)
MAX_HARMONIC = 8
NEIGHBOURHOOD_HZ = 15
PEAK_HALF_WIDTH_HZ = 1
EXCLUDE_HALF_WIDTH_HZ = 3


@dataclass(frozen=True)
class HumFinding:
    mains_hz: float | None
    harmonics_hz: tuple[float, ...] = ()
    prominence_db: tuple[float, ...] = ()

    @property
    def found(self) -> bool:
        return self.mains_hz is not None and bool(self.harmonics_hz)

    def to_dict(self) -> dict[str, object]:
        return {
            "mains_hz": self.mains_hz,
            "harmonics_hz": list(self.harmonics_hz),
            "prominence_db": [round(p, 1) for p in self.prominence_db],
        }


QUIETEST_SEGMENTS = 10
QUIET_SPREAD_FACTOR = 2.0  # 3 dB
DIGITAL_SILENCE_MEAN_SQUARE = 1e-14  # below -140 dBFS: no hum can be in it


class SpectrumAccumulator:
    """Power spectra (1 Hz bins) of the quietest one-second segments, fed with chunks of
    any size."""

    def __init__(self, sample_rate_hz: int, keep_segments: int = QUIETEST_SEGMENTS) -> None:
        self.sample_rate_hz = sample_rate_hz
        self.keep_segments = keep_segments
        self._window = np.hanning(sample_rate_hz).astype(np.float64)
        self._pending = np.zeros(0, dtype=np.float64)
        self._kept: list[tuple[float, np.ndarray]] = []  # (mean square, power spectrum)
        self.segments = 0

    def add(self, samples: np.ndarray) -> None:
        mono = samples.mean(axis=1) if samples.ndim == 2 else samples
        data = np.concatenate([self._pending, mono.astype(np.float64, copy=False)])
        size = self.sample_rate_hz
        whole = len(data) // size
        if whole:
            frames = data[: whole * size].reshape(whole, size)
            levels = (frames ** 2).mean(axis=1)
            for level, frame in zip(levels, frames):
                self.segments += 1
                if level < DIGITAL_SILENCE_MEAN_SQUARE:
                    continue
                if len(self._kept) == self.keep_segments and level >= self._kept[-1][0]:
                    continue
                spectrum = np.abs(np.fft.rfft(frame * self._window)) ** 2
                self._kept.append((float(level), spectrum))
                self._kept.sort(key=lambda item: item[0])
                del self._kept[self.keep_segments:]
        self._pending = data[whole * size:]

    def power(self) -> np.ndarray | None:
        """Mean power per 1 Hz bin of the quietest seconds, or None if there are none.

        Only seconds within 3 dB of the quietest count: when a file has real pauses,
        those alone; when it has none, the least busy seconds."""
        if not self._kept:
            return None
        quietest = self._kept[0][0]
        chosen = [spectrum for level, spectrum in self._kept if level <= QUIET_SPREAD_FACTOR * quietest]
        return np.mean(chosen, axis=0)


def harmonic_prominence_db(power: np.ndarray, frequency_hz: float) -> float:
    """How far the peak at `frequency_hz` stands above its neighbourhood's median."""
    centre = int(round(frequency_hz))
    low, high = centre - NEIGHBOURHOOD_HZ, centre + NEIGHBOURHOOD_HZ + 1
    if low < 0 or high > len(power):
        return 0.0
    peak = float(power[centre - PEAK_HALF_WIDTH_HZ: centre + PEAK_HALF_WIDTH_HZ + 1].max())
    around = np.concatenate([
        power[low: centre - EXCLUDE_HALF_WIDTH_HZ],
        power[centre + EXCLUDE_HALF_WIDTH_HZ + 1: high],
    ])
    floor = float(np.median(around))
    if peak <= 0:
        return 0.0
    if floor <= 0:
        return 120.0
    return 10.0 * float(np.log10(peak / floor))


def detect_hum(power: np.ndarray | None, *, min_prominence_db: float = 10.0) -> HumFinding:
    """Which mains frequency hums, and at which harmonics (pure)."""
    if power is None:
        return HumFinding(None)
    best: HumFinding = HumFinding(None)
    best_score = 0.0
    for mains_hz in MAINS_HZ:
        found = []
        for k in range(1, MAX_HARMONIC + 1):
            prominence = harmonic_prominence_db(power, k * mains_hz)
            if prominence >= min_prominence_db:
                found.append((k * mains_hz, prominence))
        # The fundamental or its strong 3rd harmonic (rectifier buzz) must be there:
        # isolated matches at high harmonics are more likely voice partials.
        anchors = {mains_hz, 3 * mains_hz}
        if not any(f in anchors for f, _ in found):
            continue
        score = sum(p for _, p in found)
        if score > best_score:
            best_score = score
            best = HumFinding(mains_hz, tuple(f for f, _ in found), tuple(p for _, p in found))
    return best
