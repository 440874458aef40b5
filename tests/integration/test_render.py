"""Rendering synthesized media with the real ffmpeg; outputs checked with PyAV and with
ffmpeg's own ebur128 loudness meter."""

from __future__ import annotations

import hashlib
import json
from fractions import Fraction
from pathlib import Path

import av
import pytest

from pipeline import config
from pipeline.render import run_render
from tests.integration.cli import leftovers, wayfinder
from tests.media import ebur128, make_clip


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # 1 kHz tone at -20 dBFS per channel: about -20 LUFS stereo, far from the -14 target
    return make_clip(tmp_path_factory.mktemp("media") / "clip.mp4", duration_s=3.0)


def top_level_atoms(path: Path) -> list[str]:
    data = path.read_bytes()
    atoms, offset = [], 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset:offset + 4], "big")
        atoms.append(data[offset + 4:offset + 8].decode("latin-1"))
        if size == 1:
            size = int.from_bytes(data[offset + 8:offset + 16], "big")
        if size < 8:
            break
        offset += size
    return atoms


def test_quick_render_copies_video_and_normalizes_audio(clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    result = wayfinder("render", clip, "-o", out)
    assert result.returncode == 0, result.stderr
    assert "video stream copied" in result.stderr
    with av.open(str(out)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert video.codec_context.name == "h264"
        assert (video.codec_context.width, video.codec_context.height) == (320, 180)
        assert audio.codec_context.name == "aac"
        assert audio.rate == 48000 and audio.channels == 2
        assert abs(container.duration / av.time_base - 3.0) < 0.1
    loudness = ebur128(out)
    assert abs(loudness["integrated_lufs"] - (-14.0)) <= 1.0
    assert loudness["true_peak_dbtp"] <= -0.5
    report = json.loads((tmp_path / "out.mp4.wayfinder.json").read_text())
    assert report["video_mode"] == "copy" and report["audio_mode"] == "normalize"
    assert report["output"]["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert report["output"]["size_bytes"] == out.stat().st_size
    audio = report["measurements"]["audio"]
    # the tone was made at -20 dBFS stereo: -20 LUFS (EBU Tech 3341), peak -20 dBTP
    assert audio["input"]["integrated_lufs"] == pytest.approx(-20.0, abs=0.1)
    assert audio["input"]["true_peak_dbtp"] == pytest.approx(-20.0, abs=0.5)  # AAC-coded: peaks move a little
    assert audio["verified"]["output"]["integrated_lufs"] == pytest.approx(-14.0, abs=0.2)
    assert leftovers(tmp_path) == []


def test_encoded_render_meets_the_upload_recommendations(clip: Path, tmp_path: Path) -> None:
    job_path = tmp_path / "job.toml"
    job_path.write_text(f"""
preset = "youtube-draft"
[input]
main = "{clip}"
[output]
path = "renders/encoded.mp4"
[light]
mode = "manual"
brightness = 0.05
""")
    result = wayfinder("render", job_path)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "renders" / "encoded.mp4"  # folder created, path relative to the job
    assert top_level_atoms(out).index("moov") < top_level_atoms(out).index("mdat")  # faststart
    with av.open(str(out)) as container:
        video = container.streams.video[0]
        ctx = video.codec_context
        assert ctx.name == "h264" and video.profile == "High" and ctx.pix_fmt == "yuv420p"
        assert video.average_rate == Fraction(30)
        key_times = []
        for packet in container.demux(video):
            if packet.is_keyframe and packet.pts is not None:
                key_times.append(float(packet.pts * video.time_base))
        # closed GOP of half the frame rate: a keyframe every 0.5 s, nothing in between
        assert len(key_times) == 6
        assert [round(b - a, 3) for a, b in zip(key_times, key_times[1:])] == [0.5] * 5
        # BT.709 primaries, transfer and matrix (ITU-T H.273 code 1 for each), limited range
        assert (ctx.color_primaries, ctx.color_trc, ctx.colorspace, ctx.color_range) == (1, 1, 1, 1)


def test_dry_run_prints_the_command_and_writes_nothing(clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "dry" / "x.mp4"
    result = wayfinder("render", clip, "-o", out, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "-filter_complex" in result.stdout and "volume=" in result.stdout
    assert "'file:" + str(tmp_path / "dry" / ".x.mp4.partial") + "'" in result.stdout or str(out.parent) in result.stdout
    assert not (tmp_path / "dry").exists()


def test_existing_output_needs_force(clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.mp4"
    out.write_bytes(b"precious")
    result = wayfinder("render", clip, "-o", out)
    assert result.returncode == 1
    assert "output exists; use --force" in result.stderr and str(out) in result.stderr
    assert out.read_bytes() == b"precious"
    assert wayfinder("render", clip, "-o", out, "--force").returncode == 0
    assert out.stat().st_size > 1000


def test_a_second_render_of_the_same_output_stops_at_once(clip: Path, tmp_path: Path) -> None:
    """While one render writes an output (here: this test holds its lock, as a running
    batch would), another render of it fails at once and leaves the file alone."""
    from pipeline.output_lock import output_lock

    out = tmp_path / "shared" / "x.mp4"
    out.parent.mkdir()
    with output_lock(out):
        result = wayfinder("render", clip, "-o", tmp_path / "shared" / ".." / "shared" / "x.mp4")
    assert result.returncode == 1
    assert "another Wayfinder render is writing this output" in result.stderr and "x.mp4" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists() and leftovers(out.parent) == []
    assert wayfinder("render", clip, "-o", out).returncode == 0  # released: renders normally


def test_library_render_without_the_cli(clip: Path, tmp_path: Path) -> None:
    events = []
    job = config.quick_job(clip, tmp_path / "lib.mp4", preset_name="youtube-draft")
    result = run_render(job, on_progress=events.append)
    assert result.output_info is not None and result.output_info.path == tmp_path / "lib.mp4"
    assert events and events[-1].done
    assert result.report_path == tmp_path / "lib.mp4.wayfinder.json"
