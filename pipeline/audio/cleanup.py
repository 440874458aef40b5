"""The speech clean-up chain (pure): which ffmpeg filters, with which settings, from the
job's settings and the analysis of the input.

Order: high-pass (rumble, handling noise) -> hum notches (only the harmonics found) ->
noise reduction (afftdn with the measured floor, strength-scaled and capped) -> speech
leveler (dynaudnorm with a threshold above the noise floor, so pauses and breaths are
not pumped up). Each stage records why it is on or off for the render report.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.audio.analysis import AudioAnalysis
from pipeline.config import AudioSettings
from pipeline.filters import Filter


HUM_NOTCH_Q = 30.0  # about 2 Hz wide at 60 Hz: takes the line, leaves the voice
NOISE_FLOOR_MIN_DBFS = -80.0  # afftdn's lowest noise floor setting
NOISE_FLOOR_MAX_DBFS = -20.0
QUIET_ENOUGH_DBFS = -70.0  # below this there is nothing worth reducing
LEVELER_FRAME_MS = 300
# 15 frames of 300 ms: gain moves over ~4.5 s, fast enough to meet a new speaker within
# a sentence, far too slow to pump syllables. (31 frames of 500 ms let a 12 dB speaker
# change through almost untouched on the sample.)
LEVELER_GAUSS_FRAMES = 15
LEVELER_TARGET_RMS = 0.08  # about -22 dBFS RMS per frame before the final gain
LEVELER_THRESHOLD_ABOVE_FLOOR_DB = 10.0


@dataclass(frozen=True)
class Stage:
    name: str
    enabled: bool
    reason: str
    filters: tuple[Filter, ...] = field(default=())

    def to_dict(self) -> dict[str, object]:
        return {
            "stage": self.name,
            "enabled": self.enabled,
            "reason": self.reason,
            "filters": [{"filter": name, **{k: v for k, v in options.items()}} for name, options in self.filters],
        }


def highpass_stage(settings: AudioSettings) -> Stage:
    if settings.highpass_hz <= 0:
        return Stage("high-pass", False, "turned off")
    return Stage(
        "high-pass", True, f"{settings.highpass_hz:g} Hz for rumble and handling noise",
        (("highpass", {"f": settings.highpass_hz, "poles": 2}),),
    )


def hum_stage(settings: AudioSettings, analysis: AudioAnalysis) -> Stage:
    if not settings.hum_removal:
        return Stage("hum removal", False, "turned off")
    hum = analysis.hum
    if not hum.found:
        return Stage("hum removal", False, "no mains hum found")
    notches = tuple(
        ("bandreject", {"f": f, "width_type": "q", "w": HUM_NOTCH_Q}) for f in hum.harmonics_hz
    )
    listed = ", ".join(f"{f:g}" for f in hum.harmonics_hz)
    return Stage("hum removal", True, f"{hum.mains_hz:g} Hz mains hum at {listed} Hz", notches)


def noise_stage(settings: AudioSettings, analysis: AudioAnalysis) -> Stage:
    if not settings.noise_reduction or settings.noise_reduction_strength <= 0:
        return Stage("noise reduction", False, "turned off")
    floor = analysis.noise.noise_floor_dbfs
    if floor is None or floor < QUIET_ENOUGH_DBFS:
        return Stage("noise reduction", False, "noise floor below -70 dBFS: nothing to reduce")
    # strength scales the reduction; noise_reduction_max_db caps it so speech keeps its texture
    reduction_db = max(0.01, round(settings.noise_reduction_strength * settings.noise_reduction_max_db, 2))
    floor_setting = round(min(NOISE_FLOOR_MAX_DBFS, max(NOISE_FLOOR_MIN_DBFS, floor)), 1)
    return Stage(
        "noise reduction", True,
        f"noise floor {floor:.1f} dBFS reduced by up to {reduction_db:g} dB",
        (("afftdn", {"nr": reduction_db, "nf": floor_setting}),),
    )


def leveler_stage(settings: AudioSettings, analysis: AudioAnalysis) -> Stage:
    if not settings.leveler or settings.leveler_max_gain_db <= 0:
        return Stage("speech leveler", False, "turned off")
    floor = analysis.noise.noise_floor_dbfs
    threshold_dbfs = (floor if floor is not None else -60.0) + LEVELER_THRESHOLD_ABOVE_FLOOR_DB
    threshold = min(0.5, 10 ** (threshold_dbfs / 20))
    max_gain = round(10 ** (settings.leveler_max_gain_db / 20), 3)
    return Stage(
        "speech leveler", True,
        f"up to +{settings.leveler_max_gain_db:g} dB; frames under {threshold_dbfs:.1f} dBFS (pauses, breaths) left alone",
        (("dynaudnorm", {
            "f": LEVELER_FRAME_MS,
            "g": LEVELER_GAUSS_FRAMES,
            "p": 0.9,
            "m": max(1.0, max_gain),
            "r": LEVELER_TARGET_RMS,
            "t": round(threshold, 6),
            "b": 1,  # no fade-in/out of the gain at the file's edges
        }),),
    )


def build_cleanup_stages(settings: AudioSettings, analysis: AudioAnalysis) -> list[Stage]:
    return [
        highpass_stage(settings),
        hum_stage(settings, analysis),
        noise_stage(settings, analysis),
        leveler_stage(settings, analysis),
    ]


def stage_filters(stages: list[Stage]) -> list[Filter]:
    return [f for stage in stages if stage.enabled for f in stage.filters]
