"""Rich consoles: data goes to stdout, logs and progress to stderr."""

from __future__ import annotations

from rich.console import Console

out_console = Console(soft_wrap=True)
err_console = Console(stderr=True)
