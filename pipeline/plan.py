"""The pure plan layer: a validated job plus measurements in, ONE ffmpeg argument list out.

Nothing here touches the world: no probing, no measuring, no running. That makes every
decision (copy or encode, output size and rate, the audio chain) testable by comparing
argument lists. Graphs are built with ffmpeg-python, which also escapes filter values.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import ffmpeg

from pipeline.audio import chain
from pipeline.config import AudioSettings, Job, VideoSettings
from pipeline.errors import ConfigError
from pipeline.filters import Filter, Stream
from pipeline.probe import MediaInfo
from pipeline.video import compose
from pipeline.video.compose import format_fps
from pipeline.video.prepare import PicturePrep

if TYPE_CHECKING:  # the audio engine (scipy) is not needed to build a command line
    from pipeline.audio.prepare import AudioPrep
    from pipeline.audio.sound import SoundSpool


CONTAINERS: dict[str, tuple[str, bool]] = {
    # suffix: (ffmpeg muxer, carries video)
    ".mp4": ("mp4", True),
    ".m4v": ("mp4", True),
    ".mov": ("mov", True),
    ".mkv": ("matroska", True),
    ".m4a": ("ipod", False),
}


@dataclass(frozen=True)
class RenderPlan:
    args: list[str]
    output_path: Path
    partial_path: Path
    video_mode: Literal["copy", "encode", "none"]
    audio_mode: Literal["normalize", "encode", "none"]
    output_size_px: tuple[int, int] | None
    output_fps: float | None
    duration_s: float
    notes: tuple[str, ...] = field(default=())

    def command_line(self, ffmpeg_binary: str = "ffmpeg") -> str:
        """The command shell-quoted, for people to read or paste (never run through a shell)."""
        return shlex.join([ffmpeg_binary, *self.args])


def partial_path_for(output_path: Path) -> Path:
    """The file ffmpeg writes to; renamed to `output_path` only on success."""
    return output_path.with_name(f".{output_path.name}.partial")


def container_for(output_path: Path) -> tuple[str, bool]:
    try:
        return CONTAINERS[output_path.suffix.lower()]
    except KeyError:
        allowed = ", ".join(sorted(CONTAINERS))
        raise ConfigError(
            f"unsupported output extension {output_path.suffix!r}; allowed: {allowed}",
            file=output_path,
            field="output.path",
        ) from None


def build_video_encode_options(settings: VideoSettings, fps: float) -> dict[str, object]:
    gop_frames = max(1, round(fps * settings.gop_s))
    options: dict[str, object] = {
        "c:v": settings.codec,
        "profile:v": settings.profile,
        "preset": settings.x264_preset,
        "crf": settings.crf,
        "pix_fmt": settings.pix_fmt,
        "r": format_fps(fps),
        "fps_mode": "cfr",
        # Closed GOP of a fixed length: no scene-cut keyframes that would break the cadence.
        "g": gop_frames,
        "keyint_min": gop_frames,
        "sc_threshold": 0,
        "flags": "+cgop",
        "bf": 2,
        "colorspace": settings.color,
        "color_primaries": settings.color,
        "color_trc": settings.color,
        "color_range": "tv",
    }
    if settings.threads is not None:
        options["threads"] = settings.threads
    return options


def build_audio_fix_args(
    source: Path, destination: Path, muxer: str, settings: AudioSettings, filters: list[Filter]
) -> list[str]:
    """The closed loop's correction pass: video (if any) copied, audio re-processed."""
    return [
        "-i", f"file:{source.resolve()}",
        "-map", "0:v?", "-c:v", "copy",
        "-map", "0:a:0", "-af", chain.format_filter_chain(filters),
        "-c:a", settings.codec, "-b:a", f"{settings.bitrate_kbps}k",
        "-ar", str(settings.sample_rate_hz), "-ac", str(settings.channels),
        "-map_metadata", "-1", "-map_chapters", "-1",
        *(["-movflags", "+faststart"] if muxer in ("mp4", "mov", "ipod") else []),
        "-f", muxer, "-y", f"file:{destination.resolve()}",
    ]


def build_main_sound(main: Stream, info: MediaInfo, sound: SoundSpool | None) -> Stream:
    """The main sound as the graph reads it: the enhanced spool, or the source's stream."""
    if sound is not None:
        return ffmpeg.input(f"file:{sound.path.resolve()}", **sound.input_options())["a"]
    assert info.first_audio is not None
    return main[str(info.first_audio.index)]


