"""Mains hum: a streaming averaged spectrum, which 50 or 60 Hz harmonics stand out, and
whether the hum is loud enough against the speech to be worth cutting.

The spectrum is taken one second at a time (1 Hz bins, Hann window) from a mono
fold-down, and only the quietest seconds are kept and averaged: hum is there all the
time, speech is not, so pauses and room tone show the hum clearly while voice partials
fade out. Memory is bounded by the number of seconds kept, not the duration.

A harmonic is a hum *line* when its peak stands `min_prominence_db` above the median of
its neighbourhood; the mains frequency is the one whose lines stand out most. Seeing a
line is not a reason to cut it: from 100 Hz up a notch sits among the voice's pitch
harmonics, and every partial that glides through it is dented (issue 12: one 150 Hz
band-reject took clean-speech PESQ-WB from 4.62 to 3.53), while a faint hum 50 dB under the speech is
masked whenever anyone talks and a whisper in the pauses. So each line's absolute level
(RMS dBFS: its power above the local floor, from the quiet seconds) is weighed against
the programme's speech level (`NoiseEstimate.speech_level_dbfs`, the 95th percentile of
50 ms block levels, some 6 dB over the speech RMS). The rule is a level difference, so it
holds whatever loudness gain the render applies:

- the hum is *audible* when its lines together come within `AUDIBLE_WITHIN_DB` (45 dB)
  of the speech level: the bar speech production sets for a noise floor (ACX: speech RMS
  -18 to -23 dBFS over a floor under -60 dBFS, some 40 dB under the RMS, which is 45 dB
  under our speech level). Fainter hum is reported and left alone;
- audible hum is cut loudest line first, only until the uncut lines sum
  `REST_UNDER_BAR_DB` under the bar: a strong fundamental (below the voice, cheap to
  cut) goes, a faint 4th harmonic inside the voice stays;
- each cut takes its line `CUT_UNDER_BAR_DB` under the bar and never more than
  `CUT_OVER_PROMINENCE_DB` under the floor around it: a depth-limited cut, not a
  bottomless band-reject;
- notches sit on the measured line frequency (the grid is rarely exactly 50 or 60 Hz,
  and the error grows with the harmonic number).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAINS_HZ = (50.0, 60.0)
MAX_HARMONIC = 8
NEIGHBOURHOOD_HZ = 15
PEAK_HALF_WIDTH_HZ = 1
EXCLUDE_HALF_WIDTH_HZ = 3
LINE_HALF_WIDTH_BINS = 2  # a Hann window's main lobe: +-2 bins hold the line's power
# The grid's frequency stays within a few tenths of a hertz of nominal; a line further
# off than this is not mains hum.
MAINS_TOLERANCE = 0.01
# Under this a line's peak is too noisy to place to a hundredth of a hertz (measured:
# within 0.01 Hz from 30 dB up, 0.02-0.05 Hz at 20 dB, 0.15 Hz at 14 dB): use nominal.
MEASURE_MIN_PROMINENCE_DB = 20.0

AUDIBLE_WITHIN_DB = 45.0
# Once hum is cut, what is left must read clearly inaudible (also when the shipped file is
# measured again): the uncut lines sum 5 dB under the bar, and each cut line is taken
# 20 dB under it. (Tuned on real speech with drifting hum, by PESQ-WB: the rest 10 dB
# under the bar scored no better and took more notches; cuts only 10 dB under it left
# hum that PESQ-WB still heard.)
REST_UNDER_BAR_DB = 5.0
CUT_UNDER_BAR_DB = 20.0
CUT_OVER_PROMINENCE_DB = 6.0  # under its neighbourhood's floor a line is gone: no deeper than this
MIN_CUT_DB = 6.0
# Without a speech level (nothing but hum), judge against speech as the render would
# leave it: at -14 LUFS, speech has a 95th percentile 50 ms block level near -13 dBFS.
DEFAULT_SPEECH_LEVEL_DBFS = -13.0


@dataclass(frozen=True)
class HumLine:
    """One harmonic seen in the quiet seconds."""

    frequency_hz: float  # the nominal harmonic, k x 50 or k x 60
    level_dbfs: float  # RMS level of the line alone (its power above the local floor)
    prominence_db: float  # how far its peak stands above its neighbourhood
    cut_db: float | None = None  # how deep it is cut; None: left alone

    def to_dict(self) -> dict[str, object]:
        return {
            "hz": self.frequency_hz,
            "level_dbfs": round(self.level_dbfs, 1),
            "prominence_db": round(self.prominence_db, 1),
            "cut_db": None if self.cut_db is None else round(self.cut_db, 1),
        }


@dataclass(frozen=True)
class HumFinding:
    """What the hum detector saw and decided. `harmonics_hz` are the lines to cut (empty
    when no hum was seen or when it is too faint to be heard against the speech); `lines`
    are all the lines seen."""

    mains_hz: float | None
    harmonics_hz: tuple[float, ...] = ()
    prominence_db: tuple[float, ...] = ()
    cut_db: tuple[float, ...] = ()  # per cut harmonic; empty: prominence + CUT_OVER_PROMINENCE_DB
    measured_mains_hz: float | None = None  # the line frequency measured; None: nominal
    level_dbfs: float | None = None  # all lines together
    speech_level_dbfs: float | None = None
    lines: tuple[HumLine, ...] = ()
    reason: str = ""

    @property
    def found(self) -> bool:
        """Audible hum to remove."""
        return self.mains_hz is not None and bool(self.harmonics_hz)

    @property
    def below_speech_db(self) -> float | None:
        if self.level_dbfs is None or self.speech_level_dbfs is None:
            return None
        return self.speech_level_dbfs - self.level_dbfs

    def cuts_db(self) -> tuple[float, ...]:
        """How deep to cut each of `harmonics_hz`."""
        if len(self.cut_db) == len(self.harmonics_hz):
            return self.cut_db
        return tuple(max(MIN_CUT_DB, p + CUT_OVER_PROMINENCE_DB) for p in self.prominence_db)

    def notch_hz(self, harmonic_hz: float) -> float:
        """Where to put the notch for a nominal harmonic: on the measured line."""
        if self.mains_hz is None or self.measured_mains_hz is None:
            return harmonic_hz
        return round(harmonic_hz / self.mains_hz * self.measured_mains_hz, 2)

    def to_dict(self) -> dict[str, object]:
        def r(v: float | None) -> float | None:
            return None if v is None else round(v, 1)
        below = self.below_speech_db
        return {
            "mains_hz": self.mains_hz,
            "harmonics_hz": list(self.harmonics_hz),
            "prominence_db": [round(p, 1) for p in self.prominence_db],
            "cut_db": [round(c, 1) for c in self.cuts_db()],
            "measured_mains_hz": self.measured_mains_hz,
            "level_dbfs": r(self.level_dbfs),
            "speech_level_dbfs": r(self.speech_level_dbfs),
            "below_speech_db": r(below),
            "audible": self.found,
            "reason": self.reason or "nothing measured",
            "lines": [line.to_dict() for line in self.lines],
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
        # |rfft|^2 of a windowed second -> mean square per bin (a line's bins sum to its
        # mean square, so levels read in dBFS like the block levels of noise.py)
        self._scale = 2.0 / (sample_rate_hz * float(np.sum(self._window ** 2)))
        self._pending = np.zeros(0, dtype=np.float64)
        self._kept: list[tuple[float, np.ndarray]] = []  # (mean square, power spectrum)
        self._sum = np.zeros(sample_rate_hz // 2 + 1, dtype=np.float64)  # of every second's spectrum
        self._summed = 0
        self.segments = 0

    def add(self, samples: np.ndarray) -> None:
        mono = samples.mean(axis=1) if samples.ndim == 2 else samples
        data = np.concatenate([self._pending, mono.astype(np.float64, copy=False)])
        size = self.sample_rate_hz
        whole = len(data) // size
        if whole:
            frames = data[: whole * size].reshape(whole, size)
            levels = (frames ** 2).mean(axis=1)
            # Every second's spectrum: their mean (speech plus noise) is weighed against
            # the quiet seconds' (the noise) band by band, see pipeline.audio.noise_bands.
            spectra = np.abs(np.fft.rfft(frames * self._window, axis=1)) ** 2 * self._scale
            for level, spectrum in zip(levels, spectra):
                self.segments += 1
                if level < DIGITAL_SILENCE_MEAN_SQUARE:
                    continue
                self._sum += spectrum
                self._summed += 1
                if len(self._kept) == self.keep_segments and level >= self._kept[-1][0]:
                    continue
                self._kept.append((float(level), spectrum))
                self._kept.sort(key=lambda item: item[0])
                del self._kept[self.keep_segments:]
        self._pending = data[whole * size:]

    def mean_power(self) -> np.ndarray | None:
        """Mean power per 1 Hz bin of every second that is not digital silence (speech
        and noise together), or None if there are none."""
        if not self._summed:
            return None
        return self._sum / self._summed

    def power(self) -> np.ndarray | None:
        """Mean power per 1 Hz bin (mean square, full scale = 1) of the quietest seconds,
        or None if there are none.

        Only seconds within 3 dB of the quietest count: when a file has real pauses,
        those alone; when it has none, the least busy seconds."""
        if not self._kept:
            return None
        quietest = self._kept[0][0]
        chosen = [spectrum for level, spectrum in self._kept if level <= QUIET_SPREAD_FACTOR * quietest]
        return np.mean(chosen, axis=0)


def _neighbourhood_floor(power: np.ndarray, centre: int) -> float | None:
    low, high = centre - NEIGHBOURHOOD_HZ, centre + NEIGHBOURHOOD_HZ + 1
    if low < 0 or high > len(power):
        return None
    around = np.concatenate([
        power[low: centre - EXCLUDE_HALF_WIDTH_HZ],
        power[centre + EXCLUDE_HALF_WIDTH_HZ + 1: high],
    ])
    return float(np.median(around))


def harmonic_prominence_db(power: np.ndarray, frequency_hz: float) -> float:
    """How far the peak at `frequency_hz` stands above its neighbourhood's median."""
    centre = int(round(frequency_hz))
    floor = _neighbourhood_floor(power, centre)
    if floor is None:
        return 0.0
    peak = float(power[centre - PEAK_HALF_WIDTH_HZ: centre + PEAK_HALF_WIDTH_HZ + 1].max())
    if peak <= 0:
        return 0.0
    if floor <= 0:
        return 120.0
    return 10.0 * float(np.log10(peak / floor))


