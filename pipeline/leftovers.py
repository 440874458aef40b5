"""Finding and removing what a killed render left behind.

A render that ends in any normal way (success, error, Ctrl-C, SIGTERM) removes its own
partial file and working folder. One killed with SIGKILL, or by a power cut, cannot: its
hidden `.NAME.partial` file and `.NAME.partial-XXXX` working folder stay beside the
output. The next render of the same output sweeps them while it holds that output's lock
(`output_lock`): no live render on this machine can own them then. A working folder
written on another machine (a Dask worker on shared storage, named in the folder's
`owner` file) is left alone, because the lock does not reach other machines.

Two things can be left in the system temporary folder: the `wayfinder-sound-*.f32` spools
of earlier versions (nothing writes them any more), and the `wayfinder-ffmpeg-args-*`
folders that hold an ffmpeg option too long for the command line (ffmpeg reads them when
it starts, so one untouched for an hour serves no live run). Both are swept once they are
an hour old.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import time
from pathlib import Path

OWNER_FILE = "owner"
OLD_SPOOL_PATTERN = "wayfinder-sound-*.f32"
ARGS_FOLDER_PATTERN = "wayfinder-ffmpeg-args-*"
STALE_TEMP_S = 3600.0


def write_owner(work_dir: Path) -> None:
    """Name the machine and process that own a render's working folder."""
    (work_dir / OWNER_FILE).write_text(json.dumps({"host": socket.gethostname(), "pid": os.getpid()}))


def _owned_here(work_dir: Path) -> bool:
    try:
        owner = json.loads((work_dir / OWNER_FILE).read_text())
    except (OSError, ValueError):
        return True  # killed before it wrote the file: it was a render of this output
    return not isinstance(owner, dict) or owner.get("host") == socket.gethostname()


def sweep_partials(partial_path: Path) -> list[Path]:
    """Remove the partial file `partial_path` and its working folders
    (`partial_path-*`). Call only while holding the output's lock. Returns what was removed."""
    removed: list[Path] = []
    if partial_path.is_file() or partial_path.is_symlink():
        partial_path.unlink(missing_ok=True)
        removed.append(partial_path)
    try:
        candidates = list(partial_path.parent.glob(f"{partial_path.name}-*"))
    except OSError:
        return removed
    for work_dir in candidates:
        if work_dir.is_dir() and not work_dir.is_symlink() and _owned_here(work_dir):
            shutil.rmtree(work_dir, ignore_errors=True)
            removed.append(work_dir)
    return removed


def sweep_old_spools(now_s: float | None = None, folder: Path | None = None) -> list[Path]:
    """Remove our stale leftovers from the temporary folder: old sound spools and long
    ffmpeg option folders, each untouched for STALE_TEMP_S."""
    now_s = time.time() if now_s is None else now_s
    folder = Path(tempfile.gettempdir()) if folder is None else folder
    removed = []
    for path in [*folder.glob(OLD_SPOOL_PATTERN), *folder.glob(ARGS_FOLDER_PATTERN)]:
        try:
            if path.is_symlink() or now_s - path.stat().st_mtime <= STALE_TEMP_S:
                continue
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(path)
        except OSError:
            continue  # gone already, or not ours to remove
    return removed
