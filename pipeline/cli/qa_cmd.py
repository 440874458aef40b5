"""`wayfinder qa`: loudness and audio QA of files and folders, for people and for CI.

Owns the command line only: options, the progress bar, the Rich table and the one-line
summary, where each output goes (JSON on stdout with `--json`, the table then goes to
stderr), the report files, and the exit code (0 nothing failed, 1 a check failed, 3 a
bad preset). The work is `pipeline.qa.run.run_qa`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from pipeline.cli.app import handle_errors
from pipeline.cli.console import err_console, out_console
from pipeline.cli.signals import StopOnSignal
from pipeline.cli.tables import Shorten, compact_table, fit_paths, shown_path
from pipeline.errors import EXIT_FAILED

if TYPE_CHECKING:
    from pipeline.qa.model import FileResult, QaReport

STATUS_STYLES = {"pass": "bold green", "warn": "bold yellow", "fail": "bold red"}


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def build_table(report: QaReport, console: Console) -> Table:
    """One row per file; the file column fits the console (paths shortened from the left)."""
    return fit_paths(lambda shorten: _table(report, shorten), "file", console)


def _table(report: QaReport, shorten: Shorten) -> Table:
    table = compact_table(show_header=True, header_style="bold", title=None)
    table.add_column("file", overflow="fold")  # folds only a name longer than the room (rare)
    for header in ("I LUFS", "LRA LU", "TP dBTP", "max ST LUFS"):
        table.add_column(header, justify="right", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    for result in report.files:
        table.add_row(
            Text(shorten(result.path)),
            _number(result.integrated_lufs),
            _number(result.loudness_range_lu),
            _number(result.true_peak_dbtp),
            _number(result.max_short_term_lufs),
            Text(result.status.upper(), style=STATUS_STYLES[result.status]),
        )
    return table


def print_findings(console: Console, results: tuple[FileResult, ...]) -> None:
    """One line per check that did not pass, so the reasons are in the terminal too."""
    for result in results:
        for check in result.problems():
            line = Text("  ")
            line.append(check.status.upper(), style=STATUS_STYLES[check.status])
            line.append(f" {shown_path(result.path)}: {check.name}: {check.message}")
            console.print(line, soft_wrap=True)


def format_summary(report: QaReport) -> str:
    s = report.summary
    return (f"{s.files} file{'s' if s.files != 1 else ''}: {s.passed} pass, {s.warned} warn, {s.failed} fail "
            f"(preset {report.preset}: {report.target_lufs:.2f} LUFS ±{report.tolerance_lu:.2f} LU, "
            f"true peak ≤ {report.true_peak_dbtp:.2f} dBTP)")


def register(app: typer.Typer) -> None:
    @app.command("qa")
    @handle_errors
    def qa_command(
        paths: list[Path] = typer.Argument(..., help="Media files or folders (searched recursively for media files)."),
        preset: str = typer.Option("youtube", "--preset", "-p", help="Preset whose target, ceiling and QA thresholds apply."),
        json_out: bool = typer.Option(False, "--json", help="Print the results as JSON on stdout (the table goes to stderr)."),
        junit: Optional[Path] = typer.Option(None, "--junit", help="Also write a JUnit XML report here (one test case per file and check)."),
        html_out: Optional[Path] = typer.Option(None, "--html", help="Also write a self-contained HTML report with plots here."),
        jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1, help="Files measured in parallel (default: the number of cores)."),
    ) -> None:
        """Check loudness and audio defects of PATHS against a preset: PASS, WARN or FAIL per check.

        Exit 0 when nothing failed, 1 when any check failed, 3 for a bad preset.
        """
        # The QA engine (scipy, the meter) loads only when the command runs.
        from pipeline.qa.html import write_html
        from pipeline.qa.junit import write_junit
        from pipeline.qa.report_json import format_report_json
        from pipeline.qa.run import find_media_files, run_qa
        from pipeline.qa.limits import load_qa_limits

        load_qa_limits(preset)  # a bad preset is reported before any file is read
        total = len(find_media_files(paths))
        with StopOnSignal():
            columns = (TextColumn("qa", style="bold", markup=False), BarColumn(), MofNCompleteColumn(),
                       TextColumn("{task.description}", markup=False),
                       TimeElapsedColumn())
            with Progress(*columns, console=err_console, transient=True, disable=not err_console.is_terminal) as bar:
                task = bar.add_task("", total=total or None)

                def file_done(result: FileResult) -> None:
                    bar.update(task, advance=1, description=Path(result.path).name)

                report = run_qa(paths, preset=preset, jobs=jobs, on_file_done=file_done)

        human = err_console if json_out else out_console
        human.print(build_table(report, human))
        print_findings(human, report.files)
        human.print(format_summary(report), highlight=False, markup=False, soft_wrap=True)
        if junit is not None:
            err_console.print(f"wrote JUnit report {write_junit(report, junit)}", highlight=False, markup=False)
        if html_out is not None:
            err_console.print(f"wrote HTML report {write_html(report, html_out)}", highlight=False, markup=False)
        if json_out:
            out_console.print(format_report_json(report), markup=False, highlight=False, emoji=False, soft_wrap=True)
        if report.failed:
            raise typer.Exit(EXIT_FAILED)
