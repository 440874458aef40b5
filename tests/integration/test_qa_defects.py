"""`wayfinder qa` on files synthesized with one known defect each, through the library and
through the real command line.

Every file is a 1 kHz sine (or silence) made by ffmpeg's aevalsrc, so the expected
numbers follow from how it was made:

- a stereo 1 kHz sine at X dBFS peak reads X LUFS (EBU Tech 3341: BS.1770's -0.691 dB
  offset cancels the K-filter's gain at 1 kHz); one channel alone reads 3.01 dB less, so
  the one-channel file is made 3.01 dB hotter to sit at the target;
- 10 ms of 1 kHz driven 20x over full scale and clipped is 10 cycles, 20 flat tops per
  channel, each about 20 samples long: 40 clips on two channels;
- hum added at -40 dBFS peak reads -40 dBFS;
- the defects are placed at known times (3 s of leading silence, a dropout from 2.5 s).

Each defect must produce exactly its verdict and reason, and nothing else may complain.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pipeline.errors import InputError
from pipeline.qa.model import FileResult, QaReport
from pipeline.qa.run import run_qa
from tests.integration.cli import wayfinder
from tests.media import make_clip, tone

TARGET_LUFS = -14.0
ONE_CHANNEL_DB = 10 * 0.30103  # 3.01 dB: one of two equal channels carries half the power
AAC_TOLERANCE_LU = 0.15


def amplitude(dbfs: float) -> float:
    return 10 ** (dbfs / 20)


def sine(dbfs: float, frequency_hz: float = 1000.0) -> str:
    return f"{amplitude(dbfs):.9f}*sin(2*PI*{frequency_hz}*t)"


def stereo_source(left: str, right: str | None = None) -> str:
    # Commas inside a filter argument must be escaped in a filter graph.
    def escape(expr: str) -> str:
        return expr.replace(",", "\\,")

    return f"aevalsrc=exprs={escape(left)}|{escape(right if right is not None else left)}:sample_rate=48000"


@pytest.fixture(scope="module")
def defects(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("qa-defects")
    make_clip(folder / "clean.mp4", duration_s=6, audio=tone(TARGET_LUFS))
    make_clip(folder / "hum.mp4", duration_s=6, size=None, audio=stereo_source(f"{sine(TARGET_LUFS)}+{sine(-40.0, 50.0)}"))
    make_clip(folder / "one_channel_silent.wav", duration_s=6, size=None,
              audio=stereo_source(sine(TARGET_LUFS + ONE_CHANNEL_DB), "0"))
    make_clip(folder / "polarity.mp4", duration_s=6, size=None, audio=stereo_source(sine(TARGET_LUFS), f"-{sine(TARGET_LUFS)}"))
    clipped_burst = f"clip({sine(TARGET_LUFS)}*if(between(t,3,3.01),20,1),-1,1)"
    make_clip(folder / "clipped.wav", duration_s=6, size=None, audio=stereo_source(clipped_burst))
    make_clip(folder / "leading_silence.wav", duration_s=9, size=None, audio=stereo_source(f"if(gte(t,3),{sine(TARGET_LUFS)},0)"))
    make_clip(folder / "dropout.mp4", duration_s=6, size=None, audio=stereo_source(f"if(between(t,2.5,2.8),0,{sine(TARGET_LUFS)})"))
    make_clip(folder / "no_audio.mp4", duration_s=2, audio="none")
    make_clip(folder / "silence.wav", duration_s=3, size=None, audio=stereo_source("0"))
    (folder / "corrupt.mp4").write_bytes(b"an agency's upload that broke half way\n" * 50)
    # A WAV cut in half: its header still promises 6 s.
    whole = (folder / "clipped.wav").read_bytes()
    (folder / "truncated.wav").write_bytes(whole[: len(whole) // 2])
    return folder


@pytest.fixture(scope="module")
def report(defects: Path) -> QaReport:
    return run_qa([defects], preset="youtube", jobs=1)


def result_for(report: QaReport, name: str) -> FileResult:
    (found,) = [r for r in report.files if Path(r.path).name == name]
    return found


def problems(result: FileResult) -> dict[str, str]:
    return {c.name: c.status for c in result.checks if c.status != "pass"}


def test_every_file_is_checked_once_in_name_order(report: QaReport) -> None:
    assert [Path(r.path).name for r in report.files] == sorted([
        "clean.mp4", "clipped.wav", "corrupt.mp4", "dropout.mp4", "hum.mp4", "leading_silence.wav",
        "no_audio.mp4", "one_channel_silent.wav", "polarity.mp4", "silence.wav", "truncated.wav",
    ])


def test_clean_tone_at_the_target_passes(report: QaReport) -> None:
    clean = result_for(report, "clean.mp4")
    assert clean.status == "pass", problems(clean)
    assert clean.integrated_lufs == pytest.approx(TARGET_LUFS, abs=AAC_TOLERANCE_LU)
    assert clean.max_short_term_lufs == pytest.approx(TARGET_LUFS, abs=AAC_TOLERANCE_LU)
    assert clean.loudness_range_lu == pytest.approx(0.0, abs=0.2)  # a steady tone has no range
    assert clean.true_peak_dbtp == pytest.approx(TARGET_LUFS, abs=0.3)  # sine peak = its dBFS level
    assert clean.duration_s == pytest.approx(6.0, abs=0.05)
    assert clean.error is None


def test_hum_warns_with_its_frequency_and_level(report: QaReport) -> None:
    hum = result_for(report, "hum.mp4")
    assert (hum.status, problems(hum)) == ("warn", {"hum": "warn"})
    message = hum.check("hum").message
    match = re.fullmatch(r"50 Hz mains hum at (-\d+\.\d) dBFS, \d+\.\d dB above the noise floor", message)
    assert match, message
    assert float(match.group(1)) == pytest.approx(-40.0, abs=0.3)
    assert hum.integrated_lufs == pytest.approx(TARGET_LUFS, abs=AAC_TOLERANCE_LU)  # 50 Hz barely counts in K-weighting


def test_one_silent_channel_fails_channel_balance(report: QaReport) -> None:
    result = result_for(report, "one_channel_silent.wav")
    assert (result.status, problems(result)) == ("fail", {"channel_balance": "fail"})
    assert result.check("channel_balance").message == "FR is silent (digital silence) while FL is not"
    assert result.integrated_lufs == pytest.approx(TARGET_LUFS, abs=0.05)
    assert result.true_peak_dbtp == pytest.approx(TARGET_LUFS + ONE_CHANNEL_DB, abs=0.05)


def test_inverted_channel_fails_phase(report: QaReport) -> None:
    result = result_for(report, "polarity.mp4")
    assert (result.status, problems(result)) == ("fail", {"phase": "fail"})
    check = result.check("phase")
    assert check.value == pytest.approx(-1.0, abs=0.01)
    assert check.message.startswith("FL and FR are out of phase (correlation -1.00, under -0.20): the mono fold-down cancels")
    # Level per channel is unchanged by inverting one: still at the target.
    assert result.integrated_lufs == pytest.approx(TARGET_LUFS, abs=AAC_TOLERANCE_LU)


def test_clipped_burst_fails_clipping_and_true_peak(report: QaReport) -> None:
    result = result_for(report, "clipped.wav")
    # Full-scale flat tops necessarily exceed a -1 dBTP ceiling too.
    assert (result.status, problems(result)) == ("fail", {"clipping": "fail", "true_peak": "fail"})
    assert result.check("clipping").message == "clipped: 40 runs of 3 or more full-scale samples, first at 3.00 s"
    assert result.check("clipping").value == 40
    assert result.sample_peak_dbfs == pytest.approx(0.0, abs=0.01)
    assert result.true_peak_dbtp >= 0.0
    assert result.check("true_peak").message.endswith("(loudest sample at 3.00 s)")


def test_three_seconds_of_leading_silence_warn(report: QaReport) -> None:
    result = result_for(report, "leading_silence.wav")
    assert (result.status, problems(result)) == ("warn", {"leading_silence": "warn"})
    check = result.check("leading_silence")
    assert check.message == "3.00 s of silence (below -60 dBFS) before the sound starts (more than 1.00 s)"
    assert check.moments == ((0.0, 3.0),)
    # Gating leaves the silence out of the integrated loudness.
    assert result.integrated_lufs == pytest.approx(TARGET_LUFS, abs=0.2)


def test_dropout_fails_with_where_and_how_long(report: QaReport) -> None:
    result = result_for(report, "dropout.mp4")
    assert (result.status, problems(result)) == ("fail", {"dropouts": "fail"})
    check = result.check("dropouts")
    match = re.fullmatch(r"1 dropout \(digital silence inside the programme\), longest (\d\.\d\d) s, first at (\d\.\d\d) s",
                         check.message)
    assert match, check.message
    # 0.3 s of zeros; AAC's overlapping frames may smear up to ~1024 samples into each edge.
    assert 0.25 <= float(match.group(1)) <= 0.30
    assert float(match.group(2)) == pytest.approx(2.5, abs=0.03)


def test_file_without_audio_fails_with_that_reason(report: QaReport) -> None:
    result = result_for(report, "no_audio.mp4")
    assert result.status == "fail"
    assert result.error == "no audio stream"
    assert [(c.name, c.status, c.message) for c in result.checks] == [
        ("audio_stream", "fail", "no audio stream: nothing to measure")
    ]
    assert result.duration_s == pytest.approx(2.0, abs=0.1)
    assert result.integrated_lufs is None


def test_unreadable_files_fail_naming_the_error(report: QaReport) -> None:
    corrupt = result_for(report, "corrupt.mp4")
    assert corrupt.status == "fail"
    assert corrupt.error == "not a media file (no known container format)"  # as a render says it
    assert [(c.name, c.status) for c in corrupt.checks] == [("readable", "fail")]
    truncated = result_for(report, "truncated.wav")
    assert truncated.status == "fail"
    assert truncated.error.startswith("file is truncated")
    assert truncated.check("readable").message.startswith("cannot read the audio: file is truncated")


def test_digital_silence_has_no_loudness_and_says_why(report: QaReport) -> None:
    result = result_for(report, "silence.wav")
    assert (result.status, problems(result)) == (
        "fail", {"integrated_loudness": "fail", "leading_silence": "warn", "trailing_silence": "warn"})
    assert result.integrated_lufs is None
    assert result.check("integrated_loudness").message == "no measurable loudness: the audio is digital silence"


# ------------------------------------------------------------------ the command line


def test_cli_json_junit_and_html_for_a_folder(defects: Path, report: QaReport, tmp_path: Path) -> None:
    junit, page = tmp_path / "qa.xml", tmp_path / "qa.html"
    done = wayfinder("qa", defects, "--json", "--junit", junit, "--html", page, "--jobs", "2")
    assert done.returncode == 1, done.stderr
    data = json.loads(done.stdout)  # stdout holds the JSON and nothing else
    assert data["summary"] == {"files": 11, "pass": 1, "warn": 2, "fail": 8}
    by_name = {Path(item["path"]).name: item for item in data["files"]}
    for result in report.files:  # two worker processes agree with the in-process run
        item = by_name[Path(result.path).name]
        assert item["status"] == result.status
        assert [c["name"] for c in item["checks"]] == [c.name for c in result.checks]
    assert by_name["silence.wav"]["integrated_lufs"] is None
    assert by_name["no_audio.mp4"]["error"] == "no audio stream"
    assert isinstance(by_name["clean.mp4"]["integrated_lufs"], float)
    # The human table and the summary went to stderr.
    assert "verdict" in done.stderr
    assert "11 files: 1 pass, 2 warn, 8 fail" in done.stderr

    suites = ET.parse(junit).getroot().findall("testsuite")
    assert len(suites) == 11
    cases = [case for suite in suites for case in suite.findall("testcase")]
    assert len(cases) == sum(len(item["checks"]) for item in data["files"])
    failures = {(case.get("classname"), case.get("name")): case.find("failure").get("message")
                for case in cases if case.find("failure") is not None}
    expected = {(item["path"], c["name"]): c["message"]
                for item in data["files"] for c in item["checks"] if c["status"] == "fail"}
    assert failures == expected

    html = page.read_text(encoding="utf-8")
    assert html.count("<details class=\"file") == 11
    assert html.count("<svg") == 8  # every file that could be measured


def test_cli_exit_0_when_only_warnings_and_table_on_stdout(defects: Path) -> None:
    done = wayfinder("qa", defects / "clean.mp4", defects / "hum.mp4", "--jobs", "1")
    assert done.returncode == 0, done.stderr
    assert "2 files: 1 pass, 1 warn, 0 fail" in done.stdout
    assert "WARN" in done.stdout and "hum: 50 Hz mains hum" in done.stdout
    for column in ("file", "I LUFS", "LRA LU", "TP dBTP", "max ST LUFS", "verdict"):
        assert column in done.stdout


def test_another_preset_judges_against_its_own_target(defects: Path) -> None:
    (result,) = run_qa([defects / "clean.mp4"], preset="broadcast-r128", jobs=1).files
    check = result.check("integrated_loudness")
    # The same -14 LUFS tone is 9 LU too loud for EBU R128's -23 LUFS.
    assert (check.status, check.limit) == ("fail", -23.0)
    assert "above the -23.00 LUFS target" in check.message


def test_cli_bad_preset_exits_3(defects: Path) -> None:
    done = wayfinder("qa", defects / "clean.mp4", "--preset", "no-such-preset")
    assert done.returncode == 3
    assert "unknown preset 'no-such-preset'" in done.stderr
    assert done.stdout == ""


def test_a_folder_without_media_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("no media here")
    with pytest.raises(InputError, match="no media files found") as raised:
        run_qa([tmp_path], jobs=1)
    assert raised.value.exit_code == 3
