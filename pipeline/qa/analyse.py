"""One pass over one file: decode its audio once and feed every chunk to the loudness
meter and to the QA detectors.

Owns: building the meter and the detectors for a stream (thresholds from `QaSettings`),
the decode loop, reading what the file's render report says about limiting, and the thin adapter over `pipeline.audio` that QA needs: telling "no
audio stream" apart from other unreadable files, and turning a meter's refusal of a
chunk into an InputError naming the file. Memory does not grow with duration beyond
the meter's one record per 100 ms.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.audio.decode import AudioStreamInfo, iter_audio_chunks
from pipeline.audio.meter import LoudnessMeter, LoudnessResult
from pipeline.errors import InputError
from pipeline.qa.detectors import (
    ClipDetector,
    ClipResult,
    HumDetector,
    HumResult,
    PhaseDetector,
    PhaseResult,
    SilenceDetector,
    SilenceResult,
)
from pipeline.qa.render_limiting import RenderLimiting, read_render_limiting
from pipeline.qa.settings import QaSettings

# pipeline.audio.decode raises InputError with exactly this message when a file has
# no audio stream; QA reports that case under its own check. (Adapter: the decoder has
# no dedicated exception type for it.)
NO_AUDIO_STREAM_MESSAGE = "no audio stream"
FRONT_PAIR = ("FL", "FR")


def is_no_audio_stream(error: InputError) -> bool:
    return error.message == NO_AUDIO_STREAM_MESSAGE


@dataclass(frozen=True, eq=False)
class Analysis:
    """What the meter and the detectors found in one audio stream."""

    path: str
    stream: AudioStreamInfo
    loudness: LoudnessResult
    silence: SilenceResult
    clips: ClipResult
    hum: HumResult
    phase: PhaseResult | None  # None: no front pair (mono, or an unusual layout)
    front_pair: tuple[str, str] | None
    # From the render report beside the file (None: no report describes this file).
    limiting: RenderLimiting | None = None


def front_pair_of(channel_names: tuple[str, ...]) -> tuple[int, int] | None:
    """Indices of the front left/right channels, or the two channels of an unnamed pair."""
    if all(name in channel_names for name in FRONT_PAIR):
        return channel_names.index(FRONT_PAIR[0]), channel_names.index(FRONT_PAIR[1])
    if len(channel_names) == 2:
        return 0, 1
    return None


def analyse_file(path: str | Path, qa: QaSettings) -> Analysis:
    """Decode the first audio stream of `path` once; measure loudness and find defects.

    Raises InputError (field "audio") for a missing, non-media, audio-less, corrupt or
    truncated file; `is_no_audio_stream` tells the audio-less case apart.
    """
    info, chunks = iter_audio_chunks(path)
    rate, channels = info.sample_rate_hz, info.channels
    meter = LoudnessMeter(rate, info.channel_names)
    silence = SilenceDetector(
        rate,
        channels,
        silence_threshold_dbfs=qa.silence_threshold_dbfs,
        digital_silence_dbfs=qa.digital_silence_dbfs,
        min_dropout_s=qa.min_dropout_s,
    )
    clips = ClipDetector(rate, channels, run_samples=qa.clip_run_samples)
    hum = HumDetector(rate, channels)
    pair = front_pair_of(info.channel_names)
    phase = (
        PhaseDetector(rate, channels, pair, gate_dbfs=qa.silence_threshold_dbfs, correlation_min=qa.phase_correlation_min)
        if pair is not None
        else None
    )
    detectors = [d for d in (meter, silence, clips, hum, phase) if d is not None]
    with chunks:
        for chunk in chunks:
            try:
                for detector in detectors:
                    detector.add(chunk)
            except ValueError as exc:
                raise InputError(f"audio cannot be measured: {exc}", file=path, field="audio") from exc
    return Analysis(
        path=str(path),
        stream=info,
        loudness=meter.result(),
        silence=silence.result(),
        clips=clips.result(),
        hum=hum.result(),
        phase=phase.result() if phase is not None else None,
        front_pair=(info.channel_names[pair[0]], info.channel_names[pair[1]]) if pair is not None else None,
        limiting=read_render_limiting(path),
    )
