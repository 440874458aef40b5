"""Streaming defect detectors that read the same decoded chunks as the loudness meter.

Owns: finding, in float (n_samples, n_channels) chunks fed in order, the things the
loudness meter does not measure — silence at the start and end, dropouts (digital
silence inside the programme), clipping (runs of full-scale samples) and the loudest
sample's time, left/right phase (correlation and mono fold-down loss), and mains hum
(an averaged spectrum, Welch's method, accumulated segment by segment).

Every detector's memory is bounded whatever the duration: it keeps running sums, the
state of a run that crosses a chunk boundary, at most `MAX_MOMENTS` merged moments for
plots (counts and totals stay exact beyond that), and the hum detector one FFT segment
of samples plus the low end of the averaged spectrum. A chunk may have any length; the
results do not depend on how the signal was cut into chunks.

Detectors measure; they do not judge. Verdicts live in `pipeline.qa.checks`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.fft
import scipy.signal

MAX_MOMENTS = 100
MOMENT_MERGE_GAP_S = 0.1

# A sample at or above this magnitude is at full scale. 32767/32768 is the largest
# positive 16-bit value; lower limits would call the crest of a loud low tone a clip.
FULL_SCALE = 32767.0 / 32768.0

PHASE_BLOCK_S = 0.5

MAINS_HZ: tuple[float, ...] = (50.0, 60.0)
HUM_HARMONICS = 5
HUM_RESOLUTION_HZ = 1.5  # FFT bin spacing at most this: separates 50 from 60 Hz harmonics
HUM_SEARCH_HZ = 1.5  # mains frequency drifts a little; look this far either side
HUM_FLOOR_INNER_HZ = 4.0  # the noise floor is read between these distances from the peak
HUM_FLOOR_OUTER_HZ = 15.0
HUM_LOBE_BINS = 2  # a Hann window spreads a tone over +-2 bins
HUM_MAX_ABOVE_FLOOR_DB = 120.0  # a pure synthetic tone over digital silence reads "very far"
MIN_HUM_SEGMENT_S = 0.2


# ------------------------------------------------------------------ helpers


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) indices of the runs of True in a 1-D boolean array."""
    padded = np.concatenate(([False], mask, [False]))
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return edges[0::2], edges[1::2]


class _RunTracker:
    """Runs of True across chunks, in absolute sample indices; a run may span chunks."""

    def __init__(self) -> None:
        self.open_start: int | None = None

    def feed(self, mask: np.ndarray, base: int) -> tuple[np.ndarray, np.ndarray]:
        """Completed runs (starts, exclusive ends) of this chunk, starting at sample `base`."""
        n = mask.shape[0]
        empty = np.zeros(0, dtype=np.int64)
        if n == 0:
            return empty, empty
        if self.open_start is None and not mask.any():
            return empty, empty
        starts, ends = _runs(mask)
        starts = starts.astype(np.int64) + base
        ends = ends.astype(np.int64) + base
        if self.open_start is not None:
            if starts.size and starts[0] == base:
                starts[0] = self.open_start
            else:
                starts = np.concatenate(([self.open_start], starts))
                ends = np.concatenate(([base], ends))
            self.open_start = None
        if ends.size and ends[-1] == base + n:
            self.open_start = int(starts[-1])
            starts, ends = starts[:-1], ends[:-1]
        return starts, ends


def merge_intervals(starts_s: np.ndarray, ends_s: np.ndarray, gap_s: float) -> list[tuple[float, float]]:
    """Intervals (sorted by start) merged where they overlap or lie within `gap_s`."""
    if starts_s.size == 0:
        return []
    order = np.argsort(starts_s, kind="stable")
    starts_s, ends_s = starts_s[order], ends_s[order]
    reach = np.maximum.accumulate(ends_s)
    new_group = np.concatenate(([True], starts_s[1:] > reach[:-1] + gap_s))
    first = np.flatnonzero(new_group)
    group_ends = np.maximum.reduceat(ends_s, first)
    return [(float(s), float(e)) for s, e in zip(starts_s[first], group_ends)]


