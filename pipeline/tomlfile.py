"""Reading a user's TOML file (job, preset, manifest, metadata template, quota table) into
a dict, with every way that can fail turned into one ConfigError naming the file.

tomllib parses nested arrays and inline tables by recursion, so a file of a few thousand
`[` raises RecursionError, not TOMLDecodeError; a file that is not UTF-8 raises
UnicodeDecodeError. All of them are the file's fault and exit 3 like any bad job.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError

# A job is a few kilobytes; a bigger file is a mistake (a video picked by a glob, say).
MAX_TOML_BYTES = 16 * 1024 * 1024


def parse_toml_text(text: str, *, file: Path | str) -> dict[str, Any]:
    """TOML text as a dict; ConfigError naming `file` if it is not valid TOML."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", file=file) from None
    except RecursionError:
        raise ConfigError("not valid TOML: arrays or tables nested too deeply", file=file) from None


def read_toml_file(path: Path, what: str) -> dict[str, Any]:
    """The TOML file at `path` as a dict. `what` names it in messages ("job file").

    Raises ConfigError naming the file: missing, a folder, unreadable, too big, not
    UTF-8, not TOML, nested too deeply.
    """
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_TOML_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(f"{what} not found", file=path) from None
    except IsADirectoryError:
        raise ConfigError(f"{what} is a folder, not a file", file=path) from None
    except OSError as exc:
        reason = (exc.strerror or exc.__class__.__name__).lower()
        raise ConfigError(f"cannot read the {what}: {reason}", file=path) from None
    if len(data) > MAX_TOML_BYTES:
        raise ConfigError(f"not a {what}: larger than {MAX_TOML_BYTES // (1024 * 1024)} MB", file=path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError("not valid TOML: not UTF-8 text", file=path) from None
    return parse_toml_text(text, file=path)
