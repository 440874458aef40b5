"""The speech detector's pure half (pipeline.captions.speech) on signals made here: tone
bursts ("speech") at known times, over silence or broadband noise; noise alone is not speech."""

from __future__ import annotations

import numpy as np

from pipeline.captions.speech import FRAME_S, FrameFeatures, find_speech_spans, frame_features

RATE_HZ = 16_000


def signal(duration_s: float, bursts: list[tuple[float, float]], *, pitch_hz: float = 180.0,
           noise_rms: float = 0.0) -> np.ndarray:
    t = np.arange(int(duration_s * RATE_HZ)) / RATE_HZ
    gate = np.zeros_like(t)
    for start_s, end_s in bursts:
        gate[(t >= start_s) & (t < end_s)] = 1.0
    noise = np.random.default_rng(7).normal(0.0, noise_rms, len(t))
    return (0.3 * np.sin(2 * np.pi * pitch_hz * t) * gate + noise).astype(np.float32)


def spans_of(samples: np.ndarray) -> list[tuple[float, float]]:
    level, voicing = frame_features(samples, RATE_HZ)
    return find_speech_spans(FrameFeatures(level, voicing))


def near(found: list[tuple[float, float]], expected: list[tuple[float, float]]) -> bool:
    return len(found) == len(expected) and all(
        abs(a - c) <= FRAME_S and abs(b - d) <= FRAME_S for (a, b), (c, d) in zip(found, expected))


def test_bursts_over_silence_are_found_to_a_frame() -> None:
    bursts = [(1.0, 3.0), (5.0, 6.5)]
    assert near(spans_of(signal(8.0, bursts)), bursts)


def test_bursts_over_noise_are_found_and_the_noise_is_not_speech() -> None:
    bursts = [(0.5, 2.0), (4.0, 7.0)]
    assert near(spans_of(signal(8.0, bursts, pitch_hz=120.0, noise_rms=0.03)), bursts)
    assert spans_of(signal(8.0, [], noise_rms=0.1)) == []


def test_short_pauses_are_bridged_and_blips_dropped() -> None:
    assert near(spans_of(signal(4.0, [(1.0, 1.8), (2.0, 3.0)])), [(1.0, 3.0)])  # 0.2 s pause: one phrase
    assert spans_of(signal(4.0, [(1.0, 1.04)])) == []  # one 40 ms frame


def test_continuous_voice_is_all_speech_and_silence_none() -> None:
    assert near(spans_of(signal(5.0, [(0.0, 5.0)], pitch_hz=440.0)), [(0.0, 5.0)])
    assert spans_of(np.zeros(RATE_HZ * 3, dtype=np.float32)) == []
