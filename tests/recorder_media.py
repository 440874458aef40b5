"""A camera take and a separate recorder's track of the same scene, synthesized so that
the truth is known: the recorder's clock reads offset_s + (1 + drift) * camera time.

The scene's sound is speech-like: noise in the voice band (200-3500 Hz) shaped into
syllables of 80-300 ms with pauses, like the rhythm of talk. Each device also hears a
tone of its own (the camera 700 Hz, the recorder 2500 Hz) so a render shows whose sound
it carries. The recorder's samples are the scene's sound read at the recorder's clock
(linear interpolation of a band-limited sound sampled at 48 kHz: no timing error)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import signal
from scipy.io import wavfile

from tests.media import ffmpeg

SCENE_RATE_HZ = 48_000
CAMERA_TONE_HZ = 700.0
RECORDER_TONE_HZ = 2500.0
TONE_DBFS = -20.0


def speech_like(duration_s: float, rate_hz: int = SCENE_RATE_HZ, *, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = round(duration_s * rate_hz)
    sos = signal.butter(4, [200, 3500], btype="bandpass", fs=rate_hz, output="sos")
    noise = signal.sosfilt(sos, rng.standard_normal(n))
    envelope = np.zeros(n)
    t = 0.0
    while t < duration_s:
        length_s, pause_s = rng.uniform(0.08, 0.3), rng.uniform(0.05, 0.6)
        first, last = round(t * rate_hz), round(min(duration_s, t + length_s) * rate_hz)
        envelope[first:last] = rng.uniform(0.2, 1.0) * np.hanning(last - first)
        t += length_s + pause_s
    return 0.5 * noise * envelope


def tone(frequency_hz: float, count: int, rate_hz: int) -> np.ndarray:
    return 10 ** (TONE_DBFS / 20) * np.sin(2 * np.pi * frequency_hz * np.arange(count) / rate_hz)


@dataclass(frozen=True)
class Recording:
    camera: Path
    recorder: Path
    scene: np.ndarray  # the scene's sound on the camera's clock, SCENE_RATE_HZ


def read_scene_at(scene: np.ndarray, camera_s: np.ndarray) -> np.ndarray:
    return np.interp(camera_s, np.arange(len(scene)) / SCENE_RATE_HZ, scene, left=0.0, right=0.0)


def make_recording(
    folder: Path, *, duration_s: float, offset_s: float, drift_ppm: float, recorder_extra_s: float = 3.0,
    recorder_rate_hz: int = 44_100, with_video: bool = True, seed: int = 7, unrelated: bool = False,
) -> Recording:
    """A camera take (`duration_s`, 48 kHz stereo AAC, with a test picture unless
    `with_video` is False) and a mono 16-bit recorder WAV at `recorder_rate_hz` whose
    clock reads `offset_s` at the camera's time 0 and runs `drift_ppm` fast, running on
    `recorder_extra_s` past the camera's end. `unrelated` fills the recorder with
    another scene's sound instead."""
    scene = speech_like(duration_s, seed=seed)
    camera_sound = scene + tone(CAMERA_TONE_HZ, len(scene), SCENE_RATE_HZ)
    camera_wav = folder / "camera-sound.wav"
    wavfile.write(camera_wav, SCENE_RATE_HZ, np.stack([camera_sound, camera_sound], axis=1).astype(np.float32))
    recorder_s = offset_s + (1 + drift_ppm * 1e-6) * duration_s + recorder_extra_s
    recorder_times_s = np.arange(round(recorder_s * recorder_rate_hz)) / recorder_rate_hz
    camera_s = (recorder_times_s - offset_s) / (1 + drift_ppm * 1e-6)
    if unrelated:
        other = speech_like(recorder_s + 1.0, seed=seed + 1000)
        heard = read_scene_at(other, recorder_times_s)
    else:
        heard = read_scene_at(scene, camera_s)
    heard = heard + tone(RECORDER_TONE_HZ, len(heard), recorder_rate_hz)
    recorder = folder / "lav.wav"
    wavfile.write(recorder, recorder_rate_hz, np.round(np.clip(heard, -1, 1) * 32767).astype(np.int16))
    suffix = ".mp4" if with_video else ".m4a"
    camera = folder / f"camera{suffix}"
    video = (["-f", "lavfi", "-i", f"testsrc2=size=320x180:rate=30:duration={duration_s}"] if with_video else [])
    maps = ["-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"] if with_video else []
    ffmpeg(*video, "-i", str(camera_wav), *maps, "-c:a", "aac", "-b:a", "192k", str(camera))
    camera_wav.unlink()
    return Recording(camera, recorder, scene)
