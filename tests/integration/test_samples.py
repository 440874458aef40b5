"""The demo media look and sound like a producer's material, and a second synthesis keeps
what is there.

Expected values come from how the set is made (pipeline.samples): the walkthrough cuts
at half time from SHOT_1 to the darker, warmer SHOT_2, the camera moves, the guide talks
at WALKTHROUGH_VOICES[0]'s peak and the colleague 12 dB under it, with syllables and
pauses, and a 60 Hz hum; the lavalier track follows the walkthrough.
"""

from __future__ import annotations

import os
from pathlib import Path

import av
import numpy as np
import pytest
from scipy.io import wavfile

from pipeline import samples
from pipeline.samples import SHOT_1, SHOT_2, WALKTHROUGH_VOICES, SampleSizes, write_samples
import typer
from typer.testing import CliRunner

def run_cli(*args: str) -> tuple[int, str]:
    """`wayfinder ARGS` in-process (so the test's sizes apply), with the samples command
    registered as pipeline.cli.app registers it."""
    from pipeline.cli import samples_cmd

    app = typer.Typer(name="wayfinder", pretty_exceptions_enable=False)

    @app.callback()
    def _root() -> None:
        """Wayfinder (samples only)."""

    samples_cmd.register(app)
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


SIZES = SampleSizes(main_px=(320, 180), main_fps=10, guide_px=(160, 120), guide_fps=25)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("samples")
    write_samples(folder, sizes=SIZES)
    return folder


def frames_at(path: Path, times_s: list[float]) -> list[np.ndarray]:
    """RGB pictures of the first frame at or after each time."""
    pictures = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        wanted = sorted(times_s)
        for frame in container.decode(stream):
            if wanted and frame.time is not None and frame.time >= wanted[0] - 1e-6:
                pictures.append(frame.to_ndarray(format="rgb24").astype(np.float64))
                wanted.pop(0)
    return pictures


def test_the_walkthrough_has_its_size_length_and_a_cut_to_a_darker_warmer_shot(media: Path) -> None:
    path = media / "walkthrough.mp4"
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == SIZES.main_px
        assert float(container.duration / av.time_base) == pytest.approx(SIZES.duration_s, abs=0.1)
    first, just_before, just_after, later = frames_at(path, [2.0, 9.8, 10.2, 15.0])
    # The camera walks: the picture changes within a shot.
    assert np.abs(first - just_before).mean() > 3.0
    # The second shot was exposed about SHOT_2.exposure / SHOT_1.exposure as bright.
    ratio = just_after.mean() / just_before.mean()
    assert ratio < 0.85 and ratio == pytest.approx(SHOT_2.exposure / SHOT_1.exposure, rel=0.35)
    # Both shots are warm: red over blue by their tints (the vignette and grey walls keep it near).
    for picture, shot in ((just_before, SHOT_1), (later, SHOT_2)):
        red, blue = picture[..., 0].mean(), picture[..., 2].mean()
        assert red / blue > 1.2 and red / blue == pytest.approx(shot.tint[0] / shot.tint[2], rel=0.3)


def test_the_voice_talks_in_syllables_and_phrases_with_a_quieter_second_speaker(media: Path) -> None:
    rate_hz, pcm = wavfile.read(media / "speech.wav")
    voice = pcm[:, 0].astype(np.float64) / 32768
    window = rate_hz // 50  # 20 ms
    levels = np.sqrt(np.mean(voice[: len(voice) // window * window].reshape(-1, window) ** 2, axis=1))
    levels_db = 20 * np.log10(levels + 1e-9)
    half = len(levels_db) // 2
    # The colleague's voice peaks 12 dB under the guide's: loud moments show the same step.
    step_db = np.percentile(levels_db[:half], 95) - np.percentile(levels_db[half:], 95)
    expected_db = 20 * np.log10(WALKTHROUGH_VOICES[0].peak / WALKTHROUGH_VOICES[1].peak)
    assert step_db == pytest.approx(expected_db, abs=2.5)
    # Syllables: the guide's level rises over a threshold 10 dB under its loud moments
    # 2 to 7 times a second (talking speed, pauses included), not once per phrase.
    first = levels_db[:half] > np.percentile(levels_db[:half], 95) - 10
    onsets_per_s = np.sum(first[1:] & ~first[:-1]) / (SIZES.duration_s / 2)
    assert 2.0 <= onsets_per_s <= 7.0
    # Pauses between phrases: some 20 ms windows sit near the room's floor, 20 dB under the voice.
    assert np.percentile(levels_db[:half], 5) < np.percentile(levels_db[:half], 95) - 20


def test_the_room_has_a_little_60_hz_hum(media: Path) -> None:
    rate_hz, pcm = wavfile.read(media / "speech.wav")
    voice = pcm[:, 0].astype(np.float64) / 32768
    spectrum = np.abs(np.fft.rfft(voice * np.hanning(len(voice))))
    freqs = np.fft.rfftfreq(len(voice), 1 / rate_hz)

    def level_at(hz: float) -> float:
        return float(spectrum[np.argmin(np.abs(freqs - hz))])

    neighbours = np.median([level_at(hz) for hz in (52.0, 55.0, 65.0, 68.0)])
    assert level_at(60.0) > 10 * neighbours  # a sharp line, 20 dB over the spectrum beside it


def test_the_guide_is_a_talking_head_of_its_own_size_and_rate(media: Path) -> None:
    with av.open(str(media / "guide.mp4")) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == SIZES.guide_px
        assert float(stream.average_rate) == SIZES.guide_fps
        assert container.streams.audio, "the guide has its own voice"


def test_a_second_synthesis_keeps_every_file(media: Path) -> None:
    before = {path.name: path.stat().st_mtime_ns for path in media.iterdir()}
    made = []
    write_samples(media, sizes=SIZES, report=lambda name, path, now: made.append(name) if now else None)
    assert made == []
    assert {path.name: path.stat().st_mtime_ns for path in media.iterdir()} == before


def test_a_changed_file_or_recipe_is_made_again_and_the_lav_track_follows(
    tmp_path: Path, media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "media"
    folder.mkdir()
    for path in media.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
        os.utime(folder / path.name, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns))
    made: list[str] = []

    def report(name: str, path: Path, now: bool) -> None:
        if now:
            made.append(name)

    (folder / "walkthrough.srt").write_text("edited by hand\n", encoding="utf-8")
    write_samples(folder, sizes=SIZES, report=report)
    assert made == ["captions"]

    made.clear()
    os.utime(folder / "walkthrough.mp4")  # touched: no longer the file the record names
    write_samples(folder, sizes=SIZES, report=report)
    assert made == ["walkthrough", "lav", "shaky"]

    made.clear()
    monkeypatch.setattr(samples, "RECIPE_VERSION", samples.RECIPE_VERSION + 1)
    write_samples(folder, sizes=SIZES, report=report)
    assert made == ["walkthrough", "guide", "speech", "captions", "lav", "logo", "shaky"]
    assert sorted(p.name for p in folder.iterdir() if "partial" in p.name) == []


def test_wayfinder_samples_keeps_an_up_to_date_set(media: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(samples, "FULL_SIZES", SIZES)  # the command's set, at test sizes
    folder = tmp_path / "set"
    code, output = run_cli("samples", str(folder))
    assert code == 0, output
    stamps = {path.name: path.stat().st_mtime_ns for path in folder.iterdir()}
    code, output = run_cli("samples", str(folder))
    assert code == 0, output
    assert {path.name: path.stat().st_mtime_ns for path in folder.iterdir()} == stamps
