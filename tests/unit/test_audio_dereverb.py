"""De-reverberation (WPE, pipeline.audio.dereverb) and its detector (pipeline.audio.reverb)
on synthesized sound: speech-like voiced syllables, dry or through a room whose impulse
response is a direct path plus an exponentially decaying noise tail with a set RT60."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import signal

from pipeline.audio.dereverb import (
    Dereverberator,
    WpeSettings,
    apply_filters,
    dereverb_array,
    settings_for_rate,
    wpe_filters,
)
from pipeline.audio.reverb import REVERBERANT_DB, excerpt_spans, measure_reverb

RATE = 16_000
# Small blocks so that a few seconds hold several blocks, seams and crossfades.
SMALL = settings_for_rate(RATE, block_frames=60, margin_frames=30, crossfade_frames=8)


def speech_like(seconds: float, seed: int = 1) -> np.ndarray:
    """Syllables of 180 ms, 4 a second, with pauses between: two voiced (a gliding pitch,
    harmonics of random phase and strength) for one unvoiced (noise), each through its
    own band-pass "formant", like a voice's changing vowels and consonants."""
    rng = np.random.default_rng(seed)
    out = np.zeros(int(seconds * RATE))
    syllable = int(0.18 * RATE)
    t = np.arange(syllable) / RATE
    envelope = np.hanning(syllable)
    for index, start in enumerate(range(int(0.05 * RATE), len(out) - syllable, int(0.25 * RATE))):
        if index % 3 != 2:
            f0 = rng.uniform(90, 220) * (1 + rng.uniform(-0.3, 0.3) * t / t[-1])
            phase = 2 * np.pi * np.cumsum(f0) / RATE
            voice = sum(rng.uniform(0.2, 1.0) / k * np.sin(k * phase + rng.uniform(0, 2 * np.pi)) for k in range(1, 30))
        else:
            voice = rng.standard_normal(syllable)
        b, a = signal.butter(2, sorted(rng.uniform(300, 3500, 2)), btype="band", fs=RATE)
        voice = signal.lfilter(b, a, voice)
        out[start: start + syllable] += envelope * voice / np.abs(voice).max()
    return 0.1 * out / np.abs(out).max()


def room(rt60_s: float, seed: int = 2) -> np.ndarray:
    """A direct path and, from 2 ms on, noise decaying by 60 dB in `rt60_s` (its energy
    about equal to the direct path's: a talker a few metres from the microphone)."""
    rng = np.random.default_rng(seed)
    length = int(rt60_s * RATE)
    t = np.arange(length) / RATE
    tail = rng.standard_normal(length) * 10 ** (-3 * t / rt60_s)
    tail[: int(0.002 * RATE)] = 0.0
    tail *= 1.0 / np.sqrt(np.sum(tail ** 2))
    tail[0] = 1.0
    return tail


def reverberant(seconds: float, rt60_s: float = 0.6) -> tuple[np.ndarray, np.ndarray]:
    dry = speech_like(seconds)
    return dry, np.convolve(dry, room(rt60_s))[: len(dry)]


