"""An edit list through `wayfinder render`: three synthesized takes that differ in size,
rotation, frame rate, sample rate and channel layout, trimmed, joined by a dissolve and
a cut. Each source carries a frame counter in its brightness, its own colour, and
flashes with a voiced click at the same instants (the expected frames are read back
from the sources themselves); the output must be exactly as long as
the planned frames, show the planned source frame on each side of each join, keep every
click within 5 ms of its flash, and place an inset on the edited timeline."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest
from scipy.io import wavfile

from tests.integration.cli import wayfinder
from tests.media import click_template, ffmpeg

OUTPUT_FPS = 30
RATE_HZ = 48_000
MAX_OFFSET_S = 0.005
TAKE_S = 4.0


# name: stored size, rotation, fps, sample rate, channels, cb (the take's colour), flash times (source s)
TAKES = {
    "a": ("320x180", 0, 30, 48_000, 2, 80, (1.0, 2.0)),
    "b": ("320x240", 90, 25, 44_100, 1, 176, (2.0, 3.6)),  # a portrait phone take, stored landscape
    "c": ("480x270", 0, 60, 48_000, 2, 128, (1.0, 2.0)),
}
# The edit: (take, start_s, end_s, join)
EDIT = (("a", 0.3, 3.0, "dissolve"), ("b", 1.0, None, "cut"), ("c", 0.5, 2.5, "cut"))
DISSOLVE_S = 0.5


def make_take(folder: Path, name: str) -> Path:
    size, rotation, fps, rate_hz, channels, cb, flashes = TAKES[name]
    rng = np.random.default_rng(len(name) + rate_hz)
    sound = 10 ** (-42 / 20) * rng.standard_normal(int(TAKE_S * rate_hz))
    template = click_template(rate_hz)
    for time_s in flashes:
        start = round(time_s * rate_hz)
        sound[start:start + len(template)] += 10 ** (-3 / 20) * template
    wav = folder / f"{name}.wav"
    wavfile.write(wav, rate_hz, np.stack([sound] * channels, axis=1).astype(np.float32))
    # Flash frames last two source frames, so a 60 fps take keeps one at 30 fps.
    flash_frames = "+".join(f"between(N,{round(t * fps)},{round(t * fps) + 1})" for t in flashes)
    path = folder / f"{name}.mp4"
    rotate = ["-display_rotation:v:0", str(rotation)] if rotation else []
    ffmpeg(
        "-f", "lavfi", "-i", f"color=c=black:s={size}:r={fps}:d={TAKE_S},format=yuv420p,"
        f"geq=lum='if({flash_frames},235,16+3*mod(N,50))':cb={cb}:cr=128",
        "-i", str(wav), "-map", "0:v", "-map", "1:a",
        "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-pix_fmt", "yuv420p",
        # Tagged BT.709 like the output, so the take's colour reads the same after conversion.
        "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709",
        "-c:a", "aac", "-b:a", "192k", "-ar", str(rate_hz),
        str(path.with_suffix(".tmp.mp4")),
    )
    ffmpeg(*rotate, "-i", str(path.with_suffix(".tmp.mp4")), "-c", "copy", str(path))
    return path


def planned() -> tuple[list[tuple[str, float, int, int]], int]:
    """(take, source start, programme start frame, frames) per take, and the total frames."""
    placed, position = [], 0
    for name, start_s, end_s, join in EDIT:
        frames = round(((end_s or TAKE_S) - start_s) * OUTPUT_FPS)
        placed.append((name, start_s, position, frames))
        position += frames - (round(DISSOLVE_S * OUTPUT_FPS) if join == "dissolve" else 0)
    last = placed[-1]
    return placed, last[2] + last[3]


def centre_values(path: Path) -> list[tuple[float, float, float]]:
    """(time, mean luma, mean cb) of the centre of every output frame."""
    values = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            height, width = frame.height, frame.width
            luma = np.frombuffer(frame.planes[0], np.uint8).reshape(height, frame.planes[0].line_size)
            cb = np.frombuffer(frame.planes[1], np.uint8).reshape(height // 2, frame.planes[1].line_size)
            box = luma[height // 2 - 10: height // 2 + 10, width // 2 - 10: width // 2 + 10]
            box_cb = cb[height // 4 - 5: height // 4 + 5, width // 4 - 5: width // 4 + 5]
            values.append((float(frame.time), float(box.mean()), float(box_cb.mean())))
    return values


def corner_values(path: Path, time_s: float) -> tuple[float, float]:
    """Mean (cb, cr) of the top-left corner at `time_s`."""
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if frame.time + 1e-6 >= time_s:
                cb = np.frombuffer(frame.planes[1], np.uint8).reshape(frame.height // 2, frame.planes[1].line_size)
                cr = np.frombuffer(frame.planes[2], np.uint8).reshape(frame.height // 2, frame.planes[2].line_size)
                return float(cb[4:12, 4:12].mean()), float(cr[4:12, 4:12].mean())
    raise AssertionError(f"no frame at {time_s} s")


def decoded_sound(path: Path) -> np.ndarray:
    pieces = []
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE_HZ)
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                pieces.append(out.to_ndarray().reshape(-1))
    return np.concatenate(pieces)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("takes")
    for name in TAKES:
        make_take(folder, name)
    ffmpeg("-f", "lavfi", "-i", "color=c=red:s=160x90:r=30:d=2", "-c:v", "libx264", "-preset", "ultrafast",
           "-pix_fmt", "yuv420p", str(folder / "inset.mp4"))
    takes = "".join(
        f'[[take]]\nsource = "{name}.mp4"\nstart_s = {start_s}\n'
        + (f"end_s = {end_s}\n" if end_s is not None else "")
        + f'join = "{join}"\n' + (f"dissolve_s = {DISSOLVE_S}\n" if join == "dissolve" else "")
        for name, start_s, end_s, join in EDIT
    )
    job = folder / "job.toml"
    job.write_text(f"""preset = "youtube-draft"
{takes}
[output]
path = "out.mp4"
[video]
x264_preset = "ultrafast"
crf = 10
[audio]
# The speech enhancer's own sync is test_lip_sync's; here only the edit moves sound.
content = "music"
limiter_policy = "lower-target"  # sparse clicks: no limiting, nothing between them and the check
[[pip]]
source = "inset.mp4"
corner = "top-left"
margin = 0.0
width = 0.25
start_s = 3.5
end_s = 4.5
""")
    result = wayfinder("render", job)
    assert result.returncode == 0, result.stderr
    return folder / "out.mp4"


def test_the_output_is_exactly_the_planned_frames_at_the_output_size(rendered: Path) -> None:
    _, total = planned()
    values = centre_values(rendered)
    assert len(values) == total
    report = json.loads(rendered.with_name("out.mp4.wayfinder.json").read_text())
    assert report["output"]["duration_s"] == pytest.approx(total / OUTPUT_FPS, abs=0.03)
    assert (report["output"]["video"]["width_px"], report["output"]["video"]["height_px"]) == (320, 180)
    takes = report["measurements"]["picture"]["takes"]
    assert [t["programme_start_s"] for t in takes] == [round(p[2] / OUTPUT_FPS, 3) for p in planned()[0]]


def test_each_join_shows_the_planned_source_frames(rendered: Path) -> None:
    values = centre_values(rendered)
    sources = {name: centre_values(rendered.with_name(f"{name}.mp4")) for name in TAKES}
    placed, total = planned()

    def expect(index: int, take: str, source_time_s: float) -> None:
        """Output frame `index` is the take's source frame at `source_time_s` (or a
        neighbour: frame-rate conversion picks the nearest frame)."""
        fps = TAKES[take][2]
        frame = round(source_time_s * fps)
        _, luma, cb = values[index]
        candidates = sources[take][max(0, frame - 1): frame + 2]
        assert any(abs(luma - l) <= 2.5 and abs(cb - c) <= 4 for _, l, c in candidates), (
            index, take, frame, values[index], candidates)

    (a, a_start, _, a_frames), (b, b_start, b_at, b_frames), (c, c_start, c_at, _) = placed
    overlap = round(DISSOLVE_S * OUTPUT_FPS)
    expect(0, a, a_start)  # the trimmed start
    expect(b_at - 1, a, a_start + (b_at - 1) / OUTPUT_FPS)  # the last frame before the dissolve
    middle = b_at + overlap // 2  # both takes seen mid-dissolve: between their colours
    a_cb = sources[a][round((a_start + middle / OUTPUT_FPS) * TAKES[a][2])][2]
    b_cb = sources[b][round((b_start + (middle - b_at) / OUTPUT_FPS) * TAKES[b][2])][2]
    assert min(a_cb, b_cb) + 10 < values[middle][2] < max(a_cb, b_cb) - 10, (values[middle], a_cb, b_cb)
    expect(b_at + overlap, b, b_start + overlap / OUTPUT_FPS)  # the first frame after it
    expect(c_at - 1, b, b_start + (c_at - 1 - b_at) / OUTPUT_FPS)  # the last frame before the cut
    expect(c_at, c, c_start)  # the first after it
    expect(total - 1, c, c_start + (total - 1 - c_at) / OUTPUT_FPS)


def test_every_click_stays_within_5_ms_of_its_flash(rendered: Path) -> None:
    placed, _ = planned()
    expected_flashes = sorted(
        at / OUTPUT_FPS + time_s - start_s
        for name, start_s, at, frames in placed for time_s in TAKES[name][6]
        if start_s <= time_s < start_s + frames / OUTPUT_FPS
    )
    values = centre_values(rendered)
    flashes = [t for i, (t, luma, _) in enumerate(values) if luma > 200 and (i == 0 or values[i - 1][1] <= 200)]
    assert flashes == pytest.approx(expected_flashes, abs=1.01 / OUTPUT_FPS)
    sound = decoded_sound(rendered)
    template = click_template(RATE_HZ)
    for flash_s in flashes:
        centre = round(flash_s * RATE_HZ)
        low = centre - round(0.1 * RATE_HZ)
        scores = np.correlate(sound[low: centre + round(0.1 * RATE_HZ) + len(template)], template, mode="valid")
        offset_s = (low + int(np.argmax(scores)) - centre) / RATE_HZ
        assert abs(offset_s) <= MAX_OFFSET_S, (flash_s, offset_s)


def test_the_inset_is_placed_on_the_edited_timeline(rendered: Path) -> None:
    red_cb, red_cr = 90, 240  # BT.709 limited-range red, roughly
    for time_s, shown in ((3.3, False), (3.6, True), (4.4, True), (4.7, False)):
        cb, cr = corner_values(rendered, time_s)
        assert (cr > 200 and cb < 120) == shown, (time_s, cb, cr, red_cb, red_cr)
