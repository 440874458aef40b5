"""The pure plan layer: a validated job plus measurements in, the render's ffmpeg argument
lists out: ONE picture command (one decode, one encode, every picture edit), the sound
track's command (the programme's sound with its gain, encoded once), and the mux that
copies both into the output.

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
from pipeline.audio.picture_length import build_sound_to_picture, picture_duration_s, sound_needs_fitting
from pipeline.config import Job, VideoSettings
from pipeline.containers import container_for
from pipeline.errors import ConfigError
from pipeline.filters import Filter, Stream
from pipeline.probe import MediaInfo
from pipeline.video import compose
from pipeline.video.caption_burn import build_burned_captions
from pipeline.video.compose import format_fps
from pipeline.video.prepare import PicturePrep
from pipeline.video.takes import build_edited_picture

if TYPE_CHECKING:  # the audio engine (scipy) is not needed to build a command line
    from pipeline.audio.prepare import AudioPrep
    from pipeline.audio.sound import SoundSpool



def partial_path_for(output_path: Path) -> Path:
    """The file ffmpeg writes to; renamed to `output_path` only on success."""
    return output_path.with_name(f".{output_path.name}.partial")


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
    programme's sound before the cards and the loudness gain. With a picture in the
    output, it lasts exactly as long as the picture (padded or cut)."""
    programme = chain.build_sound(
        build_main_sound(main, info, sound),
        job.settings.audio,
        None,
        cleanup_filters=cleanup_filters,
        before_normalize=lambda stream: compose.mix_pip_audio(stream, job, prep),
    )
    picture_s = sound_needs_fitting(info) if container_for(job.output_path)[1] else None
    return chain.apply_filters(programme, build_sound_to_picture(picture_s)) if picture_s else programme


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


@dataclass(frozen=True)
class PicturePlan:
    """The picture half: its own ffmpeg command (video only), or a copy of the source's
    stream, or nothing."""

    args: list[str] | None  # None: nothing to encode (video copied at the mux, or none)
    video_path: Path | None  # where `args` writes the picture
    video_mode: Literal["copy", "encode", "none"]
    output_size_px: tuple[int, int] | None
    output_fps: float | None
    duration_s: float
    notes: tuple[str, ...] = field(default=())


def build_video_mode(job: Job, info: MediaInfo) -> Literal["copy", "encode", "none"]:
    """Encode the picture, copy the source's stream, or carry none."""
    _, carries_video = container_for(job.output_path)
    if info.video is None or not carries_video:
        return "none"
    size_px, _ = compose.build_output_size(info.video, job.settings.video)
    return "encode" if compose.copy_blockers(info.video, job, size_px) else "copy"


def build_picture_plan(job: Job, info: MediaInfo, work_dir: Path, *, prep: PicturePrep | None = None) -> PicturePlan:
    """The picture's command: one decode and one encode of the main video with every edit
    (size, rate, light, insets, cards, burned-in captions), no sound. A source that
    already fits is copied at the mux instead."""
    prep = prep or PicturePrep()
    notes: list[str] = []
    output_path = job.output_path
    muxer, _ = container_for(output_path)
    settings = job.settings
    mode = build_video_mode(job, info)
    if mode == "none" or info.video is None:
        if info.video is not None:
            notes.append(f"{output_path.suffix} output carries no video: picture dropped")
        return PicturePlan(None, None, "none", None, None, info.duration_s, tuple(notes))
    picture_s = picture_duration_s(info) or info.duration_s
    size_px, size_notes = compose.build_output_size(info.video, settings.video)
    fps, fps_notes = compose.build_output_fps(info.video, settings.video)
    if mode == "copy":
        notes.append("video stream copied (no picture edits, source already fits the preset)")
        return PicturePlan(None, None, "copy", size_px, info.video.fps, picture_s, tuple(notes))
    notes.extend(size_notes + fps_notes + compose.build_conversion_notes(info, prep))
    if prep.stabilize is not None:
        notes.extend(prep.stabilize.notes())
    if prep.edit is not None:
        video_in = build_edited_picture(prep.edit, size_px, format_fps(fps), settings.video, prep.take_hdr,
                                        prep.stabilize)
    else:
        video_in = ffmpeg.input(f"file:{info.path.resolve()}")[str(info.video.index)]
    video = compose.build_picture(video_in, job, info, size_px, fps, prep)
    video, _ = compose.join_cards(video, None, job, prep)
    if job.captions.burn_in:
        if prep.burn is None:
            raise ValueError("burned-in captions need prepare_burn_in() to check and copy the file first")
        # Last, over the cards too: the captions are timed on the output.
        video = build_burned_captions(video, prep.burn)
    video_path = work_dir / f"picture{output_path.suffix.lower()}"
    options: dict[str, object] = {"f": muxer, "map_metadata": -1, "map_chapters": -1, "an": None}
    options.update(build_video_encode_options(settings.video, fps))
    args = ffmpeg.output(video, f"file:{video_path.resolve()}", **options).overwrite_output().compile(cmd=[])
    return PicturePlan(
        list(args), video_path, "encode", size_px, fps,
        picture_s + compose.cards_duration_s(prep), tuple(notes),
    )


