"""Publishing policy gates: what a preset requires before a video may be public or scheduled."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from pipeline.youtube.metadata import Release, VideoMetadata
from pipeline.youtube.policy import PublishPolicy, check_policy, load_publish_policy

STRICT = PublishPolicy(preset="youtube", require_captions=True, require_made_for_kids=True, require_release=True)
BARE = VideoMetadata(title="t", description="", tags=[], category="27", privacy="public", made_for_kids=False,
                     made_for_kids_explicit=False)
COMPLETE = replace(BARE, captions=Path("walk.srt"), made_for_kids_explicit=True,
                   release=Release(consent_forms=["consent/2025-014.pdf"]))


def test_public_upload_missing_everything_names_each_rule() -> None:
    problems = check_policy(BARE, STRICT)
    assert [p.split(":")[0] for p in problems] == ["captions", "made_for_kids", "release"]
    assert "require_captions" in problems[0] and "require_made_for_kids" in problems[1] and "require_release" in problems[2]
    assert all("'youtube'" in p for p in problems)


def test_complete_public_upload_passes() -> None:
    assert check_policy(COMPLETE, STRICT) == []
    no_people = replace(COMPLETE, release=Release(no_identifiable_people=True))
    assert check_policy(no_people, STRICT) == []


@pytest.mark.parametrize("privacy", ["unlisted", "public"])
def test_unlisted_counts_as_public(privacy: str) -> None:
    assert len(check_policy(replace(BARE, privacy=privacy), STRICT)) == 3


def test_private_review_upload_needs_nothing() -> None:
    assert check_policy(replace(BARE, privacy="private"), STRICT) == []


def test_scheduled_private_upload_is_gated() -> None:
    scheduled = replace(BARE, privacy="private", publish_at="2030-01-01T00:00:00Z")
    problems = check_policy(scheduled, STRICT)
    assert len(problems) == 3 and "scheduled" in problems[0]


def test_empty_consent_list_is_not_a_release() -> None:
    empty = replace(COMPLETE, release=Release(consent_forms=[" "]))
    assert [p.split(":")[0] for p in check_policy(empty, STRICT)] == ["release"]


def test_no_preset_no_rules() -> None:
    assert check_policy(BARE, PublishPolicy()) == []
    assert load_publish_policy(None) == PublishPolicy()


def test_builtin_youtube_preset_turns_all_three_on() -> None:
    policy = load_publish_policy("youtube")
    assert policy.rules_on() == ["require_captions", "require_made_for_kids", "require_release"]


def test_user_preset_publish_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAYFINDER_CONFIG_DIR", str(tmp_path))
    (tmp_path / "presets").mkdir()
    (tmp_path / "presets" / "clinic.toml").write_text("[video]\ncrf = 20\n[publish]\nrequire_captions = true\n")
    assert load_publish_policy("clinic").rules_on() == ["require_captions"]
    (tmp_path / "presets" / "bad.toml").write_text('[publish]\nrequire_captions = "yes"\nrequire_cake = true\n')
    with pytest.raises(ConfigError) as caught:
        load_publish_policy("bad")
    assert len(caught.value.problems) == 2
    with pytest.raises(ConfigError):
        load_publish_policy("does-not-exist")


def test_a_preset_that_extends_youtube_keeps_its_gates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAYFINDER_CONFIG_DIR", str(tmp_path))
    (tmp_path / "presets").mkdir()
    (tmp_path / "presets" / "house.toml").write_text('extends = "youtube"\n[audio]\ntarget_lufs = -16.0\n')
    assert load_publish_policy("house").rules_on() == ["require_captions", "require_made_for_kids", "require_release"]
