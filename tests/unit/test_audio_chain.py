"""Hum detection, noise estimate, clean-up stages and gain policy (pure, no ffmpeg)."""

from __future__ import annotations

import dataclasses

from pathlib import Path

import numpy as np
import pytest

from pipeline.audio.analysis import AudioAnalysis
from pipeline.audio.cleanup import (
    REVERB_RESIDUE_MAX_DB,
    EnhanceSettings,
    build_cleanup_stages,
    dereverb_settings,
    enhancer_settings,
    split_at_enhancer,
    stage_filters,
)
from pipeline.audio.dereverb import WpeSettings
from pipeline.audio.reverb import ReverbFinding
from pipeline.audio.gain import build_gain_filters, check_landing, plan_gain
from pipeline.audio.hum import SpectrumAccumulator, detect_hum
from pipeline.audio.meter import measure_array
from pipeline.audio.prepare import AudioPrep
from pipeline.audio.noise import BlockLevelHistogram, NoiseEstimate
from pipeline.audio.hum import HumFinding
from pipeline.config import AudioSettings
from pipeline.errors import AudioError

RATE = 48000
RNG = np.random.default_rng(3)


def signal_with_hum(mains_hz: float | None, seconds: float = 4.0, harmonics: tuple[int, ...] = (1, 3)) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    x = 0.01 * RNG.standard_normal(t.size)  # -40 dBFS white noise floor
    if mains_hz:
        for k in harmonics:
            x += 0.02 * np.sin(2 * np.pi * k * mains_hz * t)
    return np.stack([x, x], axis=1)


def spectrum_of(samples: np.ndarray, chunk: int = 7000) -> np.ndarray | None:
    acc = SpectrumAccumulator(RATE)
    for start in range(0, len(samples), chunk):  # odd chunk sizes: state carries across
        acc.add(samples[start:start + chunk])
    return acc.power()


@pytest.mark.parametrize("mains_hz", [50.0, 60.0])
def test_hum_is_found_at_the_mains_frequency_and_its_harmonics(mains_hz: float) -> None:
    finding = detect_hum(spectrum_of(signal_with_hum(mains_hz)))
    assert finding.mains_hz == mains_hz
    assert finding.harmonics_hz == (mains_hz, 3 * mains_hz)
    assert all(p > 20 for p in finding.prominence_db)


def test_no_hum_in_noise_and_none_for_under_a_second() -> None:
    assert not detect_hum(spectrum_of(signal_with_hum(None))).found
    assert detect_hum(spectrum_of(signal_with_hum(60.0, seconds=0.5))) == HumFinding(None)


def test_gliding_voice_partials_are_not_hum() -> None:
    # a voice around 180 Hz (= 3 x 60) gliding +-8%: spread over many bins, no sharp line
    t = np.arange(4 * RATE) / RATE
    phase = 180 * t - 180 * 0.08 / (2 * np.pi * 0.9) * np.cos(2 * np.pi * 0.9 * t)
    voice = sum(np.sin(2 * np.pi * k * phase) / k for k in range(1, 6)) * 0.1
    x = voice + 0.001 * RNG.standard_normal(t.size)
    assert not detect_hum(spectrum_of(np.stack([x, x], axis=1))).found


def test_noise_floor_is_the_quiet_passages_level() -> None:
    # 1 s of noise at -50 dBFS RMS, then 3 s of a -20 dBFS RMS tone: floor -50, speech -20
    quiet = 10 ** (-50 / 20) * RNG.standard_normal(RATE)
    t = np.arange(3 * RATE) / RATE
    loud = np.sqrt(2) * 10 ** (-20 / 20) * np.sin(2 * np.pi * 440 * t)
    x = np.concatenate([quiet, loud])
    levels = BlockLevelHistogram(RATE)
    levels.add(np.stack([x, x], axis=1))
    estimate = levels.estimate()
    assert estimate.noise_floor_dbfs == pytest.approx(-50.0, abs=0.5)
    assert estimate.speech_level_dbfs == pytest.approx(-20.0, abs=0.5)
    assert estimate.snr_db == pytest.approx(30.0, abs=1.0)


