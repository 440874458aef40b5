"""The QA detectors on numpy signals whose defects are placed by construction.

Expected values come from how each signal is built (where the zeros are, how many
samples sit at full scale, which channel is inverted), never from running the code.
Every detector is also fed the same signal cut into different chunk sizes: streaming
must not change any result.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from pipeline.qa.detectors import (
    FULL_SCALE,
    ClipDetector,
    HumDetector,
    PhaseDetector,
    SilenceDetector,
    merge_intervals,
)

RATE_HZ = 48_000
CHUNK_SIZES = (777, 4096, 48_000, 10**9)


def seconds(n: float) -> int:
    return int(round(n * RATE_HZ))


def sine(duration_s: float, *, frequency_hz: float = 1000.0, peak: float = 0.2, phase: float = math.pi / 2) -> np.ndarray:
    """A sine starting at its crest (cos) so that the first sample is already loud."""
    t = np.arange(seconds(duration_s)) / RATE_HZ
    return (peak * np.sin(2 * np.pi * frequency_hz * t + phase)).astype(np.float32)


def stereo(left: np.ndarray, right: np.ndarray | None = None) -> np.ndarray:
    return np.stack([left, left if right is None else right], axis=1)


def feed(detector, signal: np.ndarray, chunk: int):
    for start in range(0, signal.shape[0], chunk):
        detector.add(signal[start : start + chunk])
    return detector.result()


def approx_equal(a: object, b: object) -> bool:
    """Equal, floats to 1e-9 relative (sums taken in a different order round differently)."""
    if dataclasses.is_dataclass(a) and dataclasses.is_dataclass(b):
        return all(approx_equal(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(approx_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return a == pytest.approx(b, rel=1e-9, abs=1e-9)
    return a == b


def results_for_every_chunking(make, signal: np.ndarray):
    results = [feed(make(), signal, chunk) for chunk in CHUNK_SIZES]
    for chunk, other in zip(CHUNK_SIZES[1:], results[1:]):
        assert approx_equal(other, results[0]), f"chunks of {chunk} samples: {other} != {results[0]}"
    return results[0]


# ------------------------------------------------------------------ silence


def silence_detector(min_dropout_s: float = 0.05) -> SilenceDetector:
    return SilenceDetector(RATE_HZ, 2, silence_threshold_dbfs=-60.0, digital_silence_dbfs=-90.0,
                           min_dropout_s=min_dropout_s)


def test_leading_and_trailing_silence_and_one_dropout() -> None:
    # 1.5 s zeros | 2 s tone | 0.2 s zeros (dropout) | 2 s tone | 0.5 s zeros
    parts = [np.zeros(seconds(1.5)), sine(2.0), np.zeros(seconds(0.2)), sine(2.0), np.zeros(seconds(0.5))]
    signal = stereo(np.concatenate(parts).astype(np.float32))
    result = results_for_every_chunking(silence_detector, signal)
    assert result.duration_s == pytest.approx(6.2)
    assert result.has_sound
    assert result.leading_silence_s == pytest.approx(1.5)
    # The last loud sample is the tone's last one; a cosine there is near its crest.
    assert result.trailing_silence_s == pytest.approx(0.5, abs=2 / RATE_HZ)
    assert result.dropout_count == 1
    # Zeros of the dropout, plus the tone's zero crossings on either side cannot lengthen
    # it: the cosine is at its crest where it is cut.
    assert result.longest_dropout_s == pytest.approx(0.2, abs=2 / RATE_HZ)
    (start_s, end_s), = result.dropout_moments
    assert start_s == pytest.approx(3.5, abs=2 / RATE_HZ)
    assert end_s == pytest.approx(3.7, abs=2 / RATE_HZ)


def test_digital_silence_in_the_trailing_quiet_is_not_a_dropout() -> None:
    # Tone, then -70 dBFS room tone (silence at the edge, but not digital silence)
    # with a 0.3 s digital gap inside it, then the end: no sound after the gap.
    room = np.full(seconds(1.0), 10 ** (-70 / 20), dtype=np.float32)
    parts = [sine(1.0), room, np.zeros(seconds(0.3)), room]
    result = results_for_every_chunking(silence_detector, stereo(np.concatenate(parts)))
    assert result.dropout_count == 0
    assert result.trailing_silence_s == pytest.approx(2.3, abs=2 / RATE_HZ)


def test_short_gaps_and_one_silent_channel_are_not_dropouts() -> None:
    # The right channel is digital silence throughout; only the left one's gaps are
    # silence on every channel: 20 ms (under min_dropout_s), then 100 ms.
    short_gap = np.concatenate([sine(1.0), np.zeros(seconds(0.02), dtype=np.float32), sine(1.0)])
    result = results_for_every_chunking(silence_detector, stereo(short_gap, np.zeros_like(short_gap)))
    assert result.dropout_count == 0
    long_gap = np.concatenate([sine(1.0), np.zeros(seconds(0.1), dtype=np.float32), sine(1.0)])
    result = results_for_every_chunking(silence_detector, stereo(long_gap, np.zeros_like(long_gap)))
    assert result.dropout_count == 1
    assert result.longest_dropout_s == pytest.approx(0.1, abs=2 / RATE_HZ)


def test_all_silent_signal_has_no_sound() -> None:
    result = results_for_every_chunking(silence_detector, np.zeros((seconds(2.0), 2), dtype=np.float32))
    assert not result.has_sound
    assert result.leading_silence_s == pytest.approx(2.0)
    assert result.dropout_count == 0


# ------------------------------------------------------------------ clipping


def test_clip_runs_are_counted_per_channel_and_across_chunk_boundaries() -> None:
    left = np.zeros(seconds(1.0), dtype=np.float32)
    right = np.zeros(seconds(1.0), dtype=np.float32)
    left[1000:1003] = 1.0  # a run of 3: a clip
    left[2000:2002] = 1.0  # a run of 2: not a clip
    left[4095:4105] = -1.0  # 10 negative full-scale samples across the 4096 boundary
    right[30_000:30_005] = FULL_SCALE  # +32767/32768, the largest 16-bit value
    right[-4:] = 1.0  # a run still open at the end of the stream
    result = results_for_every_chunking(lambda: ClipDetector(RATE_HZ, 2, run_samples=3), stereo(left, right))
    assert result.clip_count == 4
    assert result.clipped_samples == 3 + 10 + 5 + 4
    assert result.first_clip_s == pytest.approx(1000 / RATE_HZ)
    assert result.peak_level == pytest.approx(1.0)
    assert result.peak_time_s == pytest.approx(1000 / RATE_HZ)


def test_a_loud_unclipped_low_tone_is_not_clipping() -> None:
    # A 50 Hz sine peaking at -0.01 dBFS has many samples close to full scale, none at it.
    tone = sine(1.0, frequency_hz=50.0, peak=10 ** (-0.01 / 20))
    result = ClipDetector(RATE_HZ, 1, run_samples=3)
    result.add(tone[:, np.newaxis])
    assert result.result().clip_count == 0


def test_hard_clipped_tone_counts_one_clip_per_half_cycle() -> None:
    # 0.1 s of 1 kHz driven 20x over full scale: 100 cycles, 200 flat tops per channel.
    tone = np.clip(sine(0.1, peak=4.0, phase=0.0), -1.0, 1.0)
    result = results_for_every_chunking(lambda: ClipDetector(RATE_HZ, 2, run_samples=3), stereo(tone))
    assert result.clip_count == 2 * 200


# ------------------------------------------------------------------ phase


def phase_detector() -> PhaseDetector:
    return PhaseDetector(RATE_HZ, 2, (0, 1), gate_dbfs=-60.0, correlation_min=-0.2)


def test_identical_channels_correlate_fully_and_fold_down_without_loss() -> None:
    tone = sine(3.0)
    result = results_for_every_chunking(phase_detector, stereo(tone))
    assert result.correlation == pytest.approx(1.0)
    assert result.fold_down_loss_db == pytest.approx(0.0, abs=1e-6)
    assert result.out_of_phase_s == 0.0


def test_inverted_channel_cancels_in_mono() -> None:
    tone = sine(3.0)
    result = results_for_every_chunking(phase_detector, stereo(tone, -tone))
    assert result.correlation == pytest.approx(-1.0)
    assert result.fold_down_loss_db is None  # (L + R) / 2 is exactly zero
    assert result.out_of_phase_s == pytest.approx(3.0)
    assert result.out_of_phase_moments == ((0.0, 3.0),)


def test_unrelated_channels_lose_3_db_in_mono() -> None:
    rng = np.random.default_rng(5)
    noise = rng.normal(0.0, 0.1, (seconds(10.0), 2)).astype(np.float32)
    result = results_for_every_chunking(phase_detector, noise)
    assert abs(result.correlation) < 0.02
    # Equal, unrelated powers: (L+R)/2 has half the mean power of either channel.
    assert result.fold_down_loss_db == pytest.approx(10 * math.log10(2), abs=0.1)


def test_partly_inverted_programme_reports_how_long() -> None:
    # 6 s at equal level, the middle 2 s (on block boundaries) inverted: the
    # energy-weighted correlation is (4 - 2) / 6.
    tone = sine(6.0)
    right = tone.copy()
    right[seconds(2.0) : seconds(4.0)] *= -1
    result = results_for_every_chunking(phase_detector, stereo(tone, right))
    assert result.correlation == pytest.approx(1 / 3, abs=1e-3)
    assert result.out_of_phase_s == pytest.approx(2.0)
    assert result.out_of_phase_moments == ((2.0, 4.0),)


def test_blocks_where_a_channel_is_quiet_do_not_count() -> None:
    tone = sine(2.0)
    result = results_for_every_chunking(phase_detector, stereo(tone, np.zeros_like(tone)))
    assert result.correlation is None
    assert result.measured_s == 0.0


# ------------------------------------------------------------------ hum


def hum_signal(mains_hz: float | None, *, duration_s: float = 4.0, hum_dbfs: float = -40.0) -> np.ndarray:
    rng = np.random.default_rng(9)
    noise = rng.normal(0.0, 10 ** (-60 / 20), seconds(duration_s))  # -60 dBFS RMS floor
    signal = sine(duration_s, frequency_hz=1000.0, peak=0.2) + noise
    if mains_hz is not None:
        signal = signal + sine(duration_s, frequency_hz=mains_hz, peak=10 ** (hum_dbfs / 20), phase=0.3)
    return stereo(signal.astype(np.float32))


def test_hum_level_and_prominence_at_50_hz() -> None:
    result = results_for_every_chunking(lambda: HumDetector(RATE_HZ, 2), hum_signal(50.0))
    fundamental = result.peak(50.0, 1)
    assert fundamental is not None
    assert fundamental.level_dbfs == pytest.approx(-40.0, abs=0.3)
    # White noise at -60 dBFS RMS spreads over 24 kHz: about -103 dB per 1.46 Hz bin,
    # so a -40 dBFS sine stands far above it.
    assert fundamental.above_floor_db > 40.0
    assert result.peak(60.0, 1).above_floor_db < 6.0
    assert result.peak(50.0, 2).above_floor_db < 6.0


def test_hum_at_60_hz_is_told_apart_from_50_hz() -> None:
    result = HumDetector(RATE_HZ, 2)
    result.add(hum_signal(60.0))
    found = result.result()
    assert found.peak(60.0, 1).above_floor_db > 40.0
    assert found.peak(50.0, 1).above_floor_db < 6.0


def test_no_hum_means_no_peak() -> None:
    found = results_for_every_chunking(lambda: HumDetector(RATE_HZ, 2), hum_signal(None))
    assert all(p.above_floor_db < 6.0 for p in found.peaks)


def test_hum_in_a_file_shorter_than_one_segment() -> None:
    detector = HumDetector(RATE_HZ, 2)
    detector.add(hum_signal(50.0, duration_s=0.5))
    found = detector.result()
    assert found.peak(50.0, 1).above_floor_db > 20.0
    detector = HumDetector(RATE_HZ, 2)
    detector.add(hum_signal(50.0, duration_s=0.1))
    assert detector.result().peaks == ()  # too short to say anything


def test_merge_intervals_joins_close_moments() -> None:
    starts = np.array([5.0, 1.0, 1.05, 3.0])
    ends = np.array([6.0, 1.02, 1.1, 3.5])
    assert merge_intervals(starts, ends, 0.1) == [(1.0, 1.1), (3.0, 3.5), (5.0, 6.0)]
