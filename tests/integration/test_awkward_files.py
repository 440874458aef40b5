"""Awkward real files with the real ffmpeg: a WebM without a duration in its header (as a
browser's MediaRecorder writes it), an MP4 whose index (moov) comes after the media data,
a variable frame rate clip, and sound that ends before or runs past the picture (the
programme lasts as long as its picture: short sound is padded with silence, long sound
cut at the last frame)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest

from pipeline import config
from pipeline.media import find_ffmpeg
from pipeline.probe import probe
from pipeline.render import run_render
from tests.integration.test_lip_sync import FLASH_FRAMES, MAX_OFFSET_S, click_offsets_s, make_flash_click_clip
from tests.integration.test_render import top_level_atoms
from tests.media import ffmpeg, tone

FPS = 30
FRAME_S = 1 / FPS


def fast_job(source: Path, out: Path) -> config.Job:
    return config.quick_job(source, out, preset_name="youtube-draft", flag_layer={"video": {"x264_preset": "ultrafast"}})


def report_of(out: Path) -> dict[str, object]:
    return json.loads(out.with_name(out.name + ".wayfinder.json").read_text())


def header_duration(path: Path) -> str:
    """The duration ffmpeg reads from the container's header ("N/A" when it has none)."""
    stderr = subprocess.run([find_ffmpeg(), "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr
    return stderr.split("Duration:", 1)[1].split(",", 1)[0].strip()


def stream_lengths_s(path: Path) -> tuple[float, float]:
    """(picture, sound) lengths from the decoded frames: last frame's end, last sample's end."""
    with av.open(str(path)) as container:
        frames = [float(frame.time) for frame in container.decode(video=0)]
    picture_s = frames[-1] + (frames[-1] - frames[-2])
    with av.open(str(path)) as container:
        sound_s = 0.0
        for frame in container.decode(audio=0):
            sound_s = max(sound_s, float(frame.time) + frame.samples / frame.sample_rate)
    return picture_s, sound_s


def sound_tail_rms(path: Path, last_s: float) -> float:
    with av.open(str(path)) as container:
        pieces = [frame.to_ndarray().astype(np.float64).reshape(-1) for frame in container.decode(audio=0)]
        rate = container.streams.audio[0].rate
    channels = 2
    samples = np.concatenate(pieces)
    tail = samples[-int(last_s * rate * channels):]
    return float(np.sqrt(np.mean(tail**2)))


def test_a_webm_without_a_duration_renders_at_its_true_length(tmp_path: Path) -> None:
    # Written to a pipe, the WebM muxer cannot go back to fill in the duration: the header
    # has none, exactly like a MediaRecorder file.
    source = tmp_path / "screen.webm"
    with source.open("wb") as sink:
        subprocess.run([
            find_ffmpeg(), "-hide_banner", "-loglevel", "error",
            "-f", "lavfi", "-i", f"testsrc2=size=320x240:rate={FPS}:duration=4.9",
            "-f", "lavfi", "-i", f"{tone()}:duration=4.9",
            "-c:v", "libvpx-vp9", "-deadline", "realtime", "-c:a", "libopus", "-f", "webm", "pipe:1",
        ], stdout=sink, check=True)
    assert header_duration(source) == "N/A"
    info = probe(source)
    assert info.duration_s == pytest.approx(4.9, abs=FRAME_S)
    out = tmp_path / "screen.mp4"
    run_render(fast_job(source, out))
    picture_s, sound_s = stream_lengths_s(out)
    assert picture_s == pytest.approx(4.9, abs=FRAME_S + 1e-6)
    assert sound_s == pytest.approx(4.9, abs=0.03)


def test_an_mp4_with_its_index_at_the_end_renders(tmp_path: Path) -> None:
    source = tmp_path / "phone.mp4"
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=size=320x240:rate={FPS}:duration=3",
           "-f", "lavfi", "-i", f"{tone()}:duration=3", "-c:v", "libx264", "-preset", "ultrafast",
           "-pix_fmt", "yuv420p", "-c:a", "aac", "-movflags", "-faststart", str(source))
    atoms = top_level_atoms(source)
    assert atoms.index("mdat") < atoms.index("moov")  # the index after the media
    out = tmp_path / "out.mp4"
    run_render(fast_job(source, out))
    out_atoms = top_level_atoms(out)
    assert out_atoms.index("moov") < out_atoms.index("mdat")  # +faststart for YouTube
    assert probe(out).duration_s == pytest.approx(3.0, abs=0.05)


def test_a_variable_frame_rate_clip_keeps_its_length_and_lip_sync(tmp_path: Path) -> None:
    steady = make_flash_click_clip(tmp_path)
    source = tmp_path / "vfr.mp4"
    # Every 5th frame shown 8 ms late (the flash frames are not among them): uneven frame
    # spacing around a 30 fps average, as a phone writes under load.
    assert all(frame % 5 != 2 for frame in FLASH_FRAMES)
    ffmpeg("-i", str(steady), "-vf", "settb=1/30000,setpts=(N/30+if(eq(mod(N\\,5)\\,2)\\,0.008\\,0))/TB",
           "-fps_mode", "passthrough", "-enc_time_base", "1/30000", "-video_track_timescale", "30000",
           "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "copy", str(source))
    assert probe(source).video.variable_frame_rate
    out = tmp_path / "out.mp4"
    run_render(fast_job(source, out))
    picture_s, sound_s = stream_lengths_s(out)
    assert picture_s == pytest.approx(4.0, abs=FRAME_S + 1e-6)
    assert abs(sound_s - picture_s) <= 0.03
    offsets = click_offsets_s(out)
    assert len(offsets) == len(FLASH_FRAMES)
    assert max(abs(o) for o in offsets) <= MAX_OFFSET_S, offsets
    assert any("variable frame rate" in note for note in report_of(out)["notes"])


def clip_with_sound_of(tmp_path: Path, picture_s: float, sound_s: float) -> Path:
    path = tmp_path / f"picture{picture_s:g}-sound{sound_s:g}.mp4"
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=size=320x240:rate={FPS}:duration={picture_s}",
           "-f", "lavfi", "-i", f"{tone()}:duration={sound_s}",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(path))
    return path


def test_sound_shorter_than_the_picture_is_padded_with_silence(tmp_path: Path) -> None:
    source = clip_with_sound_of(tmp_path, 3.0, 2.0)
    out = tmp_path / "out.mp4"
    run_render(fast_job(source, out))
    picture_s, sound_s = stream_lengths_s(out)
    assert picture_s == pytest.approx(3.0, abs=FRAME_S + 1e-6)
    assert sound_s == pytest.approx(3.0, abs=0.03)
    assert sound_tail_rms(out, 0.5) < 1e-3  # the added second is silence
    assert any("padded with silence" in note for note in report_of(out)["notes"])


def test_sound_longer_than_the_picture_is_cut_at_its_end(tmp_path: Path) -> None:
    source = clip_with_sound_of(tmp_path, 2.0, 3.0)
    out = tmp_path / "out.mp4"
    run_render(fast_job(source, out))
    picture_s, sound_s = stream_lengths_s(out)
    assert picture_s == pytest.approx(2.0, abs=FRAME_S + 1e-6)
    assert sound_s == pytest.approx(2.0, abs=0.03)
    assert probe(out).duration_s == pytest.approx(2.0, abs=0.05)
    assert any("cut at the picture's end" in note for note in report_of(out)["notes"])
