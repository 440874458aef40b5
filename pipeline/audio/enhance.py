"""Streaming speech enhancement: the neural enhancer applied to a sound of any length and
channel count, in chunks, with its delay removed and a wet/dry `strength`.

Owns: cutting the stream into the model's 10 ms frames (any chunk size in, any chunk size
out), one DeepFilterNet state per channel (channels run on their own threads: the native
call releases the GIL, so stereo costs no more wall time than mono on two cores), lining
the output up with the input sample for sample (the model's look-ahead delay is dropped
at the start and flushed out with zeros at the end, so total samples out == total in),
and the wet/dry mix against the input at the same instant: one `strength` for the whole
band, and, with `band_weights`, a per-band mix (`pipeline.audio.band_mix`: the input kept
where the analysis found no noise to remove). Memory is a few frames per channel
whatever the duration.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from pipeline.audio.band_mix import BandMixer
from pipeline.audio.deepfilter import NO_ATTENUATION_LIMIT_DB, SAMPLE_RATE_HZ, DeepFilterState, ModelInfo
from pipeline.audio.noise_bands import BandWeights


class SpeechEnhancer:
    """Feed (samples, channels) float32 blocks at 48 kHz with `process`, then `flush` once."""

    def __init__(
        self,
        channels: int,
        *,
        strength: float = 1.0,
        attenuation_limit_db: float = NO_ATTENUATION_LIMIT_DB,
        band_weights: BandWeights | None = None,
    ) -> None:
        if channels < 1:
            raise ValueError("the enhancer needs at least one channel")
        if not 0.0 <= strength <= 1.0:
            raise ValueError(f"strength {strength} is outside 0..1")
        self.channels = channels
        self.strength = float(strength)
        self._states = [DeepFilterState(attenuation_limit_db) for _ in range(channels)]
        self.info: ModelInfo = self._states[0].info
        self._frame = self.info.frame_samples
        self._pending = np.zeros((0, channels), dtype=np.float32)  # input not yet a whole frame
        self._dry = np.zeros((0, channels), dtype=np.float32)  # input not yet emitted
        self._to_drop = self.info.delay_samples  # the model's delay, dropped from the output head
        self._samples_in = 0
        self._samples_out = 0
        self._pool = ThreadPoolExecutor(max_workers=channels) if channels > 1 else None
        self._bands = (
            BandMixer(band_weights, channels, SAMPLE_RATE_HZ)
            if band_weights is not None and not band_weights.all_wet else None
        )
        self._keep_dry = self.strength < 1.0 or self._bands is not None

    @property
    def lookahead_samples(self) -> int:
        """How far past an output sample the input must reach for that sample to be exact
        (the model's look-ahead, plus the band mix's half filter when it is on)."""
        return self.info.delay_samples + (self._bands.delay_samples if self._bands is not None else 0)

    def process(self, samples: np.ndarray) -> np.ndarray:
        """Enhanced samples lined up with the input; fewer than given at the start."""
        block = self._as_block(samples)
        self._samples_in += len(block)
        if self._keep_dry:  # the dry sound is only kept for the mix
            self._dry = np.concatenate([self._dry, block])
        data = np.concatenate([self._pending, block])
        whole = len(data) - len(data) % self._frame
        self._pending = data[whole:]
        return self._emit(self._run(data[:whole]))

    def flush(self) -> np.ndarray:
        """The rest: pushes the delayed tail out with zeros; afterwards total out == total in."""
        missing = self._samples_in - self._samples_out
        if missing <= 0:
            return np.zeros((0, self.channels), dtype=np.float32)
        # The states still owe `missing` samples after the part of their delay not yet dropped.
        needed = max(len(self._pending), missing + self._to_drop)
        needed = -(-needed // self._frame) * self._frame  # whole frames
        data = np.concatenate([self._pending, np.zeros((needed - len(self._pending), self.channels), np.float32)])
        self._pending = np.zeros((0, self.channels), dtype=np.float32)
        out = self._emit(self._run(data), limit=missing)
        if self._bands is not None:
            out = np.concatenate([out, self._bands.flush()])
        return out

    def close(self) -> None:
        for state in self._states:
            state.close()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def __enter__(self) -> SpeechEnhancer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _as_block(self, samples: np.ndarray) -> np.ndarray:
        block = samples[:, np.newaxis] if samples.ndim == 1 else samples
        if block.shape[1] != self.channels:
            raise ValueError(f"got {block.shape[1]} channels, the enhancer was made for {self.channels}")
        return np.ascontiguousarray(block, dtype=np.float32)

    def _run(self, data: np.ndarray) -> np.ndarray:
        if not len(data):
            return np.zeros((0, self.channels), dtype=np.float32)
        columns = [np.ascontiguousarray(data[:, c]) for c in range(self.channels)]
        if self._pool is None:
            outputs = [self._states[0].process(columns[0])]
        else:
            outputs = list(self._pool.map(lambda pair: pair[0].process(pair[1]), zip(self._states, columns)))
        return np.stack(outputs, axis=1)

    def _emit(self, wet: np.ndarray, limit: int | None = None) -> np.ndarray:
        if self._to_drop:
            dropped = min(self._to_drop, len(wet))
            wet = wet[dropped:]
            self._to_drop -= dropped
        wet = wet[: max(0, self._samples_in - self._samples_out)]
        if limit is not None:
            wet = wet[:limit]
        count = len(wet)
        self._samples_out += count
        if not self._keep_dry:
            return wet
        dry, self._dry = self._dry[:count], self._dry[count:]
        mixed = wet if self.strength >= 1.0 else (self.strength * wet + (1.0 - self.strength) * dry).astype(np.float32)
        if self._bands is None:
            return mixed
        return self._bands.process(mixed, dry)


def enhance_array(
    samples: np.ndarray, *, strength: float = 1.0, attenuation_limit_db: float = NO_ATTENUATION_LIMIT_DB,
    band_weights: BandWeights | None = None, chunk_samples: int = 48_000,
) -> np.ndarray:
    """A whole 48 kHz array enhanced (same shape out), for tests and benchmarks."""
    block = samples[:, np.newaxis] if samples.ndim == 1 else samples
    with SpeechEnhancer(block.shape[1], strength=strength, attenuation_limit_db=attenuation_limit_db,
                        band_weights=band_weights) as enhancer:
        pieces = [enhancer.process(block[i:i + chunk_samples]) for i in range(0, len(block), chunk_samples)]
        pieces.append(enhancer.flush())
    out = np.concatenate(pieces) if pieces else np.zeros_like(block)
    return out[:, 0] if samples.ndim == 1 else out
