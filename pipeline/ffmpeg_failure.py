"""Why an ffmpeg run failed, in the words a producer can act on (pure).

ffmpeg ends a failed run with lines like `Conversion failed!` or `Error muxing a
packet`; the cause ("No space left on device") is an earlier line, from the muxer or
the file protocol. This module finds such a cause in the kept stderr tail and names the
folder ffmpeg was writing to, so a full disk reads "no space left on device in
/videos/out" instead of "Conversion failed!".
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

# The strerror texts ffmpeg prints (it uses the C library's), and what we say instead.
WRITE_FAILURES = (
    ("No space left on device", "no space left on device"),
    ("Disk quota exceeded", "disk quota exceeded"),
    ("Read-only file system", "read-only file system"),
)
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


def describe_failure(what: str, stderr_tail: Sequence[str], returncode: int, args: Sequence[str] = ()) -> str:
    """`what failed: reason` for a non-zero ffmpeg exit; the reason is a known write
    failure (naming the folder) when the tail holds one, else ffmpeg's last useful line."""
    for line in reversed(stderr_tail):
        for needle, reason in WRITE_FAILURES:
            if needle in line:
                output = find_output_path(args)
                where = f" in {output_folder(output)}" if output is not None else ""
                return f"{what} failed: {reason}{where}"
    useful = [line for line in stderr_tail if line.strip() and line.strip() not in GENERIC_LINES]
    if useful:
        return f"{what} failed: {useful[-1]}"
    if stderr_tail:
        return f"{what} failed: {stderr_tail[-1]}"
    return f"{what} failed: exit code {returncode}"
