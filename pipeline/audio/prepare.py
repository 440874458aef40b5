"""Everything the audio half of a render needs to know before it is planned (effectful):
decode the input's audio once into a spool, analyse it (with a sample of it, whether the
speech is reverberant), choose the clean-up stages, de-reverberate the spool (when the
speech is reverberant), run the speech enhancer into a sound spool (when it is on),
measure the programme's sound (the cleaned-up main sound with the insets' and cards'
sound, as the render will mix it) with an audio-only pass, and plan the gain from that
measurement."""

from __future__ import annotations

import dataclasses
import os
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.audio.analysis import AudioAnalysis, analyse_chunks
from pipeline.audio.chain import build_measure_args
from pipeline.audio.cleanup import (
    Stage,
    build_cleanup_stages,
    dereverb_settings,
    enhancer_settings,
    split_at_enhancer,
)
from pipeline.audio.gain import GainPlan, build_gain_filters, plan_gain, with_gain
from pipeline.audio.measure import build_spool_pass_args, measure_pass, spool_file
from pipeline.audio.reach import check_target_reachable
from pipeline.audio.sound import (
    SoundSpool,
    decode_sound,
    detect_spool_reverb,
    iter_spool_chunks,
    run_dereverbed_sound,
    run_enhanced_sound,
)
from pipeline.config import AudioSettings
from pipeline.errors import AudioError
from pipeline.filters import Filter
from pipeline.probe import AudioStreamInfo, MediaInfo
from pipeline.speed import in_this_context

MeasureArgs = Callable[[SoundSpool | None, list[Filter], list[Filter]], list[str]]
"""Arguments of an audio-only ffmpeg pass that writes the programme's sound (output rate
and layout, f32le) to stdout, given the main sound (the enhanced spool, or None for the
source's own stream), its clean-up filters, and the filters applied after the mix (gain,
limiter)."""


@dataclass(frozen=True)
class AudioPrep:
    analysis: AudioAnalysis
    stages: tuple[Stage, ...]
    # The filters the render graph applies to the main sound: all the clean-up filters,
    # or with the enhancer on only those after it (the rest ran before the spool).
    cleanup_filters: tuple[Filter, ...]
    gain: GainPlan | None
    gain_filters: tuple[Filter, ...] | None
    processed: dict[str, object] = field(default_factory=dict)
    sound: SoundSpool | None = None
    enhancement: dict[str, object] | None = None
    # What de-reverberation did (None: it did not run).
    dereverb: dict[str, object] | None = None
    # When the main sound is not the input's own: the external recorder's sound aligned
    # to the camera (a WAV on the camera's clock), and what the alignment found.
    source: MediaInfo | None = None
    external: dict[str, object] | None = None
    # The programme's sound with its gain and limiter, as the landed calibration pass
    # measured it (output rate and layout): what the track encode reads, when present.
    limited_sound: SoundSpool | None = None

    @property
    def notes(self) -> list[str]:
        notes = [f"audio {s.name}: {s.reason}" for s in self.stages if s.enabled]
        if self.enhancement is not None and not self.enhancement["applied"]:
            notes.append(f"audio speech enhancement: {self.enhancement['reason']}")
        if self.gain is not None:
            notes.append(f"loudness: {self.gain.gain_db:+.1f} dB, {self.gain.reason}")
            if self.gain.heavy_limiting:
                notes.append(
                    f"warning: the limiter takes up to {self.gain.limiting_db:.1f} dB off the loudest peaks, "
                    "which can sound squashed; record louder or closer, or set [audio] limiter_policy = \"lower-target\""
                )
        return notes

    def report(self) -> dict[str, object]:
        return {
            **({"external": self.external} if self.external is not None else {}),
            "input": self.analysis.to_dict(),
            "cleanup": [stage.to_dict() for stage in self.stages],
            "enhancement": self.enhancement,
            **({"dereverb": self.dereverb} if self.dereverb is not None else {}),
            "before_gain": self.processed,
            "gain": self.gain.to_dict() if self.gain else None,
        }


CALIBRATION_PASSES = 4
MAX_MAKEUP_DB = 6.0
FIRST_STEP_PER_LIMITED_DB = 0.5
MIN_FIRST_STEP_DB = 0.3


def next_gain_db(tries: list[tuple[float, float]], landing_lufs: float) -> float:
    """Secant step on measured (gain, loudness) pairs. A limiter gives back less than
    each added dB (slope under 1), so a plain step would undershoot again and again."""
    gain_db, lufs = tries[-1]
    slope = 1.0
    if len(tries) >= 2:
        (g0, l0), (g1, l1) = tries[-2], tries[-1]
        if abs(g1 - g0) > 1e-6:
            slope = min(1.5, max(0.2, (l1 - l0) / (g1 - g0)))
    return gain_db + (landing_lufs - lufs) / slope


