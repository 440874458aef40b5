"""Reading the main video's picture for analysis (effectful, PyAV): a tiny luma thumbnail
of every decoded frame (to find cuts) and a few small colour samples per second (to
measure exposure and colour cast).

Only what the analysis needs is read. Non-reference frames are skipped by the decoder
(for x264's usual GOPs that is about half of the frames, and half of the decoding time),
so is the deblocking filter, and the samples are taken straight from the decoded planes by striding, without
converting or scaling whole frames. Values are normalized: luma 0..1 from black to white,
chroma -0.5..0.5, whatever the source's range (limited or full) and bit depth.

An HDR source is analysed as the render will show it: `sample_converted_frames` has the
bundled ffmpeg apply the render's own HDR to SDR filters into a small proxy first.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import av
import ffmpeg
import numpy as np

from pipeline.background import Cancelled
from pipeline.errors import InputError
from pipeline.filters import Filter
from pipeline.media import run_ffmpeg
from pipeline.probe import MediaInfo, probe
from pipeline.timeline import EditList

SAMPLE_FPS = 4.0  # colour samples per second
SAMPLE_WIDTH_PX = 160  # colour samples are about this wide
THUMB_SIZE = (18, 32)  # luma thumbnail rows, columns (for cut detection)
PLANAR_420 = {"yuv420p", "yuvj420p"}


@dataclass(frozen=True)
class ColourSample:
    """One frame, downscaled: normalized luma and chroma planes of the same shape."""

    time_s: float
    luma: np.ndarray  # 0 (black) .. 1 (white)
    cb: np.ndarray  # -0.5 .. 0.5
    cr: np.ndarray


@dataclass(frozen=True)
class FrameSamples:
    """What the analysis of the main picture reads."""

    thumb_times_s: np.ndarray  # shape (n,)
    thumbs: np.ndarray  # shape (n, rows, columns), normalized luma
    samples: tuple[ColourSample, ...]
    duration_s: float
    full_range: bool
    frames_decoded: int


def _block_mean(plane: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    rows, cols = shape
    block_r, block_c = max(1, plane.shape[0] // rows), max(1, plane.shape[1] // cols)
    cut = plane[: block_r * rows, : block_c * cols].astype(np.float32)
    if cut.shape != (block_r * rows, block_c * cols):  # smaller than the thumbnail
        return np.resize(cut, shape)
    return cut.reshape(rows, block_r, cols, block_c).mean(axis=(1, 3))


def _thumb_step(width: int, height: int) -> int:
    """Pixel stride for thumbnails: about 4x4 pixels left per thumbnail cell, plenty to
    see a cut, and a 1080p frame costs a 200th of the arithmetic of every pixel."""
    return max(1, min(height // (THUMB_SIZE[0] * 4), width // (THUMB_SIZE[1] * 4)))


def _plane(frame: av.VideoFrame, index: int, width: int, height: int) -> np.ndarray:
    plane = frame.planes[index]
    data = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
    return data[:height, :width]


def _is_full_range(frame: av.VideoFrame) -> bool:
    if frame.format.name.startswith("yuvj"):
        return True
    return int(getattr(frame, "color_range", 0) or 0) == 2  # AVCOL_RANGE_JPEG


def build_proxy_args(info: MediaInfo, convert: list[Filter], proxy_path: Path) -> list[str]:
    """ffmpeg arguments for the analysis proxy: the source's picture shrunk to the
    analysis width and passed through `convert`, losslessly coded, timestamps kept."""
    assert info.video is not None
    width_px = min(info.video.width_px, 4 * SAMPLE_WIDTH_PX) // 2 * 2
    chain = ffmpeg.input(f"file:{info.path.resolve()}")[str(info.video.index)].filter("scale", width_px, -2)
    for name, options in convert:
        chain = chain.filter(name, **options)
    return list(ffmpeg.output(
        chain, f"file:{proxy_path.resolve()}", f="matroska", an=None, sn=None,
        **{"c:v": "libx264", "qp": 0, "preset": "ultrafast", "fps_mode": "passthrough"},
    ).overwrite_output().compile(cmd=[]))


def sample_converted_frames(
    info: MediaInfo,
    convert: list[Filter],
    *,
    sample_fps: float = SAMPLE_FPS,
    stop: threading.Event | None = None,
    work_dir: Path | None = None,
) -> FrameSamples:
    """`sample_frames` of the picture after `convert` (the render's HDR to SDR filters,
    which PyAV's own libavfilter lacks): the bundled ffmpeg writes a small lossless SDR
    proxy into `work_dir` (or a temporary folder), which is sampled and removed."""
    with tempfile.TemporaryDirectory(prefix="wayfinder-analysis-", dir=work_dir) as folder:
        proxy_path = Path(folder) / "proxy.mkv"
        run_ffmpeg(build_proxy_args(info, convert, proxy_path), total_s=info.duration_s,
                   what="HDR to SDR for light analysis", file=info.path, stop=stop)
        proxy = probe(proxy_path)
        assert proxy.video is not None
        samples = sample_frames(replace(proxy, duration_s=info.duration_s), sample_fps=sample_fps, stop=stop)
    return samples


def sample_frames(
    info: MediaInfo,
    *,
    sample_fps: float = SAMPLE_FPS,
    stop: threading.Event | None = None,
) -> FrameSamples:
    """Thumbnails of every decoded frame and colour samples `sample_fps` times a second.
    Raises `Cancelled` soon after `stop` is set."""
    assert info.video is not None
    path = info.path
    thumbs: list[np.ndarray] = []
    times: list[float] = []
    samples: list[ColourSample] = []
    next_sample_s = 0.0
    first_time_s: float | None = None
    full_range = False
    decoded = 0
    try:
        with av.open(str(path)) as container:
            stream = container.streams[info.video.index]
            stream.thread_type = "AUTO"
            stream.codec_context.skip_frame = "NONREF"
            # Deblocking only smooths block edges: statistics of small samples do not
            # change, and decoding is about a sixth cheaper without it.
            stream.codec_context.options = {"skip_loop_filter": "all"}
            for frame in container.decode(stream):
                if stop is not None and stop.is_set():
                    raise Cancelled("light analysis stopped")
                decoded += 1
                if frame.time is None:
                    continue
                if first_time_s is None:
                    first_time_s = frame.time
                    full_range = _is_full_range(frame)
                time_s = frame.time - first_time_s
                if frame.format.name not in PLANAR_420:
                    # 10-bit, 4:2:2, RGB...: one small conversion per frame instead of
                    # handling every layout; rarer sources, same statistics.
                    frame = frame.reformat(
                        width=min(frame.width, 4 * SAMPLE_WIDTH_PX) // 2 * 2,
                        height=max(2, round(frame.height * min(frame.width, 4 * SAMPLE_WIDTH_PX) / frame.width) // 2 * 2),
                        format="yuvj420p" if full_range else "yuv420p",
                    )
                width, height = frame.width, frame.height
                thumb_step = _thumb_step(width, height)
                luma_plane = _plane(frame, 0, width, height)
                black, luma_scale, chroma_scale = (0.0, 255.0, 255.0) if full_range else (16.0, 219.0, 224.0)
                thumb = (_block_mean(luma_plane[::thumb_step, ::thumb_step], THUMB_SIZE) - black) / luma_scale
                thumbs.append(thumb)
                times.append(time_s)
                if time_s + 1e-6 >= next_sample_s:
                    step = max(1, round(width / 2 / SAMPLE_WIDTH_PX))
                    cb = _plane(frame, 1, (width + 1) // 2, (height + 1) // 2)[::step, ::step]
                    cr = _plane(frame, 2, (width + 1) // 2, (height + 1) // 2)[::step, ::step]
                    luma = luma_plane[::2 * step, ::2 * step]
                    rows, cols = (min(a.shape[0] for a in (luma, cb, cr)), min(a.shape[1] for a in (luma, cb, cr)))
                    samples.append(ColourSample(
                        time_s=time_s,
                        luma=(luma[:rows, :cols].astype(np.float32) - black) / luma_scale,
                        cb=(cb[:rows, :cols].astype(np.float32) - 128.0) / chroma_scale,
                        cr=(cr[:rows, :cols].astype(np.float32) - 128.0) / chroma_scale,
                    ))
                    next_sample_s = time_s + 1.0 / sample_fps
    except av.error.FFmpegError as exc:
        raise InputError(f"cannot read the picture for light analysis: {exc}", file=path, field="video") from None
    if not samples:
        raise InputError("no decodable video frames for light analysis", file=path, field="video")
    return FrameSamples(
        thumb_times_s=np.asarray(times, dtype=np.float64),
        thumbs=np.stack(thumbs),
        samples=tuple(samples),
        duration_s=info.duration_s,
        full_range=full_range,
        frames_decoded=decoded,
    )


def sample_edit(edit: EditList, sample_take: Callable[[MediaInfo, int], FrameSamples]) -> FrameSamples:
    """The samples of an edit list's programme: each take's source sampled (by
    `sample_take`, which sees it as the render shows it), the part of it that plays kept
    (up to where the next take begins) and moved to programme time. The programme's frames
    are converted to limited range before light is applied, and the samples are
    normalized, so the result counts as limited range."""
    times: list[np.ndarray] = []
    thumbs: list[np.ndarray] = []
    samples: list[ColourSample] = []
    decoded = 0
    # Two takes cut from one recording share its samples: it is decoded once.
    by_source: dict[Path, FrameSamples] = {}
    for clip in edit.clips:
        if clip.info.video is None:
            continue
        part = by_source.get(clip.path)
        if part is None:
            part = by_source[clip.path] = sample_take(clip.info, clip.index)
            decoded += part.frames_decoded
        begin_s = clip.source_start_s
        end_s = begin_s + edit.seconds(clip.frames - clip.dissolve_frames)
        shift_s = edit.seconds(clip.programme_start_frame) - begin_s
        keep = (part.thumb_times_s >= begin_s - 1e-6) & (part.thumb_times_s < end_s - 1e-6)
        times.append(part.thumb_times_s[keep] + shift_s)
        thumbs.append(part.thumbs[keep])
        samples += [replace(sample, time_s=sample.time_s + shift_s)
                    for sample in part.samples if begin_s - 1e-6 <= sample.time_s < end_s - 1e-6]
    if not samples:
        raise InputError("no decodable video frames in the edit list for light analysis", field="video")
    return FrameSamples(
        thumb_times_s=np.concatenate(times),
        thumbs=np.concatenate(thumbs),
        samples=tuple(samples),
        duration_s=edit.duration_s,
        full_range=False,
        frames_decoded=decoded,
    )
