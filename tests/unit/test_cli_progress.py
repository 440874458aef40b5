"""One monotonic progress figure for all the passes of a render.

The events are those a multi-pass render reports through the runner: each pass counts
its own media time from 0 to its total, ffmpeg's time can read N/A (parsed as 0) and can
step back within a pass. The issue saw the bar go 95.8 % -> 77.7 % -> 94.4 % -> 0.0 % ->
100 %; the bar must never go down, and reach 100 % only when the render ends."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from rich.progress import Progress as RichProgress

from pipeline.cli import progress as progress_module
from pipeline.media import Progress, parse_progress_block


def block(out_time: str, progress: str = "continue") -> dict[str, str]:
    return {"out_time_us": out_time, "speed": "2.0x", "progress": progress}


def multi_pass_events() -> list[Progress]:
    """An analysis pass of a 20 s programme, then its 23 s picture encode (3 s of cards),
    whose time steps back once and reads N/A once near the end, as in the issue."""
    events = [parse_progress_block(block(str(int(t * 1e6))), 20.0, "light analysis") for t in (0, 5, 10, 15, 20)]
    events.append(parse_progress_block(block("20000000", "end"), 20.0, "light analysis"))
    times_s = [0.0, 4.0, 11.0, 22.03, 17.87, 21.71]
    events += [parse_progress_block(block(str(int(t * 1e6))), 23.0, "picture encode") for t in times_s]
    events.append(parse_progress_block(block("N/A"), 23.0, "picture encode"))
    events.append(parse_progress_block(block("23000000", "end"), 23.0, "picture encode"))
    return events


@contextlib.contextmanager
def recorded_bar_fractions() -> Iterator[list[float]]:
    """What the real bar shows after each update (completed over total), drawn or not."""
    shown: list[float] = []
    original = RichProgress.update

    def update(self: RichProgress, task_id, **fields):  # type: ignore[no-untyped-def]
        original(self, task_id, **fields)
        task = self._tasks[task_id]
        if task.total:
            shown.append(task.completed / task.total)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(RichProgress, "update", update)
        yield shown


def test_the_render_bar_never_runs_backwards_over_several_passes() -> None:
    with recorded_bar_fractions() as shown:
        with progress_module.progress_bar("render walkthrough.mp4") as on_progress:
            for event in multi_pass_events():
                on_progress(event)
            before_the_end = list(shown)
    assert len(before_the_end) == len(multi_pass_events())
    assert all(b >= a for a, b in zip(shown, shown[1:])), f"the bar ran backwards: {shown}"
    assert max(before_the_end) < 1.0  # a pass ending is not the render ending
    assert shown[-1] == 1.0


def test_within_one_pass_the_fraction_is_the_media_time_done() -> None:
    state = progress_module.RenderProgress()
    assert state.update(Progress(5.0, 20.0, 1.0, False, "picture encode")) == 0.25
    assert state.update(Progress(10.0, 20.0, 1.0, False, "picture encode")) == 0.5
    assert state.update(Progress(0.0, 20.0, 1.0, False, "picture encode", time_known=False)) == 0.5


def test_a_second_pass_counts_after_the_first() -> None:
    state = progress_module.RenderProgress()
    state.update(Progress(10.0, 10.0, 1.0, True, "analysis"))
    state.update(Progress(5.0, 10.0, 1.0, False, "encode"))
    # 15 of the 20 media seconds seen so far are done; the bar holds the 0.99 it showed.
    assert state.shown == pytest.approx(0.99)
    assert state.update(Progress(10.0, 10.0, 1.0, True, "encode")) == pytest.approx(0.99)
    assert state.finish() == 1.0


def test_samples_says_what_it_is_doing_before_the_silent_minute(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os
    import subprocess
    import sys

    blocked = tmp_path / "a-file"
    blocked.write_text("")  # not a folder: the synthesis fails at once, after the first line
    done = subprocess.run([sys.executable, "-m", "pipeline.cli.app", "samples", str(blocked)], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "COLUMNS": "80"})
    assert done.returncode != 0
    assert done.stderr.startswith(f"synthesizing the demo media into {blocked}"), done.stderr
