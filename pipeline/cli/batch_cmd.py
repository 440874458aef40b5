"""`wayfinder batch`: render a manifest of jobs, in parallel and incrementally.

The command is a thin shell over `pipeline.batch.run_batch`: it checks the options,
draws the progress (an overall bar weighted by media duration, and a bar per running
job, on stderr) and prints the summary table (stdout) or, with `--json`, the batch report.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from pipeline.cli.app import handle_errors
from pipeline.cli.console import err_console, out_console, print_labelled, styled
from pipeline.cli.progress import RenderProgress
from pipeline.cli.signals import StopOnSignal
from pipeline.cli.tables import Shorten, compact_table, fit_paths, shown_path
from pipeline.errors import UsageError
from pipeline.media import Progress as FfmpegProgress

if TYPE_CHECKING:
    from pipeline.batch.manifest import BatchManifest
    from pipeline.batch.model import Decision, JobEvent, JobOutcome
    from pipeline.batch.run import BatchRun

STATUS_STYLES = {
    "rendered": "green", "up-to-date": "cyan", "failed": "bold red", "cancelled": "yellow", "not-run": "yellow",
    "render": "green", "skip": "cyan", "fail": "bold red", "pass": "green", "warn": "yellow",
}


class BatchProgressView:
    """Rich bars fed by job events, which arrive from render threads or the Dask client."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._progress = Progress(
            TextColumn("{task.description}", style="bold", markup=False),
            BarColumn(),
            TextColumn("{task.percentage:>5.1f}%"),
            TextColumn("{task.fields[detail]}", markup=False),
            TimeRemainingColumn(),
            console=err_console,
            disable=not err_console.is_terminal,
        )
        self._overall: TaskID | None = None
        self._running: dict[str, TaskID] = {}
        self._positions_s: dict[str, float] = {}
        self._folds: dict[str, RenderProgress] = {}
        self._durations_s: dict[str, float] = {}
        self._done_s = 0.0
        self._jobs_done = 0
        self._jobs_total = 0

    def __enter__(self) -> "BatchProgressView":
        self._progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.__exit__(*exc)

    def on_decided(self, manifest: BatchManifest, decisions: list[Decision]) -> None:
        for text in manifest.notes:
            print_labelled("note:", "cyan", text)
        to_render = [d for d in decisions if d.action == "render"]
        skipped = sum(1 for d in decisions if d.action == "skip")
        failing = [d for d in decisions if d.action == "fail"]
        err_console.print(
            f"{len(decisions)} job{'s' if len(decisions) != 1 else ''}: {len(to_render)} to render, "
            f"{skipped} up to date, {len(failing)} cannot start")
        for decision in failing:
            print_labelled("failed", "bold red", f"{decision.name}: {decision.reason}")
        self._durations_s = {d.name: d.duration_s or 0.0 for d in to_render}
        self._jobs_total = len(to_render)
        if to_render:
            self._overall = self._progress.add_task(
                self._overall_label(), total=sum(self._durations_s.values()) or None, detail="")

    def _overall_label(self) -> str:
        return f"batch {self._jobs_done}/{self._jobs_total} jobs"

    def on_event(self, event: JobEvent) -> None:
        with self._lock:
            if event.kind == "started" and event.name not in self._running:
                self._running[event.name] = self._progress.add_task(
                    f"  {event.name}", total=self._durations_s.get(event.name) or None, detail="analysing")
            elif event.kind == "progress" and event.name in self._running:
                total_s = self._durations_s.get(event.name) or event.total_s or 0.0
                # Held at its highest: ffmpeg's time can step back, and a bar must not.
                fraction = self._folds.setdefault(event.name, RenderProgress()).update(
                    FfmpegProgress(event.out_time_s, total_s or None, event.speed_x, False))
                position_s = fraction * total_s if total_s else event.out_time_s
                self._positions_s[event.name] = max(position_s, self._positions_s.get(event.name, 0.0))
                speed = f"{event.speed_x:.1f}x" if event.speed_x else ""
                self._progress.update(self._running[event.name], completed=position_s, detail=f"encoding {speed}")
            elif event.kind == "finished" and event.outcome is not None:
                task = self._running.pop(event.name, None)
                if task is not None:
                    self._progress.remove_task(task)
                self._positions_s.pop(event.name, None)
                self._done_s += self._durations_s.get(event.name, 0.0)
                self._jobs_done += 1
                self._print_outcome(event)
            if self._overall is not None:
                self._progress.update(self._overall, completed=self._done_s + sum(self._positions_s.values()),
                                      description=self._overall_label())

    def _print_outcome(self, event: JobEvent) -> None:
        outcome = event.outcome
        assert outcome is not None
        style = STATUS_STYLES.get(outcome.status, "")
        detail = outcome.reason
        if outcome.status == "rendered":
            # The job's share of the machine: its CPU time over its wall time x the cores.
            share = f", {100 * outcome.machine_share:.0f}% of the machine" if outcome.machine_share is not None else ""
            detail = f"{shown_path(outcome.output_path or '')} ({outcome.wall_time_s or 0:.1f} s{share}, {outcome.reason})"
        print_labelled(outcome.status, style, f"{outcome.name}: {detail}", console=self._progress.console)


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def print_dry_run(run: BatchRun, json_out: bool) -> None:
    outputs = {item.name: item.job.output_path if item.job else None for item in run.manifest.jobs}
    if json_out:
        out_console.print_json(json.dumps([
            {"name": d.name, "action": d.action, "reason": d.reason, "output": str(outputs.get(d.name) or ""),
             "fingerprint": d.fingerprint.digest if d.fingerprint else None} for d in run.decisions]))
        return

    def build(shorten: Shorten) -> Table:
        table = compact_table(title="dry run: nothing is rendered")
        table.add_column("job")
        table.add_column("would", no_wrap=True)
        table.add_column("why")  # words wrap at spaces; a long word would fold, never be cut
        table.add_column("output", overflow="fold")
        for d in run.decisions:
            output = outputs.get(d.name)
            table.add_row(Text(d.name), styled((d.action, STATUS_STYLES[d.action])), Text(d.reason),
                          Text(shorten(str(output)) if output else ""))
        return table

    out_console.print(fit_paths(build, "output", out_console))


