"""Speech de-reverberation (pure numpy): weighted prediction error (WPE, Nakatani et al.;
Yoshioka & Nakatani 2012), streamed over a sound of any length with flat memory and no
delay.

WPE predicts each STFT frame's late reverberation from the frames `delay` to
`delay + taps - 1` before it (per frequency bin, a complex linear filter), weighting the
frames by the inverse of their estimated clean power, and subtracts the prediction; the
direct sound and early reflections (inside `delay`) are kept. The filter comes from the
statistics of a window of frames, re-estimated `iterations` times with the power of the
last estimate. Channels are processed apart (each its own filters).

Streaming: the STFT runs over the whole stream (one continuous analysis and overlap-add
synthesis, so there are no seams in the time domain); its frames are cut into blocks of
`block_frames`, and each block's filter is estimated on the block plus `margin_frames` on
either side (clipped to the stream), then applied to the block's own frames. Over the first
`crossfade_frames` of a block the previous block's filter fades into the new one (the
filters are linear, so this is a per-frame mix of the two outputs). A block's answer
depends only on the frames of its window, never on how the input was chunked, so any
chunk sizes give the same samples as `dereverb_array`. Memory is one window of frames per
channel whatever the duration. Output sample k is input sample k: the analysis frames are
centred on the hops they finish, and samples are emitted once every frame covering them has
been added (the stream owes up to one window plus its margin, given back by `flush`).

Tuned at 48 kHz: 2048-sample frames, hop 512, 10 taps, delay 3, 3 iterations (see
bench/RESULTS.md "Speech de-reverberation"). Only bins under `max_hz` are filtered. The
detector (`pipeline.audio.reverb`) runs the same algorithm on a sample of the sound.
Our own code rather than nara-wpe (MIT): the same algorithm (its `wpe_v7` with full
statistics) scores the same on the bench, and the streaming, the bin limit and the
memory bound are ours anyway.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import signal

BIN_GROUP = 128  # bins solved together: bounds the lagged-frame stack to a few MB


@dataclass(frozen=True)
class WpeSettings:
    """WPE at a sample rate: STFT size and hop (samples), filter taps and prediction delay
    (frames), iterations, and the streaming blocks (frames)."""

    fft_size: int = 2048
    hop: int = 512
    taps: int = 10
    delay: int = 3
    iterations: int = 3
    block_frames: int = 375  # 4 s at 48 kHz
    margin_frames: int = 188  # 2 s each side: an 8 s window of statistics
    crossfade_frames: int = 8
    sample_rate_hz: int = 48_000
    # Only under this: speech's reverberation is heard there (rooms and air absorb the
    # highs' tail sooner), and WPE's cost is per bin (8 kHz: a third of them at 48 kHz).
    max_hz: float = 8_000.0

    @property
    def bins(self) -> int:
        return self.fft_size // 2 + 1

    @property
    def max_bin(self) -> int:
        """Bins below this are de-reverberated; the rest pass as they are."""
        return min(self.bins, math.ceil(self.max_hz * self.fft_size / self.sample_rate_hz) + 1)

    @property
    def history_frames(self) -> int:
        """Frames before a predicted frame that its prediction reads."""
        return self.delay + self.taps - 1

    def to_dict(self) -> dict[str, object]:
        return {"fft_size": self.fft_size, "hop": self.hop, "taps": self.taps, "delay": self.delay,
                "iterations": self.iterations, "block_frames": self.block_frames,
                "margin_frames": self.margin_frames, "crossfade_frames": self.crossfade_frames,
                "max_hz": self.max_hz}


def settings_for_rate(sample_rate_hz: int, **overrides: float) -> WpeSettings:
    """The 48 kHz settings scaled to another rate (same durations in frames and seconds)."""
    scale = sample_rate_hz / 48_000
    size = 1 << max(6, round(math.log2(2048 * scale)))
    return WpeSettings(fft_size=size, hop=size // 4, sample_rate_hz=sample_rate_hz, **overrides)


def _window(size: int) -> tuple[np.ndarray, np.ndarray]:
    """(analysis, synthesis): periodic Hann, and Hann over the overlap-added square sum
    (1.5 at a quarter hop), so that analysis then synthesis gives the input back."""
    analysis = signal.windows.hann(size, sym=False)
    return analysis, analysis / 1.5


def wpe_filters(
    frames: np.ndarray, start: int, stop: int, settings: WpeSettings,
) -> np.ndarray:
    """The WPE filters (bins, taps) estimated on frames[:, start:stop]; `frames` is
    (bins, n) complex and must hold `history_frames` frames before `start` (zeros before
    the stream's first frame)."""
    taps, delay = settings.taps, settings.delay
    bins = frames.shape[0]
    count = stop - start
    filters = np.zeros((bins, taps), dtype=np.complex128)
    if count <= 0:
        return filters
    for low in range(0, bins, BIN_GROUP):
        high = min(bins, low + BIN_GROUP)
        observed = frames[low:high, start:stop].astype(np.complex64)
        # lagged[b, k, t] = frames[b, start + t - delay - k]
        lagged = np.stack([frames[low:high, start - delay - k: stop - delay - k] for k in range(taps)],
                          axis=1).astype(np.complex64)
        estimate = observed
        for _ in range(settings.iterations):
            power = np.abs(estimate).astype(np.float64) ** 2
            floor = 1e-10 * power.max(axis=1, keepdims=True)
            # silent bins: any weight will do (nara-wpe's choice: 1)
            scale = np.where(floor > 0, 1.0 / np.sqrt(np.maximum(power, np.maximum(floor, 1e-300))), 1.0)
            scale32 = scale.astype(np.float32)
            scaled = lagged * scale32[:, np.newaxis, :]
            correlation = (scaled @ scaled.conj().transpose(0, 2, 1)).astype(np.complex128)  # (b, taps, taps)
            vector = np.einsum("bkt,bt->bk", scaled, (observed * scale32).conj()).astype(np.complex128)
            # A little diagonal loading: silent or tonal bins make the matrix singular.
            load = 1e-7 * np.trace(correlation, axis1=1, axis2=2).real[:, np.newaxis, np.newaxis] + 1e-30
            correlation = correlation + load * np.eye(taps)
            solved = np.linalg.solve(correlation, vector[:, :, np.newaxis])[:, :, 0]  # the conjugate filter
            estimate = observed - (solved.conj().astype(np.complex64)[:, np.newaxis, :] @ lagged)[:, 0, :]
        filters[low:high] = solved
    return filters


def apply_filters(frames: np.ndarray, start: int, stop: int, filters: np.ndarray, delay: int) -> np.ndarray:
    """frames[:, start:stop] with their predicted late reverberation taken off."""
    out = frames[:, start:stop].copy()
    for k in range(filters.shape[1]):
        out -= filters[:, k: k + 1].conj() * frames[:, start - delay - k: stop - delay - k]
    return out


class Dereverberator:
    """Feed (samples, channels) float32 blocks with `process`, then `flush` once; the
    samples out line up with the samples in, and total out == total in."""

    def __init__(self, channels: int, settings: WpeSettings | None = None) -> None:
        if channels < 1:
            raise ValueError("de-reverberation needs at least one channel")
        self.channels = channels
        self.settings = settings or WpeSettings()
        s = self.settings
        if s.fft_size != 4 * s.hop:
            raise ValueError("the STFT hop must be a quarter of its size")
        self._analysis, self._synthesis = _window(s.fft_size)
        self._bins = s.bins
        self._active = np.concatenate([c * s.bins + np.arange(s.max_bin) for c in range(channels)])
        # Input samples not yet framed; starts with the zeros before sample 0, so that frame
        # t ends at sample (t + 1) * hop.
        self._input = np.zeros((s.fft_size - s.hop, channels), dtype=np.float64)
        self._samples_in = 0
        self._samples_out = 0
        # STFT frames kept: rows are (channel, bin), columns frames from `_first` on,
        # starting with `history_frames` zeros before frame 0.
        history = s.history_frames
        self._frames = np.zeros((channels * self._bins, history), dtype=np.complex128)
        self._first = -history
        self._next_block = 0
        self._previous: np.ndarray | None = None  # the last block's filters
        self._overlap = np.zeros((s.fft_size - s.hop, channels), dtype=np.float64)
        self._to_drop = s.fft_size - s.hop

    @property
    def frames_held(self) -> int:
        """STFT frames kept in memory (bounded by one block window, whatever the duration)."""
        return self._frames.shape[1]

    @property
    def frames_total(self) -> int:
        """Frames analysed so far."""
        return self._first + self._frames.shape[1]

    def process(self, samples: np.ndarray) -> np.ndarray:
        """De-reverberated samples lined up with the input; fewer than given while the
        first window fills."""
        block = samples[:, np.newaxis] if samples.ndim == 1 else samples
        if block.shape[1] != self.channels:
            raise ValueError(f"got {block.shape[1]} channels, the de-reverberator was made for {self.channels}")
        self._samples_in += len(block)
        self._add_frames(block.astype(np.float64))
        return self._run_blocks(final=False)

    def flush(self) -> np.ndarray:
        """The rest of the samples; afterwards total out == total in."""
        s = self.settings
        # Every frame that overlaps the input, the last ones reading zeros after its end.
        needed = -(-(self._samples_in + s.fft_size - s.hop) // s.hop) if self._samples_in else 0
        missing = needed - self.frames_total
        if missing > 0:
            pad = s.fft_size + (missing - 1) * s.hop - len(self._input)
            self._add_frames(np.zeros((max(0, pad), self.channels)))
        out = self._run_blocks(final=True)
        already = self._samples_out - len(out)
        out = out[: max(0, self._samples_in - already)]
        self._samples_out = already + len(out)
        return out

    def _add_frames(self, block: np.ndarray) -> None:
        s = self.settings
        data = np.concatenate([self._input, block])
        count = max(0, (len(data) - s.fft_size) // s.hop + 1)
        if count == 0:
            self._input = data
            return
        starts = np.arange(count) * s.hop
        # (count, size, channels) -> spectra (channels * bins, count)
        segments = np.stack([data[i: i + s.fft_size] for i in starts]) * self._analysis[np.newaxis, :, np.newaxis]
        spectra = np.fft.rfft(segments, axis=1).transpose(2, 1, 0).reshape(self.channels * self._bins, count)
        self._frames = np.concatenate([self._frames, spectra], axis=1)
        self._input = data[count * s.hop:]

    def _run_blocks(self, final: bool) -> np.ndarray:
        s = self.settings
        pieces = []
        total = self.frames_total
        while True:
            start = self._next_block * s.block_frames
            stop = start + s.block_frames
            if start >= total:
                break
            if not final and total < stop + s.margin_frames:
                break
            stop = min(stop, total)
            window_start = max(0, start - s.margin_frames)
            window_stop = min(total, stop + s.margin_frames)
            # Only the rows of bins under max_hz, from the window's history on.
            low = window_start - s.history_frames - self._first
            rows = self._frames[self._active, low: window_stop - self._first]
            filters = wpe_filters(rows, s.history_frames, s.history_frames + window_stop - window_start, s)
            first = s.history_frames + start - window_start
            clean = self._frames[:, start - self._first: stop - self._first].copy()
            clean[self._active] = apply_filters(rows, first, first + stop - start, filters, s.delay)
            fade = min(s.crossfade_frames, stop - start) if self._previous is not None else 0
            if fade:
                before = apply_filters(rows, first, first + fade, self._previous, s.delay)
                weight = (np.arange(fade) + 0.5) / fade
                clean[self._active, :fade] = (1.0 - weight) * before + weight * clean[self._active, :fade]
            self._previous = filters
            pieces.append(self._synthesize(clean))
            self._next_block += 1
            self._drop_frames()
        if not pieces:
            return np.zeros((0, self.channels), dtype=np.float32)
        return np.concatenate(pieces).astype(np.float32)

    def _synthesize(self, spectra: np.ndarray) -> np.ndarray:
        """Overlap-add the frames; a sample is out once the last frame over it is added.
        The first `fft_size - hop` samples made are before the input's start: dropped."""
        s = self.settings
        count = spectra.shape[1]
        frames = np.fft.irfft(spectra.reshape(self.channels, self._bins, count), n=s.fft_size, axis=1)
        frames = frames.transpose(2, 1, 0) * self._synthesis[np.newaxis, :, np.newaxis]  # (count, size, ch)
        buffer = np.concatenate([self._overlap, np.zeros((count * s.hop, self.channels))])
        for i in range(count):
            buffer[i * s.hop: i * s.hop + s.fft_size] += frames[i]
        out = buffer[: count * s.hop]
        self._overlap = buffer[count * s.hop:].copy()
        if self._to_drop:
            dropped = min(self._to_drop, len(out))
            out = out[dropped:]
            self._to_drop -= dropped
        self._samples_out += len(out)
        return out

    def _drop_frames(self) -> None:
        """Keep only what the next block reads: its window's first frame minus the history."""
        s = self.settings
        keep_from = self._next_block * s.block_frames - s.margin_frames - s.history_frames - 1
        drop = keep_from - self._first
        if drop > 0:
            self._frames = self._frames[:, drop:]
            self._first += drop


def dereverb_array(samples: np.ndarray, settings: WpeSettings | None = None, chunk_samples: int = 48_000) -> np.ndarray:
    """A whole array de-reverberated (same shape out), streamed in chunks."""
    block = samples[:, np.newaxis] if samples.ndim == 1 else samples
    engine = Dereverberator(block.shape[1], settings)
    pieces = [engine.process(block[i: i + chunk_samples]) for i in range(0, len(block), chunk_samples)]
    pieces.append(engine.flush())
    out = np.concatenate(pieces)
    return out[:, 0] if samples.ndim == 1 else out
