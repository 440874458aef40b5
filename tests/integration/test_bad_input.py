"""Every bad input named by the foundation issue: one clear line naming the file and the
problem, the right exit code, and nothing partial left behind."""

from __future__ import annotations

import shutil
from fractions import Fraction
from pathlib import Path

import av
import pytest

from tests.integration.cli import leftovers, wayfinder
from tests.media import ebur128, ffmpeg, make_clip, tone


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bad-media")


def error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, stderr
    return lines[0]


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope [bold]1[/bold].mp4"  # brackets must not be taken as markup
    result = wayfinder("render", missing, "-o", tmp_path / "o.mp4")
    assert result.returncode == 3
    assert error_line(result.stderr) == f"error: {missing}: file not found"
    assert not (tmp_path / "o.mp4").exists()


def test_not_media(tmp_path: Path) -> None:
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is a shopping list, not a video\n" * 50)
    result = wayfinder("render", fake, "-o", tmp_path / "o.mp4")
    assert result.returncode == 3
    assert f"{fake}: not a media file" in error_line(result.stderr)


def test_truncated_file(media: Path, tmp_path: Path) -> None:
    whole = make_clip(media / "whole.mp4", duration_s=3.0, extra_output=("-movflags", "+faststart"))
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    result = wayfinder("render", cut, "-o", tmp_path / "o.mp4")
    assert result.returncode == 3
    assert f"{cut}: truncated media" in error_line(result.stderr)
    assert not (tmp_path / "o.mp4").exists() and leftovers(tmp_path) == []


def test_video_without_audio_renders_and_says_so(media: Path, tmp_path: Path) -> None:
    silent_film = make_clip(media / "noaudio.mp4", audio="none")
    result = wayfinder("render", silent_film, "-o", tmp_path / "o.mp4")
    assert result.returncode == 0, result.stderr
    assert "no audio stream: video rendered without audio, loudness skipped" in result.stderr
    with av.open(str(tmp_path / "o.mp4")) as container:
        assert len(container.streams.video) == 1 and len(container.streams.audio) == 0


def test_job_that_requires_audio_fails_on_video_without_audio(media: Path, tmp_path: Path) -> None:
    silent_film = make_clip(media / "noaudio2.mp4", audio="none")
    job = tmp_path / "needs-audio.toml"
    job.write_text(f'[input]\nmain = "{silent_film}"\n[output]\npath = "o.mp4"\n[audio]\nrequired = true\n')
    result = wayfinder("render", job)
    assert result.returncode == 1
    assert error_line(result.stderr) == f"error: {silent_film}: audio: no audio stream, and the job requires audio"
    assert not (tmp_path / "o.mp4").exists() and leftovers(tmp_path) == []


def test_digital_silence_is_not_normalized(media: Path, tmp_path: Path) -> None:
    hush = make_clip(media / "silence.mp4", audio="anullsrc=channel_layout=stereo:sample_rate=48000")
    result = wayfinder("render", hush, "-o", tmp_path / "o.mp4")
    assert result.returncode == 1
    line = error_line(result.stderr)
    assert f"{hush}: audio: audio is digital silence" in line and "no gain was applied" in line
    assert not (tmp_path / "o.mp4").exists() and leftovers(tmp_path) == []


def test_clip_shorter_than_a_loudness_block(media: Path, tmp_path: Path) -> None:
    short = make_clip(media / "short.mp4", duration_s=0.3)
    result = wayfinder("render", short, "-o", tmp_path / "o.mp4")
    assert result.returncode == 3
    assert "at least 0.4 s is needed" in error_line(result.stderr)


def test_odd_frame_size_is_scaled_to_even(media: Path, tmp_path: Path) -> None:
    odd = make_clip(media / "odd.mp4", extra_output=("-vf", "scale=321:181", "-pix_fmt", "yuv444p"))
    result = wayfinder("render", odd, "-o", tmp_path / "o.mp4", "--preset", "youtube-draft")
    assert result.returncode == 0, result.stderr
    assert "odd frame size 321x181: scaled to 320x180" in result.stderr
    with av.open(str(tmp_path / "o.mp4")) as container:
        ctx = container.streams.video[0].codec_context
        assert (ctx.width, ctx.height, ctx.pix_fmt) == (320, 180, "yuv420p")