class _MomentLog:
    """Moments in time order, merged when close, at most `MAX_MOMENTS` of them kept."""

    def __init__(self, gap_s: float = MOMENT_MERGE_GAP_S, limit: int = MAX_MOMENTS) -> None:
        self._gap_s = gap_s
        self._limit = limit
        self.moments: list[tuple[float, float]] = []

    def add_many(self, intervals: Sequence[tuple[float, float]]) -> None:
        for start_s, end_s in intervals:
            if self.moments and start_s <= self.moments[-1][1] + self._gap_s:
                last_start, last_end = self.moments[-1]
                self.moments[-1] = (min(last_start, start_s), max(last_end, end_s))
            elif len(self.moments) < self._limit:
                self.moments.append((start_s, end_s))

    def snapshot(self, extra: Sequence[tuple[float, float]] = ()) -> tuple[tuple[float, float], ...]:
        log = _MomentLog(self._gap_s, self._limit)
        log.moments = list(self.moments)
        log.add_many(extra)
        return tuple(log.moments)


def _check_chunk(chunk: np.ndarray, channels: int) -> np.ndarray:
    samples = np.asarray(chunk)
    if samples.ndim == 1 and channels == 1:
        samples = samples[:, np.newaxis]
    if samples.ndim != 2 or samples.shape[1] != channels:
        raise ValueError(f"expected samples of shape (n, {channels}), got {samples.shape}")
    return samples


def sample_levels(samples: np.ndarray) -> np.ndarray:
    """|x| of the loudest channel at each sample.

    (A column-by-column maximum: numpy's reduction along a short last axis,
    `abs(x).max(axis=1)`, is some fifty times slower.)
    """
    level = np.abs(samples[:, 0])
    for channel in range(1, samples.shape[1]):
        np.maximum(level, np.abs(samples[:, channel]), out=level)
    return level


def db_to_linear(level_db: float) -> float:
    return 10.0 ** (level_db / 20.0)


# ------------------------------------------------------------------ silence and dropouts


@dataclass(frozen=True)
class SilenceResult:
    """Where the programme starts and ends, and the digital silence inside it."""

    duration_s: float
    has_sound: bool
    leading_silence_s: float
    trailing_silence_s: float
    dropout_count: int
    dropout_total_s: float
    longest_dropout_s: float
    dropout_moments: tuple[tuple[float, float], ...]


