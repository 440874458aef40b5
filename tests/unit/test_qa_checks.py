"""QA verdicts on hand-made measurements: thresholds, edges, severities, messages.

Each test states a measurement and the verdict the preset's numbers imply for it
(youtube: target -14 LUFS, ceiling -1 dBTP; QaSettings defaults unless a test says
otherwise).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from pydantic import ValidationError

from pipeline.audio.decode import AudioStreamInfo
from pipeline.audio.meter import LoudnessResult
from pipeline.qa import checks
from pipeline.qa.analyse import Analysis
from pipeline.qa.detectors import ClipResult, HumResult, MainsPeak, PhaseResult, SilenceResult
from pipeline.qa.settings import QaLimits, QaSettings

YOUTUBE = QaLimits(preset="youtube", target_lufs=-14.0, true_peak_dbtp=-1.0, qa=QaSettings())


def limits(**qa: object) -> QaLimits:
    return dataclasses.replace(YOUTUBE, qa=QaSettings(**qa))


def loudness(**overrides: object) -> LoudnessResult:
    steps = 60
    values: dict[str, object] = dict(
        integrated_lufs=-14.0, loudness_range_lu=3.0, true_peak_dbtp=-3.0, sample_peak_dbfs=-3.2,
        max_momentary_lufs=-12.0, max_short_term_lufs=-13.0,
        momentary_lufs=np.full(steps, -14.0, dtype=np.float32), short_term_lufs=np.full(steps, -14.0, dtype=np.float32),
        duration_s=6.0, sample_rate_hz=48000, channels=2, channel_names=("FL", "FR"),
        channel_true_peak_dbtp=(-3.0, -3.0), channel_sample_peak_dbfs=(-3.2, -3.2),
        channel_integrated_lufs=(-17.0, -17.0),
    )
    values.update(overrides)
    return LoudnessResult(**values)  # type: ignore[arg-type]


def analysis(*, loud: LoudnessResult | None = None, silence: SilenceResult | None = None,
             clips: ClipResult | None = None, phase: PhaseResult | None = None, hum: HumResult | None = None,
             front_pair: tuple[str, str] | None = ("FL", "FR")) -> Analysis:
    loud = loud or loudness()
    stream = AudioStreamInfo("a.wav", 0, "pcm_s16le", 48000, loud.channels, loud.channel_names, "stereo", "s16",
                             loud.duration_s, "wav")
    return Analysis(
        path="a.wav",
        stream=stream,
        loudness=loud,
        silence=silence or SilenceResult(loud.duration_s, True, 0.0, 0.0, 0, 0.0, 0.0, ()),
        clips=clips or ClipResult(3, 0, 0, None, (), 1.0, 0.7),
        hum=hum or HumResult(loud.duration_s, 1.46, (MainsPeak(50.0, 1, 50.0, -95.0, 1.0), MainsPeak(60.0, 1, 60.0, -95.0, 1.0))),
        phase=phase if phase is not None else (PhaseResult(0.98, 0.05, 6.0, 0.0, ()) if front_pair else None),
        front_pair=front_pair,
    )


def test_a_clean_file_passes_every_check() -> None:
    result = checks.check_file(analysis(), YOUTUBE)
    assert result.status == "pass"
    assert [c.name for c in result.checks] == [
        "integrated_loudness", "true_peak", "loudness_range", "max_short_term", "leading_silence",
        "trailing_silence", "dropouts", "clipping", "channel_balance", "phase", "hum", "duration", "limiting",
    ]
    assert all(c.status == "pass" for c in result.checks)


@pytest.mark.parametrize(("measured", "status"), [(-15.0, "pass"), (-13.0, "pass"), (-15.01, "fail"), (-12.99, "fail")])
def test_integrated_loudness_tolerance_is_inclusive(measured: float, status: str) -> None:
    check = checks.check_integrated(analysis(loud=loudness(integrated_lufs=measured)), YOUTUBE)
    assert check.status == status
    assert check.value == measured
    assert check.limit == -14.0


def test_integrated_loudness_message_says_which_side() -> None:
    check = checks.check_integrated(analysis(loud=loudness(integrated_lufs=-18.304)), YOUTUBE)
    assert check.message == "-18.30 LUFS is 4.30 LU below the -14.00 LUFS target (±1.00 LU allowed)"
    check = checks.check_integrated(analysis(loud=loudness(integrated_lufs=-9.5)), YOUTUBE)
    assert "4.50 LU above" in check.message


def test_silence_has_no_integrated_loudness_and_says_why() -> None:
    silent = loudness(integrated_lufs=None, loudness_range_lu=None, true_peak_dbtp=None, sample_peak_dbfs=None,
                      max_momentary_lufs=None, max_short_term_lufs=None)
    check = checks.check_integrated(analysis(loud=silent), YOUTUBE)
    assert (check.status, check.value) == ("fail", None)
    assert check.message == "no measurable loudness: the audio is digital silence"
    near_silent = dataclasses.replace(silent, sample_peak_dbfs=-85.0)
    assert "below the -70 LUFS gate" in checks.check_integrated(analysis(loud=near_silent), YOUTUBE).message
    too_short = dataclasses.replace(silent, sample_peak_dbfs=-20.0, duration_s=0.3)
    assert "shorter than one 0.4 s block" in checks.check_integrated(analysis(loud=too_short), YOUTUBE).message
    assert checks.check_true_peak(analysis(loud=silent), YOUTUBE).status == "pass"


@pytest.mark.parametrize(("true_peak", "status"), [(-1.004, "pass"), (-1.0, "pass"), (-0.99, "fail"), (0.5, "fail")])
def test_true_peak_is_judged_on_the_reported_value(true_peak: float, status: str) -> None:
    check = checks.check_true_peak(analysis(loud=loudness(true_peak_dbtp=true_peak)), YOUTUBE)
    assert check.status == status
    if status == "fail":
        assert check.moments == ((1.0, 1.0),)  # where the loudest sample is
        assert "over the -1.00 dBTP ceiling (loudest sample at 1.00 s)" in check.message


def test_loudness_range_over_the_maximum_warns() -> None:
    check = checks.check_loudness_range(analysis(loud=loudness(loudness_range_lu=11.5)), YOUTUBE)
    assert (check.status, check.value, check.limit) == ("warn", 11.5, 10.0)
    assert checks.check_loudness_range(analysis(loud=loudness(loudness_range_lu=None)), YOUTUBE).status == "pass"


def test_sudden_loud_moment_warns_and_is_located() -> None:
    short_term = np.full(100, -14.0, dtype=np.float32)
    short_term[49:52] = -7.5  # windows ending at 5.0, 5.1, 5.2 s: 6.5 LU over the target
    loud = loudness(max_short_term_lufs=-7.5, short_term_lufs=short_term, duration_s=10.0)
    check = checks.check_max_short_term(analysis(loud=loud), YOUTUBE)
    assert (check.status, check.value, check.limit) == ("warn", -7.5, -9.0)
    assert check.moments == ((2.0, 5.2),)  # from the start of the first window to the end of the last


def test_leading_and_trailing_silence() -> None:
    quiet = SilenceResult(9.0, True, 3.0, 2.5, 0, 0.0, 0.0, ())
    lead = checks.check_leading_silence(analysis(silence=quiet), YOUTUBE)
    assert (lead.status, lead.value, lead.limit) == ("warn", 3.0, 1.0)
    assert lead.moments == ((0.0, 3.0),)
    trail = checks.check_trailing_silence(analysis(silence=quiet), YOUTUBE)
    assert (trail.status, trail.value, trail.limit) == ("warn", 2.5, 2.0)
    assert trail.moments == ((6.5, 9.0),)
    fine = SilenceResult(9.0, True, 1.0, 2.0, 0, 0.0, 0.0, ())
    assert checks.check_leading_silence(analysis(silence=fine), YOUTUBE).status == "pass"
    assert checks.check_trailing_silence(analysis(silence=fine), YOUTUBE).status == "pass"


def test_dropouts_fail_with_count_and_longest() -> None:
    gaps = SilenceResult(6.0, True, 0.0, 0.0, 2, 0.4, 0.3, ((2.5, 2.8), (4.0, 4.1)))
    check = checks.check_dropouts(analysis(silence=gaps), YOUTUBE)
    assert (check.status, check.value, check.limit) == ("fail", 0.3, 0.05)
    assert check.message == "2 dropouts (digital silence inside the programme), longest 0.30 s, first at 2.50 s"
    assert check.moments == ((2.5, 2.8), (4.0, 4.1))


def test_clipping_fails_above_the_allowed_count() -> None:
    clipped = ClipResult(3, 40, 800, 3.0, ((3.0, 3.01),), 3.0, 1.0)
    check = checks.check_clipping(analysis(clips=clipped), YOUTUBE)
    assert (check.status, check.value, check.limit) == ("fail", 40, 0)
    assert check.message == "clipped: 40 runs of 3 or more full-scale samples, first at 3.00 s"
    assert checks.check_clipping(analysis(clips=clipped), limits(max_clip_runs=40)).status == "pass"


@pytest.mark.parametrize(
    ("left", "right", "status", "message"),
    [
        (-17.0, -17.5, "pass", "FL and FR within 0.50 dB"),
        (-17.0, -25.0, "warn", "FR is 8.00 dB quieter than FL (more than 6.00 dB)"),
        (-60.0, -17.0, "fail", "FL is 43.00 dB quieter than FR: effectively silent"),
        (None, -17.0, "fail", "FL is silent (below the -70 LUFS gate) while FR is not"),
    ],
)
def test_channel_balance(left: float | None, right: float, status: str, message: str) -> None:
    check = checks.check_channel_balance(analysis(loud=loudness(channel_integrated_lufs=(left, right))), YOUTUBE)
    assert (check.status, check.message) == (status, message)


def test_digitally_silent_channel_fails() -> None:
    loud = loudness(channel_integrated_lufs=(-14.0, None), channel_sample_peak_dbfs=(-11.0, None))
    check = checks.check_channel_balance(analysis(loud=loud), YOUTUBE)
    assert (check.status, check.message) == ("fail", "FR is silent (digital silence) while FL is not")


def test_mono_has_nothing_to_balance_or_phase() -> None:
    loud = loudness(channels=1, channel_names=("FC",), channel_integrated_lufs=(-14.0,),
                    channel_sample_peak_dbfs=(-3.0,), channel_true_peak_dbtp=(-3.0,))
    mono = analysis(loud=loud, front_pair=None)
    assert checks.check_channel_balance(mono, YOUTUBE).status == "pass"
    assert checks.check_phase(mono, YOUTUBE).status == "pass"


def test_phase_fails_on_inverted_channel_and_on_long_inverted_passages() -> None:
    inverted = PhaseResult(-1.0, None, 6.0, 6.0, ((0.0, 6.0),))
    check = checks.check_phase(analysis(phase=inverted), YOUTUBE)
    assert check.status == "fail"
    assert check.message == "FL and FR are out of phase (correlation -1.00, under -0.20): the mono fold-down cancels completely"
    partly = PhaseResult(0.33, 1.25, 6.0, 2.0, ((2.0, 4.0),))
    check = checks.check_phase(analysis(phase=partly), YOUTUBE)
    assert check.status == "fail"
    assert check.message.startswith("FL and FR are out of phase for 2.00 s")
    assert check.moments == ((2.0, 4.0),)
    short = PhaseResult(0.9, 0.2, 6.0, 0.5, ((2.0, 2.5),))
    assert checks.check_phase(analysis(phase=short), YOUTUBE).status == "pass"


def test_hum_warns_only_when_audible_and_above_the_floor() -> None:
    def hum_of(level: float, above: float) -> HumResult:
        return HumResult(6.0, 1.46, (MainsPeak(50.0, 1, 50.0, -95.0, 1.0), MainsPeak(60.0, 1, 60.0, level, above),
                                     MainsPeak(60.0, 3, 180.0, level - 6, above - 6)))

    check = checks.check_hum(analysis(hum=hum_of(-40.0, 43.2)), YOUTUBE)
    assert check.status == "warn"
    assert check.message == "60 Hz mains hum at -40.0 dBFS, 43.2 dB above the noise floor; harmonics at 180 Hz"
    assert checks.check_hum(analysis(hum=hum_of(-40.0, 12.0)), YOUTUBE).status == "pass"
    assert checks.check_hum(analysis(hum=hum_of(-85.0, 60.0)), YOUTUBE).status == "pass"  # inaudible


def test_duration_over_the_limit_warns() -> None:
    long = analysis(loud=loudness(duration_s=754.0))
    check = checks.check_duration(long, YOUTUBE)
    assert (check.status, check.message) == ("warn", "12:34 long, over the 10:00 limit for short content")
    assert checks.check_duration(long, limits(max_duration_s=None)).status == "pass"
    assert checks.check_duration(long, limits(max_duration_s=0)).status == "pass"  # how TOML says "no limit"


def test_a_strict_preset_turns_named_warnings_into_failures() -> None:
    hum = HumResult(6.0, 1.46, (MainsPeak(50.0, 1, 50.0, -40.0, 50.0), MainsPeak(60.0, 1, 60.0, -95.0, 1.0)))
    lenient = checks.check_file(analysis(hum=hum), YOUTUBE)
    assert lenient.status == "warn"
    strict = checks.check_file(analysis(hum=hum), limits(warn_as_fail=("hum",)))
    assert strict.status == "fail"
    assert strict.check("hum").message.endswith("(a failure under preset youtube)")


def test_unknown_check_names_in_warn_as_fail_are_refused() -> None:
    with pytest.raises(ValidationError, match="unknown check 'humm'"):
        QaSettings(warn_as_fail=("humm",))
    with pytest.raises(ValidationError):
        QaSettings(tolerance_lu=1.0, no_such_threshold=3)  # type: ignore[call-arg]


def test_file_verdict_is_the_worst_check() -> None:
    gaps = SilenceResult(9.0, True, 3.0, 0.0, 0, 0.0, 0.0, ())
    assert checks.check_file(analysis(silence=gaps), YOUTUBE).status == "warn"
    result = checks.check_file(analysis(silence=gaps, loud=loudness(true_peak_dbtp=0.2)), YOUTUBE)
    assert result.status == "fail"
    assert [c.name for c in result.problems()] == ["true_peak", "leading_silence"]


def test_files_that_cannot_be_measured_fail_with_one_check_saying_why() -> None:
    no_audio = checks.unmeasured_file("v.mp4", "no audio stream", no_audio=True, duration_s=2.0)
    assert (no_audio.status, no_audio.error, no_audio.duration_s) == ("fail", "no audio stream", 2.0)
    assert [(c.name, c.status) for c in no_audio.checks] == [("audio_stream", "fail")]
    broken = checks.unmeasured_file("x.mp4", "not a media file, or corrupt", no_audio=False)
    assert [(c.name, c.message) for c in broken.checks] == [("readable", "cannot read the audio: not a media file, or corrupt")]


@pytest.mark.parametrize(("limiting_db", "status"), [(0.0, "pass"), (4.0, "pass"), (4.01, "warn"), (12.5, "warn")])
def test_limiting_from_the_render_report_warns_past_the_threshold(limiting_db: float, status: str) -> None:
    from pipeline.qa.render_limiting import RenderLimiting

    found = RenderLimiting("a.wav.wayfinder.json", True, limiting_db, "limit")
    check = checks.check_limiting(dataclasses.replace(analysis(), limiting=found), YOUTUBE)
    assert (check.status, check.value, check.limit, check.unit) == (status, limiting_db, 4.0, "dB")
    assert f"took up to {limiting_db:.2f} dB off the loudest peaks" in check.message
    if status == "warn":
        assert "lower-target" in check.message
    # a preset can move the threshold, or make the warning a failure
    assert checks.check_limiting(dataclasses.replace(analysis(), limiting=found), limits(max_limiting_db=20.0)).status == "pass"
    strict = checks.check_file(dataclasses.replace(analysis(), limiting=found), limits(warn_as_fail=("limiting",)))
    assert strict.check("limiting").status == {"pass": "pass", "warn": "fail"}[status]


def test_limiting_unknown_without_a_report_and_none_without_a_limiter() -> None:
    from pipeline.qa.render_limiting import RenderLimiting

    unknown = checks.check_limiting(analysis(), YOUTUBE)
    assert unknown.status == "pass" and unknown.value is None and "not known" in unknown.message
    linear = checks.check_limiting(dataclasses.replace(analysis(), limiting=RenderLimiting("r", False, 0.0, "lower-target")), YOUTUBE)
    assert linear.status == "pass" and linear.value == 0.0 and "no limiter" in linear.message


def test_a_render_report_counts_only_for_the_file_it_describes() -> None:
    from pipeline.qa.render_limiting import parse_render_limiting

    report = {"output": {"sha256": "abc"}, "measurements": {"audio": {
        "gain": {"limiter": True, "limiting_db": 6.2, "policy": "limit"},
        "verified": {"corrected": True, "correction": {"limiter": True, "limiting_db": 7.5}}}}}
    found = parse_render_limiting(report, "abc", "x.json")
    assert found is not None and found.limiting_db == 7.5 and found.limiter  # the deeper of the two passes
    assert parse_render_limiting(report, "another file", "x.json") is None
    assert parse_render_limiting({"output": {"sha256": "abc"}, "measurements": {"audio": {"gain": None}}}, "abc", "x") is None
    assert parse_render_limiting([], "abc", "x") is None
