"""YouTube's published metadata rules, checked on values built to sit exactly on each limit."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from pipeline.youtube.validate import (
    check_description,
    check_language,
    check_tags,
    check_title,
    normalize_category,
    parse_publish_at,
    tags_length,
)

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


def test_title_of_100_characters_passes_and_101_fails() -> None:
    assert check_title("a" * 100) == []
    [problem] = check_title("a" * 101)
    assert problem.startswith("title:") and "101" in problem and "100" in problem


def test_title_counts_characters_not_bytes() -> None:
    # 100 'é' are 200 bytes of UTF-8 but 100 characters: YouTube counts characters.
    assert check_title("é" * 100) == []


@pytest.mark.parametrize("title", ["", "   "])
def test_empty_title_fails(title: str) -> None:
    assert any("must not be empty" in p for p in check_title(title))


@pytest.mark.parametrize("title", ["Clinic <3", "A > B"])
def test_angle_brackets_in_title_fail(title: str) -> None:
    assert check_title(title) == ["title: must not contain < or >"]


def test_description_limit_is_5000_bytes_of_utf8() -> None:
    assert check_description("é" * 2500) == []  # exactly 5000 bytes
    [problem] = check_description("é" * 2500 + "a")  # 5001 bytes, 2501 characters
    assert "5001 bytes" in problem


def test_description_rejects_angle_brackets() -> None:
    assert check_description("Go to <floor 3>") == ["description: must not contain < or >"]


def test_tags_length_counts_commas_and_two_per_tag_with_a_space() -> None:
    # "parking" 7 + "floor 3" 7 + 2 quotes + 1 comma = 17
    assert tags_length(["parking", "floor 3"]) == 17
    assert tags_length([]) == 0
    assert tags_length(["one"]) == 3


def test_tags_total_of_exactly_500_passes_and_501_fails() -> None:
    # 50 tags of 9 characters: 450 + 49 commas = 499; one more character makes 500.
    tags = ["abcdefghi"] * 49 + ["abcdefghij"]
    assert tags_length(tags) == 500
    assert check_tags(tags) == []
    tags[-1] = "abcdefg ij"  # still 10 characters, but a space adds 2 quotes: 502
    [problem] = check_tags(tags)
    assert problem.startswith("tags:") and "502" in problem


def test_tags_with_commas_or_brackets_or_empty_fail_by_index() -> None:
    problems = check_tags(["ok", "a,b", "<x>", " "])
    assert any(p.startswith("tags[1]:") and "comma" in p for p in problems)
    assert any(p.startswith("tags[2]:") and "< or >" in p for p in problems)
    assert any(p.startswith("tags[3]:") and "empty" in p for p in problems)


@pytest.mark.parametrize("given, expected", [(27, "27"), ("27", "27"), ("Education", "27"),
                                             ("howto & style", "26"), (28, "28")])
def test_category_by_id_or_name(given: object, expected: str) -> None:
    assert normalize_category(given) == (expected, [])


@pytest.mark.parametrize("given", [99, "18", "Shorts", ""])
def test_unknown_or_unassignable_category_fails(given: object) -> None:
    # 18 (Short Movies) exists but YouTube does not let a video be assigned to it.
    category, problems = normalize_category(given)
    assert category is None and problems[0].startswith("category:")


def test_publish_at_in_the_future_with_offset_becomes_utc_z() -> None:
    value, problems = parse_publish_at("2025-03-02T09:00:00-05:00", NOW)
    assert problems == [] and value == "2025-03-02T14:00:00Z"


def test_publish_at_accepts_a_toml_datetime() -> None:
    moment = datetime(2025, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=1)))
    assert parse_publish_at(moment, NOW) == ("2025-03-02T08:00:00Z", [])


@pytest.mark.parametrize("value, fragment", [
    ("2025-03-02 09:00", "RFC 3339"),
    ("2025-03-02T09:00:00", "RFC 3339"),  # no time zone
    ("next tuesday", "RFC 3339"),
    ("2025-02-30T09:00:00Z", "not a real date-time"),
    ("2025-03-01T11:00:00Z", "not in the future"),
    (datetime(2025, 3, 2, 9, 0), "time zone"),
])
def test_bad_publish_at_values(value: object, fragment: str) -> None:
    result, problems = parse_publish_at(value, NOW)
    assert result is None and fragment in problems[0] and problems[0].startswith("publish_at:")


@pytest.mark.parametrize("code, ok", [("en", True), ("en-US", True), ("es-419", True), ("english", False),
                                      ("e", False)])
def test_language_codes(code: str, ok: bool) -> None:
    assert (check_language(code, "default_language") == []) is ok
