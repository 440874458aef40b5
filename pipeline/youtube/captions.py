"""Caption files (SRT and WebVTT): parsing them, and checking they fit the video.

Only what is needed to trust a file before uploading it: UTF-8 text, well-formed cue
timings, start before end, at least one cue, and no cue ending after the video does
(with a small tolerance for frame rounding). Problems name the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# A cue may end this much after the last frame: caption tools round to frames or 100 ms.
END_TOLERANCE_S = 0.5
MAX_CAPTION_BYTES = 100 * 1024 * 1024  # captions.insert maxSize in the discovery document

_SRT_TIME = r"(\d{1,3}):([0-5]\d):([0-5]\d)[,.](\d{1,3})"
_VTT_TIME = r"(?:(\d{1,3}):)?([0-5]\d):([0-5]\d)\.(\d{3})"
_SRT_TIMING = re.compile(rf"^\s*{_SRT_TIME}\s*-->\s*{_SRT_TIME}\s*$")
_VTT_TIMING = re.compile(rf"^\s*{_VTT_TIME}\s+-->\s+{_VTT_TIME}(?:\s+.*)?$")


@dataclass(frozen=True)
class Cue:
    start_s: float
    end_s: float
    text: str
    line: int


@dataclass(frozen=True)
class CaptionFile:
    path: Path
    format: str  # "srt" or "vtt"
    cues: list[Cue]

    @property
    def end_s(self) -> float:
        return max((cue.end_s for cue in self.cues), default=0.0)


class CaptionParseError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _seconds(hours: str | None, minutes: str, seconds: str, fraction: str) -> float:
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(fraction.ljust(3, "0")) / 1000


def parse_caption_text(text: str, *, path: Path, format_hint: str | None = None) -> CaptionFile:
    """Parse SRT or WebVTT text; raises CaptionParseError listing every bad line."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    kind = "vtt" if text.startswith("WEBVTT") else (format_hint or "srt")
    if kind == "vtt" and not text.startswith("WEBVTT"):
        raise CaptionParseError(["line 1: a WebVTT file must start with 'WEBVTT'"])
    timing = _VTT_TIMING if kind == "vtt" else _SRT_TIMING
    lines = text.split("\n")
    cues: list[Cue] = []
    problems: list[str] = []
    index = 1 if kind == "vtt" else 0
    if kind == "vtt":
        while index < len(lines) and lines[index].strip():  # header lines after WEBVTT
            index += 1
    while index < len(lines):
        while index < len(lines) and not lines[index].strip():
            index += 1
        if index >= len(lines):
            break
        block_start = index
        block: list[str] = []
        while index < len(lines) and lines[index].strip():
            block.append(lines[index])
            index += 1
        if kind == "vtt" and block[0].split(maxsplit=1)[0] in {"NOTE", "STYLE", "REGION"}:
            continue
        timing_at = next((i for i, line in enumerate(block[:2]) if "-->" in line), None)
        if timing_at is None:
            problems.append(f"line {block_start + 1}: expected a cue timing line like "
                            f"{'00:00:01.000 --> 00:00:02.500' if kind == 'vtt' else '00:00:01,000 --> 00:00:02,500'}")
            continue
        if kind == "srt" and timing_at == 1 and not block[0].strip().isdigit():
            problems.append(f"line {block_start + 1}: expected a cue number, got {block[0].strip()[:40]!r}")
        line_number = block_start + timing_at + 1
        match = timing.match(block[timing_at])
        if not match:
            problems.append(f"line {line_number}: malformed cue timing {block[timing_at].strip()[:60]!r}")
            continue
        groups = match.groups()
        start_s = _seconds(*groups[0:4])
        end_s = _seconds(*groups[4:8])
        if end_s <= start_s:
            problems.append(f"line {line_number}: cue ends ({end_s:.3f} s) before it starts ({start_s:.3f} s)")
            continue
        cues.append(Cue(start_s, end_s, "\n".join(block[timing_at + 1:]), line_number))
    if not cues and not problems:
        problems.append("no cues found")
    if problems:
        raise CaptionParseError(problems)
    return CaptionFile(path=path, format=kind, cues=cues)


def load_caption_file(path: Path) -> CaptionFile:
    """Read and parse a caption file; raises CaptionParseError (with reasons) or OSError."""
    raw = path.read_bytes()
    if len(raw) > MAX_CAPTION_BYTES:
        raise CaptionParseError([f"the file is {len(raw)} bytes; YouTube accepts at most {MAX_CAPTION_BYTES}"])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CaptionParseError([f"not UTF-8 text (byte {exc.start})"]) from None
    hint = "vtt" if path.suffix.lower() == ".vtt" else "srt"
    return parse_caption_text(text, path=path, format_hint=hint)


def check_caption_file(path: Path, duration_s: float | None, *, field: str = "captions") -> list[str]:
    """Problems that would make this caption file wrong for this video."""
    if not path.is_file():
        return [f"{field}: no such file: {path}"]
    try:
        captions = load_caption_file(path)
    except CaptionParseError as exc:
        return [f"{field}: {path.name}: {problem}" for problem in exc.problems]
    except OSError as exc:
        return [f"{field}: cannot read {path}: {exc.strerror or exc}"]
    if duration_s is None:
        return [f"{field}: cannot check {path.name} against the video: its duration is unknown (is it a video file?)"]
    late = [cue for cue in captions.cues if cue.end_s > duration_s + END_TOLERANCE_S]
    if late:
        first = late[0]
        return [f"{field}: {path.name} line {first.line}: cue ends at {first.end_s:.3f} s, after the video "
                f"ends ({duration_s:.3f} s); {len(late)} cue(s) do not fit"]
    return []