def analysis(noise_floor_dbfs: float | None, hum: HumFinding = HumFinding(None)) -> AudioAnalysis:
    silent = measure_array(np.zeros((RATE, 2)), RATE)
    return AudioAnalysis(silent, NoiseEstimate(noise_floor_dbfs, -20.0), hum)


def test_stages_follow_settings_and_analysis() -> None:
    settings = AudioSettings()
    stages = build_cleanup_stages(settings, analysis(-45.0))
    assert [s.name for s in stages] == [
        "de-reverberation", "high-pass", "hum removal", "speech enhancement", "speech leveler"]
    # reverberation not measured; no hum; leveler off by default
    assert [s.enabled for s in stages] == [False, True, False, True, False]
    assert enhancer_settings(stages) == EnhanceSettings(strength=1.0, attenuation_limit_db=100.0)
    # the enhancer is not an ffmpeg filter: the high-pass runs before it, nothing after
    assert split_at_enhancer(stages) == ([("highpass", {"f": 80.0, "poles": 2})], [])

    leveled = build_cleanup_stages(AudioSettings(leveler=True, noise_reduction_strength=0.5), analysis(-45.0))
    before, after = split_at_enhancer(leveled)
    assert [name for name, _ in before] == ["highpass"] and [name for name, _ in after] == ["dynaudnorm"]
    assert enhancer_settings(leveled) == EnhanceSettings(strength=0.5, attenuation_limit_db=100.0)

    quiet_room = build_cleanup_stages(settings, analysis(-90.0))
    assert not quiet_room[3].enabled and "below -70" in quiet_room[3].reason
    assert enhancer_settings(quiet_room) is None
    # with the enhancer off every filter runs in the render graph, in order
    assert split_at_enhancer(quiet_room) == (stage_filters(quiet_room), [])

    off = AudioSettings(highpass_hz=0, hum_removal=False, noise_reduction=False, leveler=False)
    assert stage_filters(build_cleanup_stages(off, analysis(-45.0))) == []


def test_clean_speech_and_music_skip_the_enhancer() -> None:
    # speech 50 dB over a -70 dBFS floor: clean, left untouched
    clean = AudioAnalysis(measure_array(np.zeros((RATE, 2)), RATE), NoiseEstimate(-69.0, -19.0), HumFinding(None))
    stage = build_cleanup_stages(AudioSettings(), clean)[3]
    assert not stage.enabled and "clean" in stage.reason
    music = build_cleanup_stages(AudioSettings(content="music", leveler=True), analysis(-45.0))
    assert not music[0].enabled and "music" in music[0].reason
    assert not music[3].enabled and "music" in music[3].reason
    assert not music[4].enabled and "music" in music[4].reason


def test_plain_gain_when_the_peak_allows() -> None:
    plan = plan_gain(AudioSettings(), -24.0, -12.0)
    assert plan.gain_db == pytest.approx(10.0) and not plan.limiter
    assert plan.predicted_true_peak_dbtp == pytest.approx(-2.0)
    assert build_gain_filters(plan, 48000) == [("volume", {"volume": "10.000dB", "precision": "double"})]


def test_limit_policy_keeps_loudness_and_limits_with_margin() -> None:
    plan = plan_gain(AudioSettings(), -24.0, -6.0)  # +10 dB would put peaks at +4 dBTP
    assert plan.limiter and plan.landing_lufs == -14.0
    assert plan.limiter_ceiling_dbtp == pytest.approx(-1.5)  # -1 ceiling minus 0.5 dB margin
    names = [name for name, _ in build_gain_filters(plan, 48000)]
    assert names == ["volume", "aresample", "alimiter", "aresample"]
    limiter = dict(build_gain_filters(plan, 48000))["alimiter"]
    assert limiter["latency"] == "true"  # its look-ahead must not make the sound late
    # peaks at +4 dBTP against a -1.5 ceiling: 5.5 dB of limiting, more than speech takes well
    assert plan.limiting_db == pytest.approx(5.5) and plan.heavy_limiting
    assert plan.to_dict()["limiting_db"] == 5.5
    gentle = plan_gain(AudioSettings(), -24.0, -10.0)  # peaks to 0 dBTP: 1.5 dB
    assert gentle.limiting_db == pytest.approx(1.5) and not gentle.heavy_limiting
    assert plan_gain(AudioSettings(), -24.0, -12.0).limiting_db == 0.0  # no limiter at all