def line_level_dbfs(power: np.ndarray, frequency_hz: float) -> float:
    """RMS level (dBFS) of the line near `frequency_hz`: the power of its main lobe above
    the neighbourhood's floor. `power` is mean square per bin."""
    centre = int(round(frequency_hz))
    floor = _neighbourhood_floor(power, centre) or 0.0
    search = power[centre - PEAK_HALF_WIDTH_HZ: centre + PEAK_HALF_WIDTH_HZ + 1]
    peak = centre - PEAK_HALF_WIDTH_HZ + int(np.argmax(search))
    lobe = power[peak - LINE_HALF_WIDTH_BINS: peak + LINE_HALF_WIDTH_BINS + 1]
    above = float(lobe.sum()) - floor * len(lobe)
    return 10.0 * float(np.log10(max(above, float(power[peak]) * 1e-3, 1e-30)))


def line_frequency_hz(power: np.ndarray, frequency_hz: float) -> float:
    """The line's frequency to a fraction of a bin (parabola through the log power of the
    peak bin and its neighbours; a Hann window's main lobe is close to a parabola there)."""
    centre = int(round(frequency_hz))
    search = power[centre - PEAK_HALF_WIDTH_HZ: centre + PEAK_HALF_WIDTH_HZ + 1]
    peak = centre - PEAK_HALF_WIDTH_HZ + int(np.argmax(search))
    a, b, c = (float(np.log(max(v, 1e-300))) for v in power[peak - 1: peak + 2])
    curvature = a - 2 * b + c
    if curvature >= 0:
        return float(peak)
    return peak + 0.5 * (a - c) / curvature