def first_makeup_guess_db(plan: GainPlan) -> float:
    """Where the second of the first two measuring points goes: the make-up that speech
    needed was about half the limiting depth at the planned gain (measured: 5.0 dB of
    limiting needed 3.0 dB, 5.7 needed 4.1, 9.4 needed 3.6, on the 10-minute bench
    programmes and the speech sample)."""
    return min(MAX_MAKEUP_DB, max(MIN_FIRST_STEP_DB, FIRST_STEP_PER_LIMITED_DB * plan.limiting_db))


def calibrate_limited_gain(
    measure_with: Callable[[list[Filter]], float | None],
    settings: AudioSettings,
    plan: GainPlan,
) -> GainPlan:
    """`measure_limited_gain` without the measured points."""
    return measure_limited_gain(measure_with, settings, plan)[0]


def measure_limited_gain(
    measure_with: Callable[[list[Filter]], float | None],
    settings: AudioSettings,
    plan: GainPlan,
) -> tuple[GainPlan, list[tuple[float, float]]]:
    """A limiter takes loudness away as it works, so plain arithmetic undershoots the
    target. Measure the chain with the limiter (`measure_with` runs an audio-only pass with
    the given gain filters and returns its integrated loudness) and make up the loss; the
    gain returned is always one that was measured.

    The first two points (the planned gain, and that plus a guess of the loss) are
    measured side by side, one per core; the secant then steps from both. Also returns
    the measured (gain, loudness) points."""
    if not plan.limiter:
        return plan, []

    def measure_at(gain_db: float) -> float | None:
        return measure_with(build_gain_filters(with_gain(plan, gain_db, ""), settings.sample_rate_hz))

    def landed(lufs: float) -> bool:
        return abs(plan.landing_lufs - lufs) <= settings.tolerance_lu / 4

    ceiling_db = plan.gain_db + MAX_MAKEUP_DB
    first = [plan.gain_db, min(ceiling_db, plan.gain_db + first_makeup_guess_db(plan))]
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="calibration") as pool:
        results = list(pool.map(in_this_context(measure_at), first))
    tries = [(gain_db, lufs) for gain_db, lufs in zip(first, results) if lufs is not None]
    while tries and len(tries) < CALIBRATION_PASSES and not any(landed(lufs) for _, lufs in tries):
        # Sound with little crest (already limited, or square-ish) gives back almost
        # nothing for more gain: past a few dB of make-up the limiter only destroys it.
        if tries[-1][0] >= ceiling_db:
            break
        gain_db = min(next_gain_db(tries, plan.landing_lufs), ceiling_db)
        lufs = measure_at(gain_db)
        if lufs is None:
            break
        tries.append((gain_db, lufs))
    if not tries:
        return plan, []
    best_gain_db, _ = min(tries, key=lambda t: abs(plan.landing_lufs - t[1]))
    passes = len(tries)
    return with_gain(
        plan, best_gain_db, f"gain calibrated through the limiter in {passes} measuring pass{'es' if passes != 1 else ''}"
    ), tries


