"""A separate audio recorder synced to the camera (issue 14): a lavalier track that
started 1.3 s before the camera and runs 0.02 % (200 ppm) fast is aligned within 2 ms at
the start and the end of a 5-minute take; a 44.1 kHz mono recorder replaces (or goes over)
a 48 kHz stereo camera's sound in a render; an unrelated track is refused with a
one-line job error. The truth comes from how the media was made (tests/recorder_media)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from scipy.io import wavfile

from pipeline.audio.recorder import build_aligned_sound_args, measure_alignment, recorder_stream
from pipeline.audio.recorder_graph import plan_rate_stages
from pipeline.config import AudioSettings
from pipeline.errors import InputError
from pipeline.media import find_ffmpeg, run_ffmpeg
from tests.integration.cli import leftovers, wayfinder
from tests.integration.jobs import write_job
from tests.recorder_media import (
    CAMERA_TONE_HZ, RECORDER_TONE_HZ, SCENE_RATE_HZ, TONE_DBFS, Recording, make_recording,
)

OFFSET_S = 1.3
DRIFT_PPM = 200.0  # 0.02 % fast: 60 ms over 5 minutes
MAX_ERROR_S = 0.002
PROBE_WINDOW_S = 3.0


def lag_against_scene_s(sound: np.ndarray, scene: np.ndarray, at_s: float, *, search_s: float = 0.1) -> float:
    """How late `sound` (mono, SCENE_RATE_HZ) carries the scene's sound around `at_s`
    (positive: late), by plain cross-correlation in the voice band, to a fraction of a
    sample."""
    from scipy import signal

    sos = signal.butter(4, [300, 2000], btype="bandpass", fs=SCENE_RATE_HZ, output="sos")
    first, count = round(at_s * SCENE_RATE_HZ), round(PROBE_WINDOW_S * SCENE_RATE_HZ)
    search = round(search_s * SCENE_RATE_HZ)
    reference = signal.sosfiltfilt(sos, scene[first:first + count])
    heard = signal.sosfiltfilt(sos, sound[first - search:first + count + search])
    scores = signal.correlate(heard, reference, mode="valid", method="fft")
    k = int(np.argmax(scores))
    left, centre, right = scores[k - 1], scores[k], scores[k + 1]
    fraction = 0.5 * (left - right) / (left - 2 * centre + right)
    return (k + fraction - search) / SCENE_RATE_HZ


def decode_mono(path: Path) -> np.ndarray:
    raw = subprocess.run(
        [find_ffmpeg(), "-v", "error", "-i", str(path), "-map", "0:a:0", "-ac", "1", "-ar", str(SCENE_RATE_HZ),
         "-f", "f32le", "-"], capture_output=True, check=True,
    ).stdout
    return np.frombuffer(raw, dtype="<f4").astype(np.float64)


def tone_level_db(sound: np.ndarray, frequency_hz: float) -> float:
    """Level (dB re a full-scale sine) within 1 Hz of `frequency_hz`: that holds a tone
    stretched by the recorder's drift (2500 Hz at 200 ppm is 2500.5 Hz)."""
    from scipy import signal

    freqs, density = signal.welch(sound, SCENE_RATE_HZ, nperseg=4 * SCENE_RATE_HZ)
    band = np.abs(freqs - frequency_hz) <= 1
    return float(10 * np.log10(2 * density[band].sum() * (freqs[1] - freqs[0])))


def tone_excess_db(sound: np.ndarray, frequency_hz: float) -> float:
    """How far a tone stands above the scene's sound 25 Hz away."""
    return tone_level_db(sound, frequency_hz) - tone_level_db(sound, frequency_hz + 25)


@pytest.fixture(scope="module")
def five_minutes(tmp_path_factory: pytest.TempPathFactory) -> Recording:
    folder = tmp_path_factory.mktemp("five-minutes")
    return make_recording(folder, duration_s=300.0, offset_s=OFFSET_S, drift_ppm=DRIFT_PPM, with_video=False)


def test_five_minute_take_aligned_within_2ms_at_start_and_end(five_minutes: Recording, tmp_path: Path) -> None:
    alignment = measure_alignment(five_minutes.camera, None, five_minutes.recorder, work_dir=tmp_path)
    truth = lambda camera_s: OFFSET_S + (1 + DRIFT_PPM * 1e-6) * camera_s  # noqa: E731
    assert abs(alignment.recorder_time_s(0.0) - truth(0.0)) < MAX_ERROR_S
    assert abs(alignment.recorder_time_s(300.0) - truth(300.0)) < MAX_ERROR_S
    assert alignment.confidence >= 0.9
    assert list(tmp_path.iterdir()) == []  # the analysis spools are gone

    # The graph puts the recorder's sound on the camera's clock: the scene at the same
    # time as the camera heard it, at the start and at the end of the take.
    aligned = tmp_path / "aligned.wav"
    run_ffmpeg(build_aligned_sound_args(
        five_minutes.camera, 0, five_minutes.recorder, recorder_stream(five_minutes.recorder), alignment,
        AudioSettings(), duration_s=300.0, wav_path=aligned,
    ))
    rate_hz, samples = wavfile.read(aligned)
    assert rate_hz == SCENE_RATE_HZ and samples.ndim == 1  # mono stays mono
    assert len(samples) == 300 * SCENE_RATE_HZ
    for at_s in (1.0, 296.0):
        assert abs(lag_against_scene_s(samples.astype(np.float64), five_minutes.scene, at_s)) < MAX_ERROR_S


