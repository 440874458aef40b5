"""Reading SRT and WebVTT with webvtt-py (pipeline.captions.read): Unicode, styling tags,
numbering in file order, and broken files as one line naming the file and the caption."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.captions.read import read_captions
from pipeline.errors import EXIT_BAD_INPUT, InputError

SRT = ("1\r\n00:00:01,000 --> 00:00:03,500\r\n<i>Bienvenue</i> à l'hôpital\r\nNorth Tower\r\n\r\n"
       "2\r\n00:00:04,000 --> 00:00:06,000\r\n<b>Käthe-Kollwitz</b> Klinik 北京\r\n")
VTT = ("WEBVTT - clinic walk\n\nNOTE written by hand\n\nSTYLE\n::cue { color: yellow }\n\n"
       "intro\n00:01.000 --> 00:03.500 line:0 align:start\n<v Nurse Ana>Take the <c.loud>lift</c></v>\n\n"
       "00:00:04.000 --> 00:00:06.000\nZoë's café ☕\n")


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def test_srt_with_unicode_tags_and_crlf(tmp_path: Path) -> None:
    track = read_captions(write(tmp_path, "walk.srt", "\ufeff" + SRT))
    assert track.format == "srt"
    assert [(c.number, c.start_s, c.end_s) for c in track.captions] == [(1, 1.0, 3.5), (2, 4.0, 6.0)]
    assert track.captions[0].lines == ("Bienvenue à l'hôpital", "North Tower")
    assert track.captions[1].lines == ("Käthe-Kollwitz Klinik 北京",)
    assert track.captions[1].chars == len("Käthe-Kollwitz Klinik 北京")


def test_vtt_with_header_notes_styles_voices_and_settings(tmp_path: Path) -> None:
    track = read_captions(write(tmp_path, "walk.vtt", VTT))
    assert track.format == "vtt"
    assert [(c.number, c.start_s, c.end_s, c.lines) for c in track.captions] == [
        (1, 1.0, 3.5, ("Take the lift",)), (2, 4.0, 6.0, ("Zoë's café ☕",))]


def test_combining_accents_count_once(tmp_path: Path) -> None:
    track = read_captions(write(tmp_path, "c.srt", "1\n00:00:01,000 --> 00:00:02,000\nCafe\u0301\n"))
    assert track.captions[0].chars == 4


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("bad_time.srt", "1\n00:00:01,000 --> 00:00:02,000\nok\n\n2\n00:00:0x,000 --> 00:00:04,000\nbad\n",
     "caption 2 (line 6): cannot read the timing"),
    ("no_number.srt", "1\n00:00:01,000 --> 00:00:02,000\nok\n\n00:00:03,000 --> 00:00:04,000\nlost\n",
     "caption 2 (line 5): the parser could not read this cue"),
    ("backwards.srt", "1\n00:00:01,000 --> 00:00:02,000\nok\n\n2\n00:00:05,000 --> 00:00:04,000\nback\n",
     "caption 2 (00:00:05.000): ends at 00:00:04.000, not after it starts"),
    ("empty_text.srt", "1\n00:00:01,000 --> 00:00:02,000\n\n2\n00:00:03,000 --> 00:00:04,000\nok\n",
     "caption 1 (line 2): the parser could not read this cue"),
    ("bad_time.vtt", "WEBVTT\n\n00:01.000 --> 00:02.000\nok\n\n00:03.000 --> 00:0x.000\nbad\n",
     "caption 2 (line 6): cannot read the timing"),
    ("no_header.vtt", "00:01.000 --> 00:02.000\nok\n", "not a valid VTT file: expected 'WEBVTT' on the first line"),
    ("prose.srt", "Just some words\nand more\n", "no captions found"),
    ("latin1.srt", "1\n00:00:01,000 --> 00:00:02,000\nCaf\xe9\n".encode("latin-1"), "not UTF-8 text (byte 35)"),
])
def test_broken_files_are_one_line_naming_file_and_caption(tmp_path: Path, name: str, text: str | bytes,
                                                           expected: str) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(InputError) as caught:
        read_captions(path)
    line = caught.value.one_line()
    assert "\n" not in line and line.startswith(f"{path}: captions: ") and expected in line
    assert caught.value.exit_code == EXIT_BAD_INPUT


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such caption file"):
        read_captions(tmp_path / "none.vtt")
