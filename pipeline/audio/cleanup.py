"""The speech clean-up chain (pure): which stages run, with which settings, from the job's
settings and the analysis of the input.

Order: de-reverberation (WPE, only when the analysis found the speech reverberant; run by
`pipeline.audio.sound` on the decoded sound before everything else: its filters are
linear, like the high-pass and notches after it, so the order barely changes the result,
and it learns the room from the sound as recorded) ->
high-pass (rumble, handling noise) -> hum notches (only audible hum) -> the neural
speech enhancer (DeepFilterNet 3, run by `pipeline.audio.sound` between the decoding pass
and the render, not an ffmpeg filter; used only in the bands where the analysis found
noise, see `pipeline.audio.noise_bands`) -> speech leveler (dynaudnorm, off by default). The
filters before the enhancer run in the decoding pass; the ones after it in the render
graph. Each stage records why it is on or off for the render report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pipeline.audio.analysis import AudioAnalysis
from pipeline.audio.dereverb import WpeSettings
from pipeline.audio.noise_bands import BandWeights
from pipeline.config import AudioSettings
from pipeline.filters import Filter


# Hum notches: ffmpeg's peaking equalizer cut by what the hum needs (HumFinding.cuts_db,
# not a bottomless band-reject), -3 dB wide f/HUM_NOTCH_Q (1.7 Hz at 50 Hz, 5 Hz at
# 150 Hz: the grid's drift grows with the harmonic), in double precision (in float a
# 65 dB cut 1.7 Hz wide at 50 Hz gets 31). On real speech with drifting hum, Q 30 beat
# Q 50 and Q 100 both on clean-speech PESQ-WB and on hum left: narrower notches ring
# longer after every voice partial that crosses them, and miss the drifting line.
HUM_NOTCH_Q = 30.0
HUM_NOTCH_PRECISION = "f64"
QUIET_ENOUGH_DBFS = -70.0  # below this there is nothing worth reducing
CLEAN_SNR_DB = 45.0
# On reverberant speech without noise, after WPE: the enhancer takes the late reverberation
# WPE leaves, capped so it cannot thin the voice (bench_dereverb, reverb files: WPE alone
# +0.026 STOI, +0.05 DNSMOS; then the enhancer capped at 12 dB +0.053 STOI, +0.33 DNSMOS;
# uncapped it lost STOI, -0.051 on one file).
REVERB_RESIDUE_MAX_DB = 12.0
LEVELER_FRAME_MS = 300
# 15 frames of 300 ms: gain moves over ~4.5 s, fast enough to meet a new speaker within
# a sentence, far too slow to pump syllables. (31 frames of 500 ms let a 12 dB speaker
# change through almost untouched on the sample.)
LEVELER_GAUSS_FRAMES = 15
LEVELER_TARGET_RMS = 0.08  # about -22 dBFS RMS per frame before the final gain
LEVELER_THRESHOLD_ABOVE_FLOOR_DB = 10.0


@dataclass(frozen=True)
class EnhanceSettings:
    """What the enhancer is asked for: wet/dry strength, its attenuation limit, and per
    band how much of its output to use (None: all of it, in every band)."""

    strength: float
    attenuation_limit_db: float
    band_weights: BandWeights | None = None
    stereo: Literal["mid", "channels"] = "mid"

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"strength": self.strength, "attenuation_limit_db": self.attenuation_limit_db,
                                   "stereo": self.stereo}
        if self.band_weights is not None:
            data["input_kept_in"] = self.band_weights.summary()
            data["bands"] = self.band_weights.to_dict()
        return data


@dataclass(frozen=True)
class Stage:
    name: str
    enabled: bool
    reason: str
    filters: tuple[Filter, ...] = field(default=())
    enhance: EnhanceSettings | None = None
    dereverb: WpeSettings | None = None

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "stage": self.name,
            "enabled": self.enabled,
            "reason": self.reason,
            "filters": [{"filter": name, **{k: v for k, v in options.items()}} for name, options in self.filters],
        }
        if self.enhance is not None:
            data["enhancer"] = self.enhance.to_dict()
        if self.dereverb is not None:
            data["wpe"] = self.dereverb.to_dict()
        return data


def dereverb_stage(settings: AudioSettings, analysis: AudioAnalysis) -> Stage:
    name = "de-reverberation"
    if settings.content == "music":
        return Stage(name, False, "content is music: its reverberation is part of it")
    if not settings.dereverb:
        return Stage(name, False, "turned off")
    reverb = analysis.reverb
    if reverb is None:
        return Stage(name, False, "reverberation not measured")
    if not reverb.reverberant:
        # WPE on dry speech only takes a little of the voice away (bench: clean PESQ-WB -0.11).
        return Stage(name, False, reverb.reason)
    wpe = WpeSettings()
    return Stage(
        name, True,
        f"WPE ({wpe.taps} taps after a {wpe.delay * wpe.hop / 48:.0f} ms delay, under {wpe.max_hz / 1000:g} kHz); "
        f"{reverb.reason}",
        dereverb=wpe,
    )


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
        # seen but too faint against the speech: notching the voice for it would cost more
        return Stage("hum removal", False, hum.reason if hum.mains_hz is not None else "no mains hum found")
    notches: list[Filter] = []
    for harmonic_hz, cut_db in zip(hum.harmonics_hz, hum.cuts_db()):
        centre_hz = hum.notch_hz(harmonic_hz)
        # the RBJ peaking cut's -3 dB width is w / 10^(g/40): narrow w for a deep cut
        width_hz = centre_hz / HUM_NOTCH_Q * 10 ** (-cut_db / 40)
        notches.append(("equalizer", {
            "f": centre_hz, "width_type": "h", "w": float(f"{width_hz:.4g}"), "g": -cut_db,
            "precision": HUM_NOTCH_PRECISION,
        }))
    listed = ", ".join(f"{f:g} Hz -{c:g} dB" for f, c in zip(hum.harmonics_hz, hum.cuts_db()))
    below = hum.below_speech_db
    level = "" if below is None else f", {below:.0f} dB under the speech"
    return Stage("hum removal", True, f"{hum.mains_hz:g} Hz mains hum{level}: {listed}", tuple(notches))


def noise_stage(settings: AudioSettings, analysis: AudioAnalysis, *, after_dereverb: bool = False) -> Stage:
    name = "speech enhancement"
    if settings.content == "music":
        return Stage(name, False, "content is music: the speech enhancer would damage it")
    if not settings.noise_reduction or settings.noise_reduction_strength <= 0:
        return Stage(name, False, "turned off")
    noise = analysis.noise
    floor = noise.noise_floor_dbfs
    quiet = floor is None or floor < QUIET_ENOUGH_DBFS
    clean = noise.snr_db is not None and noise.snr_db >= CLEAN_SNR_DB
    if (quiet or clean) and after_dereverb:
        limit_db = min(settings.noise_reduction_max_db, REVERB_RESIDUE_MAX_DB)
        return Stage(
            name, True,
            f"DeepFilterNet 3 at strength {settings.noise_reduction_strength:g}, at most {limit_db:g} dB taken off: "
            "the late reverberation left after de-reverberation (no noise to remove)",
            enhance=EnhanceSettings(settings.noise_reduction_strength, limit_db, None, settings.noise_reduction_stereo),
        )
    if quiet:
        return Stage(name, False, f"noise floor below {QUIET_ENOUGH_DBFS:g} dBFS: clean, nothing to remove")
    if clean:
        # The enhancer slightly dulls speech that has no noise to lose (bench_speech: clean
        # PESQ-WB 4.6 -> 4.3), so clean recordings pass untouched.
        return Stage(name, False, f"speech {noise.snr_db:.0f} dB above the noise floor: clean, nothing to remove")
    # Where a band's speech stands far above its noise the enhancer has nothing to remove
    # and only takes speech away (rumble, hum, band-limited voices): the input is kept there.
    bands = analysis.noise_bands if analysis.noise_bands is not None and not analysis.noise_bands.all_wet else None
    enhance = EnhanceSettings(settings.noise_reduction_strength, settings.noise_reduction_max_db, bands,
                              settings.noise_reduction_stereo)
    limit = "no limit" if settings.noise_reduction_max_db >= 100 else f"at most {settings.noise_reduction_max_db:g} dB"
    kept = "" if bands is None else f"; input kept where the speech is far above the noise: {bands.summary()}"
    return Stage(
        name, True,
        f"DeepFilterNet 3 at strength {settings.noise_reduction_strength:g} ({limit} taken off); "
        f"noise floor {floor:.1f} dBFS{kept}",
        enhance=enhance,
    )


def leveler_stage(settings: AudioSettings, analysis: AudioAnalysis) -> Stage:
    if settings.content == "music":
        return Stage("speech leveler", False, "content is music")
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
    dereverb = dereverb_stage(settings, analysis)
    return [
        dereverb,
        highpass_stage(settings),
        hum_stage(settings, analysis),
        noise_stage(settings, analysis, after_dereverb=dereverb.enabled),
        leveler_stage(settings, analysis),
    ]


def stage_filters(stages: list[Stage]) -> list[Filter]:
    return [f for stage in stages if stage.enabled for f in stage.filters]


def dereverb_settings(stages: list[Stage]) -> WpeSettings | None:
    return next((stage.dereverb for stage in stages if stage.enabled and stage.dereverb), None)


def enhancer_settings(stages: list[Stage]) -> EnhanceSettings | None:
    return next((stage.enhance for stage in stages if stage.enabled and stage.enhance), None)


def split_at_enhancer(stages: list[Stage]) -> tuple[list[Filter], list[Filter]]:
    """(filters before the enhancer, filters after it); with the enhancer off, all
    filters come first."""
    index = next((i for i, stage in enumerate(stages) if stage.enabled and stage.enhance), len(stages))
    return stage_filters(stages[:index]), stage_filters(stages[index + 1:])
