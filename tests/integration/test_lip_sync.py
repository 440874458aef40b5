"""Lip sync through `wayfinder render`: a flash-and-click clip (white frames with a voiced
click at exactly the same instants, under steady noise so the speech enhancer runs) is
rendered with and without picture edits, an intro card and an inset, with the limiter
engaged; the click must land within 5 ms of its flash in the output (issue 12, EBU R37
leaves a whole broadcast chain only +40 / -60 ms)."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest
from scipy.io import wavfile

from tests.integration.cli import wayfinder
from tests.integration.jobs import write_job
from tests.media import click_template, ffmpeg, make_clip

RATE_HZ = 48_000
FPS = 30
DURATION_S = 4.0
FLASH_FRAMES = (30, 61, 95)  # 1.000 s, 2.033 s, 3.167 s: not on round audio block boundaries
MAX_OFFSET_S = 0.005


def make_flash_click_clip(folder: Path) -> Path:
    rng = np.random.default_rng(12)
    sound = 10 ** (-42 / 20) * rng.standard_normal(int(DURATION_S * RATE_HZ))  # steady noise floor
    template = click_template()
    for frame in FLASH_FRAMES:
        start = round(frame / FPS * RATE_HZ)
        sound[start:start + len(template)] += 10 ** (-3 / 20) * template
    wav = folder / "click.wav"
    wavfile.write(wav, RATE_HZ, np.stack([sound, sound], axis=1).astype(np.float32))
    flashes = "+".join(f"eq(N,{frame})" for frame in FLASH_FRAMES)
    clip = folder / "flash-click.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", f"color=c=black:s=320x180:r={FPS}:d={DURATION_S},format=yuv420p,"
        f"geq=lum='if({flashes},235,16)':cb=128:cr=128",
        "-i", str(wav), "-map", "0:v", "-map", "1:a",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "256k",
        str(clip),
    )
    return clip


def flash_times_s(path: Path) -> list[float]:
    times = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            luma = frame.to_ndarray(format="gray")
            if luma.mean() > 128:
                times.append(float(frame.time))
    return times


def decoded_sound(path: Path) -> tuple[np.ndarray, float]:
    """Mono float samples of the first audio stream and the time of the first sample."""
    pieces, start_s = [], None
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE_HZ)
        for frame in container.decode(audio=0):
            if start_s is None:
                start_s = float(frame.time)
            for out in resampler.resample(frame):
                pieces.append(out.to_ndarray().reshape(-1))
        for out in resampler.resample(None):
            pieces.append(out.to_ndarray().reshape(-1))
    return np.concatenate(pieces), float(start_s or 0.0)


def click_offsets_s(path: Path) -> list[float]:
    """Audio minus picture for each flash: where the click template best matches the
    output's sound within +-100 ms of the flash."""
    sound, start_s = decoded_sound(path)
    template = click_template()
    offsets = []
    for flash_s in flash_times_s(path):
        centre = round((flash_s - start_s) * RATE_HZ)
        search = round(0.1 * RATE_HZ)
        low = max(0, centre - search)
        window = sound[low: centre + search + len(template)]
        scores = np.correlate(window, template, mode="valid")
        offsets.append((low + int(np.argmax(scores)) - centre) / RATE_HZ)
    return offsets


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_flash_click_clip(tmp_path_factory.mktemp("sync"))


def test_the_test_clip_itself_is_in_sync(clip: Path) -> None:
    offsets = click_offsets_s(clip)
    assert len(offsets) == len(FLASH_FRAMES)
    assert max(abs(o) for o in offsets) <= 0.001, offsets


RENDERS = {
    "video-copied": "",
    "picture-edits": '[light]\nmode = "manual"\nbrightness = 0.05\n',
    "card-and-inset": '[intro]\nlines = ["Level 2"]\nduration_s = 1.0\n'
                      '[[pip]]\nsource = "{inset}"\ncorner = "top-right"\nwidth = 0.25\nstart_s = 0.5\nend_s = 3.5\n',
}


@pytest.mark.parametrize("edits", list(RENDERS))
def test_render_keeps_lip_sync_within_5_ms(clip: Path, tmp_path: Path, edits: str) -> None:
    inset = make_clip(tmp_path / "inset.mp4", duration_s=DURATION_S, audio="none")
    job = write_job(tmp_path, clip, RENDERS[edits].format(inset=inset))
    result = wayfinder("render", job)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out.mp4"
    report = json.loads((tmp_path / "out.mp4.wayfinder.json").read_text())
    audio = report["measurements"]["audio"]
    enhancer = next(stage for stage in audio["cleanup"] if stage["stage"] == "speech enhancement")
    assert enhancer["enabled"], enhancer["reason"]
    # The pulses' peaks need the limiter: its look-ahead must not delay the sound either.
    assert audio["gain"]["limiter"], audio["gain"]
    assert (report["video_mode"] == "copy") == (edits == "video-copied")
    offsets = click_offsets_s(out)
    assert len(offsets) == len(FLASH_FRAMES)
    assert max(abs(o) for o in offsets) <= MAX_OFFSET_S, [round(o * 1000, 2) for o in offsets]