def _queue_cell(queued: str | None) -> Text:
    if not queued:
        return Text("")
    if queued.startswith("queued as item "):
        return Text("item " + queued.removeprefix("queued as item "))
    return Text("error" if queued.startswith("queue error") else "no", style="bold red" if "error" in queued else "")


def format_reasons(outcomes: Iterable[JobOutcome]) -> list[Text]:
    """One line per thing that went wrong or is worth a look, with its reason: a failed
    job, a QA check that did not pass, an output that was not queued. The table only
    has room for verdicts; these lines are never cut."""
    lines = []
    for o in outcomes:
        if o.status not in ("rendered", "up-to-date"):
            lines.append(styled((o.status, STATUS_STYLES.get(o.status, "")), f" {o.name}: {o.reason}"))
        if o.qa in ("fail", "warn", "unknown"):
            style = "bold red" if o.qa == "fail" else "yellow"
            lines.append(styled((f"QA {o.qa}", style), f" {o.name}: {o.qa_reason or 'no QA result for the output'}"))
        if o.queued and not o.queued.startswith("queued as item "):
            style = "bold red" if o.queued.startswith("queue error") else "yellow"
            lines.append(styled(("queue", style), f" {o.name}: {o.queued}"))
    return lines


def print_summary(run: BatchRun, json_out: bool, qa: bool) -> None:
    assert run.summary is not None and run.report_path is not None
    outcomes = run.summary.outcomes
    if json_out:
        out_console.print_json(run.report_path.read_text(encoding="utf-8"))
    else:
        queued = any(o.queued for o in outcomes)

        def build(shorten: Shorten) -> Table:
            table = compact_table(title=f"batch {run.manifest.path.name}")
            columns = ["job", "status", "media s", "wall s", *(["QA"] if qa else []),
                       *(["queue"] if queued else []), "output"]
            for column in columns:
                table.add_column(column, justify="right" if column.endswith(" s") else "left",
                                 overflow="fold" if column == "output" else "ellipsis",
                                 no_wrap=column in {"status", "QA", "queue", "media s", "wall s"})
            for o in outcomes:
                # Text, not markup: names, reasons and paths may hold brackets.
                row = [Text(o.name), Text(o.status, style=STATUS_STYLES.get(o.status, "")),
                       _seconds(o.duration_s), _seconds(o.wall_time_s),
                       *([Text(o.qa or "", style=STATUS_STYLES.get(o.qa or "", ""))] if qa else []),
                       *([_queue_cell(o.queued)] if queued else []),
                       Text(shorten(o.output_path) if o.output_path else "")]
                table.add_row(*row)
            return table

        out_console.print(fit_paths(build, "output", out_console))
        for line in format_reasons(outcomes):
            out_console.print(line, soft_wrap=True)
    counts = ", ".join(f"{n} {status}" for status, n in sorted(run.summary.counts().items()))
    from pipeline.batch.report import batch_machine_share

    share = batch_machine_share(run.summary)
    used = f", {100 * share:.0f}% of the machine ({os.cpu_count() or 1} cores)" if share is not None else ""
    err_console.print(f"{counts} in {run.summary.wall_time_s:.1f} s{used}; report: {run.report_path}")
    for path in run.summary.qa_html:
        err_console.print(f"QA report: {path}")


def register(app: typer.Typer) -> None:
    @app.command()
    @handle_errors
    def batch(
        manifest: Path = typer.Argument(..., help="The batch manifest (.toml)."),
        jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1, help="Renders at once (local). Default: from the core count."),
        cluster: Optional[str] = typer.Option(None, "--cluster", help="Dask scheduler address, e.g. tcp://HOST:8786."),
        force: bool = typer.Option(False, "--force", "-f", help="Render even the jobs that are up to date."),
        only: list[str] = typer.Option([], "--only", help="Only this job (repeat, or separate names with commas)."),
        qa: bool = typer.Option(False, "--qa", help="Run QA on every output and write the QA HTML report."),
        queue_uploads: bool = typer.Option(False, "--queue-uploads", help="Queue outputs that pass QA for upload."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Say what would render or be skipped, and why; render nothing."),
        json_out: bool = typer.Option(False, "--json", help="Print the batch report (or the dry-run decisions) as JSON on stdout."),
    ) -> None:
        """Render every job of a manifest: in parallel, skipping what is up to date."""
        if queue_uploads:
            qa = True  # only outputs that pass QA are queued, so QA runs
        if jobs is not None and cluster:
            raise UsageError("--jobs is for local renders; with --cluster the workers' threads set how many run at once")
        from pipeline.batch.run import BatchOptions, run_batch  # the engine loads only when used

        options = BatchOptions(jobs=jobs, cluster=cluster, force=force, only=tuple(only), qa=qa, dry_run=dry_run,
                               queue_uploads=queue_uploads)
        with StopOnSignal():
            if dry_run:
                run = run_batch(manifest, options)
                print_dry_run(run, json_out)
                raise typer.Exit(1 if run.failed else 0)
            with BatchProgressView() as view:
                run = run_batch(manifest, options, on_event=view.on_event, on_decided=view.on_decided)
        print_summary(run, json_out, qa)
        if run.failed:
            raise typer.Exit(1)
