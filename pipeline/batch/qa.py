"""`--qa` for a batch: run QA on every output and write the HTML report.

The QA engine is `pipeline.qa` (`run.run_qa(paths, preset, jobs) -> QaReport` and
`html.write_html(report, path)`), imported lazily: a build without it refuses `--qa`
before anything renders. QA targets depend on the preset, so outputs are checked per
preset; one preset gives `qa-report.html`, several give `qa-report-PRESET.html` each.

A file QA cannot read is a failing result there, never an exception, so one bad
output does not hide the verdicts of the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.errors import UsageError

UNKNOWN = "unknown"  # an output QA did not report on


@dataclass
class QaSummary:
    verdicts: dict[str, str] = field(default_factory=dict)  # job name -> pass / warn / fail / unknown
    reasons: dict[str, str] = field(default_factory=dict)  # job name -> the checks that did not pass, and why
    html_paths: list[Path] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return "fail" in self.verdicts.values()


def require_qa() -> tuple[Callable[..., Any], Callable[..., Any]]:
    """`run_qa` and `write_html`, or a usage error (exit 2) if QA is not in this build."""
    try:
        from pipeline.qa.html import write_html
        from pipeline.qa.run import run_qa
    except ModuleNotFoundError as exc:
        if exc.name and (exc.name == "pipeline.qa" or exc.name.startswith("pipeline.qa.")):
            raise UsageError("--qa: QA is not available in this version") from None
        raise
    return run_qa, write_html


def verdicts_by_path(report: Any) -> dict[Path, str]:
    """Per-file verdicts of a `pipeline.qa.model.QaReport` (`files[i].path`, `.status`)."""
    return {Path(result.path).resolve(): str(result.status) for result in report.files}


def reasons_by_path(report: Any) -> dict[Path, str]:
    """Per file, every check that did not pass as `name: message` (a FAIL is never bare)."""
    return {Path(result.path).resolve(): "; ".join(f"{check.status} {check.name}: {check.message}"
                                                   for check in result.problems())
            for result in report.files if result.problems()}


def html_name(preset: str, presets_in_batch: int) -> str:
    return "qa-report.html" if presets_in_batch == 1 else f"qa-report-{preset}.html"


def run_batch_qa(outputs: list[tuple[str, Path, str]], *, jobs: int | None, report_dir: Path) -> QaSummary:
    """QA every (name, output path, preset); returns verdicts by job name and the HTML reports."""
    run_qa, write_html = require_qa()
    summary = QaSummary()
    by_preset: dict[str, list[tuple[str, Path]]] = {}
    for name, path, preset in outputs:
        by_preset.setdefault(preset, []).append((name, path))
    for preset, items in sorted(by_preset.items()):
        report = run_qa([path for _, path in items], preset, jobs)
        html_path = report_dir / html_name(preset, len(by_preset))
        write_html(report, html_path)
        summary.html_paths.append(html_path)
        found = verdicts_by_path(report)
        why = reasons_by_path(report)
        for name, path in items:
            summary.verdicts[name] = found.get(path.resolve(), UNKNOWN)
            if path.resolve() in why:
                summary.reasons[name] = why[path.resolve()]
    return summary
