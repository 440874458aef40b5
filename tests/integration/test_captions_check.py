"""`wayfinder captions check` end to end: real ffmpeg makes a short programme whose "speech"
is tone bursts at known times (1.0-3.0 s and 5.0-6.5 s over faint noise, 10 s long), and
caption files written here have known defects. Expected problems come from those times
and the caption rules, not from the program's output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.cli import wayfinder
from tests.media import ffmpeg

PROGRAMME_S = 10.0
SPEECH = [(1.0, 3.0), (5.0, 6.5)]

GOOD = """1
00:00:01,000 --> 00:00:03,000
Take the lift to floor 3.

2
00:00:05,000 --> 00:00:06,700
The desk is on your left.
"""

GOOD_VTT = """WEBVTT

00:01.000 --> 00:03.000
Take the lift to floor 3.

00:05.000 --> 00:06.700
The desk is on your left.
"""

# Defects by caption number: 1 three lines; 2 a 46-character line read at 46/s; 3 on screen
# 0.8 s; 4 overlaps 3 and is 0.8 s; 5 over silence and past the programme's end.
BAD = """1
00:00:01,000 --> 00:00:02,000
Take
the lift
now

2
00:00:02,000 --> 00:00:03,000
The Cardiology Clinic is on floor three, north

3
00:00:05,000 --> 00:00:05,800
Desk.

4
00:00:05,700 --> 00:00:06,500
Overlapping.

