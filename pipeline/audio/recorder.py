"""A separate audio recorder (a lavalier's WAV) synced to the camera (effectful).

Owns reading the two sounds for the alignment (ffmpeg decodes each to a mono 8 kHz
float spool in the render's working folder, read a slice at a time, so memory stays
flat whatever the take's length), turning a refused alignment into the job error that
says why, and writing the recorder's aligned sound for the whole job: a float WAV on
the camera's clock, as long as the camera file, that the audio stage then reads instead
of the camera's own sound (or with the camera's sound mixed under it).

Per take, `measure_alignment` and `recorder_graph.build_recorder_filters` are the two
halves: the first measures, the second puts any stretch of the camera's clock in a graph.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.audio.align import ANALYSIS_RATE_HZ, Alignment, AlignmentRefused, estimate_alignment
from pipeline.audio.chain import format_filter_chain
from pipeline.audio.raw_frames import frames_in, read_frames
from pipeline.audio.recorder_graph import build_camera_filters, build_recorder_filters
from pipeline.config import AudioSettings
from pipeline.errors import Cancelled, InputError
from pipeline.media import run_ffmpeg
from pipeline.probe import AudioStreamInfo, MediaInfo, probe
from pipeline.speed import in_this_context

FIELD = "audio.external"


def build_analysis_decode_args(path: Path, stream_index: int | None, spool_path: Path) -> list[str]:
    """One audio stream to mono float samples at ANALYSIS_RATE_HZ, time 0 at the file's start."""
    return [
        "-i", f"file:{path.resolve()}",
        "-map", "0:a:0" if stream_index is None else f"0:{stream_index}", "-vn", "-sn", "-dn",
        "-af", format_filter_chain([
            ("aresample", {"out_sample_rate": ANALYSIS_RATE_HZ, "first_pts": 0}),
            ("aformat", {"sample_fmts": "flt", "channel_layouts": "mono"}),
        ]),
        "-f", "f32le", "-acodec", "pcm_f32le", "-y", f"file:{spool_path.resolve()}",
    ]


class SpoolSamples:
    """A raw float32 spool read on demand, slice by slice (a memory map would count
    every page it touched in the process's memory)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = frames_in(path, 1)

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, part: slice) -> np.ndarray:
        start, stop, step = part.indices(self.count)
        if step != 1:
            raise ValueError("spools are read in contiguous slices")
        if stop <= start:
            return np.zeros(0, dtype=np.float32)
        with self.path.open("rb") as stream:
            return read_frames(stream, 1, start, stop - start)[:, 0]


def recorder_stream(path: Path) -> AudioStreamInfo:
    """The recorder's first audio stream; InputError naming the recorder otherwise."""
    try:
        info = probe(path)
    except InputError as exc:
        raise InputError(f"external recorder: {exc.message}", file=path, field=FIELD) from None
    if info.first_audio is None:
        raise InputError("external recorder: no audio stream", file=path, field=FIELD)
    return info.first_audio


def measure_alignment(
    camera_path: Path, camera_stream_index: int | None, recorder_path: Path, *,
    work_dir: Path, stop: threading.Event | None = None,
) -> Alignment:
    """Where `recorder_path`'s sound sits on the clock of the camera's audio stream.
    Raises InputError (a bad input, exit 3) naming the recorder when the two cannot be
    aligned with confidence. Leaves nothing in `work_dir`."""
    recorder_stream(recorder_path)
    camera_spool = work_dir / "align-camera.f32"
    recorder_spool = work_dir / "align-recorder.f32"
    try:
        jobs = [
            (camera_path, camera_stream_index, camera_spool, "camera sound"),
            (recorder_path, None, recorder_spool, "external recorder"),
        ]
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="align-decode") as pool:
            futures = [
                pool.submit(in_this_context(run_ffmpeg), build_analysis_decode_args(path, index, spool),
                            what=f"alignment ({what} decoding)", file=path, stop=stop)
                for path, index, spool, what in jobs
            ]
            for future in futures:
                future.result()
        if stop is not None and stop.is_set():
            raise Cancelled("alignment cancelled", file=recorder_path)
        try:
            return estimate_alignment(SpoolSamples(camera_spool), SpoolSamples(recorder_spool))  # type: ignore[arg-type]
        except AlignmentRefused as exc:
            raise InputError(
                f"external recorder cannot be aligned with the camera sound of {camera_path.name}: {exc}",
                file=recorder_path, field=FIELD,
            ) from None
    finally:
        camera_spool.unlink(missing_ok=True)
        recorder_spool.unlink(missing_ok=True)


