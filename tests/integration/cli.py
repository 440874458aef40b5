"""Run the real `wayfinder` command in a subprocess, as a producer would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def wayfinder(*args: str | Path, env: dict[str, str] | None = None, timeout_s: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli.app", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )


def processes_mentioning(text: str) -> list[int]:
    """Processes (other than this one) whose command line contains `text`: a way to see
    that no ffmpeg writing a given file is left running."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if text in cmdline and int(entry.name) != os.getpid():
            found.append(int(entry.name))
    return found


def leftovers(folder: Path) -> list[Path]:
    """Partial files a failed render might have left behind."""
    return sorted(p for p in folder.rglob("*") if ".partial" in p.name)
