"""The enhanced main sound (effectful): one audio-only ffmpeg pass decodes the main audio
(48 kHz, the enhancer's channels, high-pass, hum notches), streams it through the speech
enhancer, and spools the result to a private file that the measuring passes and the
render then read as raw float samples.

Owns the spool's format and its timing. The timing is the source's: the decoding pass
pads an audio stream that starts after the file's start with silence (`aresample`
`first_pts=0`, as the picture keeps its own start), and the enhancer removes its own
delay, so the spool's sample 0 is the picture's time 0. Memory is one ffmpeg pipe chunk
plus the enhancer's few frames, whatever the duration.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.audio.chain import format_filter_chain
from pipeline.audio.cleanup import EnhanceSettings
from pipeline.config import AudioSettings
from pipeline.filters import Filter
from pipeline.media import run_ffmpeg

BYTES_PER_SAMPLE = 4


@dataclass(frozen=True)
class SoundSpool:
    """Raw little-endian float32 samples at `sample_rate_hz`, `channels` interleaved."""

    path: Path
    channels: int
    sample_rate_hz: int

    def input_options(self) -> dict[str, object]:
        """ffmpeg input options that read the spool (ffmpeg-python keyword form)."""
        return {"f": "f32le", "ar": self.sample_rate_hz, "ac": self.channels}


def enhancer_channels(source_channels: int, settings: AudioSettings) -> int:
    """Mono stays mono (upmixed after the enhancer, not enhanced twice); more than two
    channels are folded to the output layout first."""
    return 1 if source_channels == 1 or settings.channels == 1 else 2


def build_decode_args(
    path: Path, stream_index: int | None, settings: AudioSettings, channels: int, filters: list[Filter]
) -> list[str]:
    """Decode the main audio for the enhancer: float samples on stdout, time 0 at the
    file's start."""
    chain: list[Filter] = [
        ("aresample", {"out_sample_rate": settings.sample_rate_hz, "first_pts": 0}),
        ("aformat", {"sample_rates": settings.sample_rate_hz, "channel_layouts": "mono" if channels == 1 else "stereo"}),
        *filters,
    ]
    return [
        "-i", f"file:{path.resolve()}",
        "-map", "0:a:0" if stream_index is None else f"0:{stream_index}", "-vn", "-sn", "-dn",
        "-af", format_filter_chain(chain),
        "-f", "f32le", "-acodec", "pcm_f32le", "pipe:1",
    ]


def run_enhanced_sound(
    path: Path,
    stream_index: int | None,
    source_channels: int,
    settings: AudioSettings,
    filters: list[Filter],
    enhance: EnhanceSettings,
    *,
    spool_path: Path,
    duration_s: float | None,
) -> tuple[SoundSpool, dict[str, object]]:
    """Decode, enhance and spool the main sound; also what the report says about it."""
    from pipeline.audio.enhance import SpeechEnhancer  # loads the native runtime

    channels = enhancer_channels(source_channels, settings)
    frame_bytes = BYTES_PER_SAMPLE * channels
    pending = bytearray()
    started = time.monotonic()
    samples_out = 0
    with SpeechEnhancer(
        channels, strength=enhance.strength, attenuation_limit_db=enhance.attenuation_limit_db
    ) as enhancer, spool_path.open("wb") as spool:

        def write(block: np.ndarray) -> None:
            nonlocal samples_out
            samples_out += len(block)
            spool.write(np.ascontiguousarray(block, dtype="<f4").tobytes())

        def consume(data: bytes) -> None:
            pending.extend(data)
            usable = len(pending) - len(pending) % frame_bytes
            if usable:
                write(enhancer.process(np.frombuffer(bytes(pending[:usable]), dtype="<f4").reshape(-1, channels)))
                del pending[:usable]

        run_ffmpeg(
            build_decode_args(path, stream_index, settings, channels, filters),
            total_s=duration_s, stdout_sink=consume, what="speech enhancement", file=path,
        )
        write(enhancer.flush())
        model = enhancer.info.to_dict()
    wall_s = time.monotonic() - started
    sound_s = samples_out / settings.sample_rate_hz
    report: dict[str, object] = {
        **model,
        "channels": channels,
        "duration_s": round(sound_s, 3),
        "wall_time_s": round(wall_s, 3),
        "x_real_time": round(sound_s / wall_s, 1) if wall_s > 0 else None,
    }
    return SoundSpool(spool_path, channels, settings.sample_rate_hz), report
