"""Finding and removing what a killed render left behind.

A render that ends in any normal way (success, error, Ctrl-C, SIGTERM) removes its own
partial file and working folder. One killed with SIGKILL, or by a power cut, cannot: its
hidden `.NAME.partial` file and `.NAME.partial-XXXX` working folder stay beside the
output. The next render of the same output sweeps them while it holds that output's lock
(`output_lock`): no live render on this machine can own them then. A working folder
written on another machine (a Dask worker on shared storage, named in the folder's
`owner` file) is left alone, because the lock does not reach other machines.

Earlier versions of Wayfinder spooled measured sound to `wayfinder-sound-*.f32` in the system
temporary folder; nothing writes there any more, so such files untouched for an hour
are swept too.
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
OLD_SPOOL_STALE_S = 3600.0


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
    """Remove sound spools of older versions left in the temporary folder."""
    now_s = time.time() if now_s is None else now_s
    folder = Path(tempfile.gettempdir()) if folder is None else folder
    removed = []
    for path in folder.glob(OLD_SPOOL_PATTERN):
        try:
            if now_s - path.stat().st_mtime > OLD_SPOOL_STALE_S:
                path.unlink()
                removed.append(path)
        except OSError:
            continue  # gone already, or not ours to remove
    return removed