def build_sound_track_args(
    job: Job,
    info: MediaInfo,
    audio_prep: AudioPrep | None,
    sound_path: Path,
    *,
    prep: PicturePrep | None = None,
    with_cards: bool,
) -> list[str]:
    """The sound half's encode: the programme's sound (main sound cleaned up, insets mixed
    in, cards joined when the picture has them) with the planned gain, encoded once to
    the output codec in an M4A file that the mux copies."""
    prep = prep or PicturePrep()
    # The main sound comes from the aligned external recorder when the job has one.
    info = audio_prep.source if audio_prep is not None and audio_prep.source is not None else info
    assert info.first_audio is not None
    settings = job.settings.audio
    limited = audio_prep.limited_sound if audio_prep is not None else None
    if limited is not None and (with_cards or not prep.cards):
        # The measuring pass that landed already made this sound (programme, cards, gain
        # and limiter): encode it rather than mix and limit it all again.
        audio = ffmpeg.input(f"file:{limited.path.resolve()}", **limited.input_options())["a"]
    else:
        main = ffmpeg.input(f"file:{info.path.resolve()}")
        audio = build_programme_sound(
            main, job, info, prep,
            audio_prep.sound if audio_prep else None,
            list(audio_prep.cleanup_filters) if audio_prep else [],
        )
        if with_cards:
            _, audio = compose.join_cards(None, audio, job, prep)
        if audio_prep is not None and audio_prep.gain_filters is not None:
            # After the cards: the programme is normalized as a whole, cards' sound included.
            audio = chain.apply_filters(audio, list(audio_prep.gain_filters))
    options: dict[str, object] = {
        "f": "ipod", "map_metadata": -1, "map_chapters": -1,
        "c:a": settings.codec, "b:a": f"{settings.bitrate_kbps}k", "aac_coder": chain.AAC_CODER,
        "ar": settings.sample_rate_hz, "ac": settings.channels,
        "movflags": "+faststart",
    }
    return list(ffmpeg.output(audio, f"file:{sound_path.resolve()}", **options).overwrite_output().compile(cmd=[]))


def build_mux_args(job: Job, info: MediaInfo, picture: PicturePlan, sound_path: Path | None, partial: Path) -> list[str]:
    """Put the picture and the sound side by side in the output container: both copied,
    nothing decoded."""
    muxer, _ = container_for(job.output_path)
    inputs: list[str] = []
    maps: list[str] = []
    if picture.video_mode == "encode":
        assert picture.video_path is not None
        inputs += ["-i", f"file:{picture.video_path.resolve()}"]
        maps += ["-map", "0:v:0"]
    elif picture.video_mode == "copy":
        assert info.video is not None
        inputs += ["-i", f"file:{info.path.resolve()}"]
        maps += ["-map", f"0:{info.video.index}"]
    if sound_path is not None:
        maps += ["-map", f"{len(inputs) // 2}:a:0"]
        inputs += ["-i", f"file:{sound_path.resolve()}"]
    if not maps:
        raise ConfigError("nothing to render: no video for this container and no audio", file=info.path)
    faststart = muxer in ("mp4", "mov", "ipod") and job.settings.video.faststart
    return [
        *inputs, *maps, "-c", "copy", "-map_metadata", "-1", "-map_chapters", "-1",
        *(["-movflags", "+faststart"] if faststart else []),
        "-f", muxer, "-y", f"file:{partial.resolve()}",
    ]


@dataclass(frozen=True)
class RenderPlan:
    """Three commands: the picture (encode or copy), the sound track, and the mux."""

    picture: PicturePlan
    sound_args: list[str] | None
    sound_path: Path | None
    mux_args: list[str]
    output_path: Path
    partial_path: Path
    audio_mode: Literal["normalize", "encode", "none"]
    notes: tuple[str, ...] = field(default=())

    @property
    def video_mode(self) -> Literal["copy", "encode", "none"]:
        return self.picture.video_mode

    @property
    def output_size_px(self) -> tuple[int, int] | None:
        return self.picture.output_size_px if self.picture.video_mode != "none" else None

    @property
    def output_fps(self) -> float | None:
        return self.picture.output_fps if self.picture.video_mode != "none" else None

    @property
    def duration_s(self) -> float:
        return self.picture.duration_s

    def commands(self) -> list[list[str]]:
        return [args for args in (self.picture.args, self.sound_args, self.mux_args) if args is not None]

    def command_line(self, ffmpeg_binary: str = "ffmpeg") -> str:
        """The commands shell-quoted, one a line, for people to read or paste (never run
        through a shell). The first two run side by side."""
        return "\n".join(shlex.join([ffmpeg_binary, *args]) for args in self.commands())


def sound_path_for(work_dir: Path) -> Path:
    return work_dir / "sound.m4a"


def build_audio_mode(info: MediaInfo, audio_prep: AudioPrep | None) -> Literal["normalize", "encode", "none"]:
    if info.first_audio is None:
        return "none"
    return "normalize" if audio_prep is not None and audio_prep.gain_filters is not None else "encode"


def build_render_plan(
    job: Job,
    info: MediaInfo,
    audio_prep: AudioPrep | None,
    *,
    work_dir: Path,
    prep: PicturePrep | None = None,
    notes: list[str] | None = None,
    picture: PicturePlan | None = None,
) -> RenderPlan:
    """The whole render: the picture's command, the sound's, and the mux.

    `audio_prep` carries the clean-up stages and the gain planned from measurements; None
    means the audio is only converted (no audio stream, or no analysis wanted).
    `prep` carries what the picture edits needed to read or make first.
    """
    picture = picture or build_picture_plan(job, info, work_dir, prep=prep)
    sound_path = sound_path_for(work_dir) if info.first_audio is not None else None
    sound_args = None
    if sound_path is not None:
        sound_args = build_sound_track_args(
            job, info, audio_prep, sound_path, prep=prep, with_cards=picture.video_mode == "encode"
        )
    partial = partial_path_for(job.output_path)
    return RenderPlan(
        picture=picture,
        sound_args=sound_args,
        sound_path=sound_path,
        mux_args=build_mux_args(job, info, picture, sound_path, partial),
        output_path=job.output_path,
        partial_path=partial,
        audio_mode=build_audio_mode(info, audio_prep),
        notes=tuple(list(notes or []) + list(picture.notes)),
    )
