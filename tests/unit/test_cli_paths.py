"""Paths in tables: shortened from the left on folder boundaries, the name always whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.cli.tables import shorten_path, shown_path


def test_a_path_that_fits_is_unchanged() -> None:
    assert shorten_path("out/walkthrough.mp4", 24) == "out/walkthrough.mp4"


def test_folders_go_from_the_left_and_the_name_stays_whole() -> None:
    path = "library/2026/cardiology/out/walkthrough.mp4"
    assert shorten_path(path, 24) == "…/out/walkthrough.mp4"
    assert shorten_path(path, 32) == "…/cardiology/out/walkthrough.mp4"
    for width in range(1, len(path) + 1):
        shown = shorten_path(path, width)
        assert shown.endswith("walkthrough.mp4")
        assert len(shown) <= max(width, len("walkthrough.mp4"))
        assert shown == path or shown.startswith("…/") or shown == "walkthrough.mp4"


def test_paths_inside_the_working_folder_are_relative(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert shown_path(tmp_path / "out" / "a.mp4") == "out/a.mp4"
    assert shown_path("/elsewhere/a.mp4") == "/elsewhere/a.mp4"
