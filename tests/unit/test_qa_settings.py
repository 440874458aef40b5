"""QA thresholds come from the preset: target and ceiling from [audio], the rest from QaSettings."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from pipeline.errors import ConfigError
from pipeline.qa.limits import load_qa_limits, qa_settings_for
from pipeline.qa.settings import QaSettings


def test_youtube_limits_use_the_presets_target_and_ceiling() -> None:
    limits = load_qa_limits("youtube")
    assert (limits.preset, limits.target_lufs, limits.true_peak_dbtp) == ("youtube", -14.0, -1.0)
    assert limits.qa == QaSettings()


def test_other_presets_bring_their_own_target() -> None:
    assert load_qa_limits("broadcast-r128").target_lufs == -23.0
    assert load_qa_limits("podcast-audio").target_lufs == -16.0


def test_qa_settings_for_a_preset_without_a_qa_table_are_the_defaults() -> None:
    assert qa_settings_for("youtube-draft") == QaSettings()


def test_unknown_preset_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown preset 'nope'"):
        load_qa_limits("nope")


def test_defaults_are_sensible_for_spoken_video() -> None:
    qa = QaSettings()
    assert qa.tolerance_lu == 1.0
    assert qa.clip_run_samples == 3
    assert qa.min_dropout_s < qa.max_leading_silence_s
    assert qa.digital_silence_dbfs < qa.silence_threshold_dbfs
    assert qa.channel_imbalance_db < qa.channel_silent_db


def test_settings_are_frozen_and_strict() -> None:
    with pytest.raises(ValidationError, match="frozen"):
        QaSettings().tolerance_lu = 2.0  # type: ignore[misc]
    with pytest.raises(ValidationError, match="extra"):
        QaSettings.model_validate({"tolerance_lu": 0.5, "tolerence_lu": 0.5})
