"""Probing media files with PyAV: what streams a file has and whether they are usable.

No ffprobe binary is needed. Only packets are read (plus the first video frame, for the
display rotation); nothing is fully decoded. Bad files raise InputError naming the file
and the problem: missing, not media, corrupt or truncated, too short.
"""

from __future__ import annotations

import json
import struct
from dataclasses import asdict, dataclass
from pathlib import Path

import av
import numpy as np

from pipeline.errors import InputError

# ITU-T H.273 MatrixCoefficients (what PyAV's codec_context.colorspace holds) -> the
# names ffmpeg's scale filter takes for in_color_matrix. 0 (identity/RGB) and 2
# (unspecified) are not a YCbCr matrix a scale could be told, so they read as untagged.
# Constant-luminance BT.2020 (10) has no scale option of its own: bt2020 is the closest.
COLOR_MATRIX_NAMES = {
    1: "bt709",
    4: "fcc",
    5: "bt470",
    6: "smpte170m",
    7: "smpte240m",
    9: "bt2020",
    10: "bt2020",
}

# H.273 TransferCharacteristics, ColourPrimaries and MatrixCoefficients codes -> ffmpeg's
# names (what `-color_trc`, zscale's `tin`/`pin`/`min` and ffprobe print). Untagged (2) and
# unknown codes read as None.
TRANSFER_NAMES = {
    1: "bt709", 4: "gamma22", 5: "gamma28", 6: "smpte170m", 7: "smpte240m", 8: "linear",
    13: "iec61966-2-1", 14: "bt2020-10", 15: "bt2020-12", 16: "smpte2084", 18: "arib-std-b67",
}
PRIMARIES_NAMES = {1: "bt709", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 9: "bt2020", 11: "smpte431", 12: "smpte432"}
COLORSPACE_NAMES = {1: "bt709", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 9: "bt2020nc", 10: "bt2020c"}

# Seeking this far before the container's end finds every stream's last packets.
TAIL_S = 10.0

MIN_DURATION_S = 0.4  # one 400 ms loudness block: anything shorter cannot be measured
VFR_SAMPLE_PACKETS = 300
VFR_JITTER_RATIO = 0.1


@dataclass(frozen=True)
class VideoStreamInfo:
    index: int
    codec: str
    profile: str | None
    width_px: int
    height_px: int
    pix_fmt: str | None
    fps: float
    variable_frame_rate: bool
    rotation_deg: int
    # The YCbCr matrix the stream is tagged with, in the names ffmpeg's scale filter takes
    # for in_color_matrix; None when the file does not say (see color_matrix_name).
    color_matrix: str | None = None
    # ffmpeg's names for the stream's transfer, primaries and matrix tags (None: untagged):
    # "arib-std-b67" is HLG, "smpte2084" is PQ; "bt2020" primaries are wide gamut.
    color_transfer: str | None = None
    color_primaries: str | None = None
    colorspace: str | None = None
    # The brightest light the stream declares (content light level MaxCLL, else the
    # mastering display's peak), in cd/m2; None when it declares none.
    declared_peak_nits: float | None = None
    # Dolby Vision metadata rides on the frames (profile 8.4 phones: over an HLG base layer).
    dolby_vision: bool = False
    # When the picture's last frame ends, from the file's start (None: no timestamps).
    duration_s: float | None = None

    @property
    def display_width_px(self) -> int:
        return self.height_px if self.rotation_deg % 180 else self.width_px

    @property
    def display_height_px(self) -> int:
        return self.width_px if self.rotation_deg % 180 else self.height_px


@dataclass(frozen=True)
class AudioStreamInfo:
    index: int
    codec: str
    sample_rate_hz: int
    channels: int
    layout: str
    duration_s: float | None = None  # when its last sample ends, from the file's start


@dataclass(frozen=True)
class MediaInfo:
    path: Path
    container: str
    duration_s: float
    size_bytes: int
    video: VideoStreamInfo | None
    audio: tuple[AudioStreamInfo, ...]

    @property
    def first_audio(self) -> AudioStreamInfo | None:
        return self.audio[0] if self.audio else None

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["path"] = str(self.path)
        data["duration_s"] = round(self.duration_s, 3)
        if self.video is not None:
            data["video"]["fps"] = round(self.video.fps, 3)
            data["video"]["display_width_px"] = self.video.display_width_px
            data["video"]["display_height_px"] = self.video.display_height_px
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


