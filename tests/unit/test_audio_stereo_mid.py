"""Whether stereo speech is enhanced once as its mid (pipeline.audio.stereo_mid): the
powers surveyed from a raw spool, and the decision from them. Expected values come from
the definition of the mid, (L+R)/2: unrelated channels of equal power put it 3 dB under
their mean, identical ones 0 dB, opposite ones nothing; a copy delayed by t puts it at
cos^2(pi f t) of the channels at frequency f (a notch at 1 / 2t)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from pipeline.audio.stereo_mid import MAX_COMB_DB, ChannelSurvey, enhance_mid, read_mid, survey_channels, survey_frames

RATE_HZ = 48_000


def spool(path: Path, frames: np.ndarray) -> Path:
    path.write_bytes(np.ascontiguousarray(frames, dtype="<f4").tobytes())
    return path


def test_the_survey_measures_the_mid_against_the_channels(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    left, right = rng.standard_normal(200_000), rng.standard_normal(200_000)
    unrelated = survey_channels(spool(tmp_path / "a.f32", np.stack([left, right], axis=1)), 2, RATE_HZ)
    assert unrelated is not None and not unrelated.identical
    assert unrelated.mid_db == pytest.approx(10 * math.log10(0.5), abs=0.05)
    same = survey_channels(spool(tmp_path / "b.f32", np.stack([left, left], axis=1)), 2, RATE_HZ)
    assert same is not None and same.identical and same.mid_db == pytest.approx(0.0, abs=1e-6)
    opposite = survey_channels(spool(tmp_path / "c.f32", np.stack([left, -left], axis=1)), 2, RATE_HZ)
    assert opposite is not None and opposite.mid_db is not None and opposite.mid_db < -100
    assert survey_channels(spool(tmp_path / "d.f32", left[:, None]), 1, RATE_HZ) is None


def test_stereo_speech_goes_as_its_mid_unless_asked_or_cancelling() -> None:
    unrelated = ChannelSurvey(channel_power=1.0, mid_power=0.5, identical=False)
    assert enhance_mid(unrelated, "mid")[0] is True
    assert enhance_mid(unrelated, "channels")[0] is False
    # correlation -0.3 between equal channels: the mid holds (1 - 0.3) / 2 of their power
    cancelling = ChannelSurvey(channel_power=1.0, mid_power=0.35, identical=False)
    use_mid, reason = enhance_mid(cancelling, "mid")
    assert use_mid is False and "out of phase" in reason
    identical = ChannelSurvey(channel_power=1.0, mid_power=1.0, identical=True)
    assert enhance_mid(identical, "channels")[0] is True  # dual mono is one channel anyway
    silent = ChannelSurvey(channel_power=0.0, mid_power=0.0, identical=False)
    assert enhance_mid(silent, "mid")[0] is True
    assert enhance_mid(None, "mid")[0] is False


def delayed(signal: np.ndarray, samples: int) -> np.ndarray:
    return np.concatenate([np.zeros(samples), signal[:-samples]])


def test_two_spaced_microphones_are_lined_up_before_the_mid() -> None:
    rng = np.random.default_rng(2)
    voice = rng.standard_normal(5 * RATE_HZ)
    # 11 samples (0.23 ms, 8 cm of path): summed as they are, a notch at 2.2 kHz
    for lag in (11, -24):
        right = delayed(voice, lag) if lag > 0 else np.concatenate([voice[-lag:], np.zeros(-lag)])
        spaced = survey_frames(np.stack([voice, right], axis=1), RATE_HZ)
        assert spaced.lag_samples == lag
        # once lined up the two are one signal: the mid as strong as the channels in every band
        assert all(abs(10 * math.log10(mid / chan)) < 0.3
                   for chan, mid in zip(spaced.band_channel_power, spaced.band_mid_power))
        use_mid, reason = enhance_mid(spaced, "mid")
        assert use_mid is True and "lined up" in reason


def test_a_comb_that_no_one_lag_removes_is_enhanced_apart() -> None:
    rng = np.random.default_rng(4)
    voice = rng.standard_normal(6 * RATE_HZ)
    # a talker crossing a spaced pair: the right microphone 11 samples late, then 11 early
    half = len(voice) // 2
    right = np.concatenate([delayed(voice, 11)[:half], np.concatenate([voice[11:], np.zeros(11)])[half:]])
    moving = survey_frames(np.stack([voice, right], axis=1), RATE_HZ)
    assert moving.correlated_windows >= 5 and moving.moved_windows >= 2
    use_mid, reason = enhance_mid(moving, "mid")
    assert use_mid is False and "comb" in reason and "changes" in reason
    # a comb the whole file shows (measured over the speech bands) is refused as well
    combed = ChannelSurvey(2.0, 1.0, False, (1.0, 1.0, 1.0), (0.5, 0.02, 0.5))
    use_mid, reason = enhance_mid(combed, "mid")
    assert use_mid is False and "comb" in reason and combed.comb_db > MAX_COMB_DB


def test_unrelated_channels_are_not_moved() -> None:
    rng = np.random.default_rng(5)
    voice, other = rng.standard_normal(5 * RATE_HZ), rng.standard_normal(5 * RATE_HZ)
    assert survey_frames(np.stack([voice, other], axis=1), RATE_HZ).lag_samples == 0
    # two lavs, each voice heard by the other at -14 dB and a few ms late: barely a ripple
    lavs = np.stack([voice + 0.2 * delayed(other, 140), other + 0.2 * delayed(voice, 150)], axis=1)
    survey = survey_frames(lavs, RATE_HZ)
    assert survey.lag_samples == 0 and enhance_mid(survey, "mid")[0] is True


@pytest.mark.parametrize("lag", [0, 7, -7, 300])
def test_the_mid_read_from_the_spool_is_left_plus_the_moved_right(tmp_path: Path, lag: int) -> None:
    rng = np.random.default_rng(6)
    frames = rng.standard_normal((10_007, 2)).astype(np.float32)
    path = spool(tmp_path / "mid.f32", frames)
    padded = np.concatenate([np.zeros(400, dtype=np.float32), frames[:, 1], np.zeros(400, dtype=np.float32)])
    expected = (frames[:, 0] + padded[400 + lag: 400 + lag + len(frames)]) / 2
    with path.open("rb") as stream:
        blocks = [read_mid(stream, len(frames), start, 3000, lag) for start in range(0, len(frames), 3000)]
    got = np.concatenate(blocks)[:, 0]
    np.testing.assert_allclose(got, expected, atol=1e-6)
    if lag == 0:  # identical channels give the channel itself, bit for bit
        same = spool(tmp_path / "same.f32", np.stack([frames[:, 0], frames[:, 0]], axis=1))
        with same.open("rb") as stream:
            assert np.array_equal(read_mid(stream, len(frames), 0, len(frames), 0)[:, 0], frames[:, 0])


def test_the_streamed_survey_equals_the_one_in_memory(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    frames = rng.standard_normal((3 * RATE_HZ + 77, 2)).astype(np.float32)
    streamed = survey_channels(spool(tmp_path / "e.f32", frames), 2, RATE_HZ, chunk_samples=5000)
    whole = survey_frames(frames, RATE_HZ)
    assert streamed is not None
    assert streamed.band_mid_power == pytest.approx(whole.band_mid_power, rel=1e-9)
    assert streamed.mid_power == pytest.approx(whole.mid_power, rel=1e-9)
