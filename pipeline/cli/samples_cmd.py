"""`wayfinder samples DIR`: write the deterministic demo media set."""

from __future__ import annotations

from pathlib import Path

import typer

from pipeline.cli.app import handle_errors
from pipeline.cli.console import print_labelled
from pipeline.cli.progress import working
from pipeline.cli.signals import StopOnSignal


def register(app: typer.Typer) -> None:
    @app.command()
    @handle_errors
    def samples(folder: Path = typer.Argument(..., help="Folder to write the sample media into.")) -> None:
        """Synthesize the demo media (walkthrough, guide inset, speech, captions) with ffmpeg."""
        # A line first (logs see it too), then a spinner with the elapsed time: the
        # synthesis has no percentage, and a silent minute looks like a hang.
        # Imported here: the samples' voice synthesis loads scipy.signal (about a second),
        # which every other command, `render` included, would otherwise pay at start-up.
        from pipeline.samples import write_samples

        print_labelled("synthesizing", "cyan", f"the demo media into {folder}: this takes about a minute")
        with StopOnSignal(), working("synthesizing the demo media"):
            written = write_samples(folder)
        for name, path in written.items():
            print_labelled("wrote", "green", f"{name}: {path}")
