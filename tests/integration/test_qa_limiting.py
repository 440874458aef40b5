"""Heavy limiting shown by `wayfinder qa` (issue 12: "if more than a few dB of limiting
would be needed, say so in the report and QA"). QA learns the limiting from the render
report beside the file, which counts only for the very file it describes (sha256). The
peaky clip of test_peaky_target (three 300 ms clicks peaking at -1 dBFS over a -60 dBFS
floor) needs far more than 4 dB of limiting at -20 LUFS; rendered with
`lower-target` it needs no limiter at all."""

from __future__ import annotations

import html as html_module
import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.integration.cli import wayfinder
from tests.integration.test_peaky_target import peaky, render  # noqa: F401 - the fixture

LIMITED_TARGET_LUFS = -14.0  # about 9 dB of limiting on these clicks, the enhancer off
MAX_LIMITING_DB = 4.0  # QaSettings.max_limiting_db, the render's own warning threshold


def qa_all_ways(media: Path, folder: Path) -> tuple[dict, str, ET.Element, str]:
    junit, html = folder / "qa.xml", folder / "qa.html"
    result = wayfinder("qa", media, "--json", "--junit", junit, "--html", html, "--jobs", "1")
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout), result.stderr, ET.parse(junit).getroot(), html.read_text()


def limiting_check(report: dict) -> dict:
    return next(c for c in report["files"][0]["checks"] if c["name"] == "limiting")


def test_heavy_limiting_warns_in_text_json_junit_and_html(peaky: Path, tmp_path: Path) -> None:  # noqa: F811
    result, out = render(tmp_path, peaky, LIMITED_TARGET_LUFS)
    assert result.returncode == 0, result.stderr
    gain = json.loads(out.with_name("out.m4a.wayfinder.json").read_text())["measurements"]["audio"]["gain"]
    assert gain["limiter"] and gain["limiting_db"] > MAX_LIMITING_DB
    report, text, junit, html = qa_all_ways(out, tmp_path)
    check = limiting_check(report)
    assert check["status"] == "warn" and check["value"] == gain["limiting_db"] and check["limit"] == MAX_LIMITING_DB
    assert report["files"][0]["status"] in ("warn", "fail")
    assert f"WARN {out}: limiting: the render's limiter took up to {gain['limiting_db']:.2f} dB" in " ".join(text.split())
    case = junit.find(".//testcase[@name='limiting']")
    assert case is not None and case.find("failure") is None
    assert case.find("system-out").text.startswith("WARN: the render's limiter took up to")
    assert html_module.escape(check["message"]) in html


def test_no_limiter_passes_and_a_file_without_its_report_is_not_known(peaky: Path, tmp_path: Path) -> None:  # noqa: F811
    result, out = render(tmp_path, peaky, -14.0, 'limiter_policy = "lower-target"')
    assert result.returncode == 0, result.stderr
    check = limiting_check(qa_all_ways(out, tmp_path)[0])
    assert check["status"] == "pass" and check["value"] == 0.0 and "no limiter" in check["message"]
    # The same report beside another file (or after the file changed) says nothing.
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(peaky, other / "out.m4a")
    shutil.copy(out.with_name("out.m4a.wayfinder.json"), other / "out.m4a.wayfinder.json")
    check = limiting_check(qa_all_ways(other / "out.m4a", other)[0])
    assert check["status"] == "pass" and check["value"] is None and "not known" in check["message"]
