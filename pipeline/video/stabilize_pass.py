"""The stabilization's detect pass: the one extra read of the picture, run on a worker
thread beside the sound (see `start_stabilize_analysis`), then the plan per take.

For each take (or the one input) ffmpeg decodes the frames exactly as the render graph
will hand them to `vidstabtransform` (same seek, frame grid, trim, HDR conversion and
size: `build_take_frames`, or the input scaled to its picture size) and
`vidstabdetect` writes their local motions into the render's working folder, which is
removed with the render's other working files. The pass's command is built here
(pure, `build_detect_args`) and run by the one runner (`pipeline.media.run_ffmpeg`).
"""

from __future__ import annotations

import threading
from pathlib import Path

import ffmpeg

from pipeline.background import Background
from pipeline.config import Job
from pipeline.containers import container_for
from pipeline.errors import RenderError
from pipeline.media import run_ffmpeg
from pipeline.probe import MediaInfo, VideoStreamInfo
from pipeline.timeline import EditList
from pipeline.video.hdr import HdrPrep
from pipeline.video.sizing import build_fit
from pipeline.video.stabilize import (
    StabilizePlan,
    TakeStabilization,
    build_detect_filter,
    parse_local_motions,
    plan_take,
    transforms_path_for,
)
from pipeline.video.takes import build_take_frames


def fitted_size_px(video: VideoStreamInfo, box_px: tuple[int, int]) -> tuple[int, int]:
    """The size ffmpeg's scale gives a take fitted into `box_px` (force_original_aspect_ratio
    = decrease, force_divisible_by = 2): the frames the detect pass and the transform see."""
    width, height = video.display_width_px, video.display_height_px
    box_w, box_h = box_px
    scaled_w = min(box_w, round(box_h * width / height))
    scaled_h = min(box_h, round(box_w * height / width))
    return scaled_w // 2 * 2, scaled_h // 2 * 2


def _detect_output(chain: object, transforms_path: Path) -> list[str]:
    name, options = build_detect_filter(transforms_path)
    chain = chain.filter(name, **options)  # type: ignore[attr-defined]
    return list(ffmpeg.output(chain, "-", f="null", an=None, sn=None).compile(cmd=[]))


def build_detect_args(
    job: Job, info: MediaInfo, work_dir: Path, *, hdr: HdrPrep | None = None,
    edit: EditList | None = None, take_hdr: tuple[HdrPrep | None, ...] = (),
    size_px: tuple[int, int] | None = None, fps_text: str | None = None,
) -> list[tuple[int, list[str], tuple[int, int], float, float]]:
    """Per take: (index, the detect pass's ffmpeg arguments, the frame size it reads,
    frames per second, seconds). `size_px`/`fps_text` are the output's, for an edit list."""
    settings = job.settings.video
    passes = []
    if edit is not None:
        assert size_px is not None and fps_text is not None
        for clip in edit.clips:
            video = clip.info.video
            assert video is not None
            take = take_hdr[clip.index] if take_hdr else None
            hdr_filters = take.filters(video) if take is not None else []
            chain = build_take_frames(clip, size_px, fps_text, settings, hdr_filters)
            args = _detect_output(chain, transforms_path_for(work_dir, clip.index))
            passes.append((clip.index, args, fitted_size_px(video, size_px), edit.fps, edit.seconds(clip.frames)))
        return passes
    assert info.video is not None
    picture_px = build_fit(info.video, settings).picture_px
    chain = ffmpeg.input(f"file:{info.path.resolve()}")[str(info.video.index)]
    if hdr is not None:
        for name, options in hdr.filters(info.video):
            chain = chain.filter(name, **options)
    chain = chain.filter("scale", picture_px[0], picture_px[1], flags="bicubic")
    args = _detect_output(chain, transforms_path_for(work_dir, 0))
    fps = info.video.fps if info.video.fps > 0 else 30.0
    return [(0, args, picture_px, fps, info.duration_s)]


def measure_stabilization(
    job: Job, info: MediaInfo, work_dir: Path, *, hdr: HdrPrep | None = None,
    edit: EditList | None = None, take_hdr: tuple[HdrPrep | None, ...] = (),
    size_px: tuple[int, int] | None = None, fps_text: str | None = None,
    stop: threading.Event | None = None,
) -> StabilizePlan:
    """Run the detect pass over every take and decide each take's stabilization."""
    settings = job.settings.stabilize
    takes: list[TakeStabilization] = []
    passes = build_detect_args(job, info, work_dir, hdr=hdr, edit=edit, take_hdr=take_hdr,
                               size_px=size_px, fps_text=fps_text)
    for index, args, frame_px, fps, seconds in passes:
        source: Path = edit.clips[index].path if edit is not None else info.path
        run_ffmpeg(args, total_s=seconds, what=f"stabilization detect pass (take {index})", file=source, stop=stop)
        transforms = transforms_path_for(work_dir, index)
        try:
            text = transforms.read_text(encoding="ascii", errors="replace")
        except FileNotFoundError:
            raise RenderError("the stabilization detect pass wrote no transforms", file=source) from None
        motions = parse_local_motions(text, frame_px)
        takes.append(plan_take(index, motions, frame_px, fps, settings, transforms))
    return StabilizePlan(tuple(takes), settings.mode, settings.max_crop_percent)


def start_stabilize_analysis(
    job: Job, info: MediaInfo, work_dir: Path, *, hdr: HdrPrep | None = None,
    edit: EditList | None = None, take_hdr: tuple[HdrPrep | None, ...] = (),
) -> Background[StabilizePlan] | None:
    """The detect pass started on a worker thread (it overlaps the sound's work); None
    when the job does not stabilize or shows no picture."""
    if job.settings.stabilize.mode == "off" or info.video is None or not container_for(job.output_path)[1]:
        return None
    size_px = fps_text = None
    if edit is not None:
        # The size and rate the picture plan conforms the takes to (`pipeline.plan`).
        from pipeline.video.compose import build_output_fps, build_output_size, format_fps

        size_px, _ = build_output_size(info.video, job.settings.video)
        fps_text = format_fps(build_output_fps(info.video, job.settings.video)[0])
    return Background(
        lambda stop: measure_stabilization(job, info, work_dir, hdr=hdr, edit=edit, take_hdr=take_hdr,
                                           size_px=size_px, fps_text=fps_text, stop=stop),
        name="stabilization detect pass",
    )