def _sum_dbfs(levels: list[float]) -> float | None:
    if not levels:
        return None
    return 10.0 * float(np.log10(sum(10 ** (level / 10) for level in levels)))


def detect_hum(
    power: np.ndarray | None,
    *,
    min_prominence_db: float = 10.0,
    speech_level_dbfs: float | None = None,
    audible_within_db: float = AUDIBLE_WITHIN_DB,
) -> HumFinding:
    """Which mains frequency hums, at which harmonics, and which of them to cut (pure).

    `power` is `SpectrumAccumulator.power()`; `speech_level_dbfs` the programme's speech
    level (`NoiseEstimate.speech_level_dbfs`)."""
    if power is None:
        return HumFinding(None)
    best: tuple[float, float, list[tuple[int, float]]] | None = None  # (score, mains, [(k, prominence)])
    for mains_hz in MAINS_HZ:
        found = []
        for k in range(1, MAX_HARMONIC + 1):
            prominence = harmonic_prominence_db(power, k * mains_hz)
            if prominence >= min_prominence_db:
                found.append((k, prominence))
        # The fundamental or its strong 3rd harmonic (rectifier buzz) must be there:
        # isolated matches at high harmonics are more likely voice partials.
        if not any(k in (1, 3) for k, _ in found):
            continue
        score = sum(p for _, p in found)
        if best is None or score > best[0]:
            best = (score, mains_hz, found)
    if best is None:
        return HumFinding(None, reason="no mains hum: no line at 50 or 60 Hz or their 3rd harmonic")
    _, mains_hz, found = best

    # The mains frequency as measured on the clearest line.
    k_clear = max(found, key=lambda item: item[1])[0]
    measured = line_frequency_hz(power, k_clear * mains_hz) / k_clear
    near = abs(measured - mains_hz) <= MAINS_TOLERANCE * mains_hz
    trusted = near and dict(found)[k_clear] >= MEASURE_MIN_PROMINENCE_DB
    measured_mains = round(measured, 3) if trusted else None

    levels = {k: line_level_dbfs(power, k * mains_hz) for k, _ in found}
    total = _sum_dbfs(list(levels.values()))
    assert total is not None
    speech = DEFAULT_SPEECH_LEVEL_DBFS if speech_level_dbfs is None else speech_level_dbfs
    bar = speech - audible_within_db  # hum quieter than this (all lines together) is not heard
    speech_note = "" if speech_level_dbfs is not None else " (no speech level: assumed)"

    # Audible: cut the loudest lines until what is left sums well under the bar.
    cut: dict[int, float] = {}
    if total >= bar:
        for k in sorted(levels, key=lambda k: levels[k], reverse=True):
            rest = _sum_dbfs([levels[j] for j in levels if j not in cut])
            if rest is None or rest < bar - REST_UNDER_BAR_DB:
                break
            prominence = dict(found)[k]
            depth = levels[k] - (bar - CUT_UNDER_BAR_DB)
            cut[k] = round(max(MIN_CUT_DB, min(depth, prominence + CUT_OVER_PROMINENCE_DB)), 1)

    lines = tuple(
        HumLine(k * mains_hz, levels[k], prominence, cut.get(k)) for k, prominence in found
    )
    below = speech - total
    if not cut:
        reason = (
            f"{mains_hz:g} Hz hum at {total:.1f} dBFS is {below:.1f} dB under the speech level "
            f"{speech:.1f} dBFS{speech_note}: inaudible (cut only within {audible_within_db:g} dB)"
        )
        return HumFinding(
            mains_hz, measured_mains_hz=measured_mains, level_dbfs=total,
            speech_level_dbfs=speech_level_dbfs, lines=lines, reason=reason,
        )
    kept = [k for k, _ in found if k in cut]
    listed = ", ".join(f"{k * mains_hz:g}" for k in kept)
    reason = (
        f"{mains_hz:g} Hz hum at {total:.1f} dBFS is only {below:.1f} dB under the speech level "
        f"{speech:.1f} dBFS{speech_note} (audible within {audible_within_db:g} dB): "
        f"cutting {listed} Hz, the fewest lines that leave the rest inaudible"
    )
    return HumFinding(
        mains_hz,
        tuple(k * mains_hz for k in kept),
        tuple(dict(found)[k] for k in kept),
        tuple(cut[k] for k in kept),
        measured_mains_hz=measured_mains,
        level_dbfs=total,
        speech_level_dbfs=speech_level_dbfs,
        lines=lines,
        reason=reason,
    )