@pytest.mark.parametrize("edit", [False, True], ids=["copied", "encoded"])
def test_rotated_phone_video_keeps_its_orientation(media: Path, tmp_path: Path, edit: bool) -> None:
    plain = make_clip(media / f"landscape-{edit}.mp4", size="320x180")
    rotated = media / f"rotated-{edit}.mp4"
    ffmpeg("-display_rotation", "90", "-i", str(plain), "-c", "copy", str(rotated))
    job = tmp_path / "rot.toml"
    light = '[light]\nmode = "manual"\nbrightness = 0.02\n' if edit else ""
    job.write_text(f'preset = "youtube-draft"\n[input]\nmain = "{rotated}"\n[output]\npath = "o.mp4"\n{light}')
    result = wayfinder("render", job)
    assert result.returncode == 0, result.stderr
    with av.open(str(tmp_path / "o.mp4")) as container:
        stream = container.streams.video[0]
        frame = next(container.decode(stream))
        rotation = int(frame.rotation or 0) % 180
        width, height = (frame.height, frame.width) if rotation else (frame.width, frame.height)
    assert (width, height) == (180, 320)  # shown portrait, as the phone recorded it


def test_variable_frame_rate_is_rendered_at_a_constant_rate(media: Path, tmp_path: Path) -> None:
    vfr = media / "vfr.mp4"
    # one second at 30 fps, then every third frame: 10 fps
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30:duration=3",
           "-f", "lavfi", "-i", tone() + ":duration=3",
           "-vf", "select='lt(n,30)+not(mod(n,3))'", "-fps_mode", "vfr",
           "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(vfr))
    result = wayfinder("render", vfr, "-o", tmp_path / "o.mp4", "--preset", "youtube-draft")
    assert result.returncode == 0, result.stderr
    assert "variable frame rate: rendered at a constant" in result.stderr
    with av.open(str(tmp_path / "o.mp4")) as container:
        stream = container.streams.video[0]
        pts = sorted(p.pts for p in container.demux(stream) if p.pts is not None)
    steps = {b - a for a, b in zip(pts, pts[1:])}
    assert len(steps) == 1, steps  # every frame the same length: constant rate


@pytest.mark.parametrize(
    ("layout", "rate_hz", "channels"),
    [("5.1", 96000, 6), ("mono", 44100, 1)],
    ids=["5.1-96k", "mono-44k1"],
)
def test_surround_and_mono_become_48k_stereo_at_target(
    media: Path, tmp_path: Path, layout: str, rate_hz: int, channels: int
) -> None:
    source = make_clip(
        media / f"{layout}.mp4",
        audio=tone(-24.0, channels=channels, sample_rate_hz=rate_hz),
        channel_layout=layout,
    )
    with av.open(str(source)) as container:
        assert container.streams.audio[0].channels == channels
        assert container.streams.audio[0].rate == rate_hz
    result = wayfinder("render", source, "-o", tmp_path / "o.mp4")
    assert result.returncode == 0, result.stderr
    with av.open(str(tmp_path / "o.mp4")) as container:
        audio = container.streams.audio[0]
        assert (audio.rate, audio.channels) == (48000, 2)
    assert abs(ebur128(tmp_path / "o.mp4")["integrated_lufs"] - (-14.0)) <= 1.0


def test_awkward_file_names(media: Path, tmp_path: Path) -> None:
    base = make_clip(media / "plain-name.mp4")
    folder = tmp_path / "Ünïcode folder [x]"
    folder.mkdir()
    awkward_in = folder / "it's a clip; [0:v], a:b\\c.mp4"
    shutil.copy(base, awkward_in)
    awkward_out = folder / "out 'quoted' [1]; x,y:z\\w.mp4"
    result = wayfinder("render", awkward_in, "-o", awkward_out)
    assert result.returncode == 0, result.stderr
    assert awkward_out.is_file() and leftovers(folder) == []
    with av.open(str(awkward_out)) as container:
        assert len(container.streams.audio) == 1


def test_output_folder_is_created_or_refused(media: Path, tmp_path: Path) -> None:
    clip = make_clip(media / "for-output.mp4")
    deep = tmp_path / "new" / "deeper" / "o.mp4"
    assert wayfinder("render", clip, "-o", deep).returncode == 0
    assert deep.is_file()
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = wayfinder("render", clip, "-o", blocker / "o.mp4")
    assert result.returncode == 1
    assert f"{blocker}: cannot create the output folder" in error_line(result.stderr)
