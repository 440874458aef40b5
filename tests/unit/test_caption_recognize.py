"""The recognizer's edges that need no model (pipeline.captions.recognize): a missing
model is a missing tool (exit 4) with what to do; the vocabulary becomes the hotwords; the
preset's [captions] vocabulary and language are settings like the others."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.captions.recognize import Recognizer, default_model_dir, hotwords
from pipeline.captions.settings import CaptionSettings
from pipeline.errors import EXIT_TOOL_OR_CREDENTIALS, ToolError


def test_a_folder_without_a_model_is_a_missing_tool(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ToolError) as caught:
        Recognizer(tmp_path)
    assert caught.value.exit_code == EXIT_TOOL_OR_CREDENTIALS
    line = caught.value.one_line()
    assert "missing model.bin, tokenizer.json, vocabulary.txt" in line and "--model" in line


def test_the_model_folder_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAYFINDER_WHISPER_MODEL", str(tmp_path / "m"))
    assert default_model_dir() == tmp_path / "m"
    monkeypatch.delenv("WAYFINDER_WHISPER_MODEL")
    monkeypatch.setenv("WAYFINDER_CONFIG_DIR", str(tmp_path / "cfg"))
    assert default_model_dir() == tmp_path / "cfg" / "models" / "faster-whisper-base"


def test_vocabulary_hotwords() -> None:
    assert hotwords([]) is None and hotwords([" "]) is None
    assert hotwords(["Käthe Kollwitz Pavilion", " Dr. Okonkwo "]) == "Käthe Kollwitz Pavilion, Dr. Okonkwo"


def test_vocabulary_and_language_settings() -> None:
    settings = CaptionSettings(vocabulary=("North Tower",), language="es")
    assert settings.vocabulary == ("North Tower",) and settings.language == "es"
    with pytest.raises(ValueError):
        CaptionSettings(language="english")
