"""Issue 12, "no harm to clean speech": hum is cut only when it is audible against the
speech, with notches no wider and no deeper than the hum needs (pure, synthesized).

The voice is a male-like harmonic signal (105 Hz with +-15 % intonation and a faster
wobble, 3 s phrases and 2 s pauses, -80 dBFS of room noise): its partials sweep through
100, 150, 200, 300 Hz, which a faint hum must not get notched out of.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from pipeline.audio.analysis import AudioAnalysis, analyse_audio
from pipeline.audio.cleanup import HUM_NOTCH_Q, build_cleanup_stages, hum_stage
from pipeline.audio.hum import AUDIBLE_WITHIN_DB, HumFinding, SpectrumAccumulator, detect_hum
from pipeline.audio.meter import measure_array
from pipeline.audio.noise import BlockLevelHistogram, NoiseEstimate
from pipeline.config import AudioSettings

RATE = 48000
# A ground-loop hum: the fundamental strongest, odd harmonics next (dB re the fundamental).
GROUND_LOOP = {1: 0.0, 2: -10.0, 3: -6.0, 4: -16.0, 5: -12.0, 6: -20.0}


def voice(seconds: float = 20.0, f0_hz: float = 105.0, rms_dbfs: float = -26.0, seed: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    f_inst = f0_hz * (1 + 0.15 * np.sin(2 * np.pi * 0.37 * t) + 0.05 * np.sin(2 * np.pi * 2.3 * t + 1.0))
    phase = 2 * np.pi * np.cumsum(f_inst) / RATE
    x = sum(np.sin(k * phase + rng.uniform(0, 2 * np.pi)) / k for k in range(1, 40))
    talking = (t % 5.0) < 3.0
    x = x * np.sin(np.pi * 3.5 * t) ** 2 * talking
    x *= 10 ** (rms_dbfs / 20) / np.sqrt(np.mean(x[talking] ** 2))
    return x + 10 ** (-80 / 20) * rng.standard_normal(t.size)


def hum(n: int, mains_hz: float, rms_dbfs: float, harmonics: dict[int, float] = GROUND_LOOP) -> np.ndarray:
    t = np.arange(n) / RATE
    y = sum(10 ** (db / 20) * np.sin(2 * np.pi * k * mains_hz * t + k) for k, db in harmonics.items())
    return y * 10 ** (rms_dbfs / 20) / np.sqrt(np.mean(y ** 2))


def detect(x: np.ndarray, chunk: int = 7000) -> tuple[HumFinding, NoiseEstimate]:
    """What analyse_audio does, without a file: the same accumulators, fed in odd chunks."""
    stereo = np.stack([x, x], axis=1)
    spectrum, levels = SpectrumAccumulator(RATE), BlockLevelHistogram(RATE)
    for start in range(0, len(stereo), chunk):
        spectrum.add(stereo[start:start + chunk])
        levels.add(stereo[start:start + chunk])
    noise = levels.estimate()
    return detect_hum(spectrum.power(), speech_level_dbfs=noise.speech_level_dbfs), noise


def analysis_with(finding: HumFinding, noise: NoiseEstimate) -> AudioAnalysis:
    return AudioAnalysis(measure_array(np.zeros((RATE, 2)), RATE), noise, finding)


VOICE = voice()


def write_wav(path: Path, x: np.ndarray) -> Path:
    """16-bit mono PCM (its quantization floor, near -101 dBFS, keeps a -73 dBFS line)."""
    pcm = np.clip(np.round(x * 32767), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(pcm.tobytes())
    return path


@pytest.mark.parametrize("mains_hz", [50.0, 60.0])
def test_hum_detection_ignores_faint_hum_and_finds_audible_hum(tmp_path: Path, mains_hz: float) -> None:
    # Faint: -73 dBFS under a voice whose speech level (95th-percentile block level) is
    # near -22 dBFS, some 50 dB down: masked while anyone talks, a whisper in the pauses.
    # It is seen and measured, and left alone: no notch in the voice for it.
    faint = analyse_audio(write_wav(tmp_path / "faint.wav", VOICE + hum(len(VOICE), mains_hz, -73.0)))
    assert faint.noise.speech_level_dbfs == pytest.approx(-22.0, abs=1.5)
    assert not faint.hum.found and faint.hum.harmonics_hz == ()
    stage = build_cleanup_stages(AudioSettings(), faint)[2]
    assert stage.name == "hum removal" and not stage.enabled and stage.filters == ()
    assert faint.hum.mains_hz == mains_hz
    assert faint.hum.level_dbfs == pytest.approx(-73.0, abs=1.0)
    assert faint.hum.speech_level_dbfs == faint.noise.speech_level_dbfs
    assert faint.hum.below_speech_db is not None and faint.hum.below_speech_db > AUDIBLE_WITHIN_DB
    assert "inaudible" in faint.hum.reason and "inaudible" in stage.reason
    assert faint.to_dict()["hum"]["audible"] is False  # type: ignore[index]

    # Audible: -50 dBFS, under 30 dB below the speech: cut, the fundamental first.
    loud = analyse_audio(write_wav(tmp_path / "loud.wav", VOICE + hum(len(VOICE), mains_hz, -50.0)))
    assert loud.hum.found and loud.hum.harmonics_hz[0] == mains_hz
    stage = build_cleanup_stages(AudioSettings(), loud)[2]
    assert stage.enabled and len(stage.filters) == len(loud.hum.harmonics_hz)
    assert loud.hum.level_dbfs == pytest.approx(-50.0, abs=1.0)
    report = loud.to_dict()["hum"]
    assert report["audible"] is True and "audible" in report["reason"]  # type: ignore[index]
    assert [line["hz"] for line in report["lines"]][:3] == [mains_hz, 2 * mains_hz, 3 * mains_hz]  # type: ignore[index]


def test_audibility_follows_the_speech_not_the_absolute_level() -> None:
    # the same -60 dBFS hum: audible under quiet speech, inaudible under speech 30 dB louder
    quiet, _ = detect(voice(rms_dbfs=-30.0) + hum(len(VOICE), 50.0, -60.0))
    loud, _ = detect(voice(rms_dbfs=-8.0) + hum(len(VOICE), 50.0, -60.0))
    assert quiet.found and not loud.found


def test_only_the_lines_that_make_it_audible_are_cut() -> None:
    # -60 dBFS ground-loop hum some 38 dB under the speech: the fundamental and the
    # stronger harmonics carry it; the weak 4th and 6th, inside the voice, are left alone.
    finding, noise = detect(VOICE + hum(len(VOICE), 50.0, -60.0))
    assert finding.found
    assert finding.harmonics_hz == (50.0, 100.0, 150.0, 250.0)
    seen = {line.frequency_hz for line in finding.lines}
    assert {200.0, 300.0} <= seen  # seen, just not worth a notch
    # what is left uncut sums well under the bar
    rest = [line.level_dbfs for line in finding.lines if line.cut_db is None]
    assert noise.speech_level_dbfs is not None
    rest_dbfs = 10 * np.log10(sum(10 ** (level / 10) for level in rest))
    assert rest_dbfs < noise.speech_level_dbfs - AUDIBLE_WITHIN_DB - 5.0
    # 10 dB quieter (-70 dBFS, 48 dB down): nothing is cut at all
    assert not detect(VOICE + hum(len(VOICE), 50.0, -70.0))[0].found


def test_notches_are_narrow_and_no_deeper_than_the_hum_needs() -> None:
    finding, noise = detect(VOICE + hum(len(VOICE), 60.0, -50.0))
    stage = hum_stage(AudioSettings(), analysis_with(finding, noise))
    assert stage.enabled and len(stage.filters) == len(finding.harmonics_hz)
    for (name, options), line_hz, cut in zip(stage.filters, finding.harmonics_hz, finding.cuts_db()):
        assert name == "equalizer" and options["width_type"] == "h"
        gain_db = float(options["g"])  # type: ignore[arg-type]
        assert gain_db == -cut
        line = next(line for line in finding.lines if line.frequency_hz == line_hz)
        assert cut <= line.prominence_db + 6.0  # never cut below the floor around it
        assert line.level_dbfs - cut <= noise.speech_level_dbfs - AUDIBLE_WITHIN_DB  # type: ignore[operator]
        # the -3 dB width of ffmpeg's peaking equalizer (RBJ) is w / 10^(g/40): f/Q, 2 Hz
        # at 60 Hz, 6 Hz at 180 Hz, however deep the cut
        width_3db = float(options["w"]) / 10 ** (gain_db / 40)  # type: ignore[arg-type]
        assert width_3db == pytest.approx(line_hz / HUM_NOTCH_Q, rel=0.01)
        assert options["precision"] == "f64"  # in float a deep narrow cut loses its depth
        assert float(options["f"]) == pytest.approx(line_hz, abs=0.05)  # type: ignore[arg-type]
    assert "dB under the speech" in stage.reason


def test_notches_sit_on_the_measured_mains_frequency() -> None:
    # the grid runs 0.12 Hz fast: nominal notches would sit 0.36 Hz off the 3rd harmonic,
    # 0.6 Hz off the 5th
    finding, noise = detect(VOICE + hum(len(VOICE), 50.12, -45.0))
    assert finding.mains_hz == 50.0 and finding.measured_mains_hz == pytest.approx(50.12, abs=0.02)
    stage = hum_stage(AudioSettings(), analysis_with(finding, noise))
    centres = {round(float(options["f"]), 1) for _, options in stage.filters}  # type: ignore[arg-type]
    assert {50.1, 150.4} <= centres


def test_the_report_says_why() -> None:
    assert HumFinding(None).to_dict()["audible"] is False
    finding, _ = detect(VOICE + hum(len(VOICE), 50.0, -73.0))
    report = finding.to_dict()
    assert report["harmonics_hz"] == [] and report["audible"] is False
    assert report["below_speech_db"] == pytest.approx(51.0, abs=2.0)
    assert "inaudible" in str(report["reason"]) and "-73" in str(report["reason"])
    assert all(line["cut_db"] is None for line in report["lines"])  # type: ignore[union-attr]
    # nothing measured: nothing said
    assert detect_hum(SpectrumAccumulator(RATE).power()) == HumFinding(None)
    # no speech level given: judged against speech as the render leaves it (-13 dBFS)
    accumulator = SpectrumAccumulator(RATE)
    accumulator.add(hum(10 * RATE, 50.0, -40.0) + 1e-4 * np.random.default_rng(1).standard_normal(10 * RATE))
    alone = detect_hum(accumulator.power())
    assert alone.found and "assumed" in alone.reason
    accumulator = SpectrumAccumulator(RATE)
    accumulator.add(hum(10 * RATE, 50.0, -70.0) + 1e-5 * np.random.default_rng(1).standard_normal(10 * RATE))
    assert not detect_hum(accumulator.power()).found


def test_a_voice_without_hum_has_no_hum() -> None:
    finding, _ = detect(VOICE)
    assert not finding.found and finding.lines == ()
    stage = hum_stage(AudioSettings(), analysis_with(finding, NoiseEstimate(-80.0, -22.0)))
    assert not stage.enabled and "no mains hum" in stage.reason
