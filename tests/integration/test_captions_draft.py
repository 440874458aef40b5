"""`wayfinder captions draft` with the real recognizer (faster-whisper, whisper-base from the
test-only packages, its sha256 checked) on real speech with public words: JFK's 1961
"ask not" sentence from shared/speech-dev, muxed under a test picture with real ffmpeg.
Skipped with the reason when the recognizer or the test model is not installed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.integration.cli import wayfinder
from tests.media import ffmpeg
from tests.whisper_model import assemble_model, missing_reason

SPEECH_DEV = Path(__file__).resolve().parents[2].parent / "shared" / "speech-dev"
JFK = SPEECH_DEV / "jfk_1961.flac"
JFK_WORDS = ("And so, my fellow Americans, ask not what your country can do for you, "
             "ask what you can do for your country.")

pytestmark = pytest.mark.skipif(missing_reason() is not None, reason=str(missing_reason()))


def normalized(text: str) -> str:
    return " ".join(re.sub(r"[^\w' ]", " ", text.casefold()).split())


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return assemble_model(tmp_path_factory.mktemp("whisper") / "faster-whisper-base")


@pytest.fixture(scope="module")
def jfk_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not JFK.is_file():
        pytest.skip(f"no {JFK}")
    path = tmp_path_factory.mktemp("jfk") / "ask-not.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25:duration=11", "-i", str(JFK),
           "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
           "-c:a", "aac", "-b:a", "128k", "-shortest", str(path))
    return path


def test_the_draft_transcribes_locally_within_the_rules(model_dir: Path, jfk_video: Path) -> None:
    import jiwer

    result = wayfinder("captions", "draft", jfk_video, "--model", model_dir)
    assert result.returncode == 0, result.stderr
    vtt, srt = jfk_video.with_name("ask-not.en.vtt"), jfk_video.with_name("ask-not.en.srt")
    assert vtt.read_text(encoding="utf-8").startswith("WEBVTT") and srt.is_file()
    from pipeline.captions.read import read_captions

    captions = read_captions(vtt).captions
    assert [c.lines for c in read_captions(srt).captions] == [c.lines for c in captions]
    text = " ".join(" ".join(c.lines) for c in captions)
    assert jiwer.wer(normalized(JFK_WORDS), normalized(text)) <= 0.10, text
    # segmented by the rules and in sync with the speech: the draft passes the check
    check = wayfinder("captions", "check", vtt, "--video", jfk_video, "--json")
    assert check.returncode == 0, json.loads(check.stdout)["problems"]
    # a draft is never overwritten by accident (it may have been corrected by hand)
    again = wayfinder("captions", "draft", jfk_video, "--model", model_dir)
    assert again.returncode == 1 and "--force" in again.stderr


def test_no_model_is_exit_4_with_what_to_do(jfk_video: Path, tmp_path: Path) -> None:
    result = wayfinder("captions", "draft", jfk_video, "--model", tmp_path / "nothing", "--force")
    assert result.returncode == 4
    assert "missing model.bin" in result.stderr and "--model" in result.stderr
    assert not list(jfk_video.parent.glob("*.partial"))


def test_the_vocabulary_steers_the_recognizer_to_a_clinicians_name(model_dir: Path, tmp_path: Path) -> None:
    import shutil
    import subprocess

    espeak = shutil.which("espeak-ng")
    if espeak is None:
        pytest.skip("espeak-ng is not installed (.ci/run installs it): no speech to synthesize")
    wav = tmp_path / "okonkwo.wav"
    subprocess.run([espeak, "-v", "en-us", "-s", "150", "-w", str(wav),
                    "The clinic desk is on your right, where Doctor Okonkwo's team will meet you."], check=True)
    video = tmp_path / "desk.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25:duration=6", "-i", str(wav), "-map", "0:v",
           "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
           "-shortest", str(video))
    plain = wayfinder("captions", "draft", video, "--model", model_dir)
    assert plain.returncode == 0, plain.stderr
    without = video.with_name("desk.en.vtt").read_text(encoding="utf-8")
    steered = wayfinder("captions", "draft", video, "--model", model_dir, "--vocabulary", "Okonkwo", "--force")
    assert steered.returncode == 0, steered.stderr
    with_names = video.with_name("desk.en.vtt").read_text(encoding="utf-8")
    assert "Okonkwo" not in without  # the synthetic voice alone does not carry the name...
    assert "Okonkwo" in with_names   # ...the vocabulary list does


def test_a_voice_without_words_gets_no_captions_not_the_vocabulary_back(model_dir: Path, tmp_path: Path) -> None:
    from pipeline.samples import SpeechSpec, speech_expression

    # harmonics in syllables and phrases, but no words (the lavfi voice the sample set
    # used before its formant voice, whose babble Whisper spells out as syllables)
    expr = speech_expression(SpeechSpec()).replace(",", "\\,")
    video = tmp_path / "buzz.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25:duration=20",
           "-f", "lavfi", "-i", f"aevalsrc=exprs={expr}:sample_rate=48000:duration=20",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(video))
    result = wayfinder("captions", "draft", video, "--model", model_dir, "--vocabulary", "Riverside Clinic")
    assert result.returncode == 3 and "no speech was recognized" in result.stderr
    assert not list(tmp_path.glob("buzz.en.*")) and not list(tmp_path.glob(".*partial"))