def block_reference(x: np.ndarray, s: WpeSettings) -> np.ndarray:
    """The block logic written out offline: one STFT of the whole signal (frame t ends at
    sample (t + 1) * hop), every block's filters estimated on its window, applied to its
    frames with the crossfade from the previous block's, one overlap-add."""
    size, hop = s.fft_size, s.hop
    window = np.hanning(size + 1)[:-1]
    frames_total = -(-(len(x) + size - hop) // hop)
    padded = np.concatenate([np.zeros(size - hop), x, np.zeros(frames_total * hop + size)])
    spectra = np.stack([np.fft.rfft(padded[t * hop: t * hop + size] * window) for t in range(frames_total)], axis=1)
    history = s.history_frames
    frames = np.concatenate([np.zeros((spectra.shape[0], history), complex), spectra], axis=1)
    active = np.arange(s.max_bin)
    clean = spectra.copy()
    previous = None
    for start in range(0, frames_total, s.block_frames):
        stop = min(start + s.block_frames, frames_total)
        low, high = max(0, start - s.margin_frames), min(frames_total, stop + s.margin_frames)
        rows = frames[active]
        filters = wpe_filters(rows[:, low:], history, history + high - low, s)
        block = apply_filters(rows, start + history, stop + history, filters, s.delay)
        if previous is not None:
            fade = min(s.crossfade_frames, stop - start)
            weight = (np.arange(fade) + 0.5) / fade
            before = apply_filters(rows, start + history, start + history + fade, previous, s.delay)
            block[:, :fade] = (1 - weight) * before + weight * block[:, :fade]
        clean[active, start:stop] = block
        previous = filters
    out = np.zeros(frames_total * hop + size)
    for t in range(frames_total):
        out[t * hop: t * hop + size] += np.fft.irfft(clean[:, t], n=size) * window / 1.5
    return out[size - hop: size - hop + len(x)]


def test_streaming_equals_the_block_logic_whatever_the_chunks() -> None:
    _, wet = reverberant(3.0)
    expected = block_reference(wet, SMALL)
    for chunk in (len(wet), 16_000, 4_801, 333):
        out = dereverb_array(wet, SMALL, chunk_samples=chunk)
        assert out.shape == wet.shape
        np.testing.assert_allclose(out, expected, atol=2e-6, err_msg=f"chunks of {chunk}")


def test_nothing_to_take_away_gives_the_input_back() -> None:
    """Analysis and synthesis alone are exact: with no bin de-reverberated, out == in,
    sample for sample, whatever the length (here not a whole number of hops)."""
    x = speech_like(1.0)[:15_999]
    engine = Dereverberator(1, dataclasses.replace(SMALL, max_hz=0.0))
    out = np.concatenate([engine.process(x[:7000]), engine.process(x[7000:]), engine.flush()])[:, 0]
    np.testing.assert_allclose(out, x, atol=1e-6)


def test_it_takes_the_reverberation_away_without_delay() -> None:
    dry, wet = reverberant(6.0)
    out = dereverb_array(wet, settings_for_rate(RATE))
    # closer to what WPE keeps (the direct sound and the reflections inside its 24 ms
    # prediction delay) than the reverberant input was
    early = np.convolve(dry, room(0.6)[: int(0.024 * RATE) + 1])[: len(dry)]
    assert 10 * np.log10(np.sum((wet - early) ** 2) / np.sum((out - early) ** 2)) > 0.5
    # the pauses between syllables hold the reverberant tail: lowered there
    pauses = np.abs(dry) < 1e-4
    pauses[: int(0.3 * RATE)] = False
    assert 10 * np.log10(np.sum(wet[pauses] ** 2) / np.sum(out[pauses] ** 2)) > 1.0
    # zero delay: the cross-correlation with the input peaks at lag 0
    lags = np.arange(-200, 201)
    corr = [np.dot(out[max(0, lag): len(out) + min(0, lag)], wet[max(0, -lag): len(wet) - max(0, lag)]) for lag in lags]
    assert lags[int(np.argmax(corr))] == 0


def test_stereo_channels_are_processed_apart() -> None:
    _, wet = reverberant(2.0)
    both = np.stack([wet, 0.5 * wet[::-1]], axis=1)
    out = dereverb_array(both, SMALL, chunk_samples=5000)
    np.testing.assert_allclose(out[:, 0], dereverb_array(wet, SMALL), atol=2e-6)
    np.testing.assert_allclose(out[:, 1], dereverb_array(0.5 * wet[::-1], SMALL), atol=2e-6)


def test_memory_is_flat_in_duration() -> None:
    """What the stream holds (frames, samples) stops growing after the first window."""
    held = []
    engine = Dereverberator(1, SMALL)
    noise = np.random.default_rng(3).standard_normal(RATE // 2) * 0.01
    for _ in range(40):  # 20 s in half seconds
        engine.process(noise)
        held.append(engine.frames_held)
    window = SMALL.block_frames + 2 * SMALL.margin_frames + SMALL.history_frames + 1
    assert max(held) <= window + SMALL.block_frames
    assert max(held[20:]) == max(held[:20])


def test_the_detector_finds_a_room_and_not_dry_speech_or_noise() -> None:
    rng = np.random.default_rng(4)
    dry, wet = reverberant(6.0, rt60_s=0.6)
    assert measure_reverb([wet], RATE).reverberant
    found_dry = measure_reverb([dry], RATE)
    assert not found_dry.reverberant and found_dry.removed_db is not None and found_dry.removed_db < REVERBERANT_DB / 2
    white = 0.05 * rng.standard_normal(6 * RATE)
    pink = np.fft.irfft(np.fft.rfft(rng.standard_normal(6 * RATE)) / np.sqrt(np.arange(1, 3 * RATE + 2)), n=6 * RATE)
    for noise in (white, 0.05 * pink / np.std(pink)):
        assert not measure_reverb([noise], RATE).reverberant
    # dry speech in steady noise is not a room either
    assert not measure_reverb([dry + 0.003 * white], RATE).reverberant
    # silence: nothing to measure
    assert measure_reverb([np.zeros(RATE)], RATE).removed_db is None
    # a steady tone is predictable, but it is its own floor: not a room (once read 3.3 dB
    # from the splatter of the excerpt's cut ends); nor are beeps
    t = np.arange(6 * RATE) / RATE
    tone = 0.1 * np.sin(2 * np.pi * 440 * t)
    for sound in (tone, tone * ((t % 1.0) < 0.5)):
        assert not measure_reverb([sound], RATE).reverberant
    # a chord held under dry speech (a music bed) is predictable, and WPE takes as much off
    # as a room would, but all of it in the chord's few bins: not a room
    chord = 0.015 * sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.18, 329.63))
    bed = measure_reverb([dry + chord], RATE)
    assert bed.removed_db is not None and bed.removed_db > REVERBERANT_DB
    assert bed.tonal and not bed.reverberant and "not a room" in bed.reason
    assert not measure_reverb([wet], RATE).tonal


