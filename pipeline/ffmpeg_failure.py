"""Why an ffmpeg run failed, in the words a producer can act on.

ffmpeg ends a failed run with lines like `Conversion failed!` or `Error muxing a
packet`; the cause ("No space left on device") is an earlier line, from the muxer or
the file protocol, and encoder statistics often push it out of the kept stderr tail.
So a failure is described from the tail when it names a cause, else from the folder
ffmpeg was writing to (nearly no free space left there: the disk is full), so a full
disk reads "no space left on device in /videos/out" instead of "Conversion failed!".
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

# The strerror texts ffmpeg prints (it uses the C library's), and what we say instead.
WRITE_FAILURES = (
    ("No space left on device", "no space left on device"),
    ("Disk quota exceeded", "disk quota exceeded"),
    ("Read-only file system", "read-only file system"),
)
# Free space under which a failed write is taken for a full disk: ffmpeg stops within one
# I/O buffer (32 KiB) of the end, and a working disk keeps far more.
FULL_DISK_BYTES = 1024 * 1024
# Lines that only say that something failed earlier.
GENERIC_LINES = ("Conversion failed!",)


def find_output_path(args: Sequence[str]) -> Path | None:
    """The file an ffmpeg argument list writes: its last argument, unless that is a pipe."""
    if not args:
        return None
    last = args[-1]
    if last.startswith("pipe:") or last == "-" or last.startswith("-"):
        return None
    return Path(last.removeprefix("file:"))


def output_folder(output: Path) -> Path:
    """The folder a producer knows: our hidden working folders (a render's
    `.NAME.partial-*`, the card cache's `.render-*`) are named by the folder they are in."""
    folder = output.parent
    if folder.name.startswith(".") and (".partial" in folder.name or folder.name.startswith(".render-")):
        return folder.parent
    return folder


def free_bytes(folder: Path) -> int | None:
    """Bytes an unprivileged writer may still use in `folder`, or None if unknown."""
    try:
        stats = os.statvfs(folder)
    except OSError:
        return None
    return stats.f_bavail * stats.f_frsize


def describe_failure(what: str, stderr_tail: Sequence[str], returncode: int, args: Sequence[str] = ()) -> str:
    """`what failed: reason` for a non-zero ffmpeg exit; the reason is a known write
    failure (naming the folder) when the tail holds one or the output's disk is full,
    else ffmpeg's last useful line."""
    output = find_output_path(args)
    folder = output_folder(output) if output is not None else None
    where = f" in {folder}" if folder is not None else ""
    for line in reversed(stderr_tail):
        for needle, reason in WRITE_FAILURES:
            if needle in line:
                return f"{what} failed: {reason}{where}"
    if folder is not None:
        free = free_bytes(output.parent if output is not None and output.parent.is_dir() else folder)
        if free is not None and free < FULL_DISK_BYTES:
            return f"{what} failed: no space left on device{where} ({free // 1024} KiB free)"
    useful = [line for line in stderr_tail if line.strip() and line.strip() not in GENERIC_LINES]
    if useful:
        return f"{what} failed: {useful[-1]}"
    if stderr_tail:
        return f"{what} failed: {stderr_tail[-1]}"
    return f"{what} failed: exit code {returncode}"
