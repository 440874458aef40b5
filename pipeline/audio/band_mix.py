"""Mixing the speech enhancer's output with its input band by band, streaming (pure numpy).

out = dry + h * (wet - dry), with h a linear-phase FIR whose response is the enhancer's
weight per frequency (`pipeline.audio.noise_bands.BandWeights`): where the weight is 1 the
output is the enhancer's, where it is 0 the input's, and since the same filter acts on the
difference, wet == dry comes out unchanged whatever h is. Linear phase so that no band is
shifted against another; its delay (`delay_samples`, half the filter) is removed here:
the first `delay_samples` outputs are dropped and `flush` returns the last ones, so total
samples out == total in and sample k out is sample k in. Memory: the filter and one
filter length of history per channel.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from pipeline.audio.noise_bands import BandWeights

# 4097 taps at 48 kHz: 12 Hz resolution, enough to tell a 50 Hz hum band from the voice
# above it; its 42.7 ms delay is compensated, so it costs no latency in the output.
FILTER_HALF_SAMPLES = 2048


def band_filter(weights: BandWeights, sample_rate_hz: int, half_samples: int = FILTER_HALF_SAMPLES) -> np.ndarray:
    """The linear-phase FIR (2 * half + 1 taps, Hann-windowed frequency sampling)."""
    taps = 2 * half_samples + 1
    grid = np.fft.rfftfreq(2 * half_samples, 1.0 / sample_rate_hz)
    response = weights.wet_at(grid)
    impulse = np.fft.irfft(response, n=2 * half_samples)
    centred = np.roll(impulse, half_samples)
    centred = np.append(centred, centred[0])  # symmetric: 2 * half + 1 taps
    return (centred * np.hanning(taps + 2)[1:-1]).astype(np.float64)


class BandMixer:
    """Feed aligned (wet, dry) blocks, (n, channels) float32; `flush` once at the end."""

    def __init__(self, weights: BandWeights, channels: int, sample_rate_hz: int,
                 half_samples: int = FILTER_HALF_SAMPLES) -> None:
        self._h = band_filter(weights, sample_rate_hz, half_samples)
        self.delay_samples = half_samples
        self.channels = channels
        self._tail = np.zeros((len(self._h) - 1, channels), dtype=np.float64)  # convolution overlap
        self._dry = np.zeros((half_samples, channels), dtype=np.float64)  # the input, delayed like h
        self._to_drop = half_samples

    def process(self, wet: np.ndarray, dry: np.ndarray) -> np.ndarray:
        """Mixed samples; `delay_samples` fewer than given over the first calls."""
        if not len(wet):
            return np.zeros((0, self.channels), dtype=np.float32)
        difference = wet.astype(np.float64) - dry.astype(np.float64)
        filtered = signal.oaconvolve(difference, self._h[:, np.newaxis], mode="full", axes=0)
        filtered[: len(self._tail)] += self._tail  # the earlier blocks' overlap
        count = len(wet)
        self._tail = filtered[count:].copy()
        history = np.concatenate([self._dry, dry.astype(np.float64)])
        delayed_dry, self._dry = history[:count], history[count:]
        out = delayed_dry + filtered[:count]
        if self._to_drop:
            dropped = min(self._to_drop, len(out))
            out = out[dropped:]
            self._to_drop -= dropped
        return out.astype(np.float32)

    def flush(self) -> np.ndarray:
        """The last `delay_samples` outputs (zeros pushed through)."""
        zeros = np.zeros((self.delay_samples, self.channels), dtype=np.float32)
        return self.process(zeros, zeros)
