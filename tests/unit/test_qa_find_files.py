"""Which files `wayfinder qa PATH...` checks: folders by media extension, files as named."""

from __future__ import annotations

from pathlib import Path

from pipeline.qa.run import find_media_files


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def test_folders_are_searched_recursively_for_media_files(tmp_path: Path) -> None:
    a = touch(tmp_path / "b" / "clip.MP4")
    b = touch(tmp_path / "a.wav")
    c = touch(tmp_path / "b" / "deeper" / "voice.m4a")
    touch(tmp_path / "a.wav.wayfinder.json")
    touch(tmp_path / "notes.txt")
    touch(tmp_path / ".walkthrough.mp4.partial")  # a render in progress
    touch(tmp_path / ".cache" / "old.mp4")
    assert find_media_files([tmp_path]) == [b, a, c]


def test_files_named_explicitly_are_kept_in_order_and_once(tmp_path: Path) -> None:
    odd = touch(tmp_path / "delivery.bin")
    clip = touch(tmp_path / "clip.mp4")
    missing = tmp_path / "missing.mp4"
    assert find_media_files([odd, missing, clip, tmp_path]) == [odd, missing, clip]
