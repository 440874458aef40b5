"""The speech enhancer only works where the noise is (issue 12, HVAC and hum STOI): the
per-band SNR read from the analysis (pipeline.audio.noise_bands), the linear-phase band mix
(pipeline.audio.band_mix) and the chain's decision, on short synthesized clips: a voice
over low rumble keeps its voice band as it was and loses the rumble; in white noise the
enhancer's output is used whole."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import signal
from scipy.io import wavfile

from pipeline.audio.analysis import analyse_chunks
from pipeline.audio.band_mix import BandMixer
from pipeline.audio.cleanup import EnhanceSettings, build_cleanup_stages, enhancer_settings
from pipeline.audio.enhance import enhance_array
from pipeline.audio.noise_bands import BAND_CENTRES_HZ, BandWeights
from pipeline.audio.sound import CROSSFADE_S, decode_sound, run_enhanced_sound
from pipeline.config import AudioSettings

RATE_HZ = 48_000


def vowel(duration_s: float) -> np.ndarray:
    """A voiced vowel with a gliding pitch, partials from 120 Hz up."""
    t = np.arange(int(duration_s * RATE_HZ)) / RATE_HZ
    f0_hz = 120.0 + 30.0 * np.sin(2 * np.pi * 1.5 * t)
    phase = 2 * np.pi * np.cumsum(f0_hz) / RATE_HZ
    sound = sum(np.sin(k * phase) / k for k in range(1, 30))
    envelope = 0.6 + 0.4 * np.sin(2 * np.pi * 3.0 * t)
    return (0.1 * sound * envelope).astype(np.float32)


def speech_and_pauses(seconds: int = 8) -> np.ndarray:
    """Words of 0.7 s and pauses of 0.5 s, like speech: the pauses let the analysis see the noise."""
    out = np.zeros(seconds * RATE_HZ, dtype=np.float32)
    word = vowel(0.7)
    for start in range(int(0.3 * RATE_HZ), len(out) - len(word), int(1.2 * RATE_HZ)):
        out[start:start + len(word)] = word
    return out


def rumble(n: int, level_dbfs: float, seed: int = 1) -> np.ndarray:
    """HVAC-like rumble: brown noise low-passed at 200 Hz (4th order), at `level_dbfs` RMS."""
    rng = np.random.default_rng(seed)
    brown = np.cumsum(rng.standard_normal(n))
    low = signal.sosfiltfilt(signal.butter(4, 200, "lowpass", fs=RATE_HZ, output="sos"), brown - brown.mean())
    low = signal.sosfiltfilt(signal.butter(2, 20, "highpass", fs=RATE_HZ, output="sos"), low)
    return (low / np.sqrt(np.mean(low ** 2)) * 10 ** (level_dbfs / 20)).astype(np.float32)


def band_level_db(x: np.ndarray, low_hz: float, high_hz: float) -> float:
    """Power (dB) of the whole signal between two frequencies, read off its spectrum."""
    spectrum = np.abs(np.fft.rfft(x.astype(np.float64))) ** 2 / len(x) ** 2
    frequencies = np.fft.rfftfreq(len(x), 1.0 / RATE_HZ)
    return 10 * float(np.log10(spectrum[(frequencies >= low_hz) & (frequencies < high_hz)].sum() + 1e-30))


def enhanced_by_the_chain(sound: np.ndarray) -> tuple[np.ndarray, object]:
    """The chain's own decision (analysis -> stages) and the enhancer it asks for."""
    analysis = analyse_chunks([sound[:, np.newaxis]], RATE_HZ, 1)
    settings = AudioSettings(highpass_hz=0)  # the enhancer alone: no filter before it
    enhance = enhancer_settings(build_cleanup_stages(settings, analysis))
    assert enhance is not None, "noisy speech must turn the enhancer on"
    out = enhance_array(sound, strength=enhance.strength, attenuation_limit_db=enhance.attenuation_limit_db,
                        band_weights=enhance.band_weights)
    return out, enhance


def test_rumble_is_noise_only_in_its_own_bands() -> None:
    speech = speech_and_pauses()
    analysis = analyse_chunks([(speech + rumble(len(speech), -30.0))[:, np.newaxis]], RATE_HZ, 1)
    bands = analysis.noise_bands
    assert bands is not None and not bands.all_wet
    rumble_bands, voice_bands = bands.wet_at(np.array([63.1, 100.0])), bands.wet_at(np.array([1000.0, 1995.3]))
    assert (rumble_bands == 1.0).all()  # the rumble: the enhancer's output
    assert (voice_bands == 0.0).all()  # the voice, far above the noise: the input


def test_white_noise_is_noise_in_every_band() -> None:
    speech = speech_and_pauses()
    noise = (10 ** (-25 / 20) * np.random.default_rng(2).standard_normal(len(speech))).astype(np.float32)
    bands = analyse_chunks([(speech + noise)[:, np.newaxis]], RATE_HZ, 1).noise_bands
    assert bands is not None and bands.all_wet
    _, enhance = enhanced_by_the_chain(speech + noise)
    assert enhance.band_weights is None  # the enhancer's output is used whole


