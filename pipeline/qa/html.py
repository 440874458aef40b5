"""The self-contained HTML report of `wayfinder qa --html FILE`.

Owns: one HTML file that someone who never used the command line can read — what was
checked against what, a summary table with colour-coded verdicts (and the verdict in
words, so colour is never the only signal), a short guide to the terms, and for each
file a collapsible section with its numbers, its loudness plot (`pipeline.qa.plot`)
and every check with its reason. Everything is inline (CSS and SVG): no network, no
JavaScript. With more than `OPEN_SECTIONS_UP_TO` files every section starts closed so
a batch of 50 stays usable through the summary table's links.
"""

from __future__ import annotations

import html
from datetime import datetime, timezone
from pathlib import Path

from pipeline import __version__
from pipeline.qa.model import INTEGRATED_LOUDNESS, LOUDNESS_RANGE, MAX_SHORT_TERM, TRUE_PEAK, CheckResult, FileResult, QaReport
from pipeline.qa.output import write_text_atomically
from pipeline.qa.checks import format_duration
from pipeline.qa.plot import build_loudness_svg

OPEN_SECTIONS_UP_TO = 10

CSS = """
:root { --pass: #1a7f37; --pass-bg: #dafbe1; --warn: #7d4e00; --warn-bg: #fff8c5; --fail: #cf222e;
        --fail-bg: #ffebe9; --line: #d0d7de; --muted: #57606a; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: #1f2328;
       margin: 0 auto; max-width: 1100px; padding: 24px; background: #f6f8fa; }
h1 { font-size: 1.6em; margin: 0 0 4px; }
h2 { font-size: 1.2em; margin: 28px 0 10px; }
.meta { color: var(--muted); margin: 0 0 12px; }
.counts .badge { font-size: 0.95em; margin-right: 6px; }
.badge { display: inline-block; padding: 1px 9px; border-radius: 999px; font-weight: 600; font-size: 0.85em;
         border: 1px solid currentColor; white-space: nowrap; }
.badge.pass { color: var(--pass); background: var(--pass-bg); }
.badge.warn { color: var(--warn); background: var(--warn-bg); }
.badge.fail { color: var(--fail); background: var(--fail-bg); }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
th, td { padding: 6px 9px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: #eaeef2; font-weight: 600; font-size: 0.9em; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.num.warn { background: var(--warn-bg); color: var(--warn); font-weight: 600; }
td.num.fail { background: var(--fail-bg); color: var(--fail); font-weight: 600; }
tr.fail td:first-child { border-left: 4px solid var(--fail); }
tr.warn td:first-child { border-left: 4px solid #d4a72c; }
tr.pass td:first-child { border-left: 4px solid var(--pass); }
td.path { min-width: 16em; overflow-wrap: anywhere; }
a { color: #0969da; }
details.file { background: #fff; border: 1px solid var(--line); border-radius: 6px; margin: 10px 0; }
details.file > summary { cursor: pointer; padding: 10px 14px; font-weight: 600; list-style-position: inside; }
details.file > summary .finding { font-weight: 400; color: var(--muted); }
details.file.fail { border-left: 5px solid var(--fail); }
details.file.warn { border-left: 5px solid #d4a72c; }
details.file.pass { border-left: 5px solid var(--pass); }
.body { padding: 0 14px 14px; }
dl.numbers { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 6px 14px; margin: 4px 0 12px; }
dl.numbers div { background: #f6f8fa; border-radius: 4px; padding: 4px 8px; }
dl.numbers dt { font-size: 0.8em; color: var(--muted); }
dl.numbers dd { margin: 0; font-weight: 600; font-variant-numeric: tabular-nums; }
figure { margin: 0 0 12px; }
figcaption { font-size: 0.85em; color: var(--muted); }
svg.plot { display: block; max-width: 100%; height: auto; }
svg.plot text { font: 12px system-ui, "DejaVu Sans", sans-serif; fill: #57606a; }
svg.plot text.line-label { font-size: 11px; font-weight: 600; }
svg.plot text.axis-label { fill: #1f2328; }
.error { color: var(--fail); font-weight: 600; }
.guide { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; }
.guide summary { cursor: pointer; font-weight: 600; }
"""

