"""The three QA report formats on a hand-made report: the JSON contract, JUnit, HTML.

The JSON shape is the README's contract: exactly these keys, these types, numbers
rounded to 0.01, null where nothing could be measured.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from pipeline.errors import OutputError
from pipeline.qa.html import build_html, write_html
from pipeline.qa.junit import build_junit_xml, write_junit
from pipeline.qa.model import CheckResult, FileResult, QaReport
from pipeline.qa.report_json import build_report_dict, format_report_json

FILE_KEYS = {
    "path", "status", "duration_s", "integrated_lufs", "loudness_range_lu", "true_peak_dbtp",
    "sample_peak_dbfs", "max_momentary_lufs", "max_short_term_lufs", "checks", "error",
}
CHECK_KEYS = {"name", "status", "value", "limit", "message"}
NUMBER_KEYS = FILE_KEYS - {"path", "status", "checks", "error"}


def measured(path: str, *, status: str = "pass", checks: tuple[CheckResult, ...] = ()) -> FileResult:
    series = np.concatenate([np.full(5, -np.inf), np.linspace(-30, -12, 55)]).astype(np.float32)
    return FileResult(
        path=path, status=status, duration_s=6.004,  # type: ignore[arg-type]
        checks=checks or (CheckResult("integrated_loudness", "pass", -14.0, -14.0, "ok", "LUFS"),),
        integrated_lufs=-14.004, loudness_range_lu=3.456, true_peak_dbtp=-1.2345, sample_peak_dbfs=-1.5,
        max_momentary_lufs=-11.999, max_short_term_lufs=-12.5, sample_rate_hz=48000, channel_names=("FL", "FR"),
        momentary_lufs=series, short_term_lufs=series, peak_time_s=2.0, analysis_s=0.25,
    )


def sample_report() -> QaReport:
    clipped = (
        CheckResult("integrated_loudness", "pass", -14.0, -14.0, "-14.00 LUFS, within", "LUFS"),
        CheckResult("true_peak", "fail", 0.35, -1.0, "0.35 dBTP is 1.35 dB over the -1.00 dBTP ceiling", "dBTP", ((3.0, 3.0),)),
        CheckResult("clipping", "fail", 40, 0, "clipped: 40 runs", "clips", ((3.0, 3.01),)),
        CheckResult("hum", "warn", 56.1, 15.0, "50 Hz mains hum", "dB"),
    )
    silent = FileResult(
        path="silence.wav", status="fail", duration_s=3.0,
        checks=(CheckResult("integrated_loudness", "fail", None, -14.0,
                            "no measurable loudness: the audio is digital silence", "LUFS"),),
        momentary_lufs=np.full(30, -np.inf, dtype=np.float32), short_term_lufs=np.full(30, -np.inf, dtype=np.float32),
    )
    broken = FileResult(
        path="broken.mp4", status="fail", duration_s=0.0,
        checks=(CheckResult("readable", "fail", None, None, "cannot read the audio: not a media file"),),
        error="not a media file",
    )
    return QaReport(
        preset="youtube", target_lufs=-14.0, true_peak_dbtp=-1.0, tolerance_lu=1.0,
        files=(measured("clean.mp4"), measured('odd <b>&"name\'.wav', status="fail", checks=clipped), silent, broken),
    )


def test_json_has_exactly_the_contract_keys_and_types() -> None:
    data = json.loads(format_report_json(sample_report()))
    assert set(data) == {"files", "summary"}
    assert data["summary"] == {"files": 4, "pass": 1, "warn": 0, "fail": 3}
    for item in data["files"]:
        assert set(item) == FILE_KEYS
        assert isinstance(item["path"], str)
        assert item["status"] in ("pass", "warn", "fail")
        assert isinstance(item["duration_s"], float)
        for key in NUMBER_KEYS - {"duration_s"}:
            assert item[key] is None or isinstance(item[key], float), key
        assert item["error"] is None or isinstance(item["error"], str)
        for check in item["checks"]:
            assert set(check) == CHECK_KEYS
            assert isinstance(check["name"], str) and isinstance(check["message"], str)
            assert check["status"] in ("pass", "warn", "fail")
            for key in ("value", "limit"):
                assert check[key] is None or isinstance(check[key], float)


def test_json_numbers_are_rounded_to_hundredths() -> None:
    clean = build_report_dict(sample_report())["files"][0]
    assert clean["duration_s"] == 6.0
    assert clean["integrated_lufs"] == -14.0
    assert clean["loudness_range_lu"] == 3.46
    assert clean["true_peak_dbtp"] == -1.23
    assert clean["max_momentary_lufs"] == -12.0
    text = format_report_json(sample_report())
    for number in re.findall(r"-?\d+\.\d+", text):
        assert len(number.split(".")[1]) <= 2, number


def test_json_silence_is_null_with_a_check_that_says_why() -> None:
    silent = build_report_dict(sample_report())["files"][2]
    assert silent["integrated_lufs"] is None
    assert silent["true_peak_dbtp"] is None
    (check,) = silent["checks"]
    assert check == {"name": "integrated_loudness", "status": "fail", "value": None, "limit": -14.0,
                     "message": "no measurable loudness: the audio is digital silence"}
    broken = build_report_dict(sample_report())["files"][3]
    assert broken["error"] == "not a media file"
    assert broken["duration_s"] == 0.0


def test_junit_has_one_test_case_per_file_and_check(tmp_path: Path) -> None:
    report = sample_report()
    path = write_junit(report, tmp_path / "qa.xml")
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    assert root.get("tests") == "7"  # 1 + 4 + 1 + 1 checks
    assert root.get("failures") == "4"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [f.path for f in report.files]
    odd = suites[1]
    cases = odd.findall("testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        (report.files[1].path, name) for name in ("integrated_loudness", "true_peak", "clipping", "hum")
    ]
    assert cases[0].find("failure") is None
    assert cases[1].find("failure").get("message") == "0.35 dBTP is 1.35 dB over the -1.00 dBTP ceiling"
    assert "value: 0.35 dBTP" in cases[1].find("failure").text
    assert cases[3].find("failure") is None
    assert cases[3].find("system-out").text == "WARN: 50 Hz mains hum"
    properties = {p.get("name"): p.get("value") for p in odd.find("properties")}
    assert properties["integrated_lufs"] == "-14.00"
    broken_case = suites[3].find("testcase")
    assert broken_case.get("name") == "readable"
    assert broken_case.find("failure").get("message") == "cannot read the audio: not a media file"


def test_junit_is_well_formed_for_any_text() -> None:
    ET.fromstring(build_junit_xml(sample_report()).split("\n", 1)[1])


def test_html_is_self_contained_and_escapes_names(tmp_path: Path) -> None:
    page = write_html(sample_report(), tmp_path / "qa.html").read_text(encoding="utf-8")
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)\s*=\s*["'](?!#)""", page), "only in-page links"
    assert "url(" not in page and "@import" not in page and "<link" not in page
    assert page.count("<svg") == 3  # every measured file (silence is drawn at the bottom); not the broken one
    assert 'odd &lt;b&gt;&amp;&quot;name&#x27;.wav' in page
    assert "<b>&" not in page.replace("<b>youtube</b>", "")


