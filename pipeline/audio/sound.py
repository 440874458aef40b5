"""The main sound, decoded once (effectful): one audio-only ffmpeg pass decodes the main
audio (48 kHz, the enhancer's channels) to a raw spool in the render's working folder;
the analysis, the speech enhancer and every later pass read that spool as raw float
samples, so the input's audio is decoded only once. With the enhancer on, a filter pass
over the spool (high-pass, hum notches: raw samples in, nothing decoded) feeds the
enhancer, which writes the sound spool that the measuring passes and the render read.
When the speech is reverberant (the detector reads a bounded sample of the decoded spool),
de-reverberation first writes a spool of the same layout and length, sample on sample,
which takes the decoded spool's place for everything after it.

Owns the spools' format, their timing and how the enhancement is spread over the cores.
The timing is the source's: the decoding pass pads an audio stream that starts after the
file's start with silence (`aresample` `first_pts=0`, as the picture keeps its own
start), and the enhancer removes its own delay, so sample 0 is the picture's time 0.
Stereo speech is enhanced once, as its mid, when `pipeline.audio.stereo_mid` finds the
mid sound (dual mono is its own mid, bit for bit). Channels run on their own threads; long mono sound is cut
into time segments enhanced side by side, each state warmed up on the sound before its
segment and the seams crossfaded. Memory is a few chunks per segment, whatever the
duration; the disk holds the decoded, the filtered and the enhanced sound (11.5 MB a
stereo minute each).
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.audio.chain import format_filter_chain
from pipeline.audio.cleanup import EnhanceSettings
from pipeline.audio.deepfilter import ModelInfo
from pipeline.audio.dereverb import Dereverberator, WpeSettings
from pipeline.audio.raw_frames import frame_bytes, frames_in, iter_frames, read_frames, to_bytes
from pipeline.audio.reverb import ReverbFinding, detect_reverb
from pipeline.audio.stereo_mid import enhance_mid, read_mid, survey_channels
from pipeline.config import AudioSettings
from pipeline.errors import Cancelled
from pipeline.filters import Filter
from pipeline.media import run_ffmpeg
from pipeline.speed import in_this_context

SAMPLE_RATE_HZ = 48_000  # the enhancer's rate, and the output's
CHUNK_SAMPLES = 48_000
# Split mono sound in time only when it is this long: each extra segment costs a warm-up.
MIN_SPLIT_S = 30.0
# Measured on babble at 0 dB SNR: a state started 3 s early differs from one that ran all
# along by -29 dB (1 s: -18 dB); the crossfade hides the rest.
WARM_UP_S = 3.0
CROSSFADE_S = 0.02
# Noisy speech loses a few dB to the enhancer (-5 dB SNR babble: about 6); a tone, music
# or ambience loses nearly everything. Past this the enhancer is not used.
MAX_REMOVED_DB = 15.0


@dataclass(frozen=True)
class SoundSpool:
    """Raw little-endian float32 samples at `sample_rate_hz`, `channels` interleaved."""

    path: Path
    channels: int
    sample_rate_hz: int

    def input_options(self) -> dict[str, object]:
        """ffmpeg input options that read the spool (ffmpeg-python keyword form)."""
        return {"f": "f32le", "ar": self.sample_rate_hz, "ac": self.channels}

    def input_args(self) -> list[str]:
        """The same as an argument list, ending with the spool as ffmpeg's input."""
        options = [item for key, value in self.input_options().items() for item in (f"-{key}", str(value))]
        return [*options, "-i", f"file:{self.path.resolve()}"]


def enhancer_channels(source_channels: int, settings: AudioSettings) -> int:
    """Mono stays mono (upmixed after the enhancer, not enhanced twice); more than two
    channels are folded to the output layout first."""
    return 1 if source_channels == 1 or settings.channels == 1 else 2


def build_decode_args(
    path: Path, stream_index: int | None, settings: AudioSettings, channels: int, filters: list[Filter]
) -> list[str]:
    """Decode the main audio: float samples on stdout, time 0 at the file's start."""
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


