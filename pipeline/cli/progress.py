"""Rich progress bars on stderr for anything that reports `pipeline.media.Progress`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from pipeline.cli.console import err_console
from pipeline.media import Progress as FfmpegProgress
from pipeline.media import ProgressCallback


@contextlib.contextmanager
def progress_bar(description: str) -> Iterator[ProgressCallback]:
    """A bar for one ffmpeg run; yields the callback to pass to the runner.

    The total comes from the events (the runner knows the planned duration)."""
    columns = (
        TextColumn("{task.description}", style="bold", markup=False),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TextColumn("{task.fields[speed]}", markup=False),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err_console, transient=False, disable=not err_console.is_terminal) as bar:
        task = bar.add_task(description, total=None, speed="")

        def update(event: FfmpegProgress) -> None:
            speed = f"{event.speed_x:.1f}x" if event.speed_x else ""
            total_s = event.total_s or None
            completed = event.out_time_s if total_s is None else min(event.out_time_s, total_s)
            bar.update(task, total=total_s, completed=completed, speed=speed)
            if event.done and total_s:
                bar.update(task, completed=total_s)

        yield update
