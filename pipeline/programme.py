"""What a job plays (effectful: it probes): its one input as it is, or its edit list of
takes placed on the output's timeline, described as one programme.

For an edit list the programme's `MediaInfo` describes what the render graph makes of the
takes, not a file: a picture already conformed to the output (size, rate, pixel format,
BT.709) and a sound at the output rate and layout, whose `path` is the edited-sound WAV
the sound stage writes first into the render's working folder
(`pipeline.audio.takes.edited_sound_path`). Everything after that (loudness, clean-up,
insets, cards, captions) works on the programme as it would on one input.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.audio.takes import edited_sound_path
from pipeline.config import Job
from pipeline.containers import container_for
from pipeline.errors import ConfigError, InputError
from pipeline.probe import AudioStreamInfo, MediaInfo, VideoStreamInfo, probe
from pipeline.timeline import EditList, build_edit_list
from pipeline.video.compose import build_output_fps, build_output_size

EDIT_CONTAINER = "edit list"


def probe_takes(job: Job) -> tuple[MediaInfo, ...]:
    """Every take's source probed; ConfigError naming each take that cannot be used."""
    infos: list[MediaInfo] = []
    problems: list[str] = []
    where = f"{job.source}: " if job.source else ""
    wants_picture = container_for(job.output_path)[1]
    for index, take in enumerate(job.takes):
        try:
            info = probe(take.source)
        except InputError as exc:
            problems.append(f"{where}take[{index}].source: {exc.message}: {take.source}")
            continue
        if wants_picture and info.video is None:
            problems.append(f"{where}take[{index}].source: no video stream: {take.source}")
        infos.append(info)
    if problems:
        raise ConfigError(
            problems[0].removeprefix(where) if len(problems) == 1 else f"{len(problems)} takes cannot be used",
            file=job.source, problems=problems if len(problems) > 1 else (),
        )
    return tuple(infos)


def build_programme_info(job: Job, edit: EditList, size_px: tuple[int, int] | None, work_dir: Path) -> MediaInfo:
    """The programme an edit list makes, as the rest of the render sees one input."""
    settings = job.settings
    video = None
    if size_px is not None:
        video = VideoStreamInfo(
            index=0, codec="edit", profile=None, width_px=size_px[0], height_px=size_px[1],
            pix_fmt=settings.video.pix_fmt, fps=edit.fps, variable_frame_rate=False, rotation_deg=0,
            color_matrix=settings.video.color,
        )
    audio: tuple[AudioStreamInfo, ...] = ()
    if any(clip.info.first_audio is not None for clip in edit.clips):
        channels = settings.audio.channels
        audio = (AudioStreamInfo(index=0, codec="pcm_f32le", sample_rate_hz=settings.audio.sample_rate_hz,
                                 channels=channels, layout="stereo" if channels == 2 else "mono"),)
    return MediaInfo(
        path=edited_sound_path(work_dir), container=EDIT_CONTAINER, duration_s=edit.duration_s,
        size_bytes=sum(clip.info.size_bytes for clip in edit.clips), video=video, audio=audio,
    )


def load_programme(job: Job, work_dir: Path) -> tuple[MediaInfo, EditList | None]:
    """The job's programme: its input probed, or its takes probed and placed."""
    if not job.takes:
        info = probe(job.main_path)
        if info.video is None and container_for(job.output_path)[1] and not info.audio:
            raise InputError("no video or audio stream to render", file=job.main_path)
        return info, None
    infos = probe_takes(job)
    first_video = next((info.video for info in infos if info.video is not None), None)
    size_px = fps = None
    if first_video is not None and container_for(job.output_path)[1]:
        size_px, _ = build_output_size(first_video, job.settings.video)
        fps, _ = build_output_fps(first_video, job.settings.video)
    edit = build_edit_list(job.takes, infos, fps or 30.0, file=job.source)
    return build_programme_info(job, edit, size_px, work_dir), edit
