"""Chunked audio decoding with PyAV, for meters and detectors that stream.

Owns: opening a media file, choosing its audio stream, demuxing only that stream's
packets (video is never decoded), converting every decoded frame, whatever its sample
format (planar or packed; u8, s16, s32, s64, flt, dbl), to float32 in [-1, 1] with shape
(n_samples, n_channels), gathering frames into chunks of about `chunk_s`, and turning
every way a file can be unusable into an `InputError` that names the file.

Use:

    info, chunks = iter_audio_chunks("talk.mp4")
    with chunks:
        for block in chunks:          # float32, shape (n, info.channels)
            ...
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import av
import av.error
import numpy as np

from pipeline.audio.channels import build_channel_names, default_channel_names
from pipeline.errors import InputError

DEFAULT_CHUNK_S = 1.0

# Containers whose header states the exact length of the audio, so decoding much less
# than that means the file was cut short. (MP3 or ADTS durations are estimated from the
# bit rate and may be far off, so they are not checked.)
_EXACT_DURATION_FORMATS = frozenset({"wav", "w64", "flac", "aiff", "caf", "mov,mp4,m4a,3gp,3g2,mj2"})
_TRUNCATION_TOLERANCE_S = 0.5
_TRUNCATION_TOLERANCE_FRACTION = 0.02

# Integer sample formats: the scale that maps full scale to 1.0, and the offset of
# unsigned formats.
_INTEGER_SCALES: dict[str, tuple[float, float]] = {
    "u8": (1.0 / 128.0, 128.0),
    "s16": (1.0 / 32768.0, 0.0),
    "s32": (1.0 / 2147483648.0, 0.0),
    "s64": (1.0 / 9223372036854775808.0, 0.0),
}


@dataclass(frozen=True)
class AudioStreamInfo:
    """What the decoder found, from the first decoded frame (not only the header)."""

    path: str
    stream_index: int
    codec_name: str
    sample_rate_hz: int
    channels: int
    channel_names: tuple[str, ...]
    layout_name: str
    sample_format: str
    declared_duration_s: float | None
    container_format: str


def frame_to_float32(frame: av.AudioFrame) -> np.ndarray:
    """One decoded frame as float32 (n_samples, n_channels) in [-1, 1]."""
    channels = len(frame.layout.channels)
    data = frame.to_ndarray()
    fmt = frame.format
    # Planar frames come as (channels, n); packed ones as (1, n * channels).
    samples = data.T if fmt.is_planar else data.reshape(-1, channels)
    base = fmt.name.rstrip("p")
    if base in ("flt", "dbl"):
        return np.asarray(samples, dtype=np.float32)
    if base not in _INTEGER_SCALES:
        raise ValueError(f"unsupported sample format {fmt.name!r}")
    scale, offset = _INTEGER_SCALES[base]
    converted = samples.astype(np.float32)
    if offset:
        converted -= offset
    converted *= scale
    return converted


def _channel_names_of(layout: av.AudioLayout, channels: int) -> tuple[str, ...]:
    names = [ch.name for ch in layout.channels]
    # Layouts without a known order give placeholder names; fall back to the count.
    if len(names) != channels or len(set(names)) != channels or any(
        not n or n.upper().startswith(("USR", "NONE", "UNK")) for n in names
    ):
        return default_channel_names(channels)
    return build_channel_names(names)


class AudioChunks(Iterator[np.ndarray]):
    """Iterator of float32 (n, channels) chunks; owns the open container.

    Close it (or use it as a context manager, or exhaust it) to release the file.
    """

    def __init__(
        self,
        container: av.container.InputContainer,
        info: AudioStreamInfo,
        first_frames: list[av.AudioFrame],
        packets: Iterator[av.Packet],
        chunk_samples: int,
    ) -> None:
        self._container: av.container.InputContainer | None = container
        self.info = info
        self._packets = packets
        self._chunk_samples = chunk_samples
        self._exhausted = False
        self.decoded_samples = 0
        self._pending: list[np.ndarray] = []
        self._pending_samples = 0
        for frame in first_frames:
            self._check_same_format(frame)
            self._pending.append(frame_to_float32(frame))
            self._pending_samples += frame.samples

    @property
    def decoded_duration_s(self) -> float:
        return self.decoded_samples / self.info.sample_rate_hz

    def __iter__(self) -> AudioChunks:
        return self

    def __next__(self) -> np.ndarray:
        while not self._exhausted and self._pending_samples < self._chunk_samples:
            try:
                packet = next(self._packets)
            except StopIteration:
                self._exhausted = True
                break
            except av.error.FFmpegError as exc:
                self.close()
                raise self._decode_error(exc) from exc
            for frame in self._decode(packet):
                self._pending.append(frame)
                self._pending_samples += frame.shape[0]
        if not self._pending:
            self._finish()
            raise StopIteration
        chunk = self._pending[0] if len(self._pending) == 1 else np.concatenate(self._pending, axis=0)
        self._pending = []
        self._pending_samples = 0
        self.decoded_samples += chunk.shape[0]
        return np.ascontiguousarray(chunk)

    def _decode(self, packet: av.Packet) -> list[np.ndarray]:
        try:
            frames = packet.decode()
        except av.error.FFmpegError as exc:
            self.close()
            raise self._decode_error(exc) from exc
        out = []
        for frame in frames:
            self._check_same_format(frame)
            out.append(frame_to_float32(frame))
        return out

    def _check_same_format(self, frame: av.AudioFrame) -> None:
        if frame.sample_rate != self.info.sample_rate_hz or len(frame.layout.channels) != self.info.channels:
            self.close()
            raise InputError(
                f"audio format changes mid-stream (from {self.info.sample_rate_hz} Hz, "
                f"{self.info.channels} ch to {frame.sample_rate} Hz, "
                f"{len(frame.layout.channels)} ch); convert the file first",
                file=self.info.path,
                field="audio",
            )

    def _decode_error(self, exc: Exception) -> InputError:
        at_s = (self.decoded_samples + self._pending_samples) / self.info.sample_rate_hz
        return InputError(
            f"audio is corrupt: decoding failed after {at_s:.2f} s ({exc})",
            file=self.info.path,
            field="audio",
        )

    def _finish(self) -> None:
        """At the end of the stream: close, and refuse a file cut short."""
        self.close()
        declared = self.info.declared_duration_s
        if declared is None or self.info.container_format not in _EXACT_DURATION_FORMATS:
            return
        missing_s = declared - self.decoded_duration_s
        if missing_s > max(_TRUNCATION_TOLERANCE_S, _TRUNCATION_TOLERANCE_FRACTION * declared):
            raise InputError(
                f"file is truncated: decoded {self.decoded_duration_s:.2f} s of audio "
                f"but the header says {declared:.2f} s",
                file=self.info.path,
                field="audio",
            )

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None
        self._exhausted = True

    def __enter__(self) -> AudioChunks:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()


def _wav_declared_duration_s(path: Path) -> float | None:
    """Length stated by a RIFF/WAVE header's data chunk, or None if it states none.

    ffmpeg clips a WAV's duration to the bytes present, so a cut-off WAV would
    otherwise pass as a shorter, valid file. Placeholder sizes (0 or 0xFFFFFFFF, as
    written to pipes) mean "unknown".
    """
    try:
        with path.open("rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            byte_rate = 0
            for _ in range(64):  # a WAV has a handful of chunks; stop on garbage
                chunk_header = f.read(8)
                if len(chunk_header) < 8:
                    return None
                chunk_id = chunk_header[:4]
                (size,) = struct.unpack("<I", chunk_header[4:])
                if chunk_id == b"fmt ":
                    body = f.read(size + (size & 1))
                    if len(body) >= 12:
                        (byte_rate,) = struct.unpack("<I", body[8:12])
                elif chunk_id == b"data":
                    if size in (0, 0xFFFFFFFF) or byte_rate <= 0:
                        return None
                    return size / byte_rate
                else:
                    f.seek(size + (size & 1), 1)
    except OSError:
        return None
    return None


def _open(path: Path) -> av.container.InputContainer:
    if not path.exists():
        raise InputError("file not found", file=path, field="audio")
    if not path.is_file():
        raise InputError("not a file", file=path, field="audio")
    try:
        return av.open(str(path), mode="r")
    except av.error.InvalidDataError as exc:
        # The words a render uses for the same file (pipeline.probe), without PyAV's errno.
        raise InputError("not a media file (no known container format)", file=path, field="audio") from exc
    except (av.error.FFmpegError, OSError) as exc:
        raise InputError(f"cannot open as media ({getattr(exc, 'strerror', None) or exc})", file=path,
                         field="audio") from exc


def _select_stream(container: av.container.InputContainer, path: Path, stream_index: int | None) -> av.AudioStream:
    if stream_index is None:
        if not container.streams.audio:
            raise InputError("no audio stream", file=path, field="audio")
        return container.streams.audio[0]
    if not 0 <= stream_index < len(container.streams):
        raise InputError(
            f"no stream {stream_index} (the file has {len(container.streams)})", file=path, field="audio"
        )
    stream = container.streams[stream_index]
    if stream.type != "audio":
        raise InputError(f"stream {stream_index} is {stream.type}, not audio", file=path, field="audio")
    return stream


def iter_audio_chunks(
    path: str | Path, stream_index: int | None = None, *, chunk_s: float = DEFAULT_CHUNK_S
) -> tuple[AudioStreamInfo, AudioChunks]:
    """Open `path` and decode its first audio stream (or container stream `stream_index`).

    Returns the stream's description, taken from the first decoded frame, and an
    iterator of float32 chunks of about `chunk_s` seconds. Raises InputError (field
    "audio") for a missing file, a file that is not media, no audio stream, a stream
    that decodes to nothing, a decode failure or a truncated file (the last two while
    iterating).
    """
    if chunk_s <= 0:
        raise ValueError(f"chunk_s must be positive, got {chunk_s}")
    path = Path(path)
    container = _open(path)
    try:
        stream = _select_stream(container, path, stream_index)
        packets = container.demux(stream)
        first_frames: list[av.AudioFrame] = []
        for packet in packets:
            first_frames.extend(packet.decode())
            if first_frames:
                break
    except InputError:
        container.close()
        raise
    except av.error.FFmpegError as exc:
        container.close()
        raise InputError(f"audio is corrupt: cannot decode ({exc})", file=path, field="audio") from exc
    if not first_frames:
        container.close()
        raise InputError("audio stream contains no decodable samples", file=path, field="audio")

    first_frame = first_frames[0]
    channels = len(first_frame.layout.channels)
    if container.format.name == "wav":
        declared_s = _wav_declared_duration_s(path)
    elif stream.duration and stream.time_base:
        declared_s = float(stream.duration * stream.time_base)
    else:
        declared_s = None
    info = AudioStreamInfo(
        path=str(path),
        stream_index=stream.index,
        codec_name=stream.codec_context.name,
        sample_rate_hz=int(first_frame.sample_rate),
        channels=channels,
        channel_names=_channel_names_of(first_frame.layout, channels),
        layout_name=first_frame.layout.name,
        sample_format=first_frame.format.name,
        declared_duration_s=declared_s,
        container_format=container.format.name,
    )
    # Frames decoded with the first one are checked against it like all later ones.
    chunks = AudioChunks(
        container,
        info,
        first_frames,
        iter(packets),
        chunk_samples=max(1, round(chunk_s * info.sample_rate_hz)),
    )
    return info, chunks
