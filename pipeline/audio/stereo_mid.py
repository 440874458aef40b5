"""Whether stereo speech is enhanced once, as its mid (L+R)/2, or each channel apart.

Owns the survey of a two-channel raw float spool (one streaming read, memory flat in
duration: the channels' power spectra and their cross-spectrum, summed over the file), the
pure decision from it, and reading the mid from the spool.

Why the mid: a talker is a point in the middle of the picture, and the enhancer removes
the room and ambience that made the rest of the stereo image, so the mid costs the speech
nothing and the enhancer half its time; a lav recorder's safety track or a second lav on
the other channel is centred instead of one voice in each ear. The mid is refused where
summing would damage the voice:

- channels that cancel (wired out of phase): the mid's power is more than 4 dB under the
  channels' mean (two unrelated channels put it 3 dB under, identical ones 0 dB);
- a comb filter: two spaced microphones (a phone's, 10-15 cm apart) hear an off-centre
  talker at different times, and their sum notches the voice where the delay is half a
  period (0.22 ms: a notch at 2.3 kHz). So the right channel is first moved by the lag
  (within +-1.5 ms) that makes the mid strongest in the speech range, found from the
  cross-spectrum; what comb is left is measured: unrelated channels put the mid at -3 dB
  in every band and identical ones at 0 dB, so its level against the channels' varies
  across the speech bands only when they are coherent with a delay; more than
  `MAX_COMB_DB` between third-octave bands is refused (a talker who moves across a
  spaced pair, for one).

The mid follows the left channel's time, so the picture's sync is the left microphone's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from pipeline.audio.raw_frames import iter_frames, read_frames

FFT_SAMPLES = 4096  # 11.7 Hz bins at 48 kHz: fine enough for third-octave bands from 200 Hz
MID_MIN_DB = -4.0
MAX_COMB_DB = 6.0
# Third-octave centres over the speech range (where a notch would be heard in the voice).
BAND_CENTRES_HZ = tuple(1000.0 * 2 ** (k / 3) for k in range(-7, 9))  # 198 Hz .. 6.35 kHz
# Bands this far under the strongest carry too little to judge (band-limited sound).
BAND_FLOOR_DB = -50.0
MAX_LAG_S = 0.0015  # 50 cm of path: any spaced pair a producer would call stereo
# The file is lined up when its channels are this correlated at the lag over the speech
# range (speech in noise at -5 dB SNR still reaches 0.2; unrelated channels about 0, and
# two lavs hear each other's talker over 1.5 ms late, outside the search); a second's own
# lag counts only when it is this sure.
MIN_LAG_CORRELATION = 0.15
MIN_WINDOW_CORRELATION = 0.3
# Each second's own lag is found too: more than 2 samples from the file's lag puts a notch
# under 12 kHz (3 samples: 8 kHz, -8 dB at 6 kHz), so a talker moving across a spaced pair
# (the lag changes) is refused when more than a tenth of the correlated seconds moved.
WINDOW_S = 1.0
MAX_MISALIGN_SAMPLES = 2
MAX_MOVED_SHARE = 0.1


@dataclass(frozen=True)
class ChannelSurvey:
    """Powers of a two-channel sound (sums of squares): the channels' mean and their mid's
    as they are (whether they cancel), per third-octave band of the speech range with the
    right channel moved by `lag_samples` (whether a comb is left), and whether the
    channels are identical."""

    channel_power: float
    mid_power: float
    identical: bool
    band_channel_power: tuple[float, ...] = ()
    band_mid_power: tuple[float, ...] = ()
    # Samples the right channel is read later (negative: earlier) to line up with the left.
    lag_samples: int = 0
    # Windows of about a second where the channels correlate, and how many of them line
    # up at a lag more than MAX_MISALIGN_SAMPLES from `lag_samples`.
    correlated_windows: int = 0
    moved_windows: int = 0

    @property
    def mid_db(self) -> float | None:
        """The mid's power against the channels' mean, in dB (None when silent)."""
        if self.channel_power <= 0:
            return None
        return 10 * math.log10(max(self.mid_power, 1e-30) / self.channel_power)

    @property
    def comb_db(self) -> float:
        """How far the mid's level against the channels' varies across the speech bands
        that carry sound, in dB (0 when there is nothing to judge)."""
        strongest = max(self.band_channel_power, default=0.0)
        if strongest <= 0:
            return 0.0
        ratios = [10 * math.log10(max(mid, 1e-30) / chan)
                  for chan, mid in zip(self.band_channel_power, self.band_mid_power)
                  if chan > 0 and 10 * math.log10(chan / strongest) > BAND_FLOOR_DB]
        return max(ratios) - min(ratios) if ratios else 0.0


def _band_edges(rate_hz: int) -> list[tuple[int, int]]:
    """FFT bin ranges [lo, hi) of each third-octave band."""
    bin_hz = rate_hz / FFT_SAMPLES
    return [(int(math.ceil(c * 2 ** (-1 / 6) / bin_hz)), int(math.floor(c * 2 ** (1 / 6) / bin_hz)) + 1)
            for c in BAND_CENTRES_HZ]


def survey_frames(frames: np.ndarray, rate_hz: int) -> ChannelSurvey:
    """The survey of (n, 2) float samples held in memory; `survey_channels` streams."""
    accumulator = _Accumulator(rate_hz)
    accumulator.add(frames)
    return accumulator.result()


def _lag_and_correlation(cross: np.ndarray, power_left: np.ndarray, power_right: np.ndarray,
                         low: int, high: int, most: int) -> tuple[int, float]:
    """The lag (R[n + lag] lines up with L[n], |lag| <= most) that makes the mid strongest
    over bins [low, high), and the channels' correlation there at that lag (-1..1)."""
    speech = np.zeros(len(cross), dtype=np.complex128)
    speech[low:high] = cross[low:high]
    # irfft of L conj(R) at index k: the sum over n of L[n] R[n - k], so the lag is -k.
    correlation = np.fft.irfft(speech, n=FFT_SAMPLES)
    lags = np.arange(-most, most + 1)
    best = int(lags[int(np.argmax(correlation[(-lags) % FFT_SAMPLES]))])
    bins = np.arange(low, high)
    turned = cross[low:high] * np.exp(-2j * np.pi * bins * best / FFT_SAMPLES)
    scale = math.sqrt(float(power_left[low:high].sum()) * float(power_right[low:high].sum()))
    return best, (float(np.real(turned.sum())) / scale if scale > 0 else 0.0)