5
00:00:08,000 --> 00:00:10,500
Nobody speaks here.
"""


def burst_expression() -> str:
    gate = "+".join(f"between(t,{a},{b})" for a, b in SPEECH)
    return f"0.3*sin(2*PI*180*t)*({gate})+0.01*(2*random(0)-1)"


@pytest.fixture(scope="module")
def programme(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("captions") / "walk.mp4"
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=size=160x90:rate=25:duration={PROGRAMME_S}",
           "-f", "lavfi", "-i", f"aevalsrc=exprs='{burst_expression()}':s=48000:d={PROGRAMME_S}",
           "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
           "-c:a", "aac", "-b:a", "128k", "-shortest", str(path))
    return path


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_good_captions_pass_and_the_speech_is_where_it_was_made(programme: Path, tmp_path: Path) -> None:
    result = wayfinder("captions", "check", write(tmp_path, "good.srt", GOOD), "--video", programme, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["status"] == "pass" and data["problems"] == [] and data["captions_count"] == 2
    assert abs(data["programme_s"] - PROGRAMME_S) < 0.1
    assert len(data["speech"]) == len(SPEECH)
    for (start, end), (made_start, made_end) in zip(data["speech"], SPEECH):
        assert abs(start - made_start) <= 0.1 and abs(end - made_end) <= 0.1


def test_each_defect_is_reported_with_its_caption_and_time(programme: Path, tmp_path: Path) -> None:
    result = wayfinder("captions", "check", write(tmp_path, "bad.srt", BAD), "--video", programme, "--json")
    assert result.returncode == 1, result.stderr
    found = {(p["caption"], p["rule"], p["time_s"]) for p in json.loads(result.stdout)["problems"]}
    assert found == {
        (1, "lines", 1.0),                     # three lines
        (2, "line_length", 2.0),               # 46 characters > 42
        (2, "reading_rate", 2.0),              # 46 characters in 1 s; mid-speech but continues caption 1
        (3, "too_short", 5.0),                 # 0.8 s
        (4, "overlap", 5.7), (4, "too_short", 5.7),
        (5, "outside_programme", 8.0),         # ends at 10.5 s of a 10 s programme
        (5, "onset", 8.0),                     # no speech from 6.5 s on
    }
    assert "FAIL bad.srt: caption 3 at 00:00:05.000: too_short: on screen 0.800 s; at least 1 s" in result.stderr


def test_speech_left_uncaptioned_and_a_late_caption(programme: Path, tmp_path: Path) -> None:
    late = "1\n00:00:02,000 --> 00:00:03,000\nLate.\n"  # speech began at 1.0 s; 5.0-6.5 s has none
    result = wayfinder("captions", "check", write(tmp_path, "late.vtt", "WEBVTT\n\n" + late.split("\n", 1)[1]
                                                  .replace(",", ".")), "--video", programme)
    assert result.returncode == 1
    assert "caption 1 at 00:00:02.000: onset: starts 1.00 s after the speech it shows began" in result.stdout
    assert "too_short" not in result.stdout
    long_speech = "1\n00:00:01,000 --> 00:00:03,000\nTake the lift.\n"  # 5.0-6.5 s uncaptioned: 1.5 s, allowed
    assert wayfinder("captions", "check", write(tmp_path, "ok.srt", long_speech), "--video", programme).returncode == 0


def test_strict_profile_from_the_option_and_from_a_preset(programme: Path, tmp_path: Path) -> None:
    long_line = "1\n00:00:01,000 --> 00:00:03,000\nThe Cardiology Clinic, floor three\n"  # 34 characters
    strict_file = write(tmp_path, "s.srt", long_line)
    assert wayfinder("captions", "check", strict_file, "--video", programme).returncode == 0
    result = wayfinder("captions", "check", strict_file, "--video", programme, "--profile", "dcmp-strict")
    assert result.returncode == 1 and "line 1 has 34 characters; at most 32 (dcmp-strict profile)" in result.stdout
    config = tmp_path / "config"
    (config / "presets").mkdir(parents=True)
    (config / "presets" / "clinic.toml").write_text('extends = "youtube"\n[captions]\nprofile = "dcmp-strict"\n')
    preset = wayfinder("captions", "check", strict_file, "--video", programme, "--preset", "clinic",
                       env={"WAYFINDER_CONFIG_DIR": str(config)})
    assert preset.returncode == 1 and "at most 32" in preset.stdout


@pytest.mark.parametrize(("make", "expected"), [
    (lambda folder, video: (write(folder, "b.srt", "1\n00:00:01,000 --> 00:0x:02,000\nHi\n"), video),
     "b.srt: captions: caption 1 (line 2): cannot read the timing"),
    (lambda folder, video: (write(folder, "g.srt", GOOD), folder / "missing.mp4"),
     "missing.mp4: --video: no such video file"),
])
def test_bad_input_is_one_line_and_exit_3(programme: Path, tmp_path: Path, make, expected: str) -> None:  # type: ignore[no-untyped-def]
    captions, video = make(tmp_path, programme)
    result = wayfinder("captions", "check", captions, "--video", video)
    assert result.returncode == 3
    assert result.stderr.count("\n") == 1 and expected in result.stderr and "Traceback" not in result.stderr


def test_a_video_without_sound_cannot_be_checked_for_speech(tmp_path: Path) -> None:
    silent = tmp_path / "silent.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25:duration=3", "-c:v", "libx264", "-preset",
           "ultrafast", "-pix_fmt", "yuv420p", str(silent))
    result = wayfinder("captions", "check", write(tmp_path, "g.srt", GOOD), "--video", silent)
    assert result.returncode == 3 and "silent.mp4: audio: the speech checks need the programme's sound" in result.stderr


def test_qa_judges_the_captions_beside_the_output_in_json_junit_and_html(programme: Path, tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    folder = tmp_path / "out"
    folder.mkdir()
    video = folder / "walk.mp4"
    video.write_bytes(programme.read_bytes())
    plain = wayfinder("qa", video, "--json", "-j", "1")
    assert "captions" not in [c["name"] for c in json.loads(plain.stdout)["files"][0]["checks"]]

    write(folder, "walk.en.vtt", "WEBVTT\n\n00:02.000 --> 00:03.000\nLate.\n")  # 1.0 s after speech began
    junit, html = tmp_path / "qa.xml", tmp_path / "qa.html"
    result = wayfinder("qa", video, "--json", "-j", "1", "--junit", junit, "--html", html)
    assert result.returncode == 1
    checks = {c["name"]: c for c in json.loads(result.stdout)["files"][0]["checks"]}
    assert checks["captions"]["status"] == "fail"
    assert "caption 1 at 00:00:02.000: onset" in checks["captions"]["message"]
    case = ET.parse(junit).getroot().find(".//testcase[@name='captions']")
    assert case is not None and "caption 1 at 00:00:02.000: onset" in case.find("failure").get("message")
    assert "caption 1 at 00:00:02.000: onset" in html.read_text(encoding="utf-8")

    write(folder, "walk.en.vtt", GOOD_VTT)
    good = json.loads(wayfinder("qa", video, "--json", "-j", "1").stdout)["files"][0]
    assert {c["name"]: c["status"] for c in good["checks"]}["captions"] == "pass"


def test_a_public_upload_under_require_captions_is_refused_for_caption_problems(
        programme: Path, tmp_path: Path, wf) -> None:  # type: ignore[no-untyped-def]
    from youtube_server.fixtures import run_wayfinder

    (wf.config_dir / "presets").mkdir(parents=True, exist_ok=True)
    (wf.config_dir / "presets" / "clinic.toml").write_text("[publish]\nrequire_captions = true\n")
    video = tmp_path / "walk.mp4"
    video.write_bytes(programme.read_bytes())
    args = ["upload", str(video), "--template", "navigation", "--var", "location=R", "--var", "building=B",
            "--var", "floor=1", "--var", "department=D", "--var", "phone=1", "--preset", "clinic", "--dry-run"]
    late = write(tmp_path, "late.srt", "1\n00:00:02,000 --> 00:00:03,000\nLate.\n")  # speech began at 1.0 s
    refused = run_wayfinder(*args, "--privacy", "public", "--captions", str(late))
    assert refused.exit_code == 3, refused.output
    assert "late.srt: caption 1 at 00:00:02.000: onset" in refused.stderr
    review = run_wayfinder(*args, "--privacy", "private", "--captions", str(late))
    assert review.exit_code == 0, review.stderr  # a private review upload may carry a draft
    good = write(tmp_path, "good.srt", GOOD)
    from pipeline.captions.approval import approve
    from pipeline.captions.settings import CaptionSettings

    approve(video, good, "Dana Reviewer", CaptionSettings())  # a public upload also needs a recorded review
    assert run_wayfinder(*args, "--privacy", "public", "--captions", str(good)).exit_code == 0
    assert wf.server.log == []


def test_the_detector_finds_the_lavfi_voice_phrases(tmp_path: Path) -> None:
    from pipeline.captions.speech import measure_speech_spans
    from pipeline.samples import SpeechSpec, speech_expression

    # The lavfi voice whose phrases are known by construction (the sample set's own voice
    # is now formant-synthesized with random phrase lengths).
    spec = SpeechSpec(duration_s=12.0)
    wav = tmp_path / "speech.wav"
    expr = speech_expression(spec).replace(",", "\\,")
    ffmpeg("-f", "lavfi", "-i", f"aevalsrc=exprs={expr}:sample_rate=48000:duration=12", "-c:a", "pcm_s16le", str(wav))
    talking_s = spec.phrase_s - spec.pause_s
    phrases = [(start, start + talking_s) for start in (0.0, 4.0, 8.0)]  # as the sample makes them
    found = measure_speech_spans(wav)
    assert len(found) == len(phrases), found
    for (start, end), (made_start, made_end) in zip(found, phrases):
        # the syllable envelope is zero at each phrase's first instant and fades at its end
        assert abs(start - made_start) <= 0.1 and abs(end - made_end) <= 0.1
