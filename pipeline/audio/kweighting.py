"""K-weighting (ITU-R BS.1770-4 pre-filter) as a streaming filter.

Owns: the filter design (taken from pyloudnorm, never hand-copied coefficients), the
calibration constant that turns a K-weighted mean square into LKFS/LUFS, and the
per-channel filter state that is carried from one chunk to the next.
"""

from __future__ import annotations

import functools

import numpy as np
import pyloudnorm
import scipy.signal

# BS.1770-4 defines its -0.691 dB constant as minus the K-weighting gain at 997 Hz, so
# that a 0 dBFS 997 Hz sine in one channel reads -3.01 LKFS.
CALIBRATION_FREQUENCY_HZ = 997.0


@functools.cache
def design_k_weighting_sos(sample_rate_hz: int) -> np.ndarray:
    """Second-order sections (shelf, then high-pass) of the K-weighting filter.

    The biquads are the ones pyloudnorm designs for `sample_rate_hz` (RBJ cookbook
    formulas matched to BS.1770), stacked as scipy `sos` rows [b0 b1 b2 a0 a1 a2].
    """
    if sample_rate_hz <= 0:
        raise ValueError(f"sample rate must be positive, got {sample_rate_hz}")
    meter = pyloudnorm.Meter(sample_rate_hz, filter_class="K-weighting")
    rows = []
    for stage in meter._filters.values():  # high shelf, then high pass
        b = np.asarray(stage.b, dtype=np.float64) * float(stage.passband_gain)
        a = np.asarray(stage.a, dtype=np.float64)
        rows.append(np.concatenate([b / a[0], a / a[0]]))
    sos = np.vstack(rows)
    sos.setflags(write=False)
    return sos


@functools.cache
def loudness_offset_db(sample_rate_hz: int) -> float:
    """The constant added to 10*log10(weighted mean square) to get LUFS.

    BS.1770-4 writes it as -0.691, which is minus the gain of *its* published filter at
    997 Hz. pyloudnorm's high-pass stage is normalised to unity gain at Nyquist, so its
    cascade is about 0.04 dB quieter; deriving the constant from the filter actually in
    use keeps the standard's anchor (997 Hz at 0 dBFS in one channel = -3.01 LUFS) exact
    and matches meters built on the published coefficients (ffmpeg, libebur128).
    """
    _, response = scipy.signal.sosfreqz(
        design_k_weighting_sos(sample_rate_hz), worN=[CALIBRATION_FREQUENCY_HZ], fs=sample_rate_hz
    )
    return float(-20.0 * np.log10(np.abs(response[0])))


class KWeightingFilter:
    """K-weighting for (n_samples, n_channels) chunks, state carried across calls.

    Filtering a signal in any number of chunks gives the same output, sample for
    sample, as filtering it in one call.
    """

    def __init__(self, sample_rate_hz: int, channels: int) -> None:
        if channels < 1:
            raise ValueError(f"need at least one channel, got {channels}")
        self.sample_rate_hz = int(sample_rate_hz)
        self.channels = int(channels)
        # scipy's sosfilt needs a writable array; the cached design stays read-only.
        self._sos = design_k_weighting_sos(self.sample_rate_hz).copy()
        # Zero state: the signal is taken to be preceded by silence.
        self._zi = np.zeros((self._sos.shape[0], 2, self.channels), dtype=np.float64)

    def process(self, samples: np.ndarray) -> np.ndarray:
        """K-weight one chunk; returns float64 of the same shape."""
        if samples.shape[0] == 0:
            return np.zeros((0, self.channels), dtype=np.float64)
        filtered, self._zi = scipy.signal.sosfilt(
            self._sos, np.asarray(samples, dtype=np.float64), axis=0, zi=self._zi
        )
        return filtered
