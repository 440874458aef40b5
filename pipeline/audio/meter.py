"""Streaming loudness meter: ITU-R BS.1770-4 / EBU R128 (Tech 3341, Tech 3342).

Owns: turning a stream of samples into the numbers a producer checks — integrated
loudness, loudness range, momentary and short-term series and their maxima, sample peak
and true peak — per file and per channel, with memory that does not grow with duration
beyond one small record per 100 ms (plus a fixed buffer of about 6 s of per-sample
running sums for the maxima: 2.3 MB at 48 kHz, whatever the duration).

How it works. Each chunk is K-weighted (filter state carried across chunks), squared,
and summed per channel into 100 ms sub-blocks; only those sums are kept (a 2-hour
stereo file keeps 72,000 x 2 floats). Every measure but the maxima is built from the
sub-blocks:

- momentary = 4 sub-blocks (400 ms), short-term = 30 sub-blocks (3 s), both one value per
  100 ms step. Value k covers the window ending at (k + 1) * 0.1 s; windows reaching
  before the start count that time as silence, as a live meter does.
- maximum momentary and short-term: the loudest 400 ms and 3 s windows ending at *any*
  sample, not only at a 100 ms step (EBU Tech 3341 cases 10 and 13: a 400 ms burst
  read only on the 100 ms grid can miss its one full window by up to 50 ms, -0.58 LU).
  The channel-weighted power of each sample is added into running (prefix) sums, of
  which only the last 3 s (and room for new ones) are kept; every window sum is a
  difference of two of them.
  Windows reaching before the start count that time as silence, as the series do.
- integrated: BS.1770-4 gating over the 400 ms blocks with 75 % overlap (every full
  momentary window): absolute gate -70 LUFS, then relative gate -10 LU.
- loudness range: EBU Tech 3342 over the full 3 s short-term windows at a 100 ms hop:
  absolute gate -70 LUFS, relative gate -20 LU, 95th minus 10th percentile.
- true peak: `pipeline.audio.truepeak` (>= 4x and >= 192 kHz oversampling).

Silence: the series hold -inf (never NaN) where a window is digital silence; the scalar
results are None when there is nothing to measure (integrated and range when no block
passes the absolute gate or the file is too short for one block; peaks for digital
silence).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.audio.channels import build_channel_names, channel_weight
from pipeline.audio.decode import DEFAULT_CHUNK_S, iter_audio_chunks
from pipeline.audio.kweighting import KWeightingFilter, loudness_offset_db
from pipeline.audio.truepeak import TruePeakDetector
from pipeline.errors import InputError

STEP_S = 0.1
SUBBLOCKS_PER_SECOND = 10
MOMENTARY_SUBBLOCKS = 4
SHORT_TERM_SUBBLOCKS = 30
ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0
LRA_RELATIVE_GATE_LU = -20.0
LRA_LOW_PERCENTILE = 10.0
LRA_HIGH_PERCENTILE = 95.0
MOMENTARY_WINDOW_S = MOMENTARY_SUBBLOCKS * STEP_S
SHORT_TERM_WINDOW_S = SHORT_TERM_SUBBLOCKS * STEP_S
MAX_PIECE_SAMPLES = 1 << 16


def _db_or_none(linear: float) -> float | None:
    return 20.0 * math.log10(linear) if linear > 0.0 else None


def _round_or_none(value: float | None, digits: int = 2) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(value, digits)


@dataclass(frozen=True, eq=False)
class LoudnessResult:
    """Everything the meter measured on one signal.

    Channel tuples follow `channel_names`. `channel_integrated_lufs` measures each
    channel on its own (weight 1.0, its own gating), for channel-imbalance checks; a
    stereo pair of identical channels reads 3 dB below the programme's integrated value.
    """

    integrated_lufs: float | None
    loudness_range_lu: float | None
    true_peak_dbtp: float | None
    sample_peak_dbfs: float | None
    max_momentary_lufs: float | None
    max_short_term_lufs: float | None
    momentary_lufs: np.ndarray = field(repr=False)
    short_term_lufs: np.ndarray = field(repr=False)
    duration_s: float
    sample_rate_hz: int
    channels: int
    channel_names: tuple[str, ...]
    channel_true_peak_dbtp: tuple[float | None, ...]
    channel_sample_peak_dbfs: tuple[float | None, ...]
    channel_integrated_lufs: tuple[float | None, ...]
    step_s: float = STEP_S

    def to_dict(self, *, include_series: bool = False) -> dict[str, Any]:
        """JSON-ready: levels rounded to 0.01, None for unmeasurable; series on request."""
        out: dict[str, Any] = {
            "integrated_lufs": _round_or_none(self.integrated_lufs),
            "loudness_range_lu": _round_or_none(self.loudness_range_lu),
            "true_peak_dbtp": _round_or_none(self.true_peak_dbtp),
            "sample_peak_dbfs": _round_or_none(self.sample_peak_dbfs),
            "max_momentary_lufs": _round_or_none(self.max_momentary_lufs),
            "max_short_term_lufs": _round_or_none(self.max_short_term_lufs),
            "duration_s": round(self.duration_s, 3),
            "sample_rate_hz": self.sample_rate_hz,
            "channels": self.channels,
            "channel_names": list(self.channel_names),
            "channel_true_peak_dbtp": [_round_or_none(v) for v in self.channel_true_peak_dbtp],
            "channel_sample_peak_dbfs": [_round_or_none(v) for v in self.channel_sample_peak_dbfs],
            "channel_integrated_lufs": [_round_or_none(v) for v in self.channel_integrated_lufs],
        }
        if include_series:
            out["step_s"] = self.step_s
            out["momentary_lufs"] = [_round_or_none(float(v)) for v in self.momentary_lufs]
            out["short_term_lufs"] = [_round_or_none(float(v)) for v in self.short_term_lufs]
        return out


class _GrowingRows:
    """Append-only float64 rows whose storage grows geometrically (amortised O(1))."""

    def __init__(self, width: int, initial_rows: int = 1024) -> None:
        self._data = np.zeros((initial_rows, width), dtype=np.float64)
        self._rows = 0

    def extend(self, rows: np.ndarray) -> None:
        needed = self._rows + rows.shape[0]
        if needed > self._data.shape[0]:
            grown = np.zeros((max(needed, 2 * self._data.shape[0]), self._data.shape[1]), dtype=np.float64)
            grown[: self._rows] = self._data[: self._rows]
            self._data = grown
        self._data[self._rows : needed] = rows
        self._rows = needed

    def view(self) -> np.ndarray:
        return self._data[: self._rows]


class _SlidingWindowMaxima:
    """The largest power sum of each sliding window, over windows ending at every sample.

    Feed per-sample powers in order with `add`; `max_sums[w]` is then the largest sum of
    w consecutive powers seen so far, for each window length w, where the samples before
    the first count as silence (so with no power at all it stays 0.0).

    Keeps prefix sums (power summed from some base sample up to each sample boundary)
    for the last longest-window samples, plus room for new ones: a window sum is the
    difference of two of them, so a new sample costs a few operations whatever the
    window lengths, and all windows share one buffer.
    """

    def __init__(self, window_samples: Sequence[int], max_add_samples: int) -> None:
        if min(window_samples) < 1:
            raise ValueError(f"windows must hold at least one sample, got {window_samples}")
        self.max_add_samples = int(max_add_samples)
        # Boundary values needed to reach back one longest window from the newest one.
        self._kept_boundaries = max(window_samples) + 1
        # Spare room of at least one longest window, so the move below happens at most
        # once per that many samples (its cost stays a small fraction per sample).
        spare = max(self._kept_boundaries, self.max_add_samples)
        # All zero: the prefix sums over the silence before the first sample.
        self._prefix = np.zeros(self._kept_boundaries + spare, dtype=np.float64)
        self._filled = self._kept_boundaries
        self.max_sums: dict[int, float] = {int(w): 0.0 for w in window_samples}

    def add(self, power: np.ndarray) -> None:
        """Take the next (n,) non-negative per-sample powers, n <= max_add_samples."""
        n = power.shape[0]
        if n > self.max_add_samples:
            raise ValueError(f"at most {self.max_add_samples} samples per call, got {n}")
        if n == 0:
            return
        if self._filled + n > self._prefix.shape[0]:
            # Move the newest boundaries to the front, re-based on the oldest kept one,
            # so the stored sums never hold more than a few seconds of energy: their
            # rounding error stays as small on hour 2 as on second 2. Subtracting one
            # value keeps them non-decreasing, so no window sum comes out negative.
            kept = self._prefix[self._filled - self._kept_boundaries : self._filled]
            np.subtract(kept, kept[0], out=self._prefix[: self._kept_boundaries])  # numpy handles the overlap
            self._filled = self._kept_boundaries
        start, end = self._filled, self._filled + n
        new = self._prefix[start:end]
        np.cumsum(power, out=new)
        new += self._prefix[start - 1]
        for window, best in self.max_sums.items():
            # Sum of the window ending at each new sample.
            largest = float((new - self._prefix[start - window : end - window]).max())
            if largest > best:
                self.max_sums[window] = largest
        self._filled = end


class LoudnessMeter:
    """Feed (n_samples, n_channels) float chunks in order with `add`, read `result()`.

    Chunks may have any length; the result equals (to float rounding) that of one call
    with the whole signal. `result()` does not end the stream: more samples may follow.
    """

    def __init__(self, sample_rate_hz: int, channel_names: Sequence[str] | int) -> None:
        if int(sample_rate_hz) < SUBBLOCKS_PER_SECOND:
            raise ValueError(f"sample rate too low: {sample_rate_hz} Hz")
        self.sample_rate_hz = int(sample_rate_hz)
        self.channel_names = build_channel_names(channel_names)
        self.channels = len(self.channel_names)
        self.weights = np.array([channel_weight(n) for n in self.channel_names], dtype=np.float64)
        self._offset_db = loudness_offset_db(self.sample_rate_hz)
        self._kweighting = KWeightingFilter(self.sample_rate_hz, self.channels)
        self._truepeak = TruePeakDetector(self.sample_rate_hz, self.channels)
        self._samples_seen = 0
        self._completed_subblocks = 0
        self._partial_energy = np.zeros(self.channels, dtype=np.float64)
        self._energies = _GrowingRows(self.channels)
        self._momentary_samples = round(MOMENTARY_WINDOW_S * self.sample_rate_hz)
        self._short_term_samples = round(SHORT_TERM_WINDOW_S * self.sample_rate_hz)
        self._window_maxima = _SlidingWindowMaxima(
            (self._momentary_samples, self._short_term_samples), MAX_PIECE_SAMPLES
        )

    def _subblock_end(self, index: int) -> int:
        """Sample index where sub-block `index` ends (exclusive), exact for any rate."""
        return ((index + 1) * self.sample_rate_hz) // SUBBLOCKS_PER_SECOND

    def add(self, samples: np.ndarray) -> None:
        """Feed the next chunk: float, shape (n, channels) (or (n,) for mono), nominally [-1, 1]."""
        chunk = np.asarray(samples)
        if chunk.ndim == 1 and self.channels == 1:
            chunk = chunk[:, np.newaxis]
        if chunk.ndim != 2 or chunk.shape[1] != self.channels:
            raise ValueError(f"expected samples of shape (n, {self.channels}), got {chunk.shape}")
        if not np.issubdtype(chunk.dtype, np.floating):
            raise ValueError(f"expected float samples in [-1, 1], got dtype {chunk.dtype}")
        # Bounded pieces keep the float64 and oversampling temporaries small whatever
        # the caller passes (measure_array hands over whole files). All pieces are
        # checked before any is used, so a refused chunk leaves the meter untouched.
        pieces = [chunk[i : i + MAX_PIECE_SAMPLES] for i in range(0, chunk.shape[0], MAX_PIECE_SAMPLES)]
        for piece in pieces:
            if not np.isfinite(piece).all():
                raise ValueError("samples contain NaN or infinity")
        for piece in pieces:
            self._add_piece(piece)

    def _add_piece(self, chunk: np.ndarray) -> None:
        self._truepeak.add(chunk)
        weighted = self._kweighting.process(chunk)
        squared = np.square(weighted, out=weighted)
        self._window_maxima.add(squared @ self.weights)

        start = self._samples_seen
        end = start + chunk.shape[0]
        cuts = []
        index = self._completed_subblocks
        while (boundary := self._subblock_end(index)) <= end:
            cuts.append(boundary - start)
            index += 1
        if cuts:
            # Segment sums: [0, cut0) finishes the open sub-block, then one per sub-block.
            # (reduceat's last segment runs to the end of its input, hence the slice.)
            sums = np.add.reduceat(squared[: cuts[-1]], [0, *cuts[:-1]], axis=0)
            sums[0] += self._partial_energy
            self._energies.extend(sums)
            self._partial_energy = squared[cuts[-1] :].sum(axis=0)
        else:
            self._partial_energy = self._partial_energy + squared.sum(axis=0)
        self._completed_subblocks = index
        self._samples_seen = end

    def _to_lufs(self, mean_square: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return self._offset_db + 10.0 * np.log10(mean_square)

    def _window_mean_squares(self, energies: np.ndarray, counts: np.ndarray, size: int) -> np.ndarray:
        """Mean square of the window of `size` sub-blocks ending at each sub-block.

        Slots before the start are silence of nominal sub-block length. Direct sums (not
        a running cumulative sum) keep silent windows exactly zero after loud ones.
        """
        kernel = np.ones(size)
        energy_sums = np.convolve(energies, kernel)[: energies.shape[0]]
        count_sums = np.convolve(counts, kernel)[: counts.shape[0]]
        missing_slots = np.maximum(0, size - 1 - np.arange(counts.shape[0]))
        count_sums = count_sums + missing_slots * (self.sample_rate_hz / SUBBLOCKS_PER_SECOND)
        return energy_sums / count_sums

    def _maximum_lufs(self, window_samples: int, series_lufs: np.ndarray) -> float | None:
        """The loudest window at any alignment, never below a reported series value.

        The series windows are among the windows tracked, but the series is rounded to
        float32, and at a rate that is not a multiple of 10 Hz a window of whole
        sub-blocks can be a sample longer or shorter than the tracked one: taking the
        series maximum too keeps "maximum >= every series value" exact.
        """
        window_sum = self._window_maxima.max_sums[window_samples]
        loudest = float(self._to_lufs(np.float64(window_sum / window_samples)))
        finite = series_lufs[np.isfinite(series_lufs)]
        if finite.size:
            loudest = max(loudest, float(finite.max()))
        return loudest if math.isfinite(loudest) else None

    def _gated_integrated(self, block_mean_squares: np.ndarray) -> float | None:
        """BS.1770-4 two-stage gating over 400 ms block powers (already weighted)."""
        if block_mean_squares.size == 0:
            return None
        loudness = self._to_lufs(block_mean_squares)
        above_absolute = loudness > ABSOLUTE_GATE_LUFS
        if not above_absolute.any():
            return None
        relative_gate = float(self._to_lufs(block_mean_squares[above_absolute].mean())) + RELATIVE_GATE_LU
        gated = above_absolute & (loudness > relative_gate)
        return float(self._to_lufs(block_mean_squares[gated].mean()))

    def _loudness_range(self, short_term_full: np.ndarray) -> float | None:
        """EBU Tech 3342 from the short-term mean squares of full 3 s windows."""
        if short_term_full.size == 0:
            return None
        loudness = self._to_lufs(short_term_full)
        above_absolute = loudness > ABSOLUTE_GATE_LUFS
        if not above_absolute.any():
            return None
        relative_gate = float(self._to_lufs(short_term_full[above_absolute].mean())) + LRA_RELATIVE_GATE_LU
        kept = np.sort(loudness[above_absolute & (loudness >= relative_gate)])
        # Tech 3342's reference procedure picks sorted values by rounded rank.
        last = kept.size - 1
        low = kept[int(math.floor(last * LRA_LOW_PERCENTILE / 100.0 + 0.5))]
        high = kept[int(math.floor(last * LRA_HIGH_PERCENTILE / 100.0 + 0.5))]
        return float(high - low)

    def result(self) -> LoudnessResult:
        """The measurements of everything added so far."""
        energies = self._energies.view()
        n_blocks = energies.shape[0]
        ends = (np.arange(n_blocks + 1, dtype=np.int64) * self.sample_rate_hz) // SUBBLOCKS_PER_SECOND
        counts = np.diff(ends).astype(np.float64)
        weighted = energies @ self.weights

        momentary_ms = self._window_mean_squares(weighted, counts, MOMENTARY_SUBBLOCKS)
        short_term_ms = self._window_mean_squares(weighted, counts, SHORT_TERM_SUBBLOCKS)
        momentary = self._to_lufs(momentary_ms).astype(np.float32)
        short_term = self._to_lufs(short_term_ms).astype(np.float32)

        integrated = self._gated_integrated(momentary_ms[MOMENTARY_SUBBLOCKS - 1 :])
        loudness_range = self._loudness_range(short_term_ms[SHORT_TERM_SUBBLOCKS - 1 :])
        channel_integrated = tuple(
            self._gated_integrated(
                self._window_mean_squares(energies[:, ch], counts, MOMENTARY_SUBBLOCKS)[MOMENTARY_SUBBLOCKS - 1 :]
            )
            for ch in range(self.channels)
        )

        true_peaks = self._truepeak.peaks()
        sample_peaks = self._truepeak.sample_peaks
        return LoudnessResult(
            integrated_lufs=integrated,
            loudness_range_lu=loudness_range,
            true_peak_dbtp=_db_or_none(float(true_peaks.max())),
            sample_peak_dbfs=_db_or_none(float(sample_peaks.max())),
            max_momentary_lufs=self._maximum_lufs(self._momentary_samples, momentary),
            max_short_term_lufs=self._maximum_lufs(self._short_term_samples, short_term),
            momentary_lufs=momentary,
            short_term_lufs=short_term,
            duration_s=self._samples_seen / self.sample_rate_hz,
            sample_rate_hz=self.sample_rate_hz,
            channels=self.channels,
            channel_names=self.channel_names,
            channel_true_peak_dbtp=tuple(_db_or_none(float(v)) for v in true_peaks),
            channel_sample_peak_dbfs=tuple(_db_or_none(float(v)) for v in sample_peaks),
            channel_integrated_lufs=channel_integrated,
        )


def measure_array(
    samples: np.ndarray, sample_rate_hz: int, channel_names: Sequence[str] | None = None
) -> LoudnessResult:
    """Measure a whole signal held in memory: (n,) mono or (n, channels) float in [-1, 1]."""
    array = np.asarray(samples)
    if array.ndim == 1:
        array = array[:, np.newaxis]
    meter = LoudnessMeter(sample_rate_hz, channel_names if channel_names is not None else array.shape[1])
    meter.add(array)
    return meter.result()


def measure_file(
    path: str | Path, *, stream_index: int | None = None, chunk_s: float = DEFAULT_CHUNK_S
) -> LoudnessResult:
    """Measure the first audio stream of a media file (or container stream `stream_index`).

    Decodes audio only, `chunk_s` seconds at a time. Raises InputError (field "audio")
    for a missing file, a file that is not media, no audio stream, or corrupt or
    truncated audio.
    """
    info, chunks = iter_audio_chunks(path, stream_index, chunk_s=chunk_s)
    meter = LoudnessMeter(info.sample_rate_hz, info.channel_names)
    with chunks:
        for chunk in chunks:
            try:
                meter.add(chunk)
            except ValueError as exc:
                raise InputError(f"audio cannot be measured: {exc}", file=path, field="audio") from exc
    return meter.result()
