"""`defaultAudioLanguage` of an upload: stated metadata wins; a video sent with captions
gets the captions' language, else its preset's `[captions] language`; none otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.youtube.plan import audio_language

CAPTIONS = Path("walk.en.srt")


def test_stated_audio_language_wins() -> None:
    assert audio_language("fr", CAPTIONS, "es", "youtube") == "fr"


def test_captions_language_then_the_presets() -> None:
    assert audio_language(None, CAPTIONS, "es", "youtube") == "es"
    assert audio_language(None, CAPTIONS, None, "youtube") == "en"  # the built-in [captions] language


def test_a_preset_language_setting_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAYFINDER_CONFIG_DIR", str(tmp_path))
    (tmp_path / "presets").mkdir()
    (tmp_path / "presets" / "clinica.toml").write_text('extends = "youtube"\n[captions]\nlanguage = "es"\n')
    assert audio_language(None, CAPTIONS, None, "clinica") == "es"


def test_no_captions_and_no_statement_sends_none() -> None:
    assert audio_language(None, None, "es", "youtube") is None
    assert audio_language(None, CAPTIONS, None, None) is None