class SilenceDetector:
    """Leading and trailing silence, and dropouts.

    The programme runs from the first to the last sample louder than
    `silence_threshold_dbfs` on any channel. A dropout is a stretch of at least
    `min_dropout_s` where every channel is below `digital_silence_dbfs`, after the
    programme started and followed later by sound; digital silence that runs into the
    end of the file is trailing silence, not a dropout.
    """

    def __init__(
        self,
        sample_rate_hz: int,
        channels: int,
        *,
        silence_threshold_dbfs: float,
        digital_silence_dbfs: float,
        min_dropout_s: float,
    ) -> None:
        self.sample_rate_hz = int(sample_rate_hz)
        self.channels = int(channels)
        self._sound_level = db_to_linear(silence_threshold_dbfs)
        self._digital_level = db_to_linear(digital_silence_dbfs)
        self._min_dropout_samples = max(1, round(min_dropout_s * self.sample_rate_hz))
        self._samples = 0
        self._first_sound: int | None = None
        self._last_sound: int | None = None
        self._silent_runs = _RunTracker()
        # Dropout candidates not yet followed by sound: bounded, in time order. Past the
        # bound only their totals are kept (a long near-silent passage full of gaps).
        self._pending: list[tuple[int, int]] = []
        self._pending_overflow: tuple[int, int, int, int] = (0, 0, 0, 0)  # count, samples, longest, last end
        self._dropout_count = 0
        self._dropout_samples = 0
        self._longest_dropout = 0
        self._moments = _MomentLog()

    def add(self, chunk: np.ndarray) -> None:
        samples = _check_chunk(chunk, self.channels)
        n = samples.shape[0]
        if n == 0:
            return
        base = self._samples
        level = sample_levels(samples)
        sound = level > self._sound_level
        if sound.any():
            if self._first_sound is None:
                self._first_sound = base + int(np.argmax(sound))
            self._last_sound = base + n - 1 - int(np.argmax(sound[::-1]))
        starts, ends = self._silent_runs.feed(level < self._digital_level, base)
        if starts.size:
            long_enough = (ends - starts) >= self._min_dropout_samples
            starts, ends = starts[long_enough], ends[long_enough]
        if starts.size and self._first_sound is not None:
            inside = starts > self._first_sound
            for start, end in zip(starts[inside].tolist(), ends[inside].tolist()):
                self._add_pending(start, end)
        self._samples = base + n
        self._confirm_pending()

    def _add_pending(self, start: int, end: int) -> None:
        if len(self._pending) < MAX_MOMENTS:
            self._pending.append((start, end))
            return
        count, total, longest, _ = self._pending_overflow
        self._pending_overflow = (count + 1, total + end - start, max(longest, end - start), end)

    def _confirm_pending(self) -> None:
        if self._last_sound is None:
            return
        confirmed = [(s, e) for s, e in self._pending if e <= self._last_sound]
        if not confirmed:
            return
        self._pending = self._pending[len(confirmed):]
        rate = self.sample_rate_hz
        for start, end in confirmed:
            self._dropout_count += 1
            self._dropout_samples += end - start
            self._longest_dropout = max(self._longest_dropout, end - start)
        self._moments.add_many([(s / rate, e / rate) for s, e in confirmed])
        count, total, longest, last_end = self._pending_overflow
        # Overflow runs all come after the kept ones; they are confirmed together once
        # sound follows the last of them (an approximation only past MAX_MOMENTS gaps).
        if count and not self._pending and last_end <= self._last_sound:
            self._dropout_count += count
            self._dropout_samples += total
            self._longest_dropout = max(self._longest_dropout, longest)
            self._pending_overflow = (0, 0, 0, 0)

    def result(self) -> SilenceResult:
        rate = self.sample_rate_hz
        duration_s = self._samples / rate
        if self._first_sound is None or self._last_sound is None:
            return SilenceResult(duration_s, False, duration_s, duration_s, 0, 0.0, 0.0, ())
        return SilenceResult(
            duration_s=duration_s,
            has_sound=True,
            leading_silence_s=self._first_sound / rate,
            trailing_silence_s=(self._samples - self._last_sound - 1) / rate,
            dropout_count=self._dropout_count,
            dropout_total_s=self._dropout_samples / rate,
            longest_dropout_s=self._longest_dropout / rate,
            dropout_moments=tuple(self._moments.moments),
        )


# ------------------------------------------------------------------ clipping and peaks


@dataclass(frozen=True)
class ClipResult:
    """Runs of at least `run_samples` consecutive full-scale samples, on any channel."""

    run_samples: int
    clip_count: int
    clipped_samples: int
    first_clip_s: float | None
    clip_moments: tuple[tuple[float, float], ...]
    peak_time_s: float | None
    peak_level: float


