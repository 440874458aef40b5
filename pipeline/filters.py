"""The shapes every graph-building module shares: a filter as (name, options), the way
the audio chain, light and picture-in-picture describe their steps, and an ffmpeg-python
stream node (ffmpeg-python has no types of its own)."""

from __future__ import annotations

from typing import Any

Filter = tuple[str, dict[str, object]]
Stream = Any
