"""Is the speech reverberant? (pure numpy): the detector that switches de-reverberation on.

The measure is de-reverberation's own: WPE (`pipeline.audio.dereverb`) is run on a sample
of the sound (at most `EXCERPTS` excerpts of `EXCERPT_S`, resampled to 16 kHz, statistics
over each whole excerpt), and the energy it takes away is read in the time-frequency
cells where the sound stands at least `ABOVE_FLOOR_DB` over that frequency's own floor
(its 10th percentile), between 250 Hz and 8 kHz, in excerpts whose level comes and goes
(a steady one is left out: `MIN_SPREAD_DB`). Late reverberation is exactly what WPE
predicts from the past and takes away; dry speech keeps nearly all its energy (its
harmonics do not last the 24 ms prediction delay), white or pink noise is not predictable,
and a steady tone (mains hum) is predictable but sits at its own floor, so its cells are
not counted. Cost: about 1 CPU s per minute of excerpt, whatever the sound's duration.

Tuned on every file of the bench corpus (bench/bench_dereverb.py: clean, noise, babble,
hum, HVAC, reverb, reverb plus noise), never on one file: see bench/RESULTS.md
"Speech de-reverberation".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import signal

from pipeline.audio.dereverb import Dereverberator, settings_for_rate

DETECT_RATE_HZ = 16_000
EXCERPT_S = 6.0
EXCERPTS = 4
# A sound this short is measured whole (one excerpt).
WHOLE_UNDER_S = 30.0
ABOVE_FLOOR_DB = 10.0
FLOOR_PERCENTILE = 10.0
# A sound whose frames' levels spread less than this (10th to 90th percentile) is steady:
# a tone, hum, a fan, not speech.
MIN_SPREAD_DB = 6.0
LOW_HZ = 250.0
HIGH_HZ = 8_000.0
# Removed energy (dB, in the cells above their floor) from which the speech counts as
# reverberant. Bench corpus: clean speech 0.00-0.02, white/pink noise up to 0.03 (three
# at 0 dB SNR too steady to measure), HVAC up to 0.03, hum up to 0.04 or negative (the
# tone's cells are not counted, the speech's lose nothing), the 10-minute speed files
# 0.02-0.04, babble 0.00-0.32 (voices in rooms); reverb plus noise 0.12-0.30; reverb
# (RT60 0.4-0.6 s) 0.40-0.64. The tests' synthetic dry speech (steady-pitch harmonics,
# which WPE partly predicts) reads up to 0.27. So the threshold sits over every dry
# reading: reverb plus noise stays off too (in the chain, de-reverberating it gained
# +0.036 DNSMOS and +0.008 STOI there, and lost 0.035 DNSMOS on babble, which reads the
# same: the noisy set's DNSMOS is 2.91 either way).
REVERBERANT_DB = 0.35
# Over this WPE is taking away more than a room's tail (the corpus's strongest room, RT60
# 0.6 s at 0 dB DRR, reads 0.64): sustained tones or music (a chord under the voice read
# 3.5), which it would thin.
MUSIC_ABOVE_DB = 2.0
# What WPE removes from a room's tail is spread over the voice's bands; from sustained
# tones (a music bed, a chord) it is all in their few bins. Share of the removed energy in
# the top 5 % of the bins: corpus rooms 0.60-0.93, a chord under a voice 1.00, the tests'
# music bed 0.997.
TOP_BINS_SHARE = 0.05
TONAL_ABOVE_SHARE = 0.97


@dataclass(frozen=True)
class ReverbFinding:
    """What the detector measured: the energy WPE removes from the speech's cells (dB,
    None when there was nothing to measure), over how many seconds of sample."""

    removed_db: float | None
    sample_s: float
    threshold_db: float = REVERBERANT_DB
    # Share of the removed energy in the top 5 % of the bins (None: not measured).
    tonal_share: float | None = None

    @property
    def tonal(self) -> bool:
        return self.tonal_share is not None and self.tonal_share > TONAL_ABOVE_SHARE

    @property
    def reverberant(self) -> bool:
        return (self.removed_db is not None and self.threshold_db <= self.removed_db < MUSIC_ABOVE_DB
                and not self.tonal)

    @property
    def reason(self) -> str:
        if self.removed_db is None:
            return ("no speech to measure the reverberation in (silence, or a steady sound whose level hardly moves: "
                    "a tone, hum, a fan)")
        if self.removed_db >= self.threshold_db and self.tonal:
            share = 100 * (self.tonal_share or 0)
            return (f"not a room: WPE takes {self.removed_db:.2f} dB off, but {share:.0f} % of it in a few bands: "
                    "sustained tones or music (which it would thin), not reverberation")
        if self.removed_db >= MUSIC_ABOVE_DB:
            return (f"not a room: WPE takes {self.removed_db:.1f} dB off in a {self.sample_s:.0f} s sample, more than "
                    f"reverberation does (from {MUSIC_ABOVE_DB:g} dB: sustained tones or music, which it would thin)")
        verdict = "reverberant" if self.reverberant else "dry"
        return (f"{verdict}: WPE takes {self.removed_db:.2f} dB off the speech in a {self.sample_s:.0f} s sample "
                f"(reverberant from {self.threshold_db:g} dB)")

    def to_dict(self) -> dict[str, object]:
        return {
            "removed_db": None if self.removed_db is None else round(self.removed_db, 3),
            "sample_s": round(self.sample_s, 2),
            "threshold_db": self.threshold_db,
            "tonal_share": None if self.tonal_share is None else round(self.tonal_share, 3),
            "reverberant": self.reverberant,
        }


def excerpt_spans(total_samples: int, sample_rate_hz: int) -> list[tuple[int, int]]:
    """Where the sample is taken: the whole sound when short, else `EXCERPTS` excerpts
    spread evenly over it (each in the middle of its own share of the sound)."""
    if total_samples <= 0:
        return []
    if total_samples <= WHOLE_UNDER_S * sample_rate_hz:
        return [(0, total_samples)]
    length = round(EXCERPT_S * sample_rate_hz)
    share = total_samples / EXCERPTS
    spans = []
    for index in range(EXCERPTS):
        centre = round((index + 0.5) * share)
        start = max(0, min(total_samples - length, centre - length // 2))
        spans.append((start, start + length))
    return spans


def _removed_in_cells(excerpt: np.ndarray) -> tuple[float, float, np.ndarray | None]:
    """(input energy, output energy, energy removed per bin) of WPE in the cells above
    their floor; `excerpt` is mono at DETECT_RATE_HZ. (0, 0, None) for a steady sound."""
    settings = settings_for_rate(DETECT_RATE_HZ, block_frames=1 << 30, margin_frames=0)
    size, hop = settings.fft_size, settings.hop
    low, high = round(LOW_HZ * size / DETECT_RATE_HZ), round(HIGH_HZ * size / DETECT_RATE_HZ)

    def cell_power(x: np.ndarray) -> np.ndarray:
        _, _, spectra = signal.stft(x, DETECT_RATE_HZ, nperseg=size, noverlap=size - hop)
        return np.abs(spectra[low:high]) ** 2 + 1e-20

    power_in = cell_power(excerpt)
    # Only a sound that comes and goes (speech) is measured: a steady one (a tone, hum, a
    # fan) is predictable too, and its sidebands and coding noise (AAC) wander over their
    # bins' floors, but its frames all stand at one level.
    frame_level = 10 * np.log10(power_in.sum(axis=0))
    spread_db = float(np.percentile(frame_level, 100 - FLOOR_PERCENTILE) - np.percentile(frame_level, FLOOR_PERCENTILE))
    if spread_db < MIN_SPREAD_DB:
        return 0.0, 0.0, None
    engine = Dereverberator(1, settings)
    power_out = cell_power(np.concatenate([engine.process(excerpt), engine.flush()])[:, 0].astype(np.float64))
    level = 10 * np.log10(power_in)
    floor = np.percentile(level, FLOOR_PERCENTILE, axis=1, keepdims=True)
    cells = level > floor + ABOVE_FLOOR_DB
    # Not the excerpt's edges: the cut itself splatters (a steady tone cut off reads as a
    # burst that WPE, having learnt the tone, "removes"), and the first frames have no past
    # to predict from.
    cells[:, : settings.history_frames + size // hop] = False
    cells[:, -(size // hop + 1):] = False
    removed = np.where(cells, power_in - power_out, 0.0).sum(axis=1)
    return float(power_in[cells].sum()), float(power_out[cells].sum()), removed


def measure_reverb(excerpts: Sequence[np.ndarray], sample_rate_hz: int) -> ReverbFinding:
    """The detector over excerpts of the sound ((n,) or (n, channels) float arrays at
    `sample_rate_hz`; channels are averaged)."""
    energy_in = energy_out = 0.0
    seconds = 0.0
    removed: np.ndarray | None = None
    for excerpt in excerpts:
        mono = excerpt.mean(axis=1) if excerpt.ndim == 2 else excerpt
        seconds += len(mono) / sample_rate_hz
        resampled = signal.resample_poly(mono.astype(np.float64), DETECT_RATE_HZ, sample_rate_hz)
        if len(resampled) < DETECT_RATE_HZ // 4 or not np.any(resampled):
            continue
        removed_in, removed_out, per_bin = _removed_in_cells(resampled)
        energy_in += removed_in
        energy_out += removed_out
        if per_bin is not None:
            removed = per_bin if removed is None else removed + per_bin
    if energy_in <= 1e-12 or energy_out <= 0:
        return ReverbFinding(None, seconds)
    share = None
    if removed is not None and np.maximum(removed, 0).sum() > 0:
        positive = np.sort(np.maximum(removed, 0))[::-1]
        share = float(positive[: max(1, round(TOP_BINS_SHARE * len(positive)))].sum() / positive.sum())
    return ReverbFinding(float(10 * np.log10(energy_in / energy_out)), seconds, tonal_share=share)


def detect_reverb(read: Callable[[int, int], np.ndarray], total_samples: int, sample_rate_hz: int) -> ReverbFinding:
    """The detector on a sound read by `read(start, count)` (samples, channels)."""
    spans = excerpt_spans(total_samples, sample_rate_hz)
    return measure_reverb([read(start, stop - start) for start, stop in spans], sample_rate_hz)