def decode_sound(
    path: Path,
    stream_index: int | None,
    source_channels: int,
    settings: AudioSettings,
    *,
    spool_path: Path,
    duration_s: float | None,
    stop: threading.Event | None = None,
) -> SoundSpool:
    """The one decode of the main audio: 48 kHz float samples in the enhancer's channels
    (mono stays mono), time 0 at the file's start, written by ffmpeg to `spool_path`."""
    channels = enhancer_channels(source_channels, settings)
    args = build_decode_args(path, stream_index, settings, channels, [])
    run_ffmpeg([*args[:-1], "-y", f"file:{spool_path.resolve()}"], total_s=duration_s,
               what="audio decode", file=path, stop=stop)
    return SoundSpool(spool_path, channels, settings.sample_rate_hz)


def iter_spool_chunks(spool: SoundSpool, chunk_samples: int = CHUNK_SAMPLES) -> Iterator[np.ndarray]:
    """The spool's samples as (n, channels) float32 blocks, read from the file."""
    return iter_frames(spool.path, spool.channels, chunk_samples)


def read_spool(spool: SoundSpool, start: int, count: int) -> np.ndarray:
    """`count` frames of the spool from `start`, as (n, channels) float32."""
    with spool.path.open("rb") as stream:
        return read_frames(stream, spool.channels, start, count).copy()


def spool_samples(spool: SoundSpool) -> int:
    return frames_in(spool.path, spool.channels)


def detect_spool_reverb(spool: SoundSpool) -> ReverbFinding:
    """Whether the spool's speech is reverberant, from a bounded sample of it."""
    return detect_reverb(lambda start, count: read_spool(spool, start, count), spool_samples(spool),
                         spool.sample_rate_hz)


def run_dereverbed_sound(
    source: SoundSpool,
    wpe: WpeSettings,
    *,
    spool_path: Path,
    stop: threading.Event | None = None,
) -> tuple[SoundSpool, dict[str, object]]:
    """De-reverberate `source` (the decoded sound) into `spool_path`, same layout and
    length, sample k on sample k; also what the report says about it. `source` is left in
    place. Streams: memory is one block window of STFT frames per channel. Channels are
    independent, so each has its own engine on its own thread (numpy's FFTs and solves
    release the GIL)."""
    started = time.monotonic()
    engines = [Dereverberator(1, wpe) for _ in range(source.channels)]
    energy_in = energy_out = 0.0
    with ThreadPoolExecutor(max_workers=source.channels, thread_name_prefix="dereverb") as pool:

        def each(step: Callable[[Dereverberator, np.ndarray], np.ndarray], block: np.ndarray) -> np.ndarray:
            columns = [np.ascontiguousarray(block[:, c:c + 1]) for c in range(source.channels)]
            return np.concatenate(list(pool.map(in_this_context(step), engines, columns)), axis=1)

        with spool_path.open("wb") as target:
            for chunk in iter_spool_chunks(source):
                if stop is not None and stop.is_set():
                    raise Cancelled("de-reverberation cancelled", file=source.path)
                energy_in += float(np.square(chunk, dtype=np.float64).sum())
                out = each(lambda engine, column: engine.process(column), chunk)
                energy_out += float(np.square(out, dtype=np.float64).sum())
                target.write(to_bytes(out))
            empty = np.zeros((0, source.channels), dtype=np.float32)
            out = each(lambda engine, _column: engine.flush(), empty)
            energy_out += float(np.square(out, dtype=np.float64).sum())
            target.write(to_bytes(out))
    wall_s = time.monotonic() - started
    sound_s = spool_samples(source) / source.sample_rate_hz
    removed_db = 10 * math.log10(energy_in / energy_out) if energy_in > 0 and energy_out > 0 else None
    report: dict[str, object] = {
        "method": "WPE (weighted prediction error), block statistics",
        **wpe.to_dict(),
        "channels": source.channels,
        "removed_db": None if removed_db is None else round(removed_db, 2),
        "duration_s": round(sound_s, 3),
        "wall_time_s": round(wall_s, 3),
        "x_real_time": round(sound_s / wall_s, 1) if wall_s > 0 else None,
    }
    return SoundSpool(spool_path, source.channels, source.sample_rate_hz), report


