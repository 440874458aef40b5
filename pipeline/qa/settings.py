"""QA thresholds: what each `wayfinder qa` check compares against, and where it comes from.

Owns: `QaSettings` (the per-check thresholds, with defaults chosen for spoken
patient-navigation videos heard on phone speakers), `QaLimits` (those thresholds plus
the target loudness and true-peak ceiling the preset's `[audio]` section already
states). A schema only: `pipeline.config` builds presets with it, and
`pipeline.qa.limits` reads a preset's limits, so this module imports neither.

The target and the ceiling are deliberately not duplicated here: QA judges a file
against the same numbers a render aims for.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pipeline.captions.settings import CaptionSettings
from pipeline.qa.model import MEASURED_CHECKS


class QaSettings(BaseModel):
    """Per-check thresholds. Unknown keys are errors, as in every Wayfinder schema."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Loudness. R128 allows +-1 LU where exact normalisation is not feasible; a file
    # rendered by Wayfinder lands within a few tenths, agency deliveries often do not.
    tolerance_lu: float = Field(1.0, gt=0.0, le=10.0, description="integrated loudness: allowed distance from the target (FAIL outside)")
    # Speech for phone speakers should be fairly even: a two-voice video whose voices
    # differ by 12 dB reads about 11.5 LU.
    max_lra_lu: float = Field(10.0, gt=0.0, le=50.0, description="WARN when the loudness range is over this")
    max_short_term_above_target_lu: float = Field(
        5.0, gt=0.0, le=30.0,
        description="WARN when the loudest 3 s are more than this above the target (sudden loud moments)",
    )

    # Silence. Edge silence is measured against an audibility threshold (room tone
    # counts as silence); dropouts are digital silence, which no microphone produces.
    silence_threshold_dbfs: float = Field(-60.0, ge=-120.0, le=-20.0, description="below this sample level counts as silence at the start and end")
    max_leading_silence_s: float = Field(1.0, ge=0.0, description="WARN when the programme starts later than this")
    max_trailing_silence_s: float = Field(2.0, ge=0.0, description="WARN when the programme ends earlier than this before the end of the file")
    digital_silence_dbfs: float = Field(-90.0, ge=-150.0, le=-60.0, description="below this level on every channel a sample is digital silence")
    min_dropout_s: float = Field(0.05, gt=0.0, le=10.0, description="FAIL on digital silence at least this long inside the programme")

    # Clipping: the classic definition (3 or more consecutive full-scale samples).
    clip_run_samples: int = Field(3, ge=1, le=1000, description="consecutive full-scale samples that count as one clip")
    max_clip_runs: int = Field(0, ge=0, description="FAIL when there are more clips than this")

    # Channels (the front pair FL/FR; other channels of a surround mix may be quiet).
    channel_imbalance_db: float = Field(6.0, gt=0.0, le=60.0, description="WARN when one front channel is this much quieter than the other")
    channel_silent_db: float = Field(40.0, gt=0.0, le=120.0, description="FAIL: a channel this much quieter than the other (or digital silence) is silent")
    phase_correlation_min: float = Field(-0.2, ge=-1.0, le=1.0, description="FAIL when L/R correlation is below this (mono fold-down loses level)")
    max_out_of_phase_s: float = Field(1.0, gt=0.0, description="FAIL when passages below phase_correlation_min add up to this long")

    # Mains hum: the fundamental's peak over the local noise floor of an averaged spectrum.
    hum_above_floor_db: float = Field(15.0, gt=0.0, le=80.0, description="WARN when 50 or 60 Hz stands this far above the noise floor")

    # Short content (patient-navigation videos are a few minutes at most).
    # TOML has no null, so a preset turns the limit off with 0 (as highpass_hz = 0 does).
    max_duration_s: float | None = Field(600.0, ge=0.0, description="WARN when longer than this; 0 or None: no limit")

    # Limiting, as the render report beside a rendered file records it: past a few dB
    # off the loudest peaks speech starts to sound squashed (the render's own warning).
    max_limiting_db: float = Field(4.0, ge=0.0, le=60.0, description="WARN when the render's limiter took more than this off the loudest peaks")

    # A preset can be strict: these checks turn their WARN into FAIL.
    warn_as_fail: tuple[str, ...] = Field((), description="names of checks whose WARN counts as FAIL")

    @field_validator("warn_as_fail")
    @classmethod
    def _known_checks(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [name for name in names if name not in MEASURED_CHECKS]
        if unknown:
            raise ValueError(f"unknown check {', '.join(map(repr, unknown))}; checks: {', '.join(MEASURED_CHECKS)}")
        return names


@dataclass(frozen=True)
class QaLimits:
    """Everything a check compares against, for one preset."""

    preset: str
    target_lufs: float
    true_peak_dbtp: float
    qa: QaSettings
    captions: CaptionSettings = field(default_factory=CaptionSettings)  # for a caption file beside the media