GUIDE = """
<details class="guide"><summary>How to read this report</summary>
<ul>
<li><b>PASS</b>: fine. <b>WARN</b>: worth a listen before publishing. <b>FAIL</b>: fix before publishing.</li>
<li><b>Integrated loudness (LUFS)</b>: how loud the whole file sounds on average. YouTube plays everything at about
 -14 LUFS; a file far below the target sounds weak next to other videos, far above it gets turned down.</li>
<li><b>Loudness range, LRA (LU)</b>: how much the level varies between quiet and loud passages. Speech heard on a
 phone speaker should be fairly even.</li>
<li><b>True peak (dBTP)</b>: the highest point of the waveform, including between samples. Above the ceiling,
 lossy encoding (YouTube's, a phone's) distorts.</li>
<li><b>Momentary / short-term</b>: loudness over the last 0.4 s / 3 s, drawn over time in each plot; the green
 band is the target. Shaded stretches are the moments a check found at fault (hover for details).</li>
<li><b>Dropouts</b> are stretches of total digital silence inside the programme; <b>clipping</b> is the waveform
 flattened at full scale; <b>phase</b> problems make the sound vanish on mono speakers; <b>hum</b> is 50/60 Hz
 mains interference.</li>
</ul>
</details>
"""

SUMMARY_COLUMNS = (
    ("integrated_lufs", INTEGRATED_LOUDNESS, "Integrated<br>LUFS"),
    ("loudness_range_lu", LOUDNESS_RANGE, "LRA<br>LU"),
    ("true_peak_dbtp", TRUE_PEAK, "True peak<br>dBTP"),
    ("max_short_term_lufs", MAX_SHORT_TERM, "Max short-term<br>LUFS"),
)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _badge(status: str, count: int | None = None) -> str:
    label = status.upper() if count is None else f"{count} {status.upper()}"
    return f'<span class="badge {status}">{label}</span>'