def build_programme_sound(
    main: Stream, job: Job, info: MediaInfo, prep: PicturePrep, sound: SoundSpool | None, cleanup_filters: list[Filter]
) -> Stream:
    """The main sound converted and cleaned up, with the insets' sound mixed in: the
    programme's sound before the cards and the loudness gain."""
    return chain.build_sound(
        build_main_sound(main, info, sound),
        job.settings.audio,
        None,
        cleanup_filters=cleanup_filters,
        before_normalize=lambda stream: compose.mix_pip_audio(stream, job, prep),
    )


def build_sound_measure_args(
    job: Job, info: MediaInfo, prep: PicturePrep, sound: SoundSpool | None,
    cleanup_filters: list[Filter], after_filters: list[Filter],
) -> list[str]:
    """The audio-only pass that measures the programme's sound exactly as the render
    graph mixes it (insets and cards included), followed by `after_filters` (gain, limiter),
    as float samples on stdout. Pictures are not decoded."""
    main = ffmpeg.input(f"file:{info.path.resolve()}")
    _, audio = compose.join_cards(None, build_programme_sound(main, job, info, prep, sound, cleanup_filters), job, prep)
    audio = chain.apply_filters(audio, after_filters)
    return list(ffmpeg.output(audio, "pipe:1", f="f32le", acodec="pcm_f32le").compile(cmd=[]))


def build_render_plan(
    job: Job,
    info: MediaInfo,
    audio_prep: AudioPrep | None,
    *,
    prep: PicturePrep | None = None,
    notes: list[str] | None = None,
) -> RenderPlan:
    """The one ffmpeg command of this render.

    `audio_prep` carries the clean-up stages and the gain planned from measurements; None
    means the audio is only converted (no audio stream, or no analysis wanted).
    `prep` carries what the picture edits needed to read or make first.
    """
    prep = prep or PicturePrep()
    notes = list(notes or [])
    output_path = job.output_path
    partial = partial_path_for(output_path)
    muxer, carries_video = container_for(output_path)
    settings = job.settings
    main = ffmpeg.input(f"file:{info.path.resolve()}")
    output_options: dict[str, object] = {"f": muxer, "map_metadata": -1, "map_chapters": -1}

    video_mode: Literal["copy", "encode", "none"] = "none"
    video = None
    gain_filters: list[Filter] | None = None
    size_px: tuple[int, int] | None = None
    fps: float | None = None
    if info.video is not None and carries_video:
        size_px, size_notes = compose.build_output_size(info.video, settings.video)
        fps, fps_notes = compose.build_output_fps(info.video, settings.video)
        video_in = main[str(info.video.index)]
        if not compose.copy_blockers(info.video, job, size_px):
            video_mode = "copy"
            fps = info.video.fps
            video = video_in
            output_options["c:v"] = "copy"
            notes.append("video stream copied (no picture edits, source already fits the preset)")
        else:
            video_mode = "encode"
            notes.extend(size_notes + fps_notes)
            video = compose.build_picture(video_in, job, info, size_px, fps, prep)
            output_options.update(build_video_encode_options(settings.video, fps))
    elif info.video is not None:
        notes.append(f"{output_path.suffix} output carries no video: picture dropped")

    audio_mode: Literal["normalize", "encode", "none"] = "none"
    audio = None
    if info.first_audio is not None:
        gain_filters = list(audio_prep.gain_filters) if audio_prep and audio_prep.gain_filters else None
        audio_mode = "normalize" if gain_filters is not None else "encode"
        audio = build_programme_sound(
            main, job, info, prep,
            audio_prep.sound if audio_prep else None,
            list(audio_prep.cleanup_filters) if audio_prep else [],
        )
        output_options.update({
            "c:a": settings.audio.codec,
            "b:a": f"{settings.audio.bitrate_kbps}k",
            "ar": settings.audio.sample_rate_hz,
            "ac": settings.audio.channels,
        })
    if video_mode == "encode":
        video, audio = compose.join_cards(video, audio, job, prep)
    if audio is not None and gain_filters is not None:
        # After the cards: the programme is normalized as a whole, cards' sound included.
        audio = chain.apply_filters(audio, gain_filters)
    streams = [s for s in (video, audio) if s is not None]
    if not streams:
        raise ConfigError("nothing to render: no video for this container and no audio", file=info.path)
    if muxer in ("mp4", "mov", "ipod") and settings.video.faststart:
        output_options["movflags"] = "+faststart"

    args = ffmpeg.output(*streams, f"file:{partial.resolve()}", **output_options).overwrite_output().compile(cmd=[])
    return RenderPlan(
        args=list(args),
        output_path=output_path,
        partial_path=partial,
        video_mode=video_mode,
        audio_mode=audio_mode,
        output_size_px=size_px if video_mode != "none" else None,
        output_fps=fps if video_mode != "none" else None,
        duration_s=info.duration_s + (compose.cards_duration_s(prep) if video_mode == "encode" else 0.0),
        notes=tuple(notes),
    )
