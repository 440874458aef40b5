"""Chapter lists in YouTube's description format, and YouTube's rules for them."""

from __future__ import annotations

from pipeline.youtube.chapters import append_chapters, check_chapters, format_chapter_list, format_timestamp
from pipeline.youtube.metadata import Chapter


def chapters(*pairs: tuple[float, str]) -> list[Chapter]:
    return [Chapter(at_s=at, title=title) for at, title in pairs]


def test_valid_list_is_formatted_m_ss_from_zero() -> None:
    marks = chapters((0, "Parking ramp"), (25.9, "Main entrance"), (70, "Lift to floor 3"))
    assert check_chapters(marks, duration_s=95) == []
    assert format_chapter_list(marks, 95) == "Chapters:\n0:00 Parking ramp\n0:25 Main entrance\n1:10 Lift to floor 3"


def test_an_hour_long_video_uses_h_mm_ss_everywhere() -> None:
    marks = chapters((0, "A"), (600, "B"), (3700, "C"))
    assert format_chapter_list(marks, 4000).splitlines()[1:] == ["0:00:00 A", "0:10:00 B", "1:01:40 C"]
    assert format_timestamp(3599) == "59:59"


def test_fewer_than_three_chapters_fail() -> None:
    problems = check_chapters(chapters((0, "A"), (30, "B")), duration_s=60)
    assert problems == ["chapters: YouTube needs at least 3 chapters, got 2"]


def test_first_chapter_must_start_at_zero() -> None:
    problems = check_chapters(chapters((1, "A"), (20, "B"), (40, "C")), duration_s=60)
    assert any(p.startswith("chapters[0].at_s:") for p in problems)


def test_a_chapter_shorter_than_ten_seconds_fails_by_index() -> None:
    problems = check_chapters(chapters((0, "A"), (9, "B"), (30, "C")), duration_s=60)
    assert problems == ["chapters[0]: lasts 9 s; YouTube needs at least 10 s per chapter"]


def test_exactly_ten_seconds_is_enough() -> None:
    assert check_chapters(chapters((0, "A"), (10, "B"), (20, "C")), duration_s=30) == []


def test_last_chapter_needs_ten_seconds_before_the_end() -> None:
    problems = check_chapters(chapters((0, "A"), (10, "B"), (20, "C")), duration_s=29.5)
    assert len(problems) == 1 and problems[0].startswith("chapters[2]:")


def test_out_of_order_chapters_fail() -> None:
    problems = check_chapters(chapters((0, "A"), (40, "B"), (20, "C")), duration_s=90)
    assert any("ascending" in p for p in problems)


def test_no_chapters_is_fine_and_leaves_the_description_alone() -> None:
    assert check_chapters([], duration_s=None) == []
    assert append_chapters("Hello", [], 60) == "Hello"


def test_chapters_are_appended_after_a_blank_line() -> None:
    marks = chapters((0, "A"), (10, "B"), (20, "C"))
    assert append_chapters("Intro text.\n", marks, 40) == "Intro text.\n\nChapters:\n0:00 A\n0:10 B\n0:20 C"