def build_aligned_sound_args(
    camera_path: Path, camera_stream_index: int, recorder_path: Path, recorder: AudioStreamInfo,
    alignment: Alignment, settings: AudioSettings, *, duration_s: float, wav_path: Path,
) -> list[str]:
    """The recorder's sound on the camera's clock for the whole camera file, mixed with
    the camera's own sound at `settings.external_under_db` when `external_mix` is
    "under", written as a float WAV at the output rate."""
    rate = settings.sample_rate_hz
    steps = build_recorder_filters(
        alignment, recorder.sample_rate_hz, start_s=0.0, end_s=duration_s, out_rate_hz=rate,
    )
    inputs = ["-i", f"file:{recorder_path.resolve()}"]
    if settings.external_mix == "replace":
        # A recorder's WAV often names no layout: say what one or two channels are.
        if recorder.channels <= 2:
            steps = [*steps, ("aformat", {"channel_layouts": "mono" if recorder.channels == 1 else "stereo"})]
        graph = f"[0:a:0]{format_filter_chain(steps)}[out]"
    else:
        layout = "stereo" if settings.channels == 2 else "mono"
        to_layout = [("aformat", {"sample_fmts": "flt", "channel_layouts": layout})]
        camera = build_camera_filters(
            start_s=0.0, end_s=duration_s, out_rate_hz=rate, gain_db=settings.external_under_db,
        )
        inputs += ["-i", f"file:{camera_path.resolve()}"]
        graph = ";".join([
            f"[0:a:0]{format_filter_chain(steps + to_layout)}[lav]",
            f"[1:{camera_stream_index}]{format_filter_chain(camera + to_layout)}[cam]",
            "[lav][cam]amix=inputs=2:normalize=0:duration=first[out]",
        ])
    return [
        *inputs, "-filter_complex", graph, "-map", "[out]",
        "-c:a", "pcm_f32le", "-rf64", "auto", "-f", "wav", "-y", f"file:{wav_path.resolve()}",
    ]


@dataclass(frozen=True)
class ExternalSound:
    """The aligned recorder's sound, ready to stand in for the camera's, and its report."""

    info: MediaInfo
    alignment: Alignment
    report: dict[str, object]

    @property
    def notes(self) -> list[str]:
        a = self.alignment
        start, end = a.coverage_s()
        notes = [
            f"external recorder {Path(str(self.report['file'])).name} aligned: offset {a.offset_s:+.4f} s, "
            f"drift {a.drift_ppm:+.1f} ppm, confidence {a.confidence:.2f} "
            f"({'replaces the camera sound' if self.report['mix'] == 'replace' else 'camera sound mixed under it'})"
        ]
        if start > 0.05 or end < a.camera_duration_s - 0.05:
            gap = "silent" if self.report["mix"] == "replace" else "only the camera sound (mixed under)"
            notes.append(
                f"warning: the external recorder covers {start:.2f}-{end:.2f} s of the "
                f"{a.camera_duration_s:.2f} s take; the rest is {gap}"
            )
        return notes


def make_external_sound(
    camera: MediaInfo, settings: AudioSettings, *, work_dir: Path, stop: threading.Event | None = None,
) -> ExternalSound:
    """Align the job's external recorder to the camera's sound and write its aligned
    sound into `work_dir`."""
    recorder_path = settings.external
    assert recorder_path is not None
    started = time.monotonic()
    camera_audio = camera.first_audio
    if camera_audio is None:
        raise InputError(
            "the camera file has no sound to align the external recorder to", file=camera.path, field="audio",
        )
    recorder = recorder_stream(recorder_path)
    alignment = measure_alignment(camera.path, camera_audio.index, recorder_path, work_dir=work_dir, stop=stop)
    measured_s = time.monotonic() - started
    wav_path = work_dir / "external-aligned.wav"
    run_ffmpeg(
        build_aligned_sound_args(
            camera.path, camera_audio.index, recorder_path, recorder, alignment, settings,
            duration_s=camera.duration_s, wav_path=wav_path,
        ),
        total_s=camera.duration_s, what="external recorder alignment", file=recorder_path, stop=stop,
    )
    report: dict[str, object] = {
        "file": str(recorder_path),
        "mix": settings.external_mix,
        **({"under_db": settings.external_under_db} if settings.external_mix == "under" else {}),
        "recorder": {"sample_rate_hz": recorder.sample_rate_hz, "channels": recorder.channels},
        **alignment.to_dict(),
        "measure_wall_time_s": round(measured_s, 3),
    }
    return ExternalSound(probe(wav_path), alignment, report)
