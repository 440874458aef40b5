"""A preset's QA limits: its `[qa]` thresholds (merged through `extends`) with the target
loudness and true-peak ceiling of its `[audio]` section. The one place that maps a preset
name to what `wayfinder qa` judges against."""

from __future__ import annotations

from pipeline.config import load_preset_settings
from pipeline.qa.settings import QaLimits, QaSettings


def qa_settings_for(preset_name: str) -> QaSettings:
    """The QA thresholds of preset `preset_name` (ConfigError for a bad preset).

    The preset's `[qa]` table (merged through `extends`) overrides `QaSettings`' defaults.
    """
    return load_preset_settings(preset_name).qa


def load_qa_limits(preset_name: str = "youtube") -> QaLimits:
    """Target, ceiling and thresholds of preset `preset_name` (ConfigError for a bad preset)."""
    settings = load_preset_settings(preset_name)
    audio = settings.audio
    qa = qa_settings_for(preset_name)
    return QaLimits(
        preset=preset_name,
        target_lufs=audio.target_lufs,
        true_peak_dbtp=audio.true_peak_dbtp,
        qa=qa,
        captions=settings.captions,
    )
