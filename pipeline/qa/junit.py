"""The JUnit XML report of `wayfinder qa --junit FILE`, so a CI system can gate on QA.

Owns: the mapping from QA results to JUnit — one `<testsuite>` per file, one
`<testcase>` per file and check (classname: the file's path, name: the check), a
`<failure>` with the check's message for every FAIL (unreadable files and files without
audio included), WARN as a passing test case whose `<system-out>` says WARN, and the
file's loudness numbers as suite properties. Built with ElementTree, so every path and
message is escaped.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from pipeline.qa.model import CheckResult, FileResult, QaReport
from pipeline.qa.output import write_text_atomically
from pipeline.qa.report_json import LOUDNESS_KEYS

SUITES_NAME = "wayfinder qa"


def _detail(check: CheckResult) -> str:
    value = "n/a" if check.value is None else f"{check.value:.2f}"
    limit = "n/a" if check.limit is None else f"{check.limit:.2f}"
    unit = f" {check.unit}" if check.unit else ""
    return f"{check.name}: {check.status.upper()}: {check.message}\nvalue: {value}{unit}\nlimit: {limit}{unit}"


def _suite(result: FileResult, preset: str) -> ET.Element:
    failures = sum(1 for c in result.checks if c.status == "fail")
    suite = ET.Element("testsuite", {
        "name": result.path,
        "tests": str(len(result.checks)),
        "failures": str(failures),
        "errors": "0",
        "skipped": "0",
        "time": f"{result.analysis_s:.3f}",
    })
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", {"name": "preset", "value": preset})
    ET.SubElement(properties, "property", {"name": "status", "value": result.status})
    ET.SubElement(properties, "property", {"name": "duration_s", "value": f"{result.duration_s:.2f}"})
    for key in LOUDNESS_KEYS:
        value = getattr(result, key)
        ET.SubElement(properties, "property", {"name": key, "value": "null" if value is None else f"{value:.2f}"})
    if result.error is not None:
        ET.SubElement(properties, "property", {"name": "error", "value": result.error})
    for check in result.checks:
        case = ET.SubElement(suite, "testcase", {"classname": result.path, "name": check.name, "time": "0"})
        if check.status == "fail":
            failure = ET.SubElement(case, "failure", {"message": check.message, "type": check.name})
            failure.text = _detail(check)
        elif check.status == "warn":
            ET.SubElement(case, "system-out").text = f"WARN: {check.message}"
    return suite


def build_junit_xml(report: QaReport) -> str:
    """The whole report as a JUnit XML document."""
    tests = sum(len(r.checks) for r in report.files)
    failures = sum(1 for r in report.files for c in r.checks if c.status == "fail")
    root = ET.Element("testsuites", {
        "name": f"{SUITES_NAME} (preset {report.preset})",
        "tests": str(tests),
        "failures": str(failures),
        "errors": "0",
        "skipped": "0",
        "time": f"{sum(r.analysis_s for r in report.files):.3f}",
    })
    for result in report.files:
        root.append(_suite(result, report.preset))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(report: QaReport, path: Path) -> Path:
    """Write the JUnit report to `path` (OutputError if it cannot be written)."""
    return write_text_atomically(Path(path), build_junit_xml(report))
