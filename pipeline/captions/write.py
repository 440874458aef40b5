"""Writing captions as WebVTT and SRT with webvtt-py, atomically (a partial file
renamed into place, so a reader never sees half a file)."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path

import webvtt

from pipeline.captions.read import Caption, format_time


def format_vtt(captions: Sequence[Caption]) -> str:
    track = webvtt.WebVTT(captions=[webvtt.Caption(format_time(c.start_s), format_time(c.end_s), list(c.lines))
                                    for c in captions])
    return track.content


def format_srt(captions: Sequence[Caption]) -> str:
    track = webvtt.WebVTT(captions=[webvtt.Caption(format_time(c.start_s), format_time(c.end_s), list(c.lines))
                                    for c in captions])
    buffer = io.StringIO()
    track.write(buffer, format="srt")
    return buffer.getvalue()


def write_text_atomically(path: Path, text: str) -> Path:
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path