def test_heavy_limiting_is_a_warning_in_the_notes() -> None:
    silent = measure_array(np.zeros((RATE, 2)), RATE)
    prep = AudioPrep(AudioAnalysis(silent, NoiseEstimate(-60.0, -20.0), HumFinding(None)), (), (),
                     plan_gain(AudioSettings(), -24.0, -6.0), ())
    assert any("warning: the limiter takes up to 5.5 dB" in note for note in prep.notes)


def test_lower_target_policy_stays_linear_and_lands_quieter() -> None:
    plan = plan_gain(AudioSettings(limiter_policy="lower-target"), -24.0, -6.0)
    assert not plan.limiter
    assert plan.gain_db == pytest.approx(4.5)  # peak -6 -> -1.5
    assert plan.landing_lufs == pytest.approx(-19.5)
    assert "lower-target" in plan.reason


def test_silence_cannot_be_normalized() -> None:
    with pytest.raises(AudioError, match="digital silence"):
        plan_gain(AudioSettings(), None, None, file="x.wav")
    with pytest.raises(AudioError):
        plan_gain(AudioSettings(), -75.0, -60.0)


def test_landing_check() -> None:
    settings = AudioSettings()
    assert check_landing(settings, -14.0, -14.15, -1.2) == []
    problems = check_landing(settings, -14.0, -14.3, -0.8)
    assert len(problems) == 2
    assert "-0.30 LU off" in problems[0] and "over the ceiling" in problems[1]


def test_secant_step_makes_up_a_limiters_diminishing_returns() -> None:
    from pipeline.audio.prepare import next_gain_db

    # first step: assume 1 dB out per dB in
    assert next_gain_db([(10.0, -14.6)], -14.0) == pytest.approx(10.6)
    # measured: +0.6 dB of gain bought only +0.3 LU, so the next step is twice the miss
    assert next_gain_db([(10.0, -14.6), (10.6, -14.3)], -14.0) == pytest.approx(11.2)
    # a flat response is clamped (slope >= 0.2): no wild jumps
    assert next_gain_db([(10.0, -14.6), (10.6, -14.6)], -14.0) == pytest.approx(13.6)


def test_limiter_calibration_returns_a_measured_gain_that_lands() -> None:
    from pipeline.audio.gain import OVERSAMPLED_RATE_HZ
    from pipeline.audio.prepare import calibrate_limited_gain

    settings = AudioSettings()
    plan = plan_gain(settings, -26.0, -8.0)  # +12 dB would put the peak at +4 dBTP
    assert plan.limiter
    measured: list[float] = []

    def limiter_model(filters: list[tuple[str, dict[str, object]]]) -> float:
        # A limiter that gives back 0.6 LU per dB once the gain is over 8 dB.
        gain_db = float(str(filters[0][1]["volume"]).removesuffix("dB"))
        assert ("aresample", {"out_sample_rate": OVERSAMPLED_RATE_HZ}) in filters  # the limiter is measured
        measured.append(gain_db)
        return -26.0 + min(gain_db, 8.0) + 0.6 * max(0.0, gain_db - 8.0)

    calibrated = calibrate_limited_gain(limiter_model, settings, plan)
    assert round(calibrated.gain_db, 3) in measured  # the filters carry the gain to 0.001 dB
    # The first two points, measured side by side: the plan (+12 dB) and the plan plus
    # half the limiting depth (peaks at +4 against -1.5 dBTP: 5.5 dB, so +2.75 dB).
    assert sorted(measured[:2]) == [12.0, 14.75]
    assert len(measured) <= 4
    assert -26.0 + 8.0 + 0.6 * (calibrated.gain_db - 8.0) == pytest.approx(-14.0, abs=settings.tolerance_lu / 4)
    assert "calibrated through the limiter" in calibrated.reason
    # Plain gain needs no measuring pass at all.
    plain = plan_gain(settings, -20.0, -12.0)
    assert calibrate_limited_gain(lambda _f: pytest.fail("measured"), settings, plain) is plain