class _Accumulator:
    """Sums over the file: the channels' power in time and per FFT bin, the cross-spectrum
    (Hann-windowed blocks; circular effects are small for lags far under the block); and
    the lag of every window of about a second where the channels correlate (two numbers a
    window: memory stays flat in any real duration)."""

    def __init__(self, rate_hz: int) -> None:
        self.rate_hz = rate_hz
        self.bands = _band_edges(rate_hz)
        self.speech_bins = (self.bands[0][0], self.bands[-1][1])
        self.most = int(round(MAX_LAG_S * rate_hz))
        self.window = np.hanning(FFT_SAMPLES)
        self.window_blocks = max(1, round(WINDOW_S * rate_hz / FFT_SAMPLES))
        bins = FFT_SAMPLES // 2 + 1
        self.power_left = np.zeros(bins)
        self.power_right = np.zeros(bins)
        self.cross = np.zeros(bins, dtype=np.complex128)
        self.channel_power = self.mid_power = 0.0
        self.identical = True
        self.pending = np.zeros((0, 2))
        # Per block of the window not yet whole: cross-spectrum, left and right power.
        self.pending_cross = np.zeros((0, bins), dtype=np.complex128)
        self.pending_powers = np.zeros((0, 2, bins))
        self.window_lags: list[int] = []

    def add(self, frames: np.ndarray) -> None:
        frames = frames.astype(np.float64)
        self.identical = self.identical and bool((frames[:, 0] == frames[:, 1]).all())
        self.channel_power += float(np.square(frames).sum()) / 2
        self.mid_power += float(np.square(frames.mean(axis=1)).sum())
        data = np.concatenate([self.pending, frames])
        whole = len(data) // FFT_SAMPLES * FFT_SAMPLES
        self.pending = data[whole:]
        if not whole:
            return
        blocks = data[:whole].reshape(-1, FFT_SAMPLES, 2) * self.window[None, :, None]
        spectra = np.fft.rfft(blocks, axis=1)  # (blocks, bins, 2)
        left, right = spectra[:, :, 0], spectra[:, :, 1]
        # Each block's products once: the file's sums and every window's come from them.
        cross = left * np.conj(right)
        powers = np.stack([np.square(np.abs(left)), np.square(np.abs(right))], axis=1)  # (blocks, 2, bins)
        self.power_left += powers[:, 0].sum(axis=0)
        self.power_right += powers[:, 1].sum(axis=0)
        self.cross += cross.sum(axis=0)
        cross = np.concatenate([self.pending_cross, cross])
        powers = np.concatenate([self.pending_powers, powers])
        count = len(cross) // self.window_blocks
        for index in range(count):
            window = slice(index * self.window_blocks, (index + 1) * self.window_blocks)
            self._window(cross[window].sum(axis=0), powers[window].sum(axis=0))
        self.pending_cross = cross[count * self.window_blocks:]
        self.pending_powers = powers[count * self.window_blocks:]

    def _window(self, cross: np.ndarray, powers: np.ndarray) -> None:
        lag, correlation = _lag_and_correlation(cross, powers[0], powers[1], *self.speech_bins, self.most)
        if correlation >= MIN_WINDOW_CORRELATION:
            self.window_lags.append(lag)

    def _mid_spectrum(self, lag: int) -> np.ndarray:
        """Per-bin power of (L[n] + R[n + lag]) / 2."""
        bins = np.arange(len(self.cross))
        turn = np.exp(-2j * np.pi * bins * lag / FFT_SAMPLES)
        return (self.power_left + self.power_right + 2 * np.real(self.cross * turn)) / 4

    def result(self) -> ChannelSurvey:
        lag = 0
        if not self.identical:
            best, correlation = _lag_and_correlation(self.cross, self.power_left, self.power_right,
                                                     *self.speech_bins, self.most)
            lag = best if correlation >= MIN_LAG_CORRELATION else 0
        moved = sum(1 for window_lag in self.window_lags if abs(window_lag - lag) > MAX_MISALIGN_SAMPLES)
        mid = self._mid_spectrum(lag)
        channels = (self.power_left + self.power_right) / 2
        return ChannelSurvey(
            self.channel_power, self.mid_power, self.identical,
            tuple(float(channels[lo:hi].sum()) for lo, hi in self.bands),
            tuple(float(mid[lo:hi].sum()) for lo, hi in self.bands),
            lag, len(self.window_lags), moved,
        )


