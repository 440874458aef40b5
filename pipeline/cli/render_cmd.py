"""`wayfinder render`: one job file, or the quick form INPUT -o OUT."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from pipeline import config
from pipeline.cli.app import handle_errors
from pipeline.cli.console import out_console, print_labelled
from pipeline.cli.progress import progress_bar
from pipeline.cli.signals import StopOnSignal
from pipeline.errors import UsageError
from pipeline.media import find_ffmpeg
from pipeline.sources import check_output_not_source


def load_render_job(target: Path, out: Optional[Path], preset: Optional[str]) -> config.Job:
    """A job file (`.toml`) or the quick form, with command-line overrides applied."""
    if target.suffix.lower() == ".toml":
        return config.load_job(target, preset_override=preset, output_override=out)
    if out is None:
        raise UsageError(
            f"{target}: the quick form needs an output: wayfinder render {target} -o OUT.mp4 "
            "(or pass a job file ending in .toml)"
        )
    return config.quick_job(target, out, preset_name=preset or "youtube")


def note(text: str) -> None:
    print_labelled("note:", "cyan", text)


def register(app: typer.Typer) -> None:
    @app.command()
    @handle_errors
    def render(
        target: Path = typer.Argument(..., help="A job file (.toml), or a media file for the quick form."),
        out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output path (overrides the job's [output] path)."),
        preset: Optional[str] = typer.Option(None, "--preset", "-p", help="Preset name (overrides the job's preset)."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Print the ffmpeg commands (picture, sound, mux); render nothing."),
        force: bool = typer.Option(False, "--force", "-f", help="Overwrite an existing output."),
        json_out: bool = typer.Option(False, "--json", help="Print the result as JSON on stdout."),
    ) -> None:
        """Render a job (or INPUT -o OUT): the picture decoded and encoded once while the
        sound is made beside it, then both copied into the output."""
        from pipeline.render import plan_job, run_render  # the engine loads only when used

        job = load_render_job(target, out, preset)
        check_output_not_source(job)
        with StopOnSignal():
            if dry_run:
                if job.output_path.exists() and not force:
                    note(f"{job.output_path} exists; a real render would need --force")
                _, plan, _, _ = plan_job(job, on_note=note)
                out_console.print(plan.command_line(find_ffmpeg()), highlight=False, markup=False, soft_wrap=True)
                return
            with progress_bar(f"render {job.output_path.name}") as on_progress:
                result = run_render(job, force=force, on_progress=on_progress, on_note=note)
        if json_out:
            out_console.print_json(json.dumps({
                "output": str(result.plan.output_path),
                "report": str(result.report_path),
                "video_mode": result.plan.video_mode,
                "audio_mode": result.plan.audio_mode,
                "wall_time_s": round(result.wall_time_s, 3),
            }))
        else:
            print_labelled("rendered", "green", f"{result.plan.output_path} ({result.plan.video_mode} video, "
                           f"{result.plan.audio_mode} audio, {result.wall_time_s:.1f} s)")