def plan_segments(total_samples: int, channels: int, cores: int, sample_rate_hz: int) -> list[tuple[int, int]]:
    """Time segments enhanced side by side. Channels already run on their own threads, so
    only mono (or one-channel) sound is split, and only when it is long enough for the
    warm-up to be a small price."""
    count = max(1, cores // channels)
    if total_samples < MIN_SPLIT_S * sample_rate_hz:
        count = 1
    edges = [round(i * total_samples / count) for i in range(count + 1)]
    return [(edges[i], edges[i + 1]) for i in range(count)]


def _enhance_segment(
    decoded: Path, decoded_channels: int, channels: int, total: int, segment: tuple[int, int],
    enhance: EnhanceSettings, out_path: Path, stop: threading.Event | None = None, lag_samples: int = 0,
) -> tuple[np.ndarray, ModelInfo, float, float]:
    """Enhance `segment` of the decoded sound into the same place of `out_path`. The state
    starts WARM_UP_S early (its running normalization and recurrent state settle) and reads
    past the end (its look-ahead sees the real future, not zeros). Returns its own version
    of the CROSSFADE_S before the segment, for the seam with the previous one, the model
    it ran, and the segment's energy before and after."""
    from pipeline.audio.enhance import SpeechEnhancer  # loads the native runtime

    start, end = segment
    rate = SAMPLE_RATE_HZ
    fade = min(start, round(CROSSFADE_S * rate))
    warm_start = max(0, start - round(WARM_UP_S * rate))
    with SpeechEnhancer(channels, strength=enhance.strength, attenuation_limit_db=enhance.attenuation_limit_db,
                        band_weights=enhance.band_weights) as enhancer:
        read_end = min(total, end + enhancer.lookahead_samples + enhancer.info.frame_samples)
        position = warm_start  # the input index of the next output sample
        seam = np.zeros((0, channels), dtype=np.float32)
        energy_in = energy_out = 0.0
        with decoded.open("rb") as source, out_path.open("r+b") as target:

            def place(block: np.ndarray) -> None:
                nonlocal position, seam, energy_out
                first, last = position, position + len(block)
                position = last
                if first < start and last > start - fade:
                    seam = np.concatenate([seam, block[max(0, start - fade - first): start - first]])
                low, high = max(first, start), min(last, end)
                if high > low:
                    kept = block[low - first: high - first]
                    energy_out += float(np.square(kept, dtype=np.float64).sum())
                    target.seek(low * frame_bytes(channels))
                    target.write(to_bytes(kept))

            for chunk_start in range(warm_start, read_end, CHUNK_SAMPLES):
                if stop is not None and stop.is_set():
                    raise Cancelled("speech enhancement cancelled", file=decoded)
                count = min(CHUNK_SAMPLES, read_end - chunk_start)
                if channels == 1 and decoded_channels == 2:
                    block = read_mid(source, total, chunk_start, count, lag_samples)
                else:
                    block = read_frames(source, decoded_channels, chunk_start, count)[:, :channels]
                own = block[max(0, start - chunk_start): max(0, end - chunk_start)]
                energy_in += float(np.square(own, dtype=np.float64).sum())
                place(enhancer.process(block))
            place(enhancer.flush())
        info = enhancer.info
    return seam, info, energy_in, energy_out


def run_enhanced_sound(
    raw: SoundSpool,
    settings: AudioSettings,
    filters: list[Filter],
    enhance: EnhanceSettings,
    *,
    spool_path: Path,
    duration_s: float | None,
    cores: int | None = None,
    stop: threading.Event | None = None,
) -> tuple[SoundSpool, dict[str, object]]:
    """Filter the decoded main sound (`raw`, from `decode_sound`) into a private spool
    beside `spool_path` (when there are filters), enhance it (time segments and channels
    side by side on the machine's cores) into `spool_path`; also what the report says
    about it. `raw` is left in place."""
    started = time.monotonic()
    decoded_channels = raw.channels
    decoded = spool_path.with_name(spool_path.name + ".decoded") if filters else raw.path
    try:
        if filters:
            _filter_to(raw, filters, decoded, duration_s, stop)
        total = frames_in(decoded, decoded_channels)
        survey = survey_channels(decoded, decoded_channels, settings.sample_rate_hz)
        as_mid, stereo_reason = enhance_mid(survey, enhance.stereo)
        channels = 1 if as_mid else decoded_channels
        dual_mono = survey is not None and survey.identical
        with spool_path.open("wb") as spool:
            spool.truncate(total * frame_bytes(channels))
        segments = plan_segments(total, channels, cores or os.cpu_count() or 1, settings.sample_rate_hz)
        with ThreadPoolExecutor(max_workers=len(segments)) as pool:
            results = list(pool.map(
                in_this_context(lambda segment: _enhance_segment(
                    decoded, decoded_channels, channels, total, segment, enhance, spool_path, stop,
                    survey.lag_samples if survey is not None else 0,
                )),
                segments,
            ))
        _blend_seams(spool_path, channels, segments, [result[0] for result in results])
        model = results[0][1].to_dict()
        energy_in, energy_out = sum(r[2] for r in results), sum(r[3] for r in results)
        removed_db = 10 * math.log10(energy_in / energy_out) if energy_in > 0 and energy_out > 0 else (
            0.0 if energy_in == 0 else math.inf)
        applied = removed_db <= MAX_REMOVED_DB
        if not applied:
            # The enhancer took away nearly all of it: it heard no speech (a tone, music,
            # ambience). Keeping its output would leave near-silence to be gained up.
            if filters:
                os.replace(decoded, spool_path)
            else:  # the decoded sound itself is the sound
                spool_path.unlink()
                spool_path = raw.path
            channels = decoded_channels
    finally:
        if filters:
            decoded.unlink(missing_ok=True)
    wall_s = time.monotonic() - started
    sound_s = total / settings.sample_rate_hz
    report: dict[str, object] = {
        **model,
        "applied": applied,
        "removed_db": round(removed_db, 2) if math.isfinite(removed_db) else None,
        "channels": channels,
        "dual_mono": dual_mono,
        "stereo": stereo_reason,
        "segments": len(segments),
        "duration_s": round(sound_s, 3),
        "wall_time_s": round(wall_s, 3),
        "x_real_time": round(sound_s / wall_s, 1) if wall_s > 0 else None,
    }
    if not applied:
        report["reason"] = (
            f"the enhancer took {'all' if not math.isfinite(removed_db) else f'{removed_db:.0f} dB'} of the sound away, "
            "so it holds no speech it recognizes: left unenhanced (set [audio] content = \"music\" for such sound)"
        )
    return SoundSpool(spool_path, channels, settings.sample_rate_hz), report


def _filter_to(
    raw: SoundSpool, filters: list[Filter], filtered: Path, duration_s: float | None, stop: threading.Event | None,
) -> None:
    """The clean-up before the enhancer, on the decoded samples (nothing is decoded again);
    ffmpeg writes the spool itself: no pipe through Python."""
    run_ffmpeg(
        [*raw.input_args(), "-af", format_filter_chain(filters), "-f", "f32le", "-acodec", "pcm_f32le",
         "-y", f"file:{filtered.resolve()}"],
        total_s=duration_s, what="speech enhancement (clean-up before it)", file=raw.path, stop=stop,
    )


def _blend_seams(spool_path: Path, channels: int, segments: list[tuple[int, int]], seams: list[np.ndarray]) -> None:
    """Crossfade each segment's start from the previous segment's sound to its own: two
    enhancer states that settled on the same sound differ by about -30 dB, not nothing."""
    with spool_path.open("r+b") as spool:
        for (start, _), seam in zip(segments[1:], seams[1:]):
            if not len(seam):
                continue
            first = start - len(seam)
            previous = read_frames(spool, channels, first, len(seam))
            weight = ((np.arange(len(seam)) + 0.5) / len(seam))[:, np.newaxis]
            spool.seek(first * frame_bytes(channels))
            spool.write(to_bytes((1.0 - weight) * previous + weight * seam))