def _num(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _finding(result: FileResult) -> str:
    problems = result.problems()
    if not problems:
        return "all checks passed"
    more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{problems[0].message}{more}"


def _file_id(index: int) -> str:
    return f"file-{index}"


def _summary_table(report: QaReport) -> str:
    rows = []
    for index, result in enumerate(report.files, start=1):
        cells = [
            f'<td class="num">{index}</td>',
            f'<td class="path"><a href="#{_file_id(index)}">{_e(result.path)}</a></td>',
            f"<td>{_badge(result.status)}</td>",
        ]
        for key, check_name, _ in SUMMARY_COLUMNS:
            check = result.check(check_name)
            css = check.status if check is not None else ""
            cells.append(f'<td class="num {css}">{_num(getattr(result, key))}</td>')
        cells.append(f'<td class="num">{format_duration(result.duration_s)}</td>')
        cells.append(f"<td>{_e(_finding(result))}</td>")
        rows.append(f'<tr class="{result.status}">{"".join(cells)}</tr>')
    headers = "".join(f"<th>{label}</th>" for _, _, label in SUMMARY_COLUMNS)
    return (
        '<table class="summary"><thead><tr><th>#</th><th>File</th><th>Verdict</th>'
        f"{headers}<th>Duration</th><th>Main finding</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _numbers(result: FileResult) -> str:
    items = [
        ("Integrated", _num(result.integrated_lufs), "LUFS"),
        ("Loudness range", _num(result.loudness_range_lu), "LU"),
        ("True peak", _num(result.true_peak_dbtp), "dBTP"),
        ("Sample peak", _num(result.sample_peak_dbfs), "dBFS"),
        ("Max momentary", _num(result.max_momentary_lufs), "LUFS"),
        ("Max short-term", _num(result.max_short_term_lufs), "LUFS"),
        ("Duration", format_duration(result.duration_s), ""),
        ("Channels", " ".join(result.channel_names) or "–", ""),
        ("Sample rate", "–" if result.sample_rate_hz is None else f"{result.sample_rate_hz}", "Hz" if result.sample_rate_hz else ""),
    ]
    cells = "".join(f"<div><dt>{_e(label)}</dt><dd>{_e(value)} {_e(unit)}</dd></div>" for label, value, unit in items)
    return f'<dl class="numbers">{cells}</dl>'


def format_check_number(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    # Counts (clips) read as whole numbers; everything else has the report's 0.01 precision.
    number = f"{value:.0f}" if unit == "clips" else f"{value:.2f}"
    return f"{number} {unit}" if unit else number


def _check_row(check: CheckResult) -> str:
    value = format_check_number(check.value, check.unit)
    limit = format_check_number(check.limit, check.unit)
    return (f'<tr class="{check.status}"><td>{_e(check.name.replace("_", " "))}</td><td>{_badge(check.status)}</td>'
            f'<td class="num">{_e(value)}</td><td class="num">{_e(limit)}</td><td>{_e(check.message)}</td></tr>')


def _file_section(index: int, result: FileResult, report: QaReport, open_section: bool) -> str:
    body = []
    if result.error is not None:
        body.append(f'<p class="error">Could not be measured: {_e(result.error)}</p>')
    else:
        body.append(_numbers(result))
        short_term = result.check(MAX_SHORT_TERM)
        svg = build_loudness_svg(
            result,
            target_lufs=report.target_lufs,
            tolerance_lu=report.tolerance_lu,
            ceiling_dbtp=report.true_peak_dbtp,
            short_term_limit_lufs=short_term.limit if short_term is not None else None,
            element_id=f"plot-{index}",
        )
        if svg:
            body.append(f"<figure>{svg}<figcaption>Momentary and short-term loudness of {_e(result.path)} over time, "
                        "with the target band, the short-term limit and the true-peak ceiling; shaded: moments "
                        "checks found at fault. The lines start once their window (0.4 s, 3 s) is full.</figcaption></figure>")
    rows = "".join(_check_row(check) for check in result.checks)
    body.append(f'<table class="checks"><thead><tr><th>Check</th><th>Verdict</th><th>Value</th><th>Limit</th>'
                f"<th>What was found</th></tr></thead><tbody>{rows}</tbody></table>")
    opened = " open" if open_section else ""
    return (f'<details class="file {result.status}" id="{_file_id(index)}"{opened}>'
            f'<summary>{_badge(result.status)} {_e(result.path)} <span class="finding">— {_e(_finding(result))}</span></summary>'
            f'<div class="body">{"".join(body)}</div></details>')


def build_html(report: QaReport, *, generated_at: datetime | None = None) -> str:
    """The whole report as one self-contained HTML document."""
    when = (generated_at or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M %Z").strip()
    summary = report.summary
    open_sections = len(report.files) <= OPEN_SECTIONS_UP_TO
    # Small batches open what needs attention; big ones start closed (the table links in).
    sections = "".join(
        _file_section(index, result, report, len(report.files) == 1 or (open_sections and result.status != "pass"))
        for index, result in enumerate(report.files, start=1)
    )
    plural = "s" if summary.files != 1 else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Loudness QA: {summary.files} file{plural}, {summary.failed} failed</title>
<style>{CSS}</style>
</head>
<body>
<header>
<h1>Loudness QA report</h1>
<p class="meta">Preset <b>{_e(report.preset)}</b>: target {report.target_lufs:.2f} LUFS ± {report.tolerance_lu:.2f} LU,
true-peak ceiling {report.true_peak_dbtp:.2f} dBTP · {summary.files} file{plural} · generated {_e(when)} by Wayfinder {_e(__version__)}</p>
<p class="counts">{_badge("pass", summary.passed)} {_badge("warn", summary.warned)} {_badge("fail", summary.failed)}</p>
</header>
<main>
<h2>Summary</h2>
{_summary_table(report)}
{GUIDE}
<h2>Files</h2>
{sections}
</main>
</body>
</html>
"""


def write_html(report: QaReport, path: Path) -> Path:
    """Write the HTML report to `path` (OutputError if it cannot be written)."""
    return write_text_atomically(Path(path), build_html(report))
