"""Output containers (pure): which ffmpeg muxer writes an output path's extension, and
whether that container carries video. A leaf module, so that the plan and the picture
preparation both read it without importing each other."""

from __future__ import annotations

from pathlib import Path

from pipeline.errors import ConfigError

CONTAINERS: dict[str, tuple[str, bool]] = {
    # suffix: (ffmpeg muxer, carries video)
    ".mp4": ("mp4", True),
    ".m4v": ("mp4", True),
    ".mov": ("mov", True),
    ".mkv": ("matroska", True),
    ".m4a": ("ipod", False),
}


def container_for(output_path: Path) -> tuple[str, bool]:
    try:
        return CONTAINERS[output_path.suffix.lower()]
    except KeyError:
        allowed = ", ".join(sorted(CONTAINERS))
        raise ConfigError(
            f"unsupported output extension {output_path.suffix!r}; allowed: {allowed}",
            file=output_path,
            field="output.path",
        ) from None
