"""Chapter markers as YouTube reads them from a description.

YouTube's rules for automatic chapters: the list starts at 0:00, has at least three
timestamps in ascending order, and every chapter lasts at least 10 seconds. Times are
whole seconds (`at_s` is rounded down), written m:ss, or h:mm:ss for videos of an hour
or longer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from pipeline.youtube.metadata import Chapter

MIN_CHAPTERS = 3
MIN_CHAPTER_S = 10
CHAPTERS_HEADING = "Chapters:"


def check_chapters(chapters: Sequence[Chapter], duration_s: float | None) -> list[str]:
    """Every way the chapter list breaks YouTube's rules (empty list: no chapters, fine)."""
    if not chapters:
        return []
    problems: list[str] = []
    starts_s = [math.floor(chapter.at_s) for chapter in chapters]
    if len(chapters) < MIN_CHAPTERS:
        problems.append(f"chapters: YouTube needs at least {MIN_CHAPTERS} chapters, got {len(chapters)}")
    if starts_s[0] != 0:
        problems.append(f"chapters[0].at_s: the first chapter must start at 0:00, not {format_timestamp(starts_s[0])}")
    for index, chapter in enumerate(chapters):
        if "<" in chapter.title or ">" in chapter.title or "\n" in chapter.title:
            problems.append(f"chapters[{index}].title: must be one line without < or >")
    for index in range(1, len(starts_s)):
        length_s = starts_s[index] - starts_s[index - 1]
        if length_s <= 0:
            problems.append(f"chapters[{index}].at_s: chapters must be in ascending order "
                            f"({format_timestamp(starts_s[index])} is not after {format_timestamp(starts_s[index - 1])})")
        elif length_s < MIN_CHAPTER_S:
            problems.append(f"chapters[{index - 1}]: lasts {length_s} s; YouTube needs at least {MIN_CHAPTER_S} s per chapter")
    if duration_s is not None:
        last_length_s = duration_s - starts_s[-1]
        if last_length_s < MIN_CHAPTER_S:
            problems.append(
                f"chapters[{len(chapters) - 1}]: starts at {format_timestamp(starts_s[-1])} but the video is "
                f"{duration_s:.1f} s long; the last chapter needs at least {MIN_CHAPTER_S} s"
            )
    return problems


def format_timestamp(seconds: int, *, with_hours: bool = False) -> str:
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    if hours or with_hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def format_chapter_list(chapters: Sequence[Chapter], duration_s: float | None) -> str:
    """The chapter lines for the description, one `m:ss Title` per chapter."""
    with_hours = (duration_s or 0) >= 3600 or any(c.at_s >= 3600 for c in chapters)
    lines = [f"{format_timestamp(math.floor(c.at_s), with_hours=with_hours)} {c.title.strip()}" for c in chapters]
    return "\n".join([CHAPTERS_HEADING, *lines])


def append_chapters(description: str, chapters: Sequence[Chapter], duration_s: float | None) -> str:
    if not chapters:
        return description
    block = format_chapter_list(chapters, duration_s)
    return f"{description.rstrip()}\n\n{block}" if description.strip() else block
