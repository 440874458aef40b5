"""`[captions] draft = true`: the render drafts captions of its own output with the real
recognizer (faster-whisper, whisper-base from the test-only packages, its sha256 checked),
timed to the edited programme, and a batch treats the draft as part of the output.

The speech is JFK's 1961 sentence (public words; spoken by espeak-ng where the
recording is absent) muxed under a test picture; the edit puts
a 2 s intro card before it, so every caption of the render's draft must come 2 s after
the same caption drafted from the source. Tests that need the model are skipped with the
reason when it is absent; the missing-model refusal needs none and always runs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pipeline.captions.read import read_captions
from tests.integration.cli import leftovers, wayfinder
from tests.integration.test_captions_draft import JFK, JFK_WORDS, normalized
from tests.media import ffmpeg, make_clip
from tests.whisper_model import assemble_model, missing_reason

INTRO_S = 2.0
needs_model = pytest.mark.skipif(missing_reason() is not None, reason=str(missing_reason()))


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if missing_reason() is not None:
        pytest.skip(str(missing_reason()))
    return assemble_model(tmp_path_factory.mktemp("whisper") / "faster-whisper-base")


def ask_not_speech(folder: Path) -> Path:
    """JFK's recording when shared/speech-dev is beside the checkout; else the same public
    words spoken by espeak-ng (which .ci/run installs), so the tests run on a CI machine too."""
    if JFK.is_file():
        return JFK
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        pytest.skip(f"no {JFK} and no espeak-ng to speak its words")
    spoken = folder / "ask-not-espeak.wav"
    subprocess.run([espeak, "-v", "en-us", "-s", "150", "-w", str(spoken), JFK_WORDS], check=True)
    # a second of room before the words, as in a recording (espeak starts speaking at once,
    # and the recognizer's first time is coarse where speech starts the file)
    wav = folder / "ask-not-espeak-padded.wav"
    ffmpeg("-i", str(spoken), "-af", "adelay=1000:all=1", str(wav))
    return wav


@pytest.fixture(scope="module")
def jfk_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("jfk")
    path = folder / "ask-not.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25:duration=11", "-i", str(ask_not_speech(folder)),
           "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
           "-c:a", "aac", "-b:a", "128k", "-shortest", str(path))
    return path


@pytest.fixture
def folder(tmp_path: Path, jfk_video: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("WAYFINDER_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("WAYFINDER_STATE_DIR", str(tmp_path / "state"))
    shutil.copyfile(jfk_video, tmp_path / "ask-not.mp4")
    (tmp_path / "job.toml").write_text(
        '[input]\nmain = "ask-not.mp4"\n[output]\npath = "out/walk.mp4"\n'
        f'[intro]\nlines = ["Ask not"]\nduration_s = {INTRO_S}\n'
        '[captions]\ndraft = true\nvocabulary = ["Riverside Clinic"]\n', encoding="utf-8")
    return tmp_path


def test_a_missing_model_stops_the_render_before_it_starts(tmp_path: Path) -> None:
    make_clip(tmp_path / "ask-not.mp4", duration_s=2.0)
    (tmp_path / "job.toml").write_text('[input]\nmain = "ask-not.mp4"\n[output]\npath = "out/walk.mp4"\n'
                                       '[captions]\ndraft = true\n', encoding="utf-8")
    done = wayfinder("render", tmp_path / "job.toml", env={"WAYFINDER_WHISPER_MODEL": str(tmp_path / "no-model")})
    assert done.returncode == 4, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert "captions.draft" in line and "missing model.bin" in line and "WAYFINDER_WHISPER_MODEL" in line
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@needs_model
def test_the_render_drafts_its_output_timed_to_the_edit(folder: Path, model_dir: Path) -> None:
    env = {"WAYFINDER_WHISPER_MODEL": str(model_dir)}
    source = wayfinder("captions", "draft", folder / "ask-not.mp4", env=env)
    assert source.returncode == 0, source.stderr
    from_source = read_captions(folder / "ask-not.en.vtt").captions

    done = wayfinder("render", folder / "job.toml", env=env)
    assert done.returncode == 0, done.stderr
    out = folder / "out"
    vtt, srt = out / "walk.en.vtt", out / "walk.en.srt"
    assert "walk.en.vtt" in done.stderr and "walk.en.srt" in done.stderr
    captions = read_captions(vtt).captions
    assert [c.lines for c in read_captions(srt).captions] == [c.lines for c in captions]
    import jiwer

    text = " ".join(" ".join(c.lines) for c in captions)
    assert jiwer.wer(normalized(JFK_WORDS), normalized(text)) <= 0.10, text
    # Timed to the edited programme: the intro card moved the speech by its length (the
    # captions may break differently: the render's sound is enhanced and normalized).
    assert captions[0].start_s == pytest.approx(from_source[0].start_s + INTRO_S, abs=0.3), captions
    assert captions[-1].end_s == pytest.approx(from_source[-1].end_s + INTRO_S, abs=0.5), captions
    report = json.loads((out / "walk.mp4.wayfinder.json").read_text(encoding="utf-8"))
    draft = report["caption_draft"]
    assert (draft["vtt"], draft["srt"]) == (str(vtt), str(srt))
    assert draft["captions"] == len(captions) and "Riverside Clinic" in draft["vocabulary"]
    assert not leftovers(folder)
    # The draft passes the caption rules against the output it was made from.
    check = wayfinder("captions", "check", vtt, "--video", out / "walk.mp4")
    assert check.returncode == 0, check.stdout

    # A draft is a file a producer corrects: a second render does not replace it unasked.
    (out / "walk.mp4").unlink()
    again = wayfinder("render", folder / "job.toml", env=env)
    assert again.returncode == 1 and "--force" in again.stderr and "walk.en.vtt" in again.stderr
    assert not (out / "walk.mp4").exists()


@needs_model
def test_a_batch_output_without_its_draft_is_not_up_to_date(folder: Path, model_dir: Path) -> None:
    (folder / "batch.toml").write_text('jobs = ["job.toml"]\n', encoding="utf-8")
    env = {"WAYFINDER_WHISPER_MODEL": str(model_dir), "WAYFINDER_CACHE_DIR": str(folder / "cache")}

    def status() -> tuple[str, str]:
        [job] = json.loads((folder / "batch-report.json").read_text(encoding="utf-8"))["jobs"]
        return job["status"], job["reason"]

    first = wayfinder("batch", folder / "batch.toml", env=env)
    assert first.returncode == 0, first.stderr
    srt = folder / "out" / "walk.en.srt"
    assert status()[0] == "rendered" and srt.is_file()
    assert wayfinder("batch", folder / "batch.toml", env=env).returncode == 0
    assert status()[0] == "up-to-date"
    srt.unlink()
    dry = wayfinder("batch", folder / "batch.toml", "--dry-run", "--json", env=env)
    [decision] = json.loads(dry.stdout)
    assert (decision["action"], decision["reason"]) == ("render", "caption draft missing (walk.en.srt)")
    third = wayfinder("batch", folder / "batch.toml", env=env)
    assert third.returncode == 0, third.stderr
    assert status()[0] == "rendered" and srt.is_file()
    assert re.search(r"walk\.en\.vtt", json.dumps(json.loads((folder / "out" / "walk.mp4.wayfinder.json").read_text())))
    assert os.path.getsize(srt) > 0 and not leftovers(folder)


@needs_model
def test_a_programme_without_words_gets_no_draft_and_loses_the_old_one(model_dir: Path, tmp_path: Path) -> None:
    from pipeline.samples import SpeechSpec, speech_expression

    # A voice in syllables without words (as test_captions_draft makes it): nothing to caption.
    expr = speech_expression(SpeechSpec()).replace(",", "\\,")
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25:duration=8",
           "-f", "lavfi", "-i", f"aevalsrc=exprs={expr}:sample_rate=48000:duration=8",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(tmp_path / "buzz.mp4"))
    # (the buzz is too peaky for -14 LUFS under the ceiling: landed lower, linear)
    (tmp_path / "job.toml").write_text('[input]\nmain = "buzz.mp4"\n[output]\npath = "hum.mp4"\n'
                                       '[audio]\nlimiter_policy = "lower-target"\n'
                                       '[captions]\ndraft = true\n', encoding="utf-8")
    old = tmp_path / "hum.en.vtt"
    old.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nfrom an older render\n", encoding="utf-8")
    done = wayfinder("render", tmp_path / "job.toml", "--force", env={"WAYFINDER_WHISPER_MODEL": str(model_dir)})
    assert done.returncode == 0, done.stderr
    assert "no speech was recognized" in done.stderr
    assert (tmp_path / "hum.mp4").is_file() and not old.exists() and not (tmp_path / "hum.en.srt").exists()
    report = json.loads((tmp_path / "hum.mp4.wayfinder.json").read_text(encoding="utf-8"))
    assert report["caption_draft"]["vtt"] is None and report["caption_draft"]["captions"] == 0
    assert not leftovers(tmp_path)
