"""Whether stereo speech is enhanced once as its mid (pipeline.audio.sound): the powers
surveyed from a raw spool, and the decision from them (expected values from the
definition of the mid, (L+R)/2: unrelated channels of equal power put it 3 dB under their
mean, identical ones 0 dB, opposite ones nothing)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from pipeline.audio.sound import ChannelSurvey, enhance_mid, survey_channels


def spool(path: Path, frames: np.ndarray) -> Path:
    path.write_bytes(np.ascontiguousarray(frames, dtype="<f4").tobytes())
    return path


def test_the_survey_measures_the_mid_against_the_channels(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    left, right = rng.standard_normal(200_000), rng.standard_normal(200_000)
    unrelated = survey_channels(spool(tmp_path / "a.f32", np.stack([left, right], axis=1)), 2)
    assert unrelated is not None and not unrelated.identical
    assert unrelated.mid_db == pytest.approx(10 * math.log10(0.5), abs=0.05)
    same = survey_channels(spool(tmp_path / "b.f32", np.stack([left, left], axis=1)), 2)
    assert same is not None and same.identical and same.mid_db == pytest.approx(0.0, abs=1e-6)
    opposite = survey_channels(spool(tmp_path / "c.f32", np.stack([left, -left], axis=1)), 2)
    assert opposite is not None and opposite.mid_db is not None and opposite.mid_db < -100
    assert survey_channels(spool(tmp_path / "d.f32", left[:, None]), 1) is None


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
