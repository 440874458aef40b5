"""Reading SRT and WebVTT caption files with webvtt-py (a maintained parser that reads
both), into plain `Caption`s numbered in file order.

Owns: decoding the bytes (UTF-8, with or without a BOM), choosing the format (a
`WEBVTT` header, else the extension), and turning everything the parser drops silently
or rejects into an `InputError` naming the file and the caption: webvtt-py skips an SRT
cue whose timing line it cannot read, so each `-->` line is checked with the parser's
own timing pattern and a cue that went missing is reported by its number.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import webvtt
from webvtt.errors import MalformedCaptionError, MalformedFileError
from webvtt.models import Timestamp
from webvtt.srt import SRTCueBlock
from webvtt.vtt import WebVTTCueBlock

from pipeline.errors import InputError

MAX_CAPTION_FILE_BYTES = 100 * 1024 * 1024  # YouTube's captions.insert limit


@dataclass(frozen=True)
class Caption:
    """One caption: its number in the file (from 1), times, and text lines without tags."""

    number: int
    start_s: float
    end_s: float
    lines: tuple[str, ...]

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def chars(self) -> int:
        """Characters read: every character of every line (spaces count), no line breaks."""
        return sum(len(line) for line in self.lines)


@dataclass(frozen=True)
class CaptionTrack:
    path: Path
    format: str  # "srt" or "vtt"
    captions: tuple[Caption, ...]


def format_time(seconds: float) -> str:
    """HH:MM:SS.mmm, as caption editors show times."""
    milliseconds = max(0, round(seconds * 1000))
    hours, rest = divmod(milliseconds, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    whole, fraction = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{whole:02d}.{fraction:03d}"


def _text_lines(raw_lines: list[str]) -> tuple[str, ...]:
    # Styling tags (<i>, <b>, <v Nurse>, <c.yellow>) are not read by the viewer; NFC so
    # that "é" typed as e + combining accent counts once.
    caption = webvtt.Caption(text="\n".join(raw_lines))
    return tuple(unicodedata.normalize("NFC", line.strip()) for line in caption.text.split("\n") if line.strip())


def _timing_lines(lines: list[str]) -> list[tuple[int, str]]:
    return [(number, line) for number, line in enumerate(lines, start=1) if "-->" in line]


def parse_captions(text: str, *, path: Path, format_hint: str) -> CaptionTrack:
    """Captions of `text` (SRT or WebVTT); InputError naming the caption for a broken one."""
    text = text.lstrip("\ufeff")
    kind = "vtt" if text.startswith("WEBVTT") else format_hint
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    timings = _timing_lines(lines)
    if not timings:
        raise InputError("no captions found (no 'start --> end' timing line)", file=path, field="captions")
    pattern = WebVTTCueBlock.CUE_TIMINGS_PATTERN if kind == "vtt" else SRTCueBlock.CUE_TIMINGS_PATTERN
    expected_ms: list[tuple[int, int]] = []
    for number, (line_number, line) in enumerate(timings, start=1):
        times_ms = _timing_ms(line, pattern)
        if times_ms is None:
            raise InputError(f"caption {number} (line {line_number}): cannot read the timing {line.strip()[:60]!r}",
                             file=path, field="captions")
        expected_ms.append(times_ms)
    try:
        parsed = webvtt.WebVTT.from_buffer(io.StringIO("\n".join(lines)), format=kind)
    except MalformedFileError:
        expected = "'WEBVTT' on the first line" if kind == "vtt" else "a cue number, then a timing line"
        raise InputError(f"not a valid {kind.upper()} file: expected {expected}", file=path, field="captions") from None
    except MalformedCaptionError as exc:
        raise InputError(f"a caption cannot be read: {exc}", file=path, field="captions") from None
    got_ms = [(c.start_time.in_milliseconds(), c.end_time.in_milliseconds()) for c in parsed.captions]
    if got_ms != expected_ms:
        # The parser dropped a block (no cue number, no text); the first timing line it
        # has no caption for names it.
        for number, (line_number, _line) in enumerate(timings, start=1):
            if number > len(got_ms) or got_ms[number - 1] != expected_ms[number - 1]:
                raise InputError(f"caption {number} (line {line_number}): the parser could not read this cue "
                                 "(it needs a cue number, a timing line, then text)", file=path, field="captions")
    captions: list[Caption] = []
    for number, cue in enumerate(parsed.captions, start=1):
        start_s = cue.start_time.in_milliseconds() / 1000
        end_s = cue.end_time.in_milliseconds() / 1000
        if end_s <= start_s:
            raise InputError(f"caption {number} ({format_time(start_s)}): ends at {format_time(end_s)}, "
                             "not after it starts", file=path, field="captions")
        captions.append(Caption(number, start_s, end_s, _text_lines(cue.lines)))
    return CaptionTrack(path=path, format=kind, captions=tuple(captions))


def _timing_ms(line: str, pattern: re.Pattern[str]) -> tuple[int, int] | None:
    match = re.match(pattern, line)
    if match is None:
        return None
    try:
        start, end = (Timestamp.from_string(stamp.replace(",", ".")) for stamp in match.groups()[:2])
    except MalformedCaptionError:
        return None
    return start.in_milliseconds(), end.in_milliseconds()


def read_captions(path: Path) -> CaptionTrack:
    """Read and parse a caption file; InputError (exit 3) naming the file and caption."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError("no such caption file", file=path, field="captions") from None
    except OSError as exc:
        raise InputError(f"cannot read the caption file: {exc.strerror or exc}", file=path, field="captions") from None
    if len(raw) > MAX_CAPTION_FILE_BYTES:
        raise InputError(f"the file is {len(raw):,} bytes; at most {MAX_CAPTION_FILE_BYTES:,}", file=path, field="captions")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", file=path, field="captions") from None
    hint = "vtt" if path.suffix.lower() == ".vtt" else "srt"
    return parse_captions(text, path=path, format_hint=hint)
