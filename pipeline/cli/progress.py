"""Rich progress bars on stderr for anything that reports `pipeline.media.Progress`.

A render can run several ffmpeg passes (analysis, the picture encode, the sound encode
when there is no picture to encode...), each reporting its own 0-100 %, and ffmpeg's own
time can step back or read N/A. Drawn as they came, the bar ran backwards (95.8 % ->
77.7 % -> 0.0 % -> 100 %). `RenderProgress` folds every pass into one figure that never
goes down: the media seconds done over the media seconds of the passes seen so far, held
at its highest value, reaching 100 % only when the render ends. The ETA is Rich's, from
how fast that figure grows, so it is measured, not guessed from one pass.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from pipeline.cli.console import err_console
from pipeline.media import Progress as FfmpegProgress
from pipeline.media import ProgressCallback

BAR_STEPS = 1000  # the bar's total: fractions in thousandths
UNFINISHED_CAP = 0.99  # a pass that ends is not the render ending: 100 % only at the end


@dataclass
class RenderProgress:
    """One monotonic fraction for all the passes of a render (pure: fed events, no I/O).

    A pass is one run of ffmpeg, told apart by the event's `stage` (a new stage, or the
    same stage again after it ended, is a new pass). Within a pass ffmpeg's time can step
    back (out_time=N/A reads 0, several outputs report in turn): the highest time counts.
    """

    finished_s: float = 0.0  # media seconds of passes that ended
    stage: str | None = None
    pass_total_s: float | None = None
    pass_done_s: float = 0.0
    pass_ended: bool = True
    shown: float = 0.0

    def _start_pass(self, event: FfmpegProgress) -> None:
        if not self.pass_ended:  # the previous pass stopped reporting without an `end`
            self.finished_s += self.pass_total_s or self.pass_done_s
        self.stage = event.stage
        self.pass_total_s = event.total_s or None
        self.pass_done_s = 0.0
        self.pass_ended = False

    def update(self, event: FfmpegProgress) -> float:
        """The fraction to show after `event`: never lower than the one shown before."""
        if self.pass_ended or event.stage != self.stage:
            self._start_pass(event)
        if event.total_s and not self.pass_total_s:
            self.pass_total_s = event.total_s
        if event.time_known:
            time_s = min(event.out_time_s, self.pass_total_s) if self.pass_total_s else event.out_time_s
            self.pass_done_s = max(self.pass_done_s, time_s)
        if event.done:
            self.finished_s += self.pass_total_s or self.pass_done_s
            self.pass_done_s = 0.0
            self.pass_ended = True
        planned_s = self.finished_s + (0.0 if self.pass_ended else (self.pass_total_s or self.pass_done_s))
        if planned_s > 0:
            fraction = min(UNFINISHED_CAP, (self.finished_s + self.pass_done_s) / planned_s)
            self.shown = max(self.shown, fraction)
        return self.shown

    def finish(self) -> float:
        self.shown = 1.0
        return self.shown


@contextlib.contextmanager
def progress_bar(description: str) -> Iterator[ProgressCallback]:
    """One bar for a whole render; yields the callback to pass to the render.

    The ETA is Rich's estimate from how fast the monotonic fraction has grown."""
    columns = (
        TextColumn("{task.description}", style="bold", markup=False),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TextColumn("{task.fields[speed]}", markup=False),
        TimeRemainingColumn(),
        TextColumn("{task.fields[stage]}", style="dim", markup=False),
    )
    state = RenderProgress()
    with Progress(*columns, console=err_console, transient=False, disable=not err_console.is_terminal) as bar:
        task = bar.add_task(description, total=BAR_STEPS, speed="", stage="")

        def update(event: FfmpegProgress) -> None:
            speed = f"{event.speed_x:.1f}x" if event.speed_x else ""
            # The pass is named: a bar holding still while a second pass runs says why.
            bar.update(task, completed=state.update(event) * BAR_STEPS, speed=speed, stage=event.stage)

        yield update
        bar.update(task, completed=state.finish() * BAR_STEPS)


@contextlib.contextmanager
def working(description: str) -> Iterator[None]:
    """A spinner with the elapsed time, for work that has no percentage to report."""
    columns = (SpinnerColumn(), TextColumn("{task.description}", markup=False), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True, disable=not err_console.is_terminal) as bar:
        bar.add_task(description, total=None)
        yield