def test_recorder_that_starts_after_the_camera(tmp_path: Path) -> None:
    """Also a drift of a few ppm, which takes the two-step stretch (tested for exactness
    in the unit tests; here that ffmpeg runs it and keeps the timing)."""
    recording = make_recording(tmp_path, duration_s=40.0, offset_s=-2.5, drift_ppm=-3.0, with_video=False)
    alignment = measure_alignment(recording.camera, None, recording.recorder, work_dir=tmp_path)
    assert abs(alignment.offset_s - -2.5) < MAX_ERROR_S
    assert alignment.coverage_s()[0] == pytest.approx(2.5, abs=MAX_ERROR_S)
    alignment = dataclasses.replace(alignment, drift_ppm=-3.0)  # as measured over 40 s, to within 30 ppm
    assert len(plan_rate_stages(44_100, SCENE_RATE_HZ, alignment.rate_factor)) == 2
    aligned = tmp_path / "aligned.wav"
    run_ffmpeg(build_aligned_sound_args(
        recording.camera, 0, recording.recorder, recorder_stream(recording.recorder), alignment,
        AudioSettings(), duration_s=40.0, wav_path=aligned,
    ))
    _, samples = wavfile.read(aligned)
    assert len(samples) == 40 * SCENE_RATE_HZ
    assert np.abs(samples[: 2 * SCENE_RATE_HZ]).max() == 0.0  # before the recorder ran: silence
    assert abs(lag_against_scene_s(samples.astype(np.float64), recording.scene, 34.0)) < MAX_ERROR_S


def test_unrelated_track_is_refused(tmp_path: Path) -> None:
    recording = make_recording(tmp_path, duration_s=60.0, offset_s=OFFSET_S, drift_ppm=DRIFT_PPM,
                               with_video=False, unrelated=True)
    with pytest.raises(InputError, match="cannot be aligned"):
        measure_alignment(recording.camera, None, recording.recorder, work_dir=tmp_path)


def test_silent_recorder_is_refused(tmp_path: Path) -> None:
    recording = make_recording(tmp_path, duration_s=20.0, offset_s=0.0, drift_ppm=0.0, with_video=False)
    wavfile.write(recording.recorder, 44_100, np.zeros(44_100 * 20, dtype=np.int16))
    with pytest.raises(InputError, match="silent"):
        measure_alignment(recording.camera, None, recording.recorder, work_dir=tmp_path)


def render(tmp_path: Path, recording: Recording, audio_table: str) -> subprocess.CompletedProcess[str]:
    job = write_job(tmp_path, recording.camera, f"[audio]\n{audio_table}\nnoise_reduction = false\n")
    return wayfinder("render", job)


def test_render_replaces_camera_sound_with_aligned_recorder(tmp_path: Path) -> None:
    """A 44.1 kHz mono recorder under a 48 kHz stereo camera take."""
    recording = make_recording(tmp_path, duration_s=40.0, offset_s=OFFSET_S, drift_ppm=DRIFT_PPM)
    result = render(tmp_path, recording, 'external = "lav.wav"')  # relative to the job file
    assert result.returncode == 0, result.stderr
    output = tmp_path / "out.mp4"
    sound = decode_mono(output)
    for at_s in (1.0, 36.0):
        assert abs(lag_against_scene_s(sound, recording.scene, at_s)) < MAX_ERROR_S
    # The recorder's own tone is there, the camera's is not.
    assert tone_excess_db(sound, RECORDER_TONE_HZ) > 20
    assert tone_excess_db(sound, CAMERA_TONE_HZ) < 3
    report = json.loads((tmp_path / "out.mp4.wayfinder.json").read_text())
    external = report["measurements"]["audio"]["external"]
    assert external["file"] == str(tmp_path / "lav.wav")
    assert external["mix"] == "replace"
    assert abs(external["offset_s"] - OFFSET_S) < MAX_ERROR_S
    assert abs(external["drift_ppm"] - DRIFT_PPM) < 25  # over 40 s, 25 ppm is 1 ms
    assert external["confidence"] >= 0.9
    assert external["recorder"] == {"sample_rate_hz": 44_100, "channels": 1}
    assert "external recorder lav.wav aligned" in result.stderr


