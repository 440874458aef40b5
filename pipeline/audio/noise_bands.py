"""Where the noise is in frequency, against the speech: the per-band SNR of a programme, and
from it how much of the speech enhancer's output to use in each band (pure).

Why: the enhancer (DeepFilterNet 3) judges speech frame by frame over the whole band. Under
noise that sits in a few bands only (HVAC rumble under 200 Hz, mains hum and its
harmonics, a band-limited voice with nothing above 4 kHz) it also takes speech away where
there was no noise to remove: on the bench corpus one HVAC file lost 0.12 STOI and 1.1
PESQ-WB against DeepFilterNet's own output with the high-pass, and hum at -40 dBFS lost up
to 0.08 STOI. Where the band's speech stands far above its noise, the input is already as
good as it gets, so the input is kept there and the enhancer's output is used only where
the noise is.

The two spectra come from `pipeline.audio.hum.SpectrumAccumulator` (1 Hz bins): the mean
of the quietest seconds (the noise: pauses, room tone) and the mean of all seconds (speech
plus noise). Each is smoothed over a third of an octave, the band SNR is
(all - noise) / noise, and the enhancer's weight ("wet") goes from 1 where the band SNR is
under `WET_BELOW_SNR_DB` to 0 where it is over `DRY_ABOVE_SNR_DB`, linearly in between.
Weights are kept at third-octave centres (a short list for the render report);
`pipeline.audio.enhance` turns them into a linear-phase filter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Tuned on the whole bench corpus (bench/bench_speech.py: noise, babble, hum, HVAC, reverb
# plus noise, clean; 55 files), not on one file: see bench/RESULTS.md "Speech clean-up".
WET_BELOW_SNR_DB = 20.0
DRY_ABOVE_SNR_DB = 30.0
SMOOTH_OCTAVES = 1.0 / 3.0
# Third-octave centres (IEC 61260 base-10 series), 25 Hz to 20 kHz.
BAND_CENTRES_HZ: tuple[float, ...] = tuple(round(1000.0 * 10 ** (k / 10), 1) for k in range(-16, 14))
# Whole bands to within this are one answer: all wet, the enhancer's output as it is.
ALL_WET = 0.999


@dataclass(frozen=True)
class BandWeights:
    """The enhancer's share (0 = the input, 1 = the enhancer's output) at each band centre,
    and the band SNRs it comes from."""

    centres_hz: tuple[float, ...]
    wet: tuple[float, ...]
    snr_db: tuple[float, ...]

    @property
    def all_wet(self) -> bool:
        return min(self.wet) >= ALL_WET

    def wet_at(self, frequencies_hz: np.ndarray) -> np.ndarray:
        """The weight at any frequencies (interpolated on a log-frequency axis; held flat
        below the first and above the last centre)."""
        logs = np.log(np.maximum(np.asarray(frequencies_hz, dtype=np.float64), 1e-3))
        return np.interp(logs, np.log(np.asarray(self.centres_hz)), np.asarray(self.wet))

    def summary(self) -> str:
        """Where the input is kept, for the render report: '400-3150 Hz' style ranges."""
        kept = [c for c, w in zip(self.centres_hz, self.wet) if w < 0.5]
        if not kept:
            return "nowhere"
        ranges: list[list[float]] = []
        for centre in kept:
            index = self.centres_hz.index(centre)
            if ranges and self.centres_hz.index(ranges[-1][1]) == index - 1:
                ranges[-1][1] = centre
            else:
                ranges.append([centre, centre])
        return ", ".join(f"{lo:g}-{hi:g} Hz" if lo != hi else f"{lo:g} Hz" for lo, hi in ranges)

    def to_dict(self) -> dict[str, object]:
        return {
            "centres_hz": list(self.centres_hz),
            "wet": [round(w, 2) for w in self.wet],
            "band_snr_db": [round(s, 1) for s in self.snr_db],
        }


def _smooth(power: np.ndarray, octaves: float = SMOOTH_OCTAVES) -> np.ndarray:
    """Mean power over +-octaves/2 around every 1 Hz bin."""
    count = len(power)
    bins = np.arange(count, dtype=np.float64)
    cumulative = np.concatenate([[0.0], np.cumsum(power, dtype=np.float64)])
    half = 2 ** (octaves / 2)
    low = np.clip((bins / half).astype(int), 0, count - 1)
    high = np.maximum(np.clip((bins * half).astype(int) + 1, 1, count), low + 1)
    return (cumulative[high] - cumulative[low]) / (high - low)


def band_weights(
    noise_power: np.ndarray | None,
    all_power: np.ndarray | None,
    *,
    wet_below_snr_db: float = WET_BELOW_SNR_DB,
    dry_above_snr_db: float = DRY_ABOVE_SNR_DB,
) -> BandWeights | None:
    """Per-band weights from the quietest seconds' and all seconds' mean power spectra
    (1 Hz bins, the same length); None when either is missing."""
    if noise_power is None or all_power is None or len(noise_power) != len(all_power) or len(noise_power) < 2:
        return None
    noise = _smooth(np.asarray(noise_power, dtype=np.float64))
    everything = _smooth(np.asarray(all_power, dtype=np.float64))
    tiny = 1e-20
    snr = 10.0 * np.log10(np.maximum(everything - noise, tiny) / np.maximum(noise, tiny))
    centres = tuple(c for c in BAND_CENTRES_HZ if c < len(noise_power) - 1)
    at = np.array([snr[int(round(c))] for c in centres])
    span = max(dry_above_snr_db - wet_below_snr_db, 1e-6)
    wet = np.clip((dry_above_snr_db - at) / span, 0.0, 1.0)
    return BandWeights(centres, tuple(float(w) for w in wet), tuple(float(s) for s in at))
