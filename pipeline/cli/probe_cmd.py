"""`wayfinder probe`: what streams a media file has (PyAV, no ffprobe needed)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from pipeline.cli.app import handle_errors
from pipeline.cli.console import out_console
from pipeline.probe import probe


def register(app: typer.Typer) -> None:
    @app.command("probe")
    @handle_errors
    def probe_command(
        file: Path = typer.Argument(..., help="Media file to describe."),
        json_out: bool = typer.Option(False, "--json", help="Print JSON on stdout."),
    ) -> None:
        """Show container, duration, video and audio streams of FILE."""
        info = probe(file)
        if json_out:
            out_console.print_json(info.to_json())
            return
        table = Table(title=str(info.path), show_header=True)
        table.add_column("stream")
        table.add_column("details")
        table.add_row("container", f"{info.container}, {info.duration_s:.2f} s, {info.size_bytes} bytes")
        if info.video:
            v = info.video
            table.add_row(
                f"#{v.index} video",
                f"{v.codec} {v.profile or ''} {v.width_px}x{v.height_px} {v.pix_fmt}, {v.fps:.3f} fps"
                f"{' (variable)' if v.variable_frame_rate else ''}"
                f"{f', rotated {v.rotation_deg}°' if v.rotation_deg else ''}"
                f", matrix {v.color_matrix or 'untagged'}",
            )
        for a in info.audio:
            table.add_row(f"#{a.index} audio", f"{a.codec} {a.sample_rate_hz} Hz, {a.channels} ch ({a.layout})")
        if not info.audio:
            table.add_row("audio", "none")
        out_console.print(table)