def test_render_mixes_camera_sound_under_the_recorder(tmp_path: Path) -> None:
    recording = make_recording(tmp_path, duration_s=20.0, offset_s=OFFSET_S, drift_ppm=DRIFT_PPM)
    result = render(tmp_path, recording, 'external = "lav.wav"\nexternal_mix = "under"\nexternal_under_db = -12')
    assert result.returncode == 0, result.stderr
    sound = decode_mono(tmp_path / "out.mp4")
    # Both tones were made at the same level; the camera's is mixed 12 dB down, and the
    # mono recorder is spread to both channels at -3 dB (the output's stereo layout).
    difference_db = tone_level_db(sound, RECORDER_TONE_HZ) - tone_level_db(sound, CAMERA_TONE_HZ)
    assert difference_db == pytest.approx(12.0 - 3.0, abs=1.0)
    report = json.loads((tmp_path / "out.mp4.wayfinder.json").read_text())
    assert report["measurements"]["audio"]["external"]["mix"] == "under"


def test_render_refuses_an_unrelated_recorder_with_one_line(tmp_path: Path) -> None:
    recording = make_recording(tmp_path, duration_s=30.0, offset_s=OFFSET_S, drift_ppm=DRIFT_PPM, unrelated=True)
    result = render(tmp_path, recording, 'external = "lav.wav"')
    assert result.returncode == 3, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1
    assert "lav.wav: audio.external: external recorder cannot be aligned" in lines[0]
    assert not (tmp_path / "out.mp4").exists()
    assert leftovers(tmp_path) == []


def test_render_refuses_a_missing_recorder(tmp_path: Path) -> None:
    recording = make_recording(tmp_path, duration_s=10.0, offset_s=0.0, drift_ppm=0.0)
    recording.recorder.unlink()
    result = render(tmp_path, recording, 'external = "lav.wav"')
    assert result.returncode == 3, result.stderr
    assert "lav.wav: audio.external" in result.stderr
    assert not (tmp_path / "out.mp4").exists()


def test_tone_levels_are_what_the_media_says() -> None:
    """The helper reads a tone's level as made (so the mix test's numbers mean dB)."""
    t = np.arange(SCENE_RATE_HZ * 8) / SCENE_RATE_HZ
    sound = 10 ** (TONE_DBFS / 20) * np.sin(2 * np.pi * CAMERA_TONE_HZ * t)
    assert tone_level_db(sound, CAMERA_TONE_HZ) == pytest.approx(TONE_DBFS, abs=0.05)


def test_each_take_of_an_edit_list_uses_its_recorder_synced_to_its_own_camera_sound(tmp_path: Path) -> None:
    """Two takes cut from one camera file, each with the recorder: synced per take, cut
    like the take, within 2 ms at both ends of each take in the programme."""
    recording = make_recording(tmp_path, duration_s=30.0, offset_s=OFFSET_S, drift_ppm=DRIFT_PPM)
    takes = ((3.0, 11.0), (16.0, 26.0))
    job = tmp_path / "job.toml"
    job.write_text('preset = "youtube-draft"\n[output]\npath = "out.mp4"\n[video]\nx264_preset = "ultrafast"\n'
                   "[audio]\nnoise_reduction = false\n" + "".join(
                       f'[[take]]\nsource = "{recording.camera.name}"\nstart_s = {start}\nend_s = {end}\n'
                       f'external = "{recording.recorder.name}"\n' for start, end in takes))
    result = wayfinder("render", job)
    assert result.returncode == 0, result.stderr
    sound = decode_mono(tmp_path / "out.mp4")
    # The programme's expected sound: the scene over each take's camera range, joined.
    programme_scene = np.concatenate([
        recording.scene[round(start * SCENE_RATE_HZ): round(end * SCENE_RATE_HZ)] for start, end in takes])
    at = 0.0
    for start, end in takes:
        for probe_s in (at + 0.5, at + (end - start) - PROBE_WINDOW_S - 0.5):
            assert abs(lag_against_scene_s(sound, programme_scene, probe_s)) < MAX_ERROR_S, probe_s
        at += end - start
    assert tone_excess_db(sound, RECORDER_TONE_HZ) > 20
    assert tone_excess_db(sound, CAMERA_TONE_HZ) < 3
    report = json.loads((tmp_path / "out.mp4.wayfinder.json").read_text())
    synced = report["measurements"]["audio"]["external"]["takes"]
    assert [entry["take"] for entry in synced] == [0, 1]
    for entry in synced:
        assert abs(entry["offset_s"] - OFFSET_S) < MAX_ERROR_S and entry["confidence"] >= 0.9
