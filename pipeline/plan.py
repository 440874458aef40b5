"""The pure plan layer: a validated job plus measurements in, ONE ffmpeg argument list out.

Nothing here touches the world: no probing, no measuring, no running. That makes every
decision (copy or encode, output size and rate, the audio chain) testable by comparing
argument lists. Graphs are built with ffmpeg-python, which also escapes filter values.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import ffmpeg

from pipeline.config import Job, LightSettings, VideoSettings
from pipeline.errors import ConfigError
from pipeline.probe import MediaInfo, VideoStreamInfo

Filter = tuple[str, dict[str, object]]

STANDARD_FPS = (23.976, 24.0, 25.0, 29.97, 30.0, 48.0, 50.0, 59.94, 60.0)
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


def snap_fps(fps: float) -> float:
    """Nearest standard rate within 1% (phone VFR averages like 29.93 become 29.97)."""
    nearest = min(STANDARD_FPS, key=lambda standard: abs(fps - standard))
    if abs(fps - nearest) / nearest < 0.01:
        return nearest
    return round(fps, 3)


def format_fps(fps: float) -> str:
    """Exact rationals for NTSC rates so the encoder gets 30000/1001, not 29.97."""
    ntsc = {23.976: "24000/1001", 29.97: "30000/1001", 59.94: "60000/1001"}
    return ntsc.get(fps, f"{fps:g}")


def build_output_size(video: VideoStreamInfo, settings: VideoSettings) -> tuple[tuple[int, int], list[str]]:
    """Display size fitted into the preset's box (never upscaled), made even for yuv420p."""
    notes: list[str] = []
    width, height = video.display_width_px, video.display_height_px
    scale = min(1.0, settings.max_width_px / width, settings.max_height_px / height)
    out_w = max(2, int(width * scale) // 2 * 2)
    out_h = max(2, int(height * scale) // 2 * 2)
    if scale < 1.0:
        notes.append(f"scaled {width}x{height} down to {out_w}x{out_h} to fit {settings.max_width_px}x{settings.max_height_px}")
    elif (width % 2) or (height % 2):
        notes.append(f"odd frame size {width}x{height}: scaled to {out_w}x{out_h} (yuv420p needs even sizes)")
    return (out_w, out_h), notes


def build_output_fps(video: VideoStreamInfo, settings: VideoSettings) -> tuple[float, list[str]]:
    notes: list[str] = []
    if settings.fps is not None:
        return settings.fps, notes
    fps = snap_fps(video.fps) if video.fps > 0 else 30.0
    if video.variable_frame_rate:
        notes.append(f"variable frame rate: rendered at a constant {fps:g} fps")
    return fps, notes


def has_video_edits(job: Job) -> bool:
    return bool(job.pip or job.intro or job.outro or job.settings.light.mode != "off")


def copy_blockers(video: VideoStreamInfo, job: Job, size_px: tuple[int, int]) -> list[str]:
    """Why the source video cannot be copied as is (empty list: it can)."""
    settings = job.settings.video
    reasons = []
    if not settings.copy_when_possible:
        reasons.append("copy_when_possible is off")
    if has_video_edits(job):
        reasons.append("the job edits the picture")
    if video.codec != "h264":
        reasons.append(f"source codec is {video.codec}, not h264")
    if video.pix_fmt != settings.pix_fmt:
        reasons.append(f"source pixel format is {video.pix_fmt}, not {settings.pix_fmt}")
    if (video.display_width_px, video.display_height_px) != size_px:
        reasons.append("the frame size changes")
    if video.variable_frame_rate:
        reasons.append("the source has a variable frame rate")
    if settings.fps is not None and abs(settings.fps - video.fps) > 0.01:
        reasons.append("the frame rate changes")
    return reasons


def build_light_filters(light: LightSettings) -> list[Filter]:
    """Manual light correction: eq for exposure and colour, colortemperature for the cast."""
    if light.mode != "manual":
        return []
    filters: list[Filter] = []
    if (light.brightness, light.contrast, light.gamma, light.saturation) != (0.0, 1.0, 1.0, 1.0):
        filters.append(("eq", {
            "brightness": light.brightness,
            "contrast": light.contrast,
            "gamma": light.gamma,
            "saturation": light.saturation,
        }))
    if light.temperature_shift_k:
        # colortemperature renders the picture as if lit by `temperature`; 6500 K is neutral,
        # so a positive shift warms and a negative one cools.
        filters.append(("colortemperature", {"temperature": 6500 + light.temperature_shift_k, "pl": 1}))
    return filters


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


def build_render_plan(
    job: Job,
    info: MediaInfo,
    audio_filters: list[Filter] | None,
    *,
    notes: list[str] | None = None,
) -> RenderPlan:
    """The one ffmpeg command of this render.

    `audio_filters` is the normalization chain planned from the measurement (after the
    format conversion); None means the audio is not normalized (no audio, or disabled).
    """
    notes = list(notes or [])
    output_path = job.output_path
    partial = partial_path_for(output_path)
    muxer, carries_video = container_for(output_path)
    settings = job.settings
    main = ffmpeg.input(f"file:{info.path.resolve()}")
    streams = []
    output_options: dict[str, object] = {"f": muxer, "map_metadata": -1, "map_chapters": -1}

    video_mode: Literal["copy", "encode", "none"] = "none"
    size_px: tuple[int, int] | None = None
    fps: float | None = None
    if info.video is not None and carries_video:
        size_px, size_notes = build_output_size(info.video, settings.video)
        fps, fps_notes = build_output_fps(info.video, settings.video)
        blockers = copy_blockers(info.video, job, size_px)
        video_in = main[str(info.video.index)]
        if not blockers:
            video_mode = "copy"
            fps = info.video.fps
            streams.append(video_in)
            output_options["c:v"] = "copy"
            notes.append("video stream copied (no picture edits, source already fits the preset)")
        else:
            video_mode = "encode"
            notes.extend(size_notes + fps_notes)
            chain = video_in
            for name, options in build_light_filters(settings.light):
                chain = chain.filter(name, **options)
            chain = chain.filter(
                "scale", size_px[0], size_px[1],
                out_color_matrix=settings.video.color, out_range="tv", flags="bicubic",
            ).filter("setsar", "1").filter("format", settings.video.pix_fmt).filter(
                # Frame tags win over encoder options in FFmpeg 7+, so tag the frames.
                "setparams",
                color_primaries=settings.video.color,
                color_trc=settings.video.color,
                colorspace=settings.video.color,
                range="tv",
            )
            streams.append(chain)
            output_options.update(build_video_encode_options(settings.video, fps))
    elif info.video is not None:
        notes.append(f"{output_path.suffix} output carries no video: picture dropped")

    audio_mode: Literal["normalize", "encode", "none"] = "none"
    audio = info.first_audio
    if audio is not None:
        from pipeline.audio.loudnorm import build_format_filters

        chain = main[str(audio.index)]
        for name, options in build_format_filters(settings.audio):
            chain = chain.filter(name, **options)
        if audio_filters is not None:
            audio_mode = "normalize"
            for name, options in audio_filters:
                chain = chain.filter(name, **options)
        else:
            audio_mode = "encode"
        streams.append(chain)
        output_options.update({
            "c:a": settings.audio.codec,
            "b:a": f"{settings.audio.bitrate_kbps}k",
            "ar": settings.audio.sample_rate_hz,
            "ac": settings.audio.channels,
        })
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
        duration_s=info.duration_s,
        notes=tuple(notes),
    )