def color_matrix_name(colorspace: int | None) -> str | None:
    """The scale filter's name for an H.273 matrix code; None for untagged or unknown."""
    return COLOR_MATRIX_NAMES.get(colorspace) if colorspace is not None else None


def parse_content_light_nits(data: bytes) -> float | None:
    """MaxCLL from an AVContentLightMetadata (two unsigned ints: MaxCLL, MaxFALL)."""
    if len(data) < 4:
        return None
    max_cll = struct.unpack_from("<I", data, 0)[0]
    return float(max_cll) if max_cll > 0 else None


def parse_mastering_peak_nits(data: bytes) -> float | None:
    """The display peak from an AVMasteringDisplayMetadata: eight rationals (primaries,
    white point), min then max luminance as rationals, then has_primaries, has_luminance."""
    if len(data) < 88:
        return None
    num, den = struct.unpack_from("<ii", data, 72)
    has_luminance = struct.unpack_from("<i", data, 84)[0]
    if not has_luminance or den <= 0 or num <= 0:
        return None
    return num / den


@dataclass(frozen=True)
class FirstFrame:
    rotation_deg: int = 0
    declared_peak_nits: float | None = None
    dolby_vision: bool = False


def _first_frame(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> FirstFrame:
    """Display rotation in degrees counter-clockwise (0, 90, 180, 270), the declared HDR
    peak and Dolby Vision metadata, read from the first frame's side data."""
    try:
        for frame in container.decode(stream):
            rotation = int(round(getattr(frame, "rotation", 0) or 0)) % 360
            content_nits = mastering_nits = None
            dolby_vision = False
            for side in frame.side_data:
                name = getattr(side.type, "name", str(side.type))
                if name == "CONTENT_LIGHT_LEVEL":
                    content_nits = parse_content_light_nits(bytes(side))
                elif name == "MASTERING_DISPLAY_METADATA":
                    mastering_nits = parse_mastering_peak_nits(bytes(side))
                elif name.startswith("DOVI"):
                    dolby_vision = True
            return FirstFrame(int(90 * round(rotation / 90)) % 360, content_nits or mastering_nits, dolby_vision)
    except av.error.FFmpegError:
        return FirstFrame()
    return FirstFrame()


def _stream_ends_s(container: av.container.InputContainer, streams: list[av.stream.Stream], duration_s: float) -> dict[int, float]:
    """When each stream's last packet ends, in seconds from the file's start, read from
    the packets' own timestamps: near the end when the container knows its duration, from
    the start when it does not (a MediaRecorder WebM has no duration in its header) or
    when a stream ended too early to be seen near the end."""
    start_s = (container.start_time or 0) / av.time_base
    ends: dict[int, float] = {}

    def read_from(seek_s: float | None) -> None:
        if seek_s is None:
            container.seek(0)
        else:
            container.seek(int(seek_s * av.time_base), backward=True, any_frame=False)
        for packet in container.demux(*streams):
            if packet.pts is None or packet.time_base is None:
                continue
            end_s = float((packet.pts + (packet.duration or 0)) * packet.time_base) - start_s
            index = packet.stream.index
            ends[index] = max(ends.get(index, end_s), end_s)

    try:
        if duration_s > 2 * TAIL_S:
            read_from(start_s + duration_s - TAIL_S)
        if len(ends) < len(streams):
            ends.clear()
            read_from(None)
    except av.error.FFmpegError:
        pass
    return ends


def _frame_rate(stream: av.video.stream.VideoStream) -> float:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate:
            return float(rate)
    return 0.0


def _is_variable_rate(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> bool:
    """True if the presentation times of the first packets are not evenly spaced."""
    pts: list[int] = []
    for packet in container.demux(stream):
        if packet.pts is not None:
            pts.append(packet.pts)
        if len(pts) >= VFR_SAMPLE_PACKETS:
            break
    if len(pts) < 3:
        return False
    deltas = np.diff(np.sort(np.asarray(pts, dtype=np.float64)))
    deltas = deltas[deltas > 0]
    if deltas.size < 2:
        return False
    # Timestamps are rounded to the time base, so allow one tick of jitter.
    median = float(np.median(deltas))
    spread = float(np.max(np.abs(deltas - median)))
    return spread > max(1.0, VFR_JITTER_RATIO * median)


def _check_not_truncated(path: Path, duration_s: float) -> None:
    """Raise InputError if the file was cut off or its end is unreadable.

    Indexed containers (MP4, MOV) say where every packet lives: an index that points
    past the end of the file means the file was cut. Others get a seek near the end
    and must yield a packet there.
    """
    size_bytes = path.stat().st_size
    try:
        with av.open(str(path)) as container:
            for stream in container.streams:
                entries = stream.index_entries
                if len(entries):
                    last = entries[len(entries) - 1]
                    if last.pos + last.size > size_bytes:
                        raise InputError(
                            f"truncated media: {size_bytes} bytes, but its index needs "
                            f"{last.pos + last.size} ({stream.type} stream #{stream.index})",
                            file=path,
                        )
            if duration_s <= 1.0:
                return
            container.seek(int((duration_s - 0.5) * av.time_base), any_frame=False, backward=True)
            for packet in container.demux():
                if packet.size:
                    return
    except av.error.FFmpegError as exc:
        raise InputError(f"corrupt or truncated media: {exc}", file=path) from None
    raise InputError(
        f"truncated media: no data near the end (container says {duration_s:.2f} s)", file=path
    )


def probe(path: Path) -> MediaInfo:
    """Describe a media file. Raises InputError for anything a render cannot use."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=path)
    if path.is_dir():
        raise InputError("is a folder, not a media file", file=path)
    try:
        container = av.open(str(path))
    except av.error.InvalidDataError:
        raise InputError("not a media file (no known container format)", file=path) from None
    except av.error.PermissionError:
        raise InputError("not readable (permission denied)", file=path) from None
    except av.error.FFmpegError as exc:
        raise InputError(f"cannot open media: {exc}", file=path) from None

    with container:
        video_streams = [s for s in container.streams.video if s.codec_context is not None]
        # Cover art is a one-frame "video" stream; it is not the programme's picture.
        video_streams = [s for s in video_streams if not (s.disposition & av.stream.Disposition.attached_pic)]
        audio_streams = list(container.streams.audio)
        if not video_streams and not audio_streams:
            raise InputError("no audio or video stream", file=path)

        duration_s = (container.duration or 0) / av.time_base
        if duration_s <= 0:
            stream = (video_streams or audio_streams)[0]
            if stream.duration and stream.time_base:
                duration_s = float(stream.duration * stream.time_base)
        ends_s = _stream_ends_s(container, [*video_streams[:1], *audio_streams], duration_s)
        if duration_s <= 0 and ends_s:
            # No duration in the header (live-written WebM/Matroska): the packets know it.
            duration_s = max(ends_s.values())
        try:
            container.seek(0)
        except av.error.FFmpegError:
            pass

        video: VideoStreamInfo | None = None
        if video_streams:
            stream = video_streams[0]
            ctx = stream.codec_context
            if not ctx.width or not ctx.height:
                raise InputError("video stream has no frame size (corrupt header)", file=path, field="video")
            variable = _is_variable_rate(container, stream)
            container.seek(0)
            first = _first_frame(container, stream)
            video = VideoStreamInfo(
                index=stream.index,
                codec=ctx.name,
                profile=stream.profile,
                width_px=ctx.width,
                height_px=ctx.height,
                pix_fmt=ctx.pix_fmt,
                fps=_frame_rate(stream),
                variable_frame_rate=variable,
                rotation_deg=first.rotation_deg,
                color_matrix=color_matrix_name(ctx.colorspace),
                color_transfer=TRANSFER_NAMES.get(ctx.color_trc),
                color_primaries=PRIMARIES_NAMES.get(ctx.color_primaries),
                colorspace=COLORSPACE_NAMES.get(ctx.colorspace),
                declared_peak_nits=first.declared_peak_nits,
                dolby_vision=first.dolby_vision,
                duration_s=ends_s.get(stream.index),
            )
        audio = tuple(
            AudioStreamInfo(
                index=s.index,
                codec=s.codec_context.name,
                sample_rate_hz=int(s.rate or 0),
                channels=int(s.channels or 0),
                layout=s.layout.name if s.layout else f"{s.channels} channels",
                duration_s=ends_s.get(s.index),
            )
            for s in audio_streams
        )

    if duration_s < MIN_DURATION_S:
        raise InputError(
            f"clip is {duration_s:.2f} s long; at least {MIN_DURATION_S} s is needed", file=path
        )
    _check_not_truncated(path, duration_s)
    return MediaInfo(
        path=path,
        container=container.format.name,
        duration_s=duration_s,
        size_bytes=path.stat().st_size,
        video=video,
        audio=audio,
    )
