"""The sound half of the render graph (pure): format conversion, clean-up, then the
gain planned from measurements, in ffmpeg-python streams. Also the arguments of the
audio-only passes: the one that measures the cleaned-up signal before the gain is
chosen, and the closed loop's correction of an encoded track; and how the track is
encoded (the AAC search)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.config import AudioSettings
from pipeline.filters import Filter, Stream

if TYPE_CHECKING:
    from pipeline.audio.sound import SoundSpool

# ffmpeg's AAC encoder: the default "twoloop" search runs at 12x real time here (stereo,
# 384 kbps), "fast" at 28x, and at these rates both are transparent for speech (PESQ-WB of
# a clean sentence through each: 4.63 and 4.64). An audio-only render waits for this
# encode, so the faster search.
AAC_CODER = "fast"


def build_format_filters(settings: AudioSettings) -> list[Filter]:
    """Resample to the output rate and convert to the output layout.

    5.1 is downmixed with swresample's default matrix (ITU-R BS.775: centre and surrounds
    at -3 dB, LFE dropped); mono is spread to both channels at -3 dB, which keeps its
    loudness.
    """
    layout = "stereo" if settings.channels == 2 else "mono"
    return [
        ("aresample", {"out_sample_rate": settings.sample_rate_hz}),
        ("aformat", {"sample_rates": settings.sample_rate_hz, "channel_layouts": layout}),
    ]


def apply_filters(stream: Stream, filters: list[Filter]) -> Stream:
    for name, options in filters:
        stream = stream.filter(name, **options)
    return stream


def build_sound(
    audio_in: Stream,
    settings: AudioSettings,
    normalize_filters: list[Filter] | None,
    *,
    cleanup_filters: list[Filter] | None = None,
    before_normalize: Callable[[Stream], Stream] | None = None,
) -> Stream:
    """Main audio in, finished programme audio out (48 kHz, output layout)."""
    chain = apply_filters(audio_in, build_format_filters(settings) + list(cleanup_filters or []))
    if before_normalize is not None:
        chain = before_normalize(chain)
    if normalize_filters is not None:
        chain = apply_filters(chain, normalize_filters)
    return chain


def format_filter_chain(chain: list[Filter]) -> str:
    """A simple -af chain string; values here are numbers and fixed words only."""
    parts = []
    for name, options in chain:
        body = ":".join(f"{key}={value}" for key, value in options.items())
        parts.append(f"{name}={body}" if body else name)
    return ",".join(parts)


def build_measure_args(
    path: Path, stream_index: int | None, settings: AudioSettings, cleanup_filters: list[Filter],
    *, sound: SoundSpool | None = None,
) -> list[str]:
    """Audio-only pass: decode, convert, clean up, and write raw float samples to stdout.
    `stream_index` None takes the first audio stream; with `sound`, the enhanced spool is
    read instead of `path`'s audio."""
    chain = build_format_filters(settings) + cleanup_filters
    if sound is not None:
        source = [*sound.input_args(), "-map", "0:a:0"]
    else:
        source = [
            "-i", f"file:{path.resolve()}",
            "-map", "0:a:0" if stream_index is None else f"0:{stream_index}", "-vn", "-sn", "-dn",
        ]
    return [
        *source,
        "-af", format_filter_chain(chain),
        "-f", "f32le", "-acodec", "pcm_f32le", "pipe:1",
    ]


def build_audio_fix_args(
    source: Path, destination: Path, muxer: str, settings: AudioSettings, filters: list[Filter]
) -> list[str]:
    """The closed loop's correction pass: video (if any) copied, audio re-processed."""
    return [
        "-i", f"file:{source.resolve()}",
        "-map", "0:v?", "-c:v", "copy",
        "-map", "0:a:0", "-af", format_filter_chain(filters),
        "-c:a", settings.codec, "-b:a", f"{settings.bitrate_kbps}k", "-aac_coder", AAC_CODER,
        "-ar", str(settings.sample_rate_hz), "-ac", str(settings.channels),
        "-map_metadata", "-1", "-map_chapters", "-1",
        *(["-movflags", "+faststart"] if muxer in ("mp4", "mov", "ipod") else []),
        "-f", muxer, "-y", f"file:{destination.resolve()}",
    ]
