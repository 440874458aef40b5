"""The sound half of a render (effectful): it runs beside the picture's encode, on its
own thread. An edit list's takes are cut and joined into one sound first (each take's
own recorder synced to it); a job's separate recorder is synced to the camera; then the
programme's sound is analysed, cleaned up, measured, its gain planned through the
limiter, encoded once into the track the mux copies, and its loudness checked on that
track.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.audio.picture_length import format_length_note
from pipeline.config import Job
from pipeline.containers import container_for
from pipeline.errors import AudioError, InputError
from pipeline.media import ProgressCallback, run_ffmpeg
from pipeline.plan import build_sound_measure_args, build_sound_track_args, sound_path_for
from pipeline.probe import MediaInfo
from pipeline.timeline import EditList
from pipeline.video.prepare import PicturePrep

if TYPE_CHECKING:
    # The audio engine loads inside plan_sound: importing scipy.signal takes about a
    # second, which then overlaps the light analysis already running.
    from pipeline.audio.prepare import AudioPrep

NoteCallback = Callable[[str], None]


def sync_take_recorders(
    job: Job, edit: EditList, work_dir: Path, notes: list[str], *, stop: threading.Event | None
) -> tuple[dict[int, MediaInfo], dict[str, object] | None]:
    """Each take's recorder synced to that take's camera sound: the aligned sounds by
    take index (on the take's camera timeline), and what the report records."""
    from pipeline.audio.recorder import ExternalSound, make_external_sound

    sounds: dict[int, MediaInfo] = {}
    reports: list[dict[str, object]] = []
    # Two takes cut from one recording with one recorder share its alignment: synced once.
    synced_by_pair: dict[tuple[Path, Path], ExternalSound] = {}
    for clip, take in zip(edit.clips, job.takes, strict=True):
        if take.external is None:
            continue
        synced = synced_by_pair.get((clip.path, take.external))
        if synced is None:
            folder = work_dir / f"take-{clip.index}"
            folder.mkdir(exist_ok=True)
            settings = job.settings.audio.model_copy(update={"external": take.external})
            synced = synced_by_pair[(clip.path, take.external)] = make_external_sound(
                clip.info, settings, work_dir=folder, stop=stop)
            notes.extend(f"take[{clip.index}]: {text}" for text in synced.notes)
        sounds[clip.index] = synced.info
        reports.append({"take": clip.index, **synced.report})
    return sounds, ({"takes": reports} if reports else None)


def plan_sound(
    job: Job, info: MediaInfo, prep: PicturePrep, work_dir: Path, *, stop: threading.Event | None = None
) -> tuple[AudioPrep | None, list[str]]:
    """Analyse and measure the programme's sound; the notes a producer should read."""
    from pipeline.audio.prepare import prepare_audio

    notes: list[str] = []
    audio_settings = job.settings.audio
    audio = info.first_audio
    if audio is None:
        if audio_settings.external is not None:
            raise InputError(
                f"no audio stream to align the external recorder {audio_settings.external.name} to",
                file=job.main_path, field="audio",
            )
        if audio_settings.required:
            raise AudioError("no audio stream, and the job requires audio", file=job.main_path, field="audio")
        notes.append("no audio stream: video rendered without audio, loudness skipped")
        return None, notes
    external = None
    if prep.edit is not None:
        from pipeline.audio.takes import build_edited_sound_args

        take_sounds, external = sync_take_recorders(job, prep.edit, work_dir, notes, stop=stop)
        # The takes' sound, cut and joined as the picture is, becomes the programme's
        # sound file (`info.path`): everything below treats it as the job's sound.
        run_ffmpeg(build_edited_sound_args(prep.edit, audio_settings, info.path, take_sounds), total_s=info.duration_s,
                   what="edited sound", file=job.source or job.main_path, stop=stop)
    sound_info = info
    if audio_settings.external is not None:
        from pipeline.audio.recorder import make_external_sound

        # The recorder's sound, aligned to the camera's, stands in for it from here on:
        # clean-up, enhancement and loudness all work on what ships.
        external = make_external_sound(info, audio_settings, work_dir=work_dir, stop=stop)
        notes.extend(external.notes)
        sound_info = external.info
        assert sound_info.first_audio is not None
        audio = sound_info.first_audio
    audio_prep = prepare_audio(
        sound_info.path, audio, audio_settings, duration_s=info.duration_s, work_dir=work_dir, stop=stop,
        programme_args=lambda sound, cleanup, after: build_sound_measure_args(job, sound_info, prep, sound, cleanup, after),
    )
    if isinstance(external, dict):  # the takes' recorders: already in the edited sound
        audio_prep = replace(audio_prep, external=external)
    elif external is not None:
        audio_prep = replace(audio_prep, source=sound_info, external=external.report)
    notes.extend(audio_prep.notes)
    length_note = format_length_note(info) if container_for(job.output_path)[1] else None
    if length_note:
        notes.append(length_note)
    if not audio_settings.normalize:
        notes.append("audio normalization is off: audio re-encoded without gain")
    if audio.channels != audio_settings.channels:
        notes.append(f"{audio.layout} audio converted to {'stereo' if audio_settings.channels == 2 else 'mono'}")
    if audio.sample_rate_hz != audio_settings.sample_rate_hz:
        notes.append(f"audio resampled from {audio.sample_rate_hz} Hz to {audio_settings.sample_rate_hz} Hz")
    return audio_prep, notes


@dataclass
class SoundResult:
    audio_prep: AudioPrep | None
    notes: list[str]
    verified: dict[str, object] | None


def make_sound(
    job: Job,
    info: MediaInfo,
    prep: PicturePrep,
    work_dir: Path,
    *,
    with_cards: bool,
    duration_s: float,
    stop: threading.Event,
    on_note: NoteCallback,
    on_progress: ProgressCallback | None,
) -> SoundResult:
    """The sound half of a render, beside the picture: analyse, enhance, measure, plan
    the gain, encode the track once, and check (and if need be correct) its loudness."""
    audio_prep, notes = plan_sound(job, info, prep, work_dir, stop=stop)
    for text in notes:
        on_note(text)
    if info.first_audio is None:
        return SoundResult(None, notes, None)
    sound_path = sound_path_for(work_dir)
    run_ffmpeg(
        build_sound_track_args(job, info, audio_prep, sound_path, prep=prep, with_cards=with_cards),
        total_s=duration_s, on_progress=on_progress, what="sound encode", file=job.main_path, stop=stop,
    )
    verified = None
    if audio_prep is not None and audio_prep.gain is not None:
        from pipeline.audio.verify import verify_and_correct

        verified = verify_and_correct(
            sound_path, "ipod", job.settings.audio, audio_prep,
            duration_s=duration_s, file=job.main_path, on_note=on_note,
        )
    return SoundResult(audio_prep, notes, verified)