class ClipDetector:
    """Clipping (runs of full-scale samples, counted per channel) and where the peak is."""

    def __init__(self, sample_rate_hz: int, channels: int, *, run_samples: int, full_scale: float = FULL_SCALE) -> None:
        self.sample_rate_hz = int(sample_rate_hz)
        self.channels = int(channels)
        self.run_samples = int(run_samples)
        self._full_scale = float(full_scale)
        self._trackers = [_RunTracker() for _ in range(self.channels)]
        self._samples = 0
        self._clip_count = 0
        self._clipped_samples = 0
        self._first_clip: int | None = None
        self._moments = _MomentLog()
        self._peak_level = 0.0
        self._peak_index: int | None = None

    def add(self, chunk: np.ndarray) -> None:
        samples = _check_chunk(chunk, self.channels)
        n = samples.shape[0]
        if n == 0:
            return
        base = self._samples
        magnitude = np.abs(samples)
        loudest_row, loudest_channel = divmod(int(np.argmax(magnitude)), self.channels)
        peak = float(magnitude[loudest_row, loudest_channel])
        if peak > self._peak_level:
            self._peak_level = peak
            self._peak_index = base + loudest_row
        if peak >= self._full_scale or any(t.open_start is not None for t in self._trackers):
            found_starts, found_ends = [], []
            for channel, tracker in enumerate(self._trackers):
                starts, ends = tracker.feed(magnitude[:, channel] >= self._full_scale, base)
                found_starts.append(starts)
                found_ends.append(ends)
            self._count(np.concatenate(found_starts), np.concatenate(found_ends))
        self._samples = base + n

    def _count(self, starts: np.ndarray, ends: np.ndarray) -> None:
        clips = (ends - starts) >= self.run_samples
        starts, ends = starts[clips], ends[clips]
        if starts.size == 0:
            return
        self._clip_count += int(starts.size)
        self._clipped_samples += int((ends - starts).sum())
        first = int(starts.min())
        self._first_clip = first if self._first_clip is None else min(self._first_clip, first)
        rate = self.sample_rate_hz
        self._moments.add_many(merge_intervals(starts / rate, ends / rate, MOMENT_MERGE_GAP_S))

    def result(self) -> ClipResult:
        rate = self.sample_rate_hz
        count, clipped, first = self._clip_count, self._clipped_samples, self._first_clip
        extra: list[tuple[float, float]] = []
        # A run still open at the end of the stream ends with the last sample.
        for tracker in self._trackers:
            if tracker.open_start is not None and self._samples - tracker.open_start >= self.run_samples:
                count += 1
                clipped += self._samples - tracker.open_start
                first = tracker.open_start if first is None else min(first, tracker.open_start)
                extra.append((tracker.open_start / rate, self._samples / rate))
        return ClipResult(
            run_samples=self.run_samples,
            clip_count=count,
            clipped_samples=clipped,
            first_clip_s=None if first is None else first / rate,
            clip_moments=self._moments.snapshot(sorted(extra)),
            peak_time_s=None if self._peak_index is None else self._peak_index / rate,
            peak_level=self._peak_level,
        )


# ------------------------------------------------------------------ phase


@dataclass(frozen=True)
class PhaseResult:
    """Left/right phase over the blocks where both channels carry sound.

    `correlation` is energy-weighted over those blocks (+1 identical, 0 unrelated,
    -1 one channel inverted); `fold_down_loss_db` is how much quieter (L+R)/2 is than
    the average of L and R (0 dB for identical channels, 3 dB for unrelated ones,
    None when the fold-down cancels completely). None everywhere: no block qualified.
    """

    correlation: float | None
    fold_down_loss_db: float | None
    measured_s: float
    out_of_phase_s: float
    out_of_phase_moments: tuple[tuple[float, float], ...]