def test_spooled_passes_rerun_only_the_gain_and_the_spool_is_private(tmp_path: Path) -> None:
    import os
    import stat

    from pipeline.audio.measure import build_spool_pass_args, spool_file

    settings = AudioSettings()
    args = build_spool_pass_args(tmp_path / "a b.f32", settings, [("volume", {"volume": "3.000dB"})])
    assert args[:7] == ["-f", "f32le", "-ar", "48000", "-ac", "2", "-i"]
    assert args[7] == f"file:{tmp_path / 'a b.f32'}"
    assert args[args.index("-af") + 1] == "volume=volume=3.000dB"
    work_dir = tmp_path / "work"
    work_dir.mkdir()
    with spool_file(60.0, work_dir) as spool:
        assert spool is not None
        path, stream = spool
        assert path.parent == work_dir  # swept with the render's working folder if killed
        stream.write(b"\0" * 8)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert not path.exists()
    with pytest.raises(KeyboardInterrupt), spool_file(60.0, work_dir) as spool:
        assert spool is not None
        path = spool[0]
        raise KeyboardInterrupt
    assert not path.exists()
    with spool_file(3 * 3600.0, work_dir) as spool:  # hours: re-decoding is cheaper than gigabytes of spool
        assert spool is None


def test_reverberant_speech_is_dereverberated_then_its_residue_enhanced() -> None:
    room = ReverbFinding(0.5, 9.0)
    clean_room = AudioAnalysis(measure_array(np.zeros((RATE, 2)), RATE), NoiseEstimate(-90.0, -20.0), HumFinding(None),
                               reverb=room)
    stages = build_cleanup_stages(AudioSettings(), clean_room)
    assert stages[0].name == "de-reverberation" and stages[0].enabled and "reverberant" in stages[0].reason
    assert dereverb_settings(stages) == WpeSettings()
    # no noise to remove, but the late reverberation WPE leaves: the enhancer, capped
    assert enhancer_settings(stages) == EnhanceSettings(strength=1.0, attenuation_limit_db=REVERB_RESIDUE_MAX_DB)
    assert "late reverberation" in stages[3].reason
    # a lower cap asked for is kept
    gentle = build_cleanup_stages(AudioSettings(noise_reduction_max_db=6.0), clean_room)
    assert enhancer_settings(gentle) == EnhanceSettings(strength=1.0, attenuation_limit_db=6.0)
    # with noise the enhancer runs as for any noisy speech (no cap)
    noisy_room = dataclasses.replace(analysis(-45.0), reverb=room)
    assert enhancer_settings(build_cleanup_stages(AudioSettings(), noisy_room)) == EnhanceSettings(1.0, 100.0)
    # dry speech, turned off, or music: off, with the reason; clean speech stays untouched
    dry = dataclasses.replace(clean_room, reverb=ReverbFinding(0.01, 9.0))
    cases = ((AudioSettings(), dry, "dry"), (AudioSettings(dereverb=False), clean_room, "turned off"),
             (AudioSettings(content="music"), clean_room, "music"))
    for settings, analysed, reason in cases:
        stages = build_cleanup_stages(settings, analysed)
        assert not stages[0].enabled and reason in stages[0].reason
        assert dereverb_settings(stages) is None and enhancer_settings(stages) is None
