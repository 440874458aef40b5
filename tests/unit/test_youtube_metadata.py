"""The [youtube] table schema and the videos.insert body built from resolved metadata."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from pipeline.errors import ConfigError
from pipeline.youtube.metadata import VideoMetadata, build_insert_body, parse_youtube_section


def test_full_table_parses() -> None:
    section = parse_youtube_section({
        "template": "navigation", "title": "T", "tags": ["a"], "category": "Education", "privacy": "private",
        "publish_at": datetime(2030, 1, 1, tzinfo=timezone.utc), "made_for_kids": False,
        "vars": {"floor": 3, "phone": "555"}, "chapters": [{"at_s": 0, "title": "Start"}],
        "release": {"consent_forms": ["form-1.pdf"]}, "captions": "walk.srt", "thumbnail": "auto",
        "thumbnail_title": True, "notify_subscribers": False, "playlist": "P", "license": "creativeCommon",
    })
    assert section.vars == {"floor": 3, "phone": "555"} and section.chapters[0].title == "Start"


def test_every_problem_at_once_with_dotted_keys() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_youtube_section({
            "titel": "typo", "privacy": "secret", "tags": "not-a-list",
            "chapters": [{"at_s": -1, "title": "x"}, {"title": "no time"}],
            "release": {"consent_forms": ["a"], "who": "me"},
        })
    keys = {problem.split(":")[0] for problem in caught.value.problems}
    assert keys == {"youtube.titel", "youtube.privacy", "youtube.tags", "youtube.chapters[0].at_s",
                    "youtube.chapters[1].at_s", "youtube.release.who"}


def test_insert_body_sends_only_what_is_set() -> None:
    meta = VideoMetadata(title="T", description="D", tags=[], category="27", privacy="private",
                         made_for_kids=False, made_for_kids_explicit=True)
    assert build_insert_body(meta, None) == {
        "snippet": {"title": "T", "description": "D", "categoryId": "27"},
        "status": {"privacyStatus": "private", "selfDeclaredMadeForKids": False},
    }


def test_insert_body_with_everything() -> None:
    meta = VideoMetadata(title="T", description="D", tags=["a", "b c"], category="26", privacy="private",
                         made_for_kids=True, made_for_kids_explicit=True, default_language="en",
                         default_audio_language="es", contains_synthetic_media=False, license="creativeCommon")
    body = build_insert_body(meta, "2030-01-01T00:00:00Z")
    assert body["snippet"]["tags"] == ["a", "b c"] and body["snippet"]["defaultAudioLanguage"] == "es"
    assert body["status"] == {"privacyStatus": "private", "selfDeclaredMadeForKids": True,
                              "publishAt": "2030-01-01T00:00:00Z", "license": "creativeCommon",
                              "containsSyntheticMedia": False}