class PhaseDetector:
    """Correlation of two channels per `PHASE_BLOCK_S` block, and over the whole file."""

    def __init__(
        self,
        sample_rate_hz: int,
        channels: int,
        pair: tuple[int, int],
        *,
        gate_dbfs: float,
        correlation_min: float,
    ) -> None:
        self.sample_rate_hz = int(sample_rate_hz)
        self.channels = int(channels)
        self._left, self._right = pair
        self._block = max(1, round(PHASE_BLOCK_S * self.sample_rate_hz))
        self._gate_mean_square = db_to_linear(gate_dbfs) ** 2
        self._correlation_min = float(correlation_min)
        self._samples = 0
        self._partial = np.zeros(3, dtype=np.float64)  # LL, RR, LR of the open block
        self._totals = np.zeros(3, dtype=np.float64)
        self._measured_samples = 0
        self._out_of_phase_samples = 0
        self._moments = _MomentLog()

    def add(self, chunk: np.ndarray) -> None:
        samples = _check_chunk(chunk, self.channels)
        n = samples.shape[0]
        position = 0
        # A chunk spans a handful of blocks: sum each piece, close blocks as they fill.
        while position < n:
            filled = self._samples % self._block
            take = min(self._block - filled, n - position)
            left = samples[position : position + take, self._left].astype(np.float64)
            right = samples[position : position + take, self._right].astype(np.float64)
            self._partial += (float((left * left).sum()), float((right * right).sum()), float((left * right).sum()))
            self._samples += take
            position += take
            if filled + take == self._block:
                self._close_block(self._samples // self._block - 1, self._partial, self._block)
                self._partial = np.zeros(3, dtype=np.float64)

    def _close_block(self, block: int, sums: np.ndarray, length: int) -> None:
        if not self._qualifies(sums, length):
            return
        self._totals += sums
        self._measured_samples += length
        if self._out_of_phase(sums):
            self._out_of_phase_samples += length
            start_s = block * self._block / self.sample_rate_hz
            self._moments.add_many([(start_s, start_s + length / self.sample_rate_hz)])

    def _qualifies(self, sums: np.ndarray, length: int) -> bool:
        """Both channels carry sound: unrelated room tone in pauses says nothing about phase."""
        ll, rr, _ = sums
        return bool(ll / length >= self._gate_mean_square and rr / length >= self._gate_mean_square)

    def _out_of_phase(self, sums: np.ndarray) -> bool:
        ll, rr, lr = sums
        return bool(lr / math.sqrt(ll * rr) < self._correlation_min)

    def result(self) -> PhaseResult:
        totals = self._totals.copy()
        measured, out_of_phase = self._measured_samples, self._out_of_phase_samples
        extra: list[tuple[float, float]] = []
        tail = self._samples % self._block
        # The open last block counts as it is (without closing it: more samples may follow).
        if tail and self._qualifies(self._partial, tail):
            totals += self._partial
            measured += tail
            if self._out_of_phase(self._partial):
                out_of_phase += tail
                extra.append(((self._samples - tail) / self.sample_rate_hz, self._samples / self.sample_rate_hz))
        ll, rr, lr = totals
        if measured == 0 or ll <= 0.0 or rr <= 0.0:
            return PhaseResult(None, None, 0.0, 0.0, ())
        correlation = float(np.clip(lr / math.sqrt(ll * rr), -1.0, 1.0))
        folded = (ll + rr + 2.0 * lr) / (2.0 * (ll + rr))
        loss_db = -10.0 * math.log10(folded) if folded > 1e-12 else None
        rate = self.sample_rate_hz
        return PhaseResult(correlation, loss_db, measured / rate, out_of_phase / rate, self._moments.snapshot(extra))


# ------------------------------------------------------------------ mains hum


@dataclass(frozen=True)
class MainsPeak:
    """The spectrum at one harmonic of one mains frequency."""

    mains_hz: float
    harmonic: int
    frequency_hz: float
    level_dbfs: float | None  # peak level of the sine there; None for no energy at all
    above_floor_db: float  # peak bin over the median of the bins around it


@dataclass(frozen=True)
class HumResult:
    analysed_s: float
    resolution_hz: float
    peaks: tuple[MainsPeak, ...]

    def peak(self, mains_hz: float, harmonic: int) -> MainsPeak | None:
        return next((p for p in self.peaks if p.mains_hz == mains_hz and p.harmonic == harmonic), None)


class HumDetector:
    """Averaged power spectrum (Hann window, 50 % overlap, channels averaged) of the low end.

    Keeps one FFT segment of samples and the spectrum up to just above the highest
    harmonic looked at; reads each mains harmonic's level and how far its peak stands
    above the local noise floor.
    """

    def __init__(self, sample_rate_hz: int, channels: int, *, mains_hz: Sequence[float] = MAINS_HZ,
                 harmonics: int = HUM_HARMONICS) -> None:
        self.sample_rate_hz = int(sample_rate_hz)
        self.channels = int(channels)
        self.mains_hz = tuple(float(f) for f in mains_hz)
        self.harmonics = int(harmonics)
        self._nfft = 1 << math.ceil(math.log2(self.sample_rate_hz / HUM_RESOLUTION_HZ))
        self._hop = self._nfft // 2
        self.resolution_hz = self.sample_rate_hz / self._nfft
        self._window = scipy.signal.windows.hann(self._nfft, sym=False).astype(np.float32)
        highest_hz = max(self.mains_hz) * self.harmonics + HUM_FLOOR_OUTER_HZ + HUM_SEARCH_HZ
        self._bins = min(self._nfft // 2 + 1, math.ceil(highest_hz / self.resolution_hz) + HUM_LOBE_BINS + 2)
        self._power_sum = np.zeros(self._bins, dtype=np.float64)
        self._segments = 0
        # Channel-major (channels, n): segments are then contiguous runs of memory.
        self._buffer = np.zeros((self.channels, 0), dtype=np.float32)
        self._samples = 0

    def add(self, chunk: np.ndarray) -> None:
        samples = _check_chunk(chunk, self.channels)
        if samples.shape[0] == 0:
            return
        self._samples += samples.shape[0]
        data = np.concatenate((self._buffer, samples.T.astype(np.float32)), axis=1)
        if data.shape[1] < self._nfft:
            self._buffer = data
            return
        segments = np.lib.stride_tricks.sliding_window_view(data, self._nfft, axis=1)[:, :: self._hop]
        self._accumulate(segments)
        self._buffer = data[:, segments.shape[1] * self._hop :].copy()

    def _spectrum_power(self, segments: np.ndarray) -> np.ndarray:
        """Power of the low bins of (channels, n_segments, nfft) windowed segments."""
        # scipy.fft keeps float32 as complex64: twice as fast as numpy's double FFT,
        # and single precision is plenty for a level 15 dB above a noise floor.
        spectrum = scipy.fft.rfft(segments * self._window, axis=-1)[..., : self._bins]
        return spectrum.real.astype(np.float64) ** 2 + spectrum.imag.astype(np.float64) ** 2

    def _accumulate(self, segments: np.ndarray) -> None:
        self._power_sum += self._spectrum_power(segments).mean(axis=0).sum(axis=0)
        self._segments += segments.shape[1]

    def result(self) -> HumResult:
        power_sum, segments = self._power_sum, self._segments
        if segments == 0 and self._buffer.shape[1] >= MIN_HUM_SEGMENT_S * self.sample_rate_hz:
            # Shorter than one segment: analyse what there is, zero-padded.
            padded = np.zeros((self.channels, 1, self._nfft), dtype=np.float32)
            padded[:, 0, : self._buffer.shape[1]] = self._buffer
            power_sum = self._spectrum_power(padded).mean(axis=0).sum(axis=0)
            segments = 1
        if segments == 0:
            return HumResult(self._samples / self.sample_rate_hz, self.resolution_hz, ())
        power = power_sum / segments
        window_energy = float(np.sum(self._window.astype(np.float64) ** 2))
        freqs = np.arange(self._bins) * self.resolution_hz
        peaks = []
        for mains in self.mains_hz:
            for harmonic in range(1, self.harmonics + 1):
                target = mains * harmonic
                near = np.flatnonzero(np.abs(freqs - target) <= HUM_SEARCH_HZ)
                peak_bin = int(near[np.argmax(power[near])])
                lobe = power[max(0, peak_bin - HUM_LOBE_BINS) : peak_bin + HUM_LOBE_BINS + 1].sum()
                # Sine amplitude A from its lobe energy: sum |X|^2 = N A^2 sum(w^2) / 4.
                amplitude_sq = 4.0 * lobe / (self._nfft * window_energy)
                level = 10.0 * math.log10(amplitude_sq) if amplitude_sq > 0 else None
                distance = np.abs(freqs - freqs[peak_bin])
                floor_bins = power[(distance >= HUM_FLOOR_INNER_HZ) & (distance <= HUM_FLOOR_OUTER_HZ)]
                floor = float(np.median(floor_bins)) if floor_bins.size else 0.0
                if power[peak_bin] <= 0.0:
                    above = 0.0
                elif floor <= 0.0:
                    above = HUM_MAX_ABOVE_FLOOR_DB
                else:
                    above = min(HUM_MAX_ABOVE_FLOOR_DB, 10.0 * math.log10(power[peak_bin] / floor))
                peaks.append(MainsPeak(mains, harmonic, float(freqs[peak_bin]), level, above))
        return HumResult(self._samples / self.sample_rate_hz, self.resolution_hz, tuple(peaks))
