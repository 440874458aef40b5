"""The `wayfinder` command: the Typer root app, sub-command registration, and the one
place where errors become messages and exit codes.

Each command lives in its own module under `pipeline.cli` and exposes
`register(app: typer.Typer) -> None`. Tracebacks are shown only with `WAYFINDER_DEBUG=1`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn

import typer
import typer.main

from pipeline import __version__
from pipeline.errors import MAX_MESSAGE_CHARS, ConfigError, WayfinderError, from_os_error, shorten
from pipeline.cli.console import err_console, print_plain, styled

app = typer.Typer(
    name="wayfinder",
    help="Video asset pipeline for patient-navigation videos: audio first, simple edits, reliable YouTube publishing.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"wayfinder {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version and exit."),
) -> None:
    """Wayfinder: render, check and publish patient-navigation videos.

    Run `wayfinder COMMAND --help` for a command's options and an example.
    """


def _register_all() -> None:
    # Imported here so `wayfinder --help` stays fast and import errors name the module.
    from pipeline.cli import presets_cmd, probe_cmd, render_cmd, samples_cmd

    for module in (render_cmd, probe_cmd, presets_cmd, samples_cmd):
        module.register(app)
    for optional in ("qa_cmd", "upload_cmd", "auth_cmd", "queue_cmd", "batch_cmd", "state_cmd", "captions_cmd"):
        try:
            module = __import__(f"pipeline.cli.{optional}", fromlist=["register"])
        except ModuleNotFoundError as exc:
            if exc.name != f"pipeline.cli.{optional}":
                raise
            continue
        module.register(app)


MAX_PROBLEMS_SHOWN = 50  # a generated job with 100,000 bad entries must not print 100,000 lines


def report_error(error: WayfinderError) -> None:
    """Print an error the way users see every error: one line, then any listed problems."""
    # Messages carry file names and TOML keys like `[youtube.vars]`: never Rich markup.
    err_console.print(styled(("error:", "bold red"), " ", error.one_line()))
    if isinstance(error, ConfigError):
        for problem in error.problems[:MAX_PROBLEMS_SHOWN]:
            print_plain(f"  - {shorten(' '.join(problem.split()), MAX_MESSAGE_CHARS)}")
        if len(error.problems) > MAX_PROBLEMS_SHOWN:
            print_plain(f"  … and {len(error.problems) - MAX_PROBLEMS_SHOWN:,} more problems")
    if os.environ.get("WAYFINDER_DEBUG") == "1":
        for line in error.details:
            print_plain(f"  | {line}")


def _fail(error: WayfinderError) -> NoReturn:
    if os.environ.get("WAYFINDER_DEBUG") == "1":
        import traceback

        traceback.print_exc()
    report_error(error)
    raise typer.Exit(error.exit_code) from None


def handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator for command bodies: map WayfinderError to its message and exit code, and
    the foreign errors that can reach here (OSError, MemoryError) to one line and exit 1."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except WayfinderError as error:
            _fail(error)
        except OSError as exc:
            # A disk filling up, a read-only or unreadable folder, anywhere we did not expect it.
            _fail(from_os_error(exc))
        except MemoryError:
            _fail(WayfinderError("out of memory"))
        except KeyboardInterrupt:
            err_console.print(styled(("interrupted", "bold red")))
            raise typer.Exit(130) from None

    return wrapper


def build_command() -> Any:
    """The Click command tree of `wayfinder`, its help finished (see pipeline.cli.help_text)."""
    from pipeline.cli.help_text import finish_help

    _register_all()
    command = typer.main.get_command(app)
    finish_help(command)
    return command


def main() -> None:
    command = build_command()
    try:
        command(prog_name="wayfinder")
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
