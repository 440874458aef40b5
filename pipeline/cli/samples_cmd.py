"""`wayfinder samples DIR`: write the deterministic demo media set."""

from __future__ import annotations

from pathlib import Path

import typer

from pipeline.cli.app import handle_errors
from pipeline.cli.console import print_labelled
from pipeline.cli.signals import StopOnSignal
from pipeline.samples import write_samples


def register(app: typer.Typer) -> None:
    @app.command()
    @handle_errors
    def samples(folder: Path = typer.Argument(..., help="Folder to write the sample media into.")) -> None:
        """Synthesize the demo media (walkthrough, guide inset, speech, captions) with ffmpeg."""
        with StopOnSignal():
            written = write_samples(folder)
        for name, path in written.items():
            print_labelled("wrote", "green", f"{name}: {path}")
