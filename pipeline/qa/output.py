"""Writing QA report files so that a half-written report is never mistaken for one.

Owns: the partial-file-then-rename write every report writer uses, and turning file
system problems into an OutputError naming the file (exit code 1).
"""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.errors import OutputError


def write_text_atomically(path: Path, text: str) -> Path:
    """Write `text` (UTF-8) to `path` via a hidden partial file beside it, then rename."""
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    except OSError as exc:
        try:
            partial.unlink(missing_ok=True)
        except OSError:
            pass
        raise OutputError(f"cannot write the report ({exc.strerror or exc})", file=path) from exc
    return path
