"""Picture-in-picture rendered by the real ffmpeg, checked pixel by pixel with PyAV.

The media are flat colour fields, so every expected value comes from how they were made:
the colours are read back from the inputs themselves, positions and sizes from the job's
numbers (fractions of a 320x180 frame), times from the windows.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from pipeline import config
from pipeline.errors import ConfigError
from pipeline.render import plan_job, run_render
from tests.integration import jobs
from tests.integration.cli import leftovers, wayfinder
from tests.media import ffmpeg, tone

W, H, FPS = 320, 180, 30
MAIN_RGB = "0x204080"
INSET_RGB = "0xE08020"
LATE_RGB = "0x20C040"
BT709 = ("-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709", "-color_range", "tv")
TAG = "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv"
TOLERANCE = 6  # 8-bit codes: x264 at CRF 18 on flat fields, scaling of the inset


def colour_clip(path: Path, colour: str, *, size: str = f"{W}x{H}", fps: int = FPS, duration_s: float = 4.0,
                then: str | None = None, audio: str | None = None, extra_input: tuple[str, ...] = ()) -> Path:
    """A flat colour field (optionally switching to `then` half-way), tagged BT.709."""
    video = f"color=c={colour}:s={size}:r={fps}:d={duration_s}"
    if then is not None:
        half = duration_s / 2
        video = (f"color=c={colour}:s={size}:r={fps}:d={half}[a];color=c={then}:s={size}:r={fps}:d={half}[b];"
                 f"[a][b]concat=n=2:v=1")
    args = [*extra_input, "-f", "lavfi", "-i", f"{video},format=yuv420p,{TAG}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"{audio}:duration={duration_s}", "-c:a", "aac", "-b:a", "192k"]
    ffmpeg(*args, "-c:v", "libx264", "-preset", "ultrafast", "-crf", "10", *BT709, str(path))
    return path


def frames_at(path: Path, times_s: list[float]) -> dict[float, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Y, U, V planes (full size for Y, half for U/V) of the frame shown at each time."""
    wanted = {t: None for t in times_s}
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            for t in wanted:
                if wanted[t] is None and frame.time + 0.5 / FPS > t:
                    planes = frame.to_ndarray()  # yuv420p: Y rows, then U and V rows stacked
                    h, w = frame.height, frame.width
                    u = planes[h:h + h // 4].reshape(h // 2, w // 2)
                    v = planes[h + h // 4:].reshape(h // 2, w // 2)
                    wanted[t] = (planes[:h], u, v)
    assert all(value is not None for value in wanted.values()), wanted.keys()
    return wanted  # type: ignore[return-value]


def pixel(frame: tuple[np.ndarray, np.ndarray, np.ndarray], x: int, y: int) -> np.ndarray:
    luma, u, v = frame
    return np.array([int(luma[y, x]), int(u[y // 2, x // 2]), int(v[y // 2, x // 2])])


def colour_of(path: Path, time_s: float = 0.0) -> np.ndarray:
    """The flat colour of an input clip, as decoded (Y, U, V)."""
    frame = frames_at(path, [time_s])[time_s]
    return pixel(frame, frame[0].shape[1] // 2, frame[0].shape[0] // 2)


def assert_colour(actual: np.ndarray, expected: np.ndarray, what: str) -> None:
    assert np.abs(actual - expected).max() <= TOLERANCE, f"{what}: got YUV {actual}, expected {expected}"


def write_job(folder: Path, main: Path, pips: str, *, extra: str = "") -> Path:
    return jobs.write_job(folder, main, f"{extra}\n{pips}")


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pip-media")


@pytest.fixture(scope="module")
def main_clip(media: Path) -> Path:
    return colour_clip(media / "main.mp4", MAIN_RGB)


def test_inset_position_size_border_and_window(media: Path, main_clip: Path, tmp_path: Path) -> None:
    # A name that would break a filter graph if it were ever placed in one.
    inset = colour_clip(media / "it's [a]; b,c:d=e.mp4", INSET_RGB, size="160x120", fps=25, duration_s=3.0)
    # Shot landscape, shown portrait: 160x120 stored with a 90 degree display rotation.
    stored = colour_clip(media / "phone.mp4", LATE_RGB, size="160x120", fps=25, duration_s=3.0)
    rotated = media / "phone-rotated.mp4"
    ffmpeg("-display_rotation", "90", "-i", str(stored), "-c", "copy", str(rotated))
    job = write_job(tmp_path, main_clip, f"""
[[pip]]
source = '''{inset}'''
corner = "top-right"
width = 0.25
margin = 0.05
start_s = 1.0
end_s = 2.5
border_px = 4
border_color = "white"

[[pip]]
source = "{rotated}"
corner = "bottom-left"
width = 0.25
margin = 0.05
start_s = 1.0
end_s = 2.5
""")
    result = wayfinder("render", job)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out.mp4"
    main_yuv, inset_yuv, phone_yuv = colour_of(main_clip), colour_of(inset), colour_of(stored)
    white = np.array([235, 128, 128])  # BT.709 limited range, any matrix

    # pip[0]: 0.25 * 320 = 80 px wide, 4:3 -> 60 px high; border 4 -> 88 x 68 outside;
    # margin 0.05 * 320 = 16 px from the top and right edges.
    x0, y0 = W - 88 - 16, 16
    # pip[1]: portrait 120x160 display -> 80 x 107 -> 106 (even); bottom-left, same margin.
    px0, py0, ph = 16, H - 106 - 16, 106
    frames = frames_at(out, [0.5, 1.5, 2.4, 3.0])
    during = frames[1.5]
    assert during[0].shape == (H, W)
    assert_colour(pixel(during, x0 + 4 + 40, y0 + 4 + 30), inset_yuv, "inset centre")
    assert_colour(pixel(during, x0 + 6, y0 + 6), inset_yuv, "inset top-left inside the border")
    assert_colour(pixel(during, x0 + 4 + 78, y0 + 4 + 58), inset_yuv, "inset bottom-right inside the border")
    for x, y, where in ((x0 + 2, y0 + 34, "left"), (x0 + 86, y0 + 34, "right"),
                        (x0 + 44, y0 + 2, "top"), (x0 + 44, y0 + 66, "bottom")):
        assert_colour(pixel(during, x, y), white, f"{where} border")
    for x, y, where in ((x0 - 4, y0 + 34, "left of"), (x0 + 44, y0 + 68 + 4, "below"),
                        (W - 8, y0 + 34, "in the right margin of"), (x0 + 44, 8, "in the top margin above")):
        assert_colour(pixel(during, x, y), main_yuv, f"main picture {where} the inset")
    # Rotation honoured: taller than wide.
    assert_colour(pixel(during, px0 + 40, py0 + 4), phone_yuv, "rotated inset near its top")
    assert_colour(pixel(during, px0 + 40, py0 + ph - 4), phone_yuv, "rotated inset near its bottom")
    assert_colour(pixel(during, px0 + 40, py0 - 6), main_yuv, "above the rotated inset")
    assert_colour(pixel(during, px0 + 80 + 6, py0 + 50), main_yuv, "right of the rotated inset")
    assert_colour(pixel(frames[2.4], x0 + 44, y0 + 34), inset_yuv, "inset just before the window ends")
    for t in (0.5, 3.0):
        assert_colour(pixel(frames[t], x0 + 44, y0 + 34), main_yuv, f"no inset at {t} s")
        assert_colour(pixel(frames[t], px0 + 40, py0 + 50), main_yuv, f"no rotated inset at {t} s")
    with av.open(str(out)) as container:
        assert abs(container.duration / av.time_base - 4.0) < 0.1  # the inset never lengthens the video
    assert leftovers(tmp_path) == []


def test_fades_hold_and_end(media: Path, main_clip: Path, tmp_path: Path) -> None:
    # 1 s inset at 25 fps: orange for 0.5 s, then green; both windows are 2 s long.
    short = colour_clip(media / "short.mp4", INSET_RGB, size="160x120", fps=25, duration_s=1.0, then=LATE_RGB)
    job = write_job(tmp_path, main_clip, f"""
[[pip]]
source = "{short}"
corner = "top-left"
width = 0.25
start_s = 1.0
end_s = 3.0
fade_s = 0.4
when_short = "hold"

[[pip]]
source = "{short}"
corner = "bottom-right"
width = 0.25
start_s = 1.0
end_s = 3.0
when_short = "end"
""")
    result = run_render(config.load_job(job))
    main_yuv, orange, green = colour_of(main_clip), colour_of(short, 0.1), colour_of(short, 0.9)
    held = (16 + 40, 16 + 30)  # centre of the top-left inset (80 x 60, 16 px margin)
    ended = (W - 16 - 40, H - 16 - 30)
    frames = frames_at(result.plan.output_path, [0.5, 1.2, 1.4, 2.5, 2.8, 3.3])
    assert_colour(pixel(frames[0.5], *held), main_yuv, "before the window")
    # Half-way through the 0.4 s fade-in the inset is half transparent.
    mid_in = pixel(frames[1.2], *held)
    assert np.abs(mid_in - (main_yuv + orange) / 2).max() <= 0.15 * np.abs(main_yuv - orange).max() + 2, mid_in
    assert_colour(pixel(frames[1.4], *held), orange, "after the fade-in")
    assert_colour(pixel(frames[2.5], *held), green, "last frame held after the inset ended")
    mid_out = pixel(frames[2.8], *held)
    assert np.abs(mid_out - (main_yuv + green) / 2).max() <= 0.15 * np.abs(main_yuv - green).max() + 2, mid_out
    assert_colour(pixel(frames[3.3], *held), main_yuv, "after the window")
    # when_short = "end": on screen while it plays, gone when it ends.
    assert_colour(pixel(frames[1.4], *ended), orange, "ending inset while it plays")
    assert_colour(pixel(frames[2.5], *ended), main_yuv, "ending inset after it ended")
    report = result.measurements["picture"]["pip"]  # type: ignore[index]
    assert report[0]["held_last_frame_s"] == pytest.approx(1.0, abs=0.05)
    assert report[1]["end_s"] == pytest.approx(2.0, abs=0.05)


def tone_levels_db(path: Path, frequencies_hz: tuple[float, ...], spans_s: list[tuple[float, float]]) -> np.ndarray:
    """Level in dB of each frequency in each span of the decoded left channel."""
    chunks = []
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate = stream.rate
        for frame in container.decode(stream):
            chunks.append(frame.to_ndarray()[0])
    samples = np.concatenate(chunks)
    levels = np.zeros((len(spans_s), len(frequencies_hz)))
    for i, (start_s, end_s) in enumerate(spans_s):
        part = samples[int(start_s * rate):int(end_s * rate)]
        t = np.arange(part.size) / rate
        for j, frequency_hz in enumerate(frequencies_hz):
            amplitude = 2 * abs(np.mean(part * np.exp(-2j * np.pi * frequency_hz * t)))
            levels[i, j] = 20 * np.log10(max(amplitude, 1e-9))
    return levels


def test_duck_mixes_the_inset_voice_and_lowers_the_main_audio(media: Path, tmp_path: Path) -> None:
    main = colour_clip(media / "main-tone.mp4", MAIN_RGB, audio=tone(-20.0, frequency_hz=440.0))
    inset = colour_clip(media / "voice.mp4", INSET_RGB, size="160x120", fps=25, duration_s=4.0,
                        audio=tone(-20.0, frequency_hz=1000.0))
    job = write_job(tmp_path, main, f"""
[[pip]]
source = "{inset}"
start_s = 1.0
end_s = 2.5
audio = "duck"
duck_db = 12.0
""", extra="""
[audio]
normalize = false
hum_removal = false
noise_reduction = false
leveler = false
""")
    result = run_render(config.load_job(job))
    before, during, after = tone_levels_db(result.plan.output_path, (440.0, 1000.0), [(0.2, 0.6), (1.4, 2.2), (3.0, 3.6)])
    # The main tone is 12 dB lower under the inset and back afterwards.
    assert during[0] - before[0] == pytest.approx(-12.0, abs=1.0)
    assert after[0] - before[0] == pytest.approx(0.0, abs=1.0)
    # The inset's tone, made at the main tone's level, is mixed in only during its window.
    assert during[1] - before[0] == pytest.approx(0.0, abs=1.0)
    assert before[1] - before[0] < -40 and after[1] - before[0] < -40


def test_bad_insets_are_job_errors_naming_table_and_field(media: Path, main_clip: Path, tmp_path: Path) -> None:
    inset = colour_clip(media / "ok.mp4", INSET_RGB, size="160x120", fps=25, duration_s=1.0)
    missing = tmp_path / "nowhere.mp4"
    job = write_job(tmp_path, main_clip, f"""
[[pip]]
source = "{missing}"

[[pip]]
source = "{inset}"
start_s = 5.0

[[pip]]
source = "{inset}"
start_s = 1.0
end_s = 9.0

[[pip]]
source = "{inset}"
border_color = "'; drop"
""")
    result = wayfinder("render", job)
    assert result.returncode == 3, result.stderr
    first = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert first == [f"error: {job}: pip[0].source: file not found: {missing} (and 3 more picture-in-picture problems)"]
    for key in ("pip[0].source: file not found", "pip[1].start_s: starts at 5 s", "pip[2].end_s: ends at 9 s",
                "pip[3].border_color: not a colour"):
        assert f"{job}: {key}" in result.stderr, result.stderr
    assert not (tmp_path / "out.mp4").exists() and leftovers(tmp_path) == []

    # An inset that has no sound cannot be mixed.
    job = write_job(tmp_path, main_clip, f'[[pip]]\nsource = "{inset}"\naudio = "mix"\n')
    with pytest.raises(ConfigError) as caught:
        plan_job(config.load_job(job))
    assert caught.value.field == "pip[0].audio" and "no audio stream" in caught.value.message