def test_html_summary_links_every_file_and_colours_verdicts() -> None:
    page = build_html(sample_report())
    for index in range(1, 5):
        assert f'href="#file-{index}"' in page
        assert f'id="file-{index}"' in page
    assert page.count('<span class="badge fail">FAIL</span>') >= 3
    assert 'class="num fail"' in page  # the true-peak cell of the clipped file


def test_html_plot_marks_targets_and_failing_moments() -> None:
    page = build_html(sample_report())
    assert 'class="target-band"' in page
    assert 'class="ceiling"' in page
    assert 'class="moment fail"' in page
    assert 'class="short-term"' in page and 'class="momentary"' in page


def test_html_for_a_big_batch_starts_with_sections_closed() -> None:
    report = sample_report()
    many = QaReport(report.preset, report.target_lufs, report.true_peak_dbtp, report.tolerance_lu,
                    tuple(measured(f"clip-{i:02d}.mp4", status="fail") for i in range(50)))
    page = build_html(many)
    assert page.count("<details class=\"file") == 50
    assert page.count(" open>") == 0
    small = build_html(report)
    assert small.count(" open>") == 3  # the failing files


def test_a_report_that_cannot_be_written_is_an_output_error(tmp_path: Path) -> None:
    target = tmp_path / "missing-folder" / "qa.xml"  # missing: unwritable even for root
    with pytest.raises(OutputError, match="cannot write the report") as raised:
        write_junit(sample_report(), target)
    assert raised.value.exit_code == 1
    assert not list(tmp_path.rglob("*.partial"))


def test_reports_replace_an_old_one_whole(tmp_path: Path) -> None:
    target = tmp_path / "qa.html"
    target.write_text("old report")
    write_html(sample_report(), target)
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir()] == ["qa.html"]