def prepare_audio(
    path: Path,
    stream: AudioStreamInfo,
    settings: AudioSettings,
    *,
    duration_s: float,
    work_dir: Path,
    programme_args: MeasureArgs | None = None,
    stop: threading.Event | None = None,
) -> AudioPrep:
    """Analyse `path`'s sound, choose the clean-up, enhance the speech into a spool in
    `work_dir` (which must outlive the render that reads it), and plan the gain.
    `programme_args` builds the measuring pass of the whole programme (insets and cards
    mixed in); by default the main sound alone is measured. `stop`, once set, ends the
    work with Cancelled (the picture half of the render failed)."""
    # The input's audio is decoded once, here; everything after reads the spool.
    decoded = decode_sound(path, stream.index, stream.channels, settings,
                           spool_path=work_dir / "decoded-sound.f32", duration_s=duration_s, stop=stop)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="reverb") as pool:
        # The reverberation detector reads its own sample of the spool on the other core
        # while the analysis reads all of it (its FFTs and solves release the GIL).
        reverb = (pool.submit(in_this_context(detect_spool_reverb), decoded)
                  if settings.dereverb and settings.content == "speech" else None)
        analysis = analyse_chunks(iter_spool_chunks(decoded), decoded.sample_rate_hz, decoded.channels,
                                  hum_min_prominence_db=settings.hum_min_prominence_db, file=path)
        if reverb is not None:
            analysis = dataclasses.replace(analysis, reverb=reverb.result())
    if settings.normalize and analysis.loudness.integrated_lufs is None:
        # Decide before spending a pass on it: silence has no loudness to normalize.
        plan_gain(settings, None, None, file=str(path))
    stages = tuple(build_cleanup_stages(settings, analysis))
    dereverb: dict[str, object] | None = None
    wpe = dereverb_settings(list(stages))
    if wpe is not None:
        # First, on the sound as recorded: everything after reads the dry sound instead.
        dry, dereverb = run_dereverbed_sound(decoded, wpe, spool_path=work_dir / "dereverbed-sound.f32", stop=stop)
        decoded.path.unlink()
        decoded = dry
    enhance = enhancer_settings(list(stages))
    before, after = split_at_enhancer(list(stages))
    sound: SoundSpool = decoded
    enhancement: dict[str, object] | None = None
    cleanup = before + after
    if enhance is not None:
        sound, enhancement = run_enhanced_sound(
            decoded, settings, before, enhance,
            spool_path=work_dir / "enhanced-sound.f32", duration_s=duration_s, stop=stop,
        )
        cleanup = after
        if sound.path != decoded.path:
            decoded.path.unlink()  # read by nothing from here on: its disk space back now
    if not settings.normalize:
        return AudioPrep(analysis, stages, tuple(cleanup), None, None, sound=sound, enhancement=enhancement,
                         dereverb=dereverb)
    args_for = programme_args or (
        lambda main_sound, cleanup_filters, gain_filters: build_measure_args(
            path, stream.index, settings, cleanup_filters + gain_filters, sound=main_sound
        )
    )
    with spool_file(duration_s, work_dir) as spool:
        processed = measure_pass(
            args_for(sound, cleanup, []), settings, duration_s=duration_s, file=path,
            spool=spool[1] if spool else None, stop=stop,
        )
        try:
            gain = plan_gain(settings, processed.integrated_lufs, processed.true_peak_dbtp, file=str(path))
        except AudioError as exc:
            raise AudioError(
                "audio is silent after clean-up (below the -70 LUFS gate): loudness cannot be normalized; "
                "turn off noise_reduction or set [audio] normalize = false",
                file=path, field="audio",
            ) from exc
        if spool is not None:
            spool[1].close()  # flushed: the calibration passes read it

        # Each spooled calibration pass keeps the sound it measured: the track encode then
        # reads the landed pass's sound instead of running the 192 kHz limiter once more.
        kept: list[tuple[list[Filter], Path]] = []

        def measure_with(gain_filters: list[Filter]) -> float | None:
            if spool is None:
                args = args_for(sound, cleanup, gain_filters)
                return measure_pass(args, settings, duration_s=duration_s, file=path, stop=stop).integrated_lufs
            handle, name = tempfile.mkstemp(prefix="limited-sound-", suffix=".f32", dir=work_dir)
            kept.append((gain_filters, Path(name)))  # list.append is atomic: two passes run at once
            with os.fdopen(handle, "wb") as limited_out:
                return measure_pass(build_spool_pass_args(spool[0], settings, gain_filters), settings,
                                    duration_s=duration_s, file=path, spool=limited_out, stop=stop).integrated_lufs

        try:
            planned = gain
            gain, tries = measure_limited_gain(measure_with, settings, planned)
            # Told now, not after an encode whose check could only fail.
            out_of_reach = check_target_reachable(settings, planned, tries, MAX_MAKEUP_DB)
            if out_of_reach:
                raise AudioError(out_of_reach, file=path, field="audio.target_lufs")
        except BaseException:
            for _, kept_path in kept:
                kept_path.unlink(missing_ok=True)
            raise
        landed_filters = build_gain_filters(gain, settings.sample_rate_hz)
        limited_path = next((kept_path for filters, kept_path in kept if filters == landed_filters), None)
        for _, kept_path in kept:
            if kept_path != limited_path:
                kept_path.unlink(missing_ok=True)
    processed_numbers = processed.to_dict()
    return AudioPrep(
        analysis, stages, tuple(cleanup), gain,
        tuple(build_gain_filters(gain, settings.sample_rate_hz)),
        processed={key: processed_numbers[key] for key in ("integrated_lufs", "true_peak_dbtp", "loudness_range_lu")},
        sound=sound,
        enhancement=enhancement,
        dereverb=dereverb,
        limited_sound=SoundSpool(limited_path, settings.channels, settings.sample_rate_hz) if limited_path else None,
    )