def test_voice_over_rumble_keeps_its_voice_band_and_loses_the_rumble() -> None:
    speech = speech_and_pauses()
    noise = rumble(len(speech), -30.0)
    sound = speech + noise
    out, enhance = enhanced_by_the_chain(sound)
    assert enhance.band_weights is not None
    # The voice band (600 Hz - 4 kHz, where the speech is 30 dB and more above the
    # rumble) comes out as it went in: the difference is 30 dB under the voice there.
    voice_band = (600.0, 4000.0)
    assert band_level_db(out - sound, *voice_band) < band_level_db(sound, *voice_band) - 30.0
    # and the rumble (under 150 Hz) is taken down in the pauses
    pauses = np.concatenate([np.arange(int((0.3 + 0.7 + 1.2 * k) * RATE_HZ) + 2400,
                                       int((0.3 + 1.2 * (k + 1)) * RATE_HZ) - 2400) for k in range(5)])
    assert band_level_db(out[pauses], 30.0, 150.0) < band_level_db(sound[pauses], 30.0, 150.0) - 10.0


def test_band_mix_is_the_input_where_dry_the_output_where_wet_and_keeps_timing() -> None:
    rng = np.random.default_rng(5)
    n = RATE_HZ + 4321  # not a multiple of any block size
    wet = rng.standard_normal((n, 2)).astype(np.float32)
    dry = rng.standard_normal((n, 2)).astype(np.float32)

    def mixed(weights: list[float], block: int) -> np.ndarray:
        mixer = BandMixer(BandWeights(BAND_CENTRES_HZ, tuple(weights), tuple(0.0 for _ in weights)), 2, RATE_HZ)
        pieces = [mixer.process(wet[i:i + block], dry[i:i + block]) for i in range(0, n, block)]
        return np.concatenate([*pieces, mixer.flush()])

    everywhere = len(BAND_CENTRES_HZ)
    assert np.allclose(mixed([1.0] * everywhere, 4800), wet, atol=1e-6)  # all wet: the output, on time
    assert np.allclose(mixed([0.0] * everywhere, 1000), dry, atol=1e-6)  # all dry: the input, on time
    low_wet = [1.0 if centre < 300 else 0.0 for centre in BAND_CENTRES_HZ]
    one_block, small_blocks = mixed(low_wet, n), mixed(low_wet, 777)
    assert one_block.shape == wet.shape
    assert np.allclose(one_block, small_blocks, atol=1e-5)  # block sizes do not change it
    # over 1 kHz it is the input, under 100 Hz the output
    assert band_level_db(one_block[:, 0] - dry[:, 0], 1000.0, 8000.0) < band_level_db(dry[:, 0], 1000.0, 8000.0) - 30
    assert band_level_db(one_block[:, 0] - wet[:, 0], 40.0, 100.0) < band_level_db(wet[:, 0], 40.0, 100.0) - 20


def test_segments_side_by_side_with_the_band_mix_sound_like_one_run(tmp_path: Path) -> None:
    """Long mono sound is enhanced in two time segments at once: with the band mix on, the
    lengths hold and the first segment is the one-run sound up to the seam's crossfade (each
    segment reads past its end by the model's look-ahead plus half the band filter)."""
    length = 40 * RATE_HZ + 321
    speech = np.tile(vowel(1.0), 41)[:length] * (np.arange(length) % (2 * RATE_HZ) < RATE_HZ)
    sound = (speech + rumble(length, -30.0, seed=9)).astype(np.float32)
    source = tmp_path / "long.wav"
    wavfile.write(source, RATE_HZ, sound)
    settings = AudioSettings()
    low_wet = tuple(1.0 if centre < 300 else 0.0 for centre in BAND_CENTRES_HZ)
    enhance = EnhanceSettings(1.0, 100.0, BandWeights(BAND_CENTRES_HZ, low_wet, tuple(0.0 for _ in low_wet)))
    decoded = decode_sound(source, None, 1, settings, spool_path=tmp_path / "decoded.f32", duration_s=length / RATE_HZ)
    runs = {}
    for cores in (1, 2):
        spool, report = run_enhanced_sound(decoded, settings, [], enhance, spool_path=tmp_path / f"enhanced-{cores}.f32",
                                           duration_s=length / RATE_HZ, cores=cores)
        assert report["segments"] == cores
        runs[cores] = np.fromfile(spool.path, dtype="<f4")
    one, two = runs[1], runs[2]
    assert len(one) == len(two) == length
    half = length // 2
    crossfade = round(CROSSFADE_S * RATE_HZ)  # the seam: the two segments' versions crossfaded
    assert np.allclose(two[:half - crossfade], one[:half - crossfade], atol=1e-6)  # the first segment is one run
