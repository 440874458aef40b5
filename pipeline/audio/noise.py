"""Noise floor and an SNR estimate from the distribution of short-block levels.

Levels of 50 ms blocks (unweighted, all channels) go into a fixed histogram, so memory
does not grow with duration. The noise floor is the 10th percentile (the quietest
passages: pauses, room tone), the speech level the 95th; their difference is the SNR
estimate. Digital silence is left out: it is not noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BLOCK_S = 0.05
FLOOR_DBFS = -120.0
BIN_DB = 0.25
NOISE_PERCENTILE = 10.0
SPEECH_PERCENTILE = 95.0


@dataclass(frozen=True)
class NoiseEstimate:
    noise_floor_dbfs: float | None
    speech_level_dbfs: float | None

    @property
    def snr_db(self) -> float | None:
        if self.noise_floor_dbfs is None or self.speech_level_dbfs is None:
            return None
        return self.speech_level_dbfs - self.noise_floor_dbfs

    def to_dict(self) -> dict[str, float | None]:
        def r(v: float | None) -> float | None:
            return None if v is None else round(v, 2)
        return {"noise_floor_dbfs": r(self.noise_floor_dbfs), "speech_level_dbfs": r(self.speech_level_dbfs), "snr_db": r(self.snr_db)}


class BlockLevelHistogram:
    def __init__(self, sample_rate_hz: int) -> None:
        self.block_samples = max(1, int(round(sample_rate_hz * BLOCK_S)))
        self._pending = np.zeros((0, 1), dtype=np.float64)
        self._counts = np.zeros(int(-FLOOR_DBFS / BIN_DB) + 1, dtype=np.int64)

    def add(self, samples: np.ndarray) -> None:
        block = samples if samples.ndim == 2 else samples[:, np.newaxis]
        if self._pending.shape[1] != block.shape[1]:
            self._pending = np.zeros((0, block.shape[1]), dtype=np.float64)
        data = np.concatenate([self._pending, block.astype(np.float64, copy=False)])
        whole = len(data) // self.block_samples
        if whole:
            blocks = data[: whole * self.block_samples].reshape(whole, self.block_samples, data.shape[1])
            mean_square = (blocks ** 2).mean(axis=(1, 2))
            audible = mean_square > 10 ** (FLOOR_DBFS / 10)
            levels = 10 * np.log10(mean_square[audible])
            index = np.clip(((levels - FLOOR_DBFS) / BIN_DB).astype(int), 0, len(self._counts) - 1)
            np.add.at(self._counts, index, 1)
        self._pending = data[whole * self.block_samples:]

    def percentile_dbfs(self, percentile: float) -> float | None:
        total = int(self._counts.sum())
        if total == 0:
            return None
        cumulative = np.cumsum(self._counts)
        index = int(np.searchsorted(cumulative, percentile / 100.0 * total))
        return FLOOR_DBFS + (index + 0.5) * BIN_DB

    def estimate(self) -> NoiseEstimate:
        return NoiseEstimate(self.percentile_dbfs(NOISE_PERCENTILE), self.percentile_dbfs(SPEECH_PERCENTILE))
