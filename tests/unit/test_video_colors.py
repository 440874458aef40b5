"""Colours from job files: names and hex codes in, only 0xRRGGBB out (pure)."""

from __future__ import annotations

import pytest

from pipeline.video.colors import format_ffmpeg_color, parse_color


@pytest.mark.parametrize(("text", "rgb"), [
    ("white", (255, 255, 255)),
    ("Navy", (0, 0, 128)),
    ("#1d3557", (0x1D, 0x35, 0x57)),
    ("#fff", (255, 255, 255)),
    ("0xE08020", (0xE0, 0x80, 0x20)),  # ffmpeg's spelling
    (" orange ", (255, 165, 0)),
])
def test_names_and_hex_codes(text: str, rgb: tuple[int, int, int]) -> None:
    assert parse_color(text) == rgb


@pytest.mark.parametrize("text", ["", "whit", "#12345", "red:alpha", "white'];[x]", "#ff000080", "0x12"])
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="colour"):
        parse_color(text)


def test_only_hex_digits_reach_a_graph() -> None:
    assert format_ffmpeg_color(parse_color("white")) == "0xFFFFFF"
    assert format_ffmpeg_color((1, 2, 255)) == "0x0102FF"
