"""True-peak level (ITU-R BS.1770-4 Annex 2) as a streaming detector.

Owns: the polyphase interpolation filter, the per-channel history that lets chunks be
fed one after another, and the shortcut that skips interpolation where it provably
cannot raise the peak found so far.

The signal is oversampled by `oversampling_factor(rate)`: at least 4x (the Annex 2
minimum) and at least to 192 kHz, so 44.1 kHz uses 5x and 48/96 kHz use 4x. A tone at
a quarter of the sample rate is then read at most 0.17 dB low, inside EBU Tech 3341's
+0.2/-0.4 dB.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import scipy.signal

MIN_OVERSAMPLING = 4
MIN_OVERSAMPLED_RATE_HZ = 192_000
TAPS_PER_PHASE = 16
# Kaiser beta 8 keeps the passband within 0.02 dB up to 0.35 fs and the image
# rejection near 80 dB with 16 taps per phase (checked by sweeping tones).
KAISER_BETA = 8.0


def oversampling_factor(sample_rate_hz: int) -> int:
    """How many output samples per input sample the interpolator produces."""
    return max(MIN_OVERSAMPLING, math.ceil(MIN_OVERSAMPLED_RATE_HZ / sample_rate_hz))


@functools.cache
def design_interpolator(factor: int, taps_per_phase: int = TAPS_PER_PHASE) -> np.ndarray:
    """Polyphase matrix (taps_per_phase, factor), float32.

    For input samples x[m - T + 1 .. m] (oldest first, T = taps_per_phase), the sum over
    t of x[m - T + 1 + t] * matrix[t, p] is the interpolated value at phase p/factor
    (less the filter's fixed delay, which does not matter for a peak).
    """
    prototype = scipy.signal.firwin(
        factor * taps_per_phase, 1.0 / factor, window=("kaiser", KAISER_BETA)
    ) * factor  # zero-stuffing divides the level by `factor`; the gain restores it
    # prototype[p + t*factor] multiplies x[m - t]; windows are oldest first, so flip t.
    phases = prototype.reshape(taps_per_phase, factor)[::-1, :]
    matrix = np.ascontiguousarray(phases, dtype=np.float32)
    matrix.setflags(write=False)
    return matrix


@functools.cache
def _gain_bound(factor: int, taps_per_phase: int = TAPS_PER_PHASE) -> float:
    """Largest |output| the interpolator can give per unit of max |input| in its window."""
    matrix = design_interpolator(factor, taps_per_phase).astype(np.float64)
    # A small margin covers float32 rounding in the products.
    return float(np.abs(matrix).sum(axis=0).max()) * 1.001


class TruePeakDetector:
    """Per-channel true peak of (n_samples, n_channels) chunks fed in order.

    `peaks()` can be read at any time without disturbing the stream; it includes the
    interpolated tail after the last sample, as if the signal were followed by silence.
    The true peak of a channel is never reported below its sample peak.
    """

    def __init__(self, sample_rate_hz: int, channels: int) -> None:
        self.sample_rate_hz = int(sample_rate_hz)
        self.channels = int(channels)
        self.factor = oversampling_factor(self.sample_rate_hz)
        self._matrix = design_interpolator(self.factor)
        self._taps = self._matrix.shape[0]
        self._bound = _gain_bound(self.factor)
        # The last taps-1 input samples per channel (channel-major); zeros = preceded by
        # silence.
        self._history = np.zeros((self.channels, self._taps - 1), dtype=np.float32)
        self._true_peak = np.zeros(self.channels, dtype=np.float64)
        self._sample_peak = np.zeros(self.channels, dtype=np.float64)

    @property
    def sample_peaks(self) -> np.ndarray:
        """Largest |sample| per channel so far (linear)."""
        return self._sample_peak.copy()

    def add(self, samples: np.ndarray) -> None:
        """Feed the next chunk, shape (n_samples, n_channels)."""
        n = samples.shape[0]
        if n == 0:
            return
        keep = self._taps - 1
        # Channel-major so each channel's samples are contiguous for the window views.
        extended = np.empty((self.channels, keep + n), dtype=np.float32)
        extended[:, :keep] = self._history
        extended[:, keep:] = np.asarray(samples).T
        self._history = extended[:, n:].copy()
        magnitude = np.abs(extended)
        np.maximum(self._sample_peak, magnitude[:, keep:].max(axis=1), out=self._sample_peak)
        for ch in range(self.channels):
            known = max(self._true_peak[ch], self._sample_peak[ch])
            found = self._interpolated_peak(extended[ch], magnitude[ch], known)
            if found > self._true_peak[ch]:
                self._true_peak[ch] = found

    def peaks(self) -> np.ndarray:
        """True peak per channel (linear), including the tail after the last sample."""
        result = np.maximum(self._true_peak, self._sample_peak)
        tail = np.concatenate(
            [self._history, np.zeros((self.channels, self._taps - 1), dtype=np.float32)], axis=1
        )
        magnitude = np.abs(tail)
        for ch in range(self.channels):
            result[ch] = max(result[ch], self._interpolated_peak(tail[ch], magnitude[ch], result[ch]))
        return result

    def _interpolated_peak(self, extended: np.ndarray, magnitude: np.ndarray, known: float) -> float:
        """Max |interpolated| over the outputs whose windows lie in `extended` (one channel).

        Output m is interpolated from the window extended[m : m + taps]. It can only beat
        `known` if some sample in its window exceeds known / (the filter's gain bound), so
        only those windows are computed. The skip is exact, not a heuristic: the result
        does not depend on how the stream was chunked.
        """
        taps = self._taps
        n_outputs = extended.shape[0] - taps + 1
        hot = np.flatnonzero(magnitude * self._bound > known)
        if hot.size == 0:
            return 0.0
        if hot.size * taps < n_outputs // 2:
            # Every window that contains a hot sample: m in [h - taps + 1, h].
            starts = (hot[:, np.newaxis] - np.arange(taps)).ravel()
            selected = np.zeros(n_outputs, dtype=bool)
            selected[starts[(starts >= 0) & (starts < n_outputs)]] = True
            first = np.flatnonzero(selected)
            taps_inputs = [extended[first + t] for t in range(taps)]
        else:
            taps_inputs = [extended[t : t + n_outputs] for t in range(taps)]
        return self._max_abs_interpolated(taps_inputs)

    def _max_abs_interpolated(self, taps_inputs: list[np.ndarray]) -> float:
        """Max |output| over all phases; taps_inputs[t][j] is tap t's input for output j.

        One phase at a time with in-place 1-D products: no BLAS call (its threads only
        contend on a shared machine for a 16x4 matrix) and one output row in memory.
        """
        count = taps_inputs[0].shape[0]
        accumulator = np.empty(count, dtype=np.float32)
        product = np.empty(count, dtype=np.float32)
        best = 0.0
        for phase in range(self.factor):
            coefficients = self._matrix[:, phase]
            np.multiply(taps_inputs[0], coefficients[0], out=accumulator)
            for tap in range(1, self._taps):
                np.multiply(taps_inputs[tap], coefficients[tap], out=product)
                accumulator += product
            best = max(best, float(accumulator.max()), -float(accumulator.min()))
        return best
