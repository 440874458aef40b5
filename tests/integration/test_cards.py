"""Title cards joined around the programme in the one render graph.

Expected colours are the cards' own settings converted with the BT.709 limited-range
equations (the output is tagged BT.709); durations are the cards' and the main clip's.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from pipeline import config
from pipeline.errors import ConfigError
from pipeline.render import plan_job, run_render
from tests.media import ffmpeg, make_clip, tone

W, H, FPS = 320, 180, 30
MAIN_S, INTRO_S, OUTRO_S = 2.0, 1.0, 1.5
TOLERANCE = 5
GREEN, BLUE = (40, 160, 60), (30, 60, 200)


def bt709_yuv(rgb: tuple[int, int, int]) -> np.ndarray:
    r, g, b = (c / 255 for c in rgb)
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return np.array([16 + 219 * y, 128 + 224 * (b - y) / 1.8556, 128 + 224 * (r - y) / 1.5748])


def frames_at(path: Path, times_s: list[float]) -> dict[float, np.ndarray]:
    """The yuv420p frame (as PyAV's stacked planes) shown at each time."""
    found: dict[float, np.ndarray] = {}
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            for t in times_s:
                if t not in found and frame.time + 0.5 / FPS > t:
                    found[t] = frame.to_ndarray()
    assert set(found) == set(times_s)
    return found


def yuv_at(planes: np.ndarray, x: int, y: int) -> np.ndarray:
    u = planes[H:H + H // 4].reshape(H // 2, W // 2)
    v = planes[H + H // 4:].reshape(H // 2, W // 2)
    return np.array([planes[y, x], u[y // 2, x // 2], v[y // 2, x // 2]], dtype=float)


def tone_level_db(samples: np.ndarray, rate: int, start_s: float, end_s: float, frequency_hz: float) -> float:
    part = samples[int(start_s * rate):int(end_s * rate)]
    t = np.arange(part.size) / rate
    return 20 * np.log10(max(2 * abs(np.mean(part * np.exp(-2j * np.pi * frequency_hz * t))), 1e-9))


@pytest.fixture(scope="module")
def job_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cards")
    main = make_clip(folder / "main.mp4", duration_s=MAIN_S, size=f"{W}x{H}", fps=FPS,
                     audio=tone(-20.0, frequency_hz=440.0))
    chime = folder / "chime.wav"
    ffmpeg("-f", "lavfi", "-i", f"{tone(-20.0, frequency_hz=880.0)}:duration=0.6", str(chime))
    # 3:1, wider than the 16:9 frame: filling the frame crops its middle, which is green
    # on the left half and blue on the right.
    image = Image.new("RGB", (900, 300), GREEN)
    image.paste(BLUE, (450, 0, 900, 300))
    image.save(folder / "backdrop [1].png")
    path = folder / "job.toml"
    path.write_text(f"""
preset = "youtube-draft"
[input]
main = "{main}"
[output]
path = "out.mp4"
[video]
x264_preset = "ultrafast"
[audio]
normalize = false
hum_removal = false
noise_reduction = false
leveler = false

[intro]
# Quotes, colons, brackets, semicolons and percent signs are only text to a card.
lines = ['Riverside "Clinic": [Level 2]', "it's 50% {{easy}}; a=b, c\\\\d"]
duration_s = {INTRO_S}
background = "#ff0000"
text_color = "white"

[outro]
lines = ["Thank you"]
duration_s = {OUTRO_S}
background = "navy"
background_image = "backdrop [1].png"
audio = "{chime}"
""")
    return path


def test_cards_are_joined_with_their_colours_sound_and_length(job_path: Path) -> None:
    result = run_render(config.load_job(job_path))
    out = result.plan.output_path
    total_s = INTRO_S + MAIN_S + OUTRO_S
    with av.open(str(out)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert float(video.duration * video.time_base) == pytest.approx(total_s, abs=0.05)
        assert float(audio.duration * audio.time_base) == pytest.approx(total_s, abs=0.1)
        samples = np.concatenate([f.to_ndarray()[0] for f in container.decode(audio=0)])
        rate = audio.rate

    red, green, blue = bt709_yuv((255, 0, 0)), bt709_yuv(GREEN), bt709_yuv(BLUE)
    frames = frames_at(out, [0.5, INTRO_S + 1.0, INTRO_S + MAIN_S + 0.75])
    intro, programme, outro = frames.values()
    for x, y in ((4, 4), (W - 6, H - 6)):
        assert np.abs(yuv_at(intro, x, y) - red).max() <= TOLERANCE, yuv_at(intro, x, y)
    # The image, not the background colour: green on the left, blue on the right.
    assert np.abs(yuv_at(outro, 4, 4) - green).max() <= TOLERANCE, yuv_at(outro, 4, 4)
    assert np.abs(yuv_at(outro, W - 6, H - 6) - blue).max() <= TOLERANCE, yuv_at(outro, W - 6, H - 6)
    assert np.abs(yuv_at(programme, 4, 4) - red).max() > 40  # the main clip, not a card
    # The text is drawn: white pixels in the middle band, none near the edges.
    luma = intro[:H]
    assert (luma[H // 4: 3 * H // 4, W // 8: 7 * W // 8] > 200).mean() > 0.01
    assert (luma[:H // 8] > 200).mean() == 0 and (luma[-H // 8:] > 200).mean() == 0

    # Sound: silence under the intro, the programme's tone, then the outro's own chime.
    assert tone_level_db(samples, rate, 0.1, 0.9, 440.0) < -60
    assert tone_level_db(samples, rate, INTRO_S + 0.3, INTRO_S + 1.7, 440.0) == pytest.approx(-20.0, abs=1.5)
    outro_start_s = INTRO_S + MAIN_S
    assert tone_level_db(samples, rate, outro_start_s + 0.1, outro_start_s + 0.4, 880.0) == pytest.approx(-20.0, abs=1.5)
    assert np.abs(samples[int((outro_start_s + 0.8) * rate):int((outro_start_s + 1.4) * rate)]).max() < 1e-3

    cards = result.measurements["picture"]["cards"]  # type: ignore[index]
    assert cards["intro"]["cache"] == "rendered" and cards["outro"]["cache"] == "rendered"

    # A second render of the same job finds both cards in the cache.
    clip = Path(cards["intro"]["clip"])
    stamp = clip.stat().st_mtime_ns
    _, plan, measurements, _ = plan_job(config.load_job(job_path))
    again = measurements["picture"]["cards"]  # type: ignore[index]
    assert again["intro"]["cache"] == "hit" and again["outro"]["cache"] == "hit"
    assert again["intro"]["clip"] == str(clip) and clip.stat().st_mtime_ns == stamp
    assert plan.duration_s == pytest.approx(total_s, abs=0.05)


@pytest.mark.parametrize(("card", "field", "says"), [
    ('[intro]\nlines = ["x"]\nbackground = "bleu"', "intro.background", "not a colour"),
    ('[outro]\nlines = ["x"]\ntext_color = "#12"', "outro.text_color", "not a colour"),
    ('[intro]\nlines = ["x"]\nbackground_image = "missing.png"', "intro.background_image", "cannot be read"),
    ('[outro]\nlines = ["x"]\naudio = "nope.wav"', "outro.audio", "file not found"),
    ('[outro]\nlines = ["x"]\naudio = "main.mp4"', "outro.audio", "no audio stream"),  # a silent film
])
def test_bad_cards_are_job_errors_naming_the_field(tmp_path: Path, card: str, field: str, says: str) -> None:
    main = make_clip(tmp_path / "main.mp4", duration_s=1.0, size=f"{W}x{H}", audio="none")
    job = tmp_path / "job.toml"
    job.write_text(f'[input]\nmain = "{main}"\n{card}\n')
    with pytest.raises(ConfigError) as caught:
        plan_job(config.load_job(job))
    assert caught.value.field == field and says in caught.value.message, caught.value