def survey_channels(path: Path, channels: int, rate_hz: int, chunk_samples: int = 48_000) -> ChannelSurvey | None:
    """The survey of a two-channel raw float spool at `rate_hz` (None for any other layout)."""
    if channels != 2:
        return None
    accumulator = _Accumulator(rate_hz)
    for block in iter_frames(path, channels, chunk_samples):
        accumulator.add(block)
    return accumulator.result()


def enhance_mid(survey: ChannelSurvey | None, stereo: str) -> tuple[bool, str]:
    """Whether two channels are enhanced as their mid once, and why; pure."""
    if survey is None:
        return False, "one channel"
    if survey.identical:
        return True, "dual mono: enhanced once"
    if stereo == "channels":
        return False, "noise_reduction_stereo = \"channels\": each channel enhanced apart"
    mid_db = survey.mid_db
    if mid_db is not None and mid_db < MID_MIN_DB:
        return False, (f"the channels cancel in the mid ({mid_db:.1f} dB against their mean; out of phase?): "
                       "each enhanced apart")
    if survey.correlated_windows and survey.moved_windows > MAX_MOVED_SHARE * survey.correlated_windows:
        return False, (f"the delay between the microphones changes ({survey.moved_windows} of "
                       f"{survey.correlated_windows} seconds off the file's): the mid would comb-filter the voice "
                       "there, so each channel is enhanced apart")
    comb_db = survey.comb_db
    if comb_db > MAX_COMB_DB:
        return False, (f"the mid would comb-filter the voice ({comb_db:.0f} dB between speech bands: the "
                       "microphones hear it at different times): each channel enhanced apart")
    if survey.lag_samples:
        return True, (f"stereo speech enhanced once as its mid (L+R)/2, the right channel lined up "
                      f"{abs(survey.lag_samples)} samples {'earlier' if survey.lag_samples > 0 else 'later'} "
                      "(spaced microphones): dual mono out")
    return True, "stereo speech enhanced once as its mid (L+R)/2: dual mono out"


def read_mid(stream: BinaryIO, total_frames: int, start: int, count: int, lag_samples: int) -> np.ndarray:
    """(L[n] + R[n + lag]) / 2 for n in [start, start + count) of a two-channel raw float
    spool of `total_frames`, as a (count, 1) float32 block (zeros past either end).
    Without a lag, identical channels give exactly the channel itself."""
    first = max(0, start + min(0, lag_samples))
    last = min(total_frames, start + count + max(0, lag_samples))
    data = read_frames(stream, 2, first, last - first)
    wanted = min(count, max(0, total_frames - start))
    left = data[start - first: start - first + wanted, 0]
    right = np.zeros(wanted, dtype=np.float32)
    lo = max(0, -(start + lag_samples))  # frames whose R index is before the file
    from_r = start + lag_samples + lo - first
    hi = min(wanted, total_frames - (start + lag_samples))
    if hi > lo:
        right[lo:hi] = data[from_r: from_r + (hi - lo), 1]
    return np.stack([left, right], axis=1).mean(axis=1, keepdims=True, dtype=np.float32)
