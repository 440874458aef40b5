"""The speech enhancer's binding (DeepFilterNet 3 through libDF's C API) and its streaming
wrapper, on short synthesized sound: lengths kept for any size (odd lengths, shorter than
one frame, silence), its delay removed, noise taken out of the pauses and the voice kept,
wet/dry strength, chunking that does not change the result; then through `wayfinder
render` for mono and stereo sources at 44.1 and 48 kHz."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest
from scipy.io import wavfile

from pipeline.audio.cleanup import EnhanceSettings
from pipeline.audio.deepfilter import MODEL_SHA256, load_model
from pipeline.audio.enhance import SpeechEnhancer, enhance_array
from pipeline.audio.sound import decode_sound, plan_segments, run_enhanced_sound
from pipeline.config import AudioSettings
from pipeline.state import sha256_of_file
from tests.integration.cli import wayfinder
from tests.media import ebur128, make_clip, tone

RATE_HZ = 48_000
FRAME = 480


def vowel(duration_s: float, rate_hz: int = RATE_HZ) -> np.ndarray:
    """A voiced vowel with a gliding pitch (the enhancer keeps speech, not tones)."""
    t = np.arange(int(duration_s * rate_hz)) / rate_hz
    f0_hz = 120.0 + 30.0 * np.sin(2 * np.pi * 1.5 * t)
    phase = 2 * np.pi * np.cumsum(f0_hz) / rate_hz
    sound = sum(np.sin(k * phase) / k for k in range(1, 30))
    envelope = 0.6 + 0.4 * np.sin(2 * np.pi * 3.0 * t)
    return (0.1 * sound * envelope).astype(np.float32)


def noisy_speech(seed: int = 0) -> tuple[np.ndarray, slice, slice]:
    """1 s of noise at -40 dBFS, 1 s of vowel over it, 1 s of noise: (sound, pause, voice)."""
    rng = np.random.default_rng(seed)
    noise = (10 ** (-40 / 20) * rng.standard_normal(3 * RATE_HZ)).astype(np.float32)
    sound = noise.copy()
    sound[RATE_HZ:2 * RATE_HZ] += vowel(1.0)
    return sound, slice(int(2.2 * RATE_HZ), int(2.9 * RATE_HZ)), slice(int(1.1 * RATE_HZ), int(1.9 * RATE_HZ))


def level_db(x: np.ndarray) -> float:
    return 10 * float(np.log10(np.mean(np.square(x, dtype=np.float64)) + 1e-30))


def test_the_bundled_model_is_the_pinned_one() -> None:
    _, info = load_model()
    assert sha256_of_file(info.model_path) == MODEL_SHA256
    # DFN3: 960-sample FFT, 480 hop, 2 frames of look-ahead -> 480 + 2 x 480 samples
    assert info.frame_samples == FRAME
    assert info.delay_samples == 3 * FRAME


@pytest.mark.parametrize("length", [1, 100, FRAME - 1, FRAME, FRAME + 1, 1439, 1441, 3 * RATE_HZ + 7])
@pytest.mark.parametrize("channels", [1, 2])
def test_every_length_comes_back_whole_and_finite(length: int, channels: int) -> None:
    rng = np.random.default_rng(length)
    x = (0.05 * rng.standard_normal((length, channels))).astype(np.float32)
    y = enhance_array(x, chunk_samples=997)
    assert y.shape == x.shape and y.dtype == np.float32
    assert np.isfinite(y).all()


def test_silence_stays_silent() -> None:
    y = enhance_array(np.zeros((RATE_HZ + 123, 2), dtype=np.float32))
    assert np.isfinite(y).all() and np.max(np.abs(y)) < 1e-6


def test_noise_goes_voice_stays_and_nothing_is_delayed() -> None:
    x, pause, voice = noisy_speech()
    y = enhance_array(x)
    assert level_db(y[pause]) < level_db(x[pause]) - 20  # the noise between words goes
    assert abs(level_db(y[voice]) - level_db(x[voice])) < 2.0  # the voice keeps its level
    # the output lines up with the input: the model's 30 ms look-ahead is removed
    clean = np.zeros_like(x)
    clean[RATE_HZ:2 * RATE_HZ] = vowel(1.0)
    lags = np.arange(-960, 961)
    scores = [float(np.dot(y[RATE_HZ + lag: 2 * RATE_HZ + lag], clean[RATE_HZ:2 * RATE_HZ])) for lag in lags]
    assert lags[int(np.argmax(scores))] == 0


def test_strength_mixes_the_dry_sound_back() -> None:
    x, pause, _ = noisy_speech(1)
    assert np.array_equal(enhance_array(x, strength=0.0), x)
    full = enhance_array(x, strength=1.0)
    half = enhance_array(x, strength=0.5)
    np.testing.assert_allclose(half, 0.5 * full + 0.5 * x, atol=1e-6)
    # half wet leaves half the noise: about 6 dB under the input
    assert level_db(half[pause]) == pytest.approx(level_db(x[pause]) - 6.0, abs=1.0)


def test_chunk_sizes_do_not_change_the_result() -> None:
    x, _, _ = noisy_speech(2)
    stereo = np.stack([x, x[::-1].copy()], axis=1)
    whole = enhance_array(stereo, chunk_samples=len(stereo))
    for chunk in (7, FRAME, 4099):
        np.testing.assert_array_equal(enhance_array(stereo, chunk_samples=chunk), whole)


def test_stereo_channels_are_enhanced_apart() -> None:
    x, pause, voice = noisy_speech(3)
    stereo = np.stack([x, np.zeros_like(x)], axis=1)
    y = enhance_array(stereo)
    assert np.max(np.abs(y[:, 1])) < 1e-6  # the silent channel gets nothing of the other
    np.testing.assert_allclose(y[:, 0], enhance_array(x), atol=1e-6)


def test_the_enhancer_refuses_a_wrong_layout() -> None:
    with SpeechEnhancer(2) as enhancer, pytest.raises(ValueError, match="channels"):
        enhancer.process(np.zeros((FRAME, 1), dtype=np.float32))
    with pytest.raises(ValueError, match="strength"):
        SpeechEnhancer(1, strength=1.5)


# (rate, layout, noise_reduction_stereo, channels enhanced)
LAYOUTS = [
    (44_100, "mono", "mid", 1),
    (48_000, "stereo", "mid", 1),  # stereo speech: its mid, once
    (48_000, "stereo", "channels", 2),
    (44_100, "dual-mono", "mid", 1),
    (44_100, "dual-mono", "channels", 1),  # identical channels are one channel whatever is asked
    (48_000, "out-of-phase", "mid", 2),  # the mid would cancel the voice
    (48_000, "spaced", "mid", 1),  # lined up first: summed as they are, a notch at 2.2 kHz
]


@pytest.mark.parametrize(("rate_hz", "layout", "stereo", "enhanced_channels"), LAYOUTS)
def test_render_enhances_any_rate_and_layout_and_keeps_the_length(
    tmp_path: Path, rate_hz: int, layout: str, stereo: str, enhanced_channels: int,
) -> None:
    rng = np.random.default_rng(rate_hz)
    length = int(3.3 * rate_hz) + 13  # not a whole number of frames at either rate
    speech = np.zeros(length)
    start, end = int(1.0 * rate_hz), int(2.2 * rate_hz)
    speech[start:end] = vowel(1.2, rate_hz)[: end - start]

    def channel(sign: float = 1.0) -> np.ndarray:
        return (10 ** (-40 / 20) * rng.standard_normal(length) + sign * speech).astype(np.float32)

    left = channel()
    sound = {"mono": left, "stereo": np.stack([left, channel()], axis=1), "dual-mono": np.stack([left, left], axis=1),
             "out-of-phase": np.stack([left, channel(-1.0)], axis=1),
             "spaced": np.stack([left, np.roll(channel(), 11)], axis=1)}
    source = tmp_path / "in.wav"
    wavfile.write(source, rate_hz, sound[layout])
    out = tmp_path / "out.m4a"
    (tmp_path / "job.toml").write_text(
        f'[input]\nmain = "in.wav"\n[output]\npath = "out.m4a"\n[audio]\nnoise_reduction_stereo = "{stereo}"\n',
        encoding="utf-8")
    result = wayfinder("render", tmp_path / "job.toml")
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "out.m4a.wayfinder.json").read_text())
    enhancement = report["measurements"]["audio"]["enhancement"]
    # mono, dual mono and (by default) stereo speech are enhanced once, then spread to
    # the output's two channels
    assert enhancement["channels"] == enhanced_channels
    assert enhancement["dual_mono"] == (layout == "dual-mono")
    assert ("out of phase" in enhancement["stereo"]) == (layout == "out-of-phase")
    assert ("lined up 11 samples" in enhancement["stereo"]) == (layout == "spaced")
    assert enhancement["model_sha256"] == MODEL_SHA256
    with av.open(str(out)) as container:
        stream = container.streams.audio[0]
        assert stream.rate == 48_000 and stream.channels == 2
        decoded = np.concatenate([frame.to_ndarray() for frame in container.decode(audio=0)], axis=1)
    assert abs(decoded.shape[1] / 48_000 - length / rate_hz) < 0.03
    # one enhanced channel comes out as dual mono (the AAC encoder codes it as such)
    left_out, right_out = decoded[0].astype(np.float64), decoded[1].astype(np.float64)
    correlation = float(np.corrcoef(left_out, right_out)[0, 1])
    assert (correlation > 0.999) == (enhanced_channels == 1), correlation
    assert not (tmp_path / ".out.m4a.partial").exists()


def test_plan_segments_split_only_long_one_channel_sound() -> None:
    assert plan_segments(10 * RATE_HZ, 1, 2, RATE_HZ) == [(0, 10 * RATE_HZ)]  # too short to pay a warm-up
    assert plan_segments(40 * RATE_HZ, 2, 2, RATE_HZ) == [(0, 40 * RATE_HZ)]  # channels already fill the cores
    assert plan_segments(40 * RATE_HZ + 1, 1, 2, RATE_HZ) == [(0, 20 * RATE_HZ), (20 * RATE_HZ, 40 * RATE_HZ + 1)]


def test_segments_side_by_side_sound_like_one_run(tmp_path: Path) -> None:
    """Long mono sound enhanced in two segments at once: same length, the seam inaudible
    (two settled states differ by far less than the sound), the rest as in one run."""
    rng = np.random.default_rng(7)
    length = 40 * RATE_HZ + 321
    speech = np.tile(vowel(1.0), 41)[:length] * (np.arange(length) % (2 * RATE_HZ) < RATE_HZ)
    sound = (speech + 10 ** (-35 / 20) * rng.standard_normal(length)).astype(np.float32)
    source = tmp_path / "long.wav"
    wavfile.write(source, RATE_HZ, sound)
    settings = AudioSettings()
    runs = {}
    decoded = decode_sound(source, None, 1, settings, spool_path=tmp_path / "decoded.f32", duration_s=length / RATE_HZ)
    for cores in (1, 2):
        spool, report = run_enhanced_sound(
            decoded, settings, [], EnhanceSettings(1.0, 100.0),
            spool_path=tmp_path / f"enhanced-{cores}.f32", duration_s=length / RATE_HZ, cores=cores,
        )
        assert report["segments"] == cores and spool.channels == 1
        runs[cores] = np.fromfile(spool.path, dtype="<f4")
        assert not (tmp_path / f"enhanced-{cores}.f32.decoded").exists()
    one, two = runs[1], runs[2]
    assert len(one) == len(two) == length
    seam = slice(length // 2 - RATE_HZ // 2, length // 2 + RATE_HZ // 2)
    assert level_db(two[seam] - one[seam]) < level_db(one[seam]) - 20
    assert np.array_equal(two[: length // 2 - RATE_HZ], one[: length // 2 - RATE_HZ])  # the first segment is one run


def test_a_steady_tone_is_not_enhanced_away(tmp_path: Path) -> None:
    """A 1 kHz tone is no speech: the enhancer would remove it all and the gain would then
    lift the residue by 40 dB. The render keeps the tone as it was and says why."""
    source = make_clip(tmp_path / "tone.mp4", audio=tone(-24.0, channels=1, sample_rate_hz=44_100))
    out = tmp_path / "out.mp4"
    result = wayfinder("render", source, "-o", out)
    assert result.returncode == 0, result.stderr
    assert "left unenhanced" in result.stderr
    enhancement = json.loads((tmp_path / "out.mp4.wayfinder.json").read_text())["measurements"]["audio"]["enhancement"]
    assert not enhancement["applied"] and (enhancement["removed_db"] is None or enhancement["removed_db"] > 15)
    assert abs(ebur128(out)["integrated_lufs"] - (-14.0)) <= 0.3
