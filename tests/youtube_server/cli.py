"""Run Wayfinder's `upload` and `auth` commands in tests, in-process or as a real process.

The commands are registered on a fresh Typer app through their public `register(app)`
hook, exactly as `pipeline.cli.app` does, so these tests do not depend on every other
command module being present. Run as a script (`python tests/youtube_server/cli.py
upload ...`) it is the process the kill-and-resume test kills.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

REPO = Path(__file__).resolve().parents[2]


def build_app() -> typer.Typer:
    from pipeline.cli import auth_cmd, upload_cmd

    app = typer.Typer(name="wayfinder", no_args_is_help=True, pretty_exceptions_enable=False)

    @app.callback()
    def _root() -> None:
        """Wayfinder (upload and auth commands only)."""

    upload_cmd.register(app)
    auth_cmd.register(app)
    return app


def script_command(*args: str) -> list[str]:
    """argv that runs these commands in a new Python process."""
    return [sys.executable, str(Path(__file__).resolve()), *args]


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    build_app()()
