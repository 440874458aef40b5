"""SRT and WebVTT parsing, and the check that captions fit the video."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.youtube.captions import CaptionParseError, check_caption_file, parse_caption_text

SRT = """1
00:00:00,500 --> 00:00:03,000
Start at the parking ramp.

2
00:00:03,500 --> 00:00:11,250
Take the lift
to floor 3.
"""

VTT = """WEBVTT
Kind: captions

NOTE written by hand

intro
00:00.500 --> 00:03.000 line:90%
Start at the parking ramp.

00:00:03.500 --> 00:00:11.250
Take the lift to floor 3.
"""


def test_srt_cues_and_times() -> None:
    parsed = parse_caption_text(SRT, path=Path("a.srt"))
    assert parsed.format == "srt"
    assert [(c.start_s, c.end_s) for c in parsed.cues] == [(0.5, 3.0), (3.5, 11.25)]
    assert parsed.cues[1].text == "Take the lift\nto floor 3."
    assert parsed.end_s == 11.25


def test_vtt_with_header_note_identifier_settings_and_short_times() -> None:
    parsed = parse_caption_text(VTT, path=Path("a.vtt"), format_hint="vtt")
    assert parsed.format == "vtt"
    assert [(c.start_s, c.end_s) for c in parsed.cues] == [(0.5, 3.0), (3.5, 11.25)]


def test_crlf_and_bom_are_accepted() -> None:
    parsed = parse_caption_text("\ufeff" + SRT.replace("\n", "\r\n"), path=Path("a.srt"))
    assert len(parsed.cues) == 2


@pytest.mark.parametrize("text, fragment", [
    ("1\n00:00:01,000 -> 00:00:02,000\nHi\n", "line 1"),
    ("1\n00:00:01,000 --> 00:00:0x,000\nHi\n", "line 2: malformed"),
    ("1\n00:00:05,000 --> 00:00:02,000\nHi\n", "line 2: cue ends"),
    ("", "no cues"),
])
def test_malformed_srt_names_the_line(text: str, fragment: str) -> None:
    with pytest.raises(CaptionParseError) as caught:
        parse_caption_text(text, path=Path("a.srt"))
    assert any(fragment in problem for problem in caught.value.problems)


def test_vtt_without_header_fails() -> None:
    with pytest.raises(CaptionParseError):
        parse_caption_text("00:00.500 --> 00:03.000\nHi\n", path=Path("a.vtt"), format_hint="vtt")


def test_captions_must_fit_the_video(tmp_path: Path) -> None:
    path = tmp_path / "walk.srt"
    path.write_text(SRT, encoding="utf-8")
    assert check_caption_file(path, duration_s=12.0) == []
    assert check_caption_file(path, duration_s=10.8) == []  # within the 0.5 s tolerance
    [problem] = check_caption_file(path, duration_s=10.0)
    assert problem.startswith("captions:") and "line 6" in problem and "11.250" in problem


def test_missing_file_not_utf8_and_unknown_duration(tmp_path: Path) -> None:
    assert "no such file" in check_caption_file(tmp_path / "nope.srt", 10.0)[0]
    latin = tmp_path / "latin.srt"
    latin.write_bytes(SRT.replace("lift", "ascensor café").encode("latin-1"))
    assert "not UTF-8" in check_caption_file(latin, 12.0)[0]
    good = tmp_path / "good.srt"
    good.write_text(SRT, encoding="utf-8")
    assert "duration is unknown" in check_caption_file(good, None)[0]
