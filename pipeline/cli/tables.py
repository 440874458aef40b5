"""Tables that fit the terminal without cutting a file name.

A path in a table is shown relative to the working folder when it is inside it, and when
the column has no room it loses folders from the left (`…/out/batch/walkthrough.mp4`),
never letters of its name and never a split in the middle of a word. Rich alone would
either fold a path mid-name (`walkthroug` / `h.mp4`) or crop it on the right (`samp…`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from typing import Any

from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

ELLIPSIS = "…"
MIN_PATH_CHARS = 24  # below this a path says too little; other columns wrap their words instead

Shorten = Callable[[str], str]


def compact_table(**options: Any) -> Table:
    """A table with a header rule, no borders and two spaces between columns: about
    fifteen more columns for paths at 80 columns than Rich's default box."""
    return Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0), **options)


def shown_path(path: str | os.PathLike[str]) -> str:
    """The path relative to the working folder when it is inside it, else as given."""
    text = str(path)
    if not text:
        return text
    try:
        return str(Path(text).resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return text


def shorten_path(path: str, max_chars: int) -> str:
    """`path` in at most `max_chars` characters by dropping whole folders from the left;
    the file name itself always stays whole, even when it alone is longer."""
    if len(path) <= max_chars:
        return path
    parts = path.split(os.sep)
    if len(ELLIPSIS) + len(os.sep) + len(parts[-1]) > max_chars:
        return parts[-1]
    kept = [parts[-1]]
    for part in reversed(parts[:-1]):
        candidate = os.sep.join([part, *kept])
        if len(ELLIPSIS) + len(os.sep) + len(candidate) > max_chars:
            break
        kept.insert(0, part)
    return ELLIPSIS + os.sep + os.sep.join(kept)


def path_budget_chars(probe: Table, header: str, console: Console) -> int:
    """Room for a path column in `probe`, a table built with that column's cells empty."""
    measured = Measurement.get(console, console.options, probe)
    room_on_one_line = console.width - measured.maximum + len(header)
    if room_on_one_line >= MIN_PATH_CHARS:
        return room_on_one_line
    # Not everything fits on one line: the paths get half of what the other columns can
    # give up, and those wrap their words into the other half.
    room_beside_narrowest = console.width - measured.minimum + len(header)
    return max(MIN_PATH_CHARS, room_beside_narrowest // 2)


def fit_paths(build: Callable[[Shorten], Table], header: str, console: Console) -> Table:
    """The table `build(shorten)` makes, with every path cell passed through `shorten`
    so the path column (named `header`) fits beside the other columns."""
    budget = path_budget_chars(build(lambda _path: ""), header, console)
    longest = [0]

    def shorten(path: str) -> str:
        text = shorten_path(shown_path(path), budget)
        longest[0] = max(longest[0], len(text))
        return text

    table = build(shorten)
    for column in table.columns:
        if column.header == header:
            # So Rich narrows the wrapping columns, never this one: a name is never split.
            column.min_width = max(longest[0], len(header))
    return table
