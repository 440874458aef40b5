"""The picture of an edit list (pure): each take conformed to the output (its part of the
source, the output frame rate, fitted into the output size with black bars where the
shapes differ, square pixels, the output pixel format and matrix), then joined by cuts
(concat) and dissolves (xfade), in the render's one graph.

A take is read from `-ss` (an accurate seek: decoding starts at the keyframe before and
frames before the start are dropped), its frames are put on the output grid from the
start point (`fps` with `start_time=0`) and cut to a whole number of frames, so its
length is exactly what `pipeline.timeline` planned and the sound can be cut to match.
"""

from __future__ import annotations

from collections.abc import Sequence

import ffmpeg

from pipeline.config import VideoSettings
from pipeline.filters import Filter, Stream
from pipeline.timeline import Clip, EditList
from pipeline.video.hdr import HdrPrep
from pipeline.video.matrix import source_color_matrix
from pipeline.video.stabilize import StabilizePlan


def build_take_frames(
    clip: Clip, size_px: tuple[int, int], fps_text: str, settings: VideoSettings, hdr_filters: Sequence[Filter] = (),
) -> Stream:
    """One take's frames on the output grid, cut to `clip.frames` and scaled to fit in
    the output size (not yet padded): what the stabilization's detect pass reads, so
    its transforms line up frame for frame with the render's."""
    video = clip.info.video
    assert video is not None
    source = ffmpeg.input(f"file:{clip.path.resolve()}", ss=f"{clip.source_start_s:.6f}")
    width_px, height_px = size_px
    chain = source[str(video.index)]
    for name, options in hdr_filters:
        chain = chain.filter(name, **options)
    # After an HDR conversion the frames are BT.709, whatever the source was tagged.
    in_matrix = settings.color if hdr_filters else source_color_matrix(video)
    return (
        chain
        .filter("fps", fps=fps_text, start_time=0)
        .filter("trim", end_frame=clip.frames)
        .filter(
            "scale", width_px, height_px, force_original_aspect_ratio="decrease", force_divisible_by=2,
            in_color_matrix=in_matrix, out_color_matrix=settings.color, out_range="tv",
            flags="bicubic",
        )
    )


def build_take_picture(
    clip: Clip, size_px: tuple[int, int], fps_text: str, settings: VideoSettings, hdr_filters: Sequence[Filter] = (),
    stabilize_filters: Sequence[Filter] = (),
) -> Stream:
    """One take's frames, conformed to the output and cut to `clip.frames`; an HDR take
    converted to SDR first (`hdr_filters`, see `pipeline.video.hdr`); stabilized
    (`stabilize_filters`) at its own size, before the bars are padded on."""
    width_px, height_px = size_px
    chain = build_take_frames(clip, size_px, fps_text, settings, hdr_filters)
    for name, options in stabilize_filters:
        chain = chain.filter(name, **options)
    return (
        chain
        .filter("pad", width_px, height_px, "(ow-iw)/2", "(oh-ih)/2", color="black")
        .filter("setsar", "1")
        .filter("format", settings.pix_fmt)
        .filter("setpts", "PTS-STARTPTS")
    )


def build_edited_picture(
    edit: EditList, size_px: tuple[int, int], fps_text: str, settings: VideoSettings,
    take_hdr: Sequence[HdrPrep | None] = (),
    stabilize: StabilizePlan | None = None,
) -> Stream:
    """The takes joined in order: the programme's picture before light, insets and cards;
    each take stabilized when `stabilize` says so."""

    def take(clip: Clip) -> Stream:
        hdr = take_hdr[clip.index] if take_hdr else None
        video = clip.info.video
        assert video is not None
        filters = hdr.filters(video) if hdr is not None else []
        stabilize_filters = stabilize.filters_for(clip.index) if stabilize is not None else []
        return build_take_picture(clip, size_px, fps_text, settings, filters, stabilize_filters)

    joined = take(edit.clips[0])
    length = edit.clips[0].frames
    for previous, clip in zip(edit.clips, edit.clips[1:]):
        picture = take(clip)
        if previous.dissolve_frames:
            overlap = previous.dissolve_frames
            joined = ffmpeg.filter(
                [joined, picture], "xfade", transition="fade",
                duration=f"{edit.seconds(overlap):.6f}", offset=f"{edit.seconds(length - overlap):.6f}",
            )
            length += clip.frames - overlap
        else:
            joined = ffmpeg.concat(joined, picture, v=1, a=0)
            length += clip.frames
    return joined