def test_the_detector_reads_a_bounded_sample() -> None:
    rate = 48_000
    assert excerpt_spans(20 * rate, rate) == [(0, 20 * rate)]
    spans = excerpt_spans(3600 * rate, rate)
    assert len(spans) == 4 and all(stop - start == 6 * rate for start, stop in spans)
    assert spans == sorted(spans) and spans[-1][1] <= 3600 * rate


@pytest.mark.parametrize("rate", [48_000, 44_100])
def test_settings_scale_with_the_rate(rate: int) -> None:
    s = settings_for_rate(rate)
    assert s.fft_size == 2048 and s.hop == 512 and s.max_bin == pytest.approx(8000 * 2048 / rate, abs=2)


def test_the_spool_pass_keeps_length_layout_and_each_channel(tmp_path) -> None:
    """The render's pass: a stereo spool of an odd length, its channels each on their own
    engine (and thread), comes out as the block logic makes each channel, sample for sample."""
    from pipeline.audio.sound import SoundSpool, run_dereverbed_sound

    _, wet = reverberant(2.5)
    left, right = wet[:39_999], 0.3 * wet[::-1][:39_999]
    source = SoundSpool(tmp_path / "in.f32", 2, RATE)
    source.path.write_bytes(np.stack([left, right], axis=1).astype("<f4").tobytes())
    spool, report = run_dereverbed_sound(source, SMALL, spool_path=tmp_path / "out.f32")
    out = np.frombuffer(spool.path.read_bytes(), dtype="<f4").reshape(-1, 2)
    assert out.shape == (39_999, 2) and spool.channels == 2
    for column, channel in enumerate((left, right)):
        np.testing.assert_allclose(out[:, column], dereverb_array(channel.astype(np.float32), SMALL), atol=2e-6)
    assert report["channels"] == 2 and report["removed_db"] > 0
