"""YouTube's metadata rules, checked before any network call, every problem at once.

Rules (YouTube Data API reference, videos resource): the title is 1 to 100 characters
with no `<` or `>`; the description is at most 5000 bytes of UTF-8 with no `<` or `>`;
tags total at most 500 characters, counting the commas between tags and 2 extra for
each tag containing a space (YouTube quotes it); `publishAt` is RFC 3339, in the future,
and only with privacy `private`; the category must be assignable. Caption, thumbnail,
chapter and policy checks come from their own modules and are gathered here.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from pathlib import Path

from pipeline.errors import ConfigError, shown_value
from pipeline.youtube.captions import check_caption_file
from pipeline.youtube.chapters import check_chapters
from pipeline.youtube.metadata import CATEGORIES, VideoMetadata
from pipeline.youtube.policy import PublishPolicy, check_policy, is_public_or_scheduled
from pipeline.youtube.thumbnail import check_thumbnail_file
from pipeline.youtube.video_facts import MAX_VIDEO_BYTES, MAX_VIDEO_DURATION_S, VideoFacts

MAX_TITLE_CHARS = 100
MAX_DESCRIPTION_BYTES = 5000
MAX_TAGS_CHARS = 500
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)


def tags_length(tags: list[str]) -> int:
    """Length of the tags as YouTube counts it against its 500-character limit."""
    commas = max(0, len(tags) - 1)
    quotes = sum(2 for tag in tags if " " in tag)
    return sum(len(tag) for tag in tags) + commas + quotes


def check_title(title: str) -> list[str]:
    problems = []
    if not title.strip():
        problems.append("title: must not be empty")
    if len(title) > MAX_TITLE_CHARS:
        problems.append(f"title: is {len(title)} characters; YouTube allows at most {MAX_TITLE_CHARS}")
    if "<" in title or ">" in title:
        problems.append("title: must not contain < or >")
    if "\n" in title or "\r" in title:
        problems.append("title: must be one line")
    return problems


def check_description(description: str) -> list[str]:
    problems = []
    size_bytes = len(description.encode("utf-8"))
    if size_bytes > MAX_DESCRIPTION_BYTES:
        problems.append(f"description: is {size_bytes} bytes of UTF-8; YouTube allows at most {MAX_DESCRIPTION_BYTES}")
    if "<" in description or ">" in description:
        problems.append("description: must not contain < or >")
    return problems


def check_tags(tags: list[str]) -> list[str]:
    problems = []
    for index, tag in enumerate(tags):
        if not tag.strip():
            problems.append(f"tags[{index}]: must not be empty")
        if "," in tag:
            problems.append(f"tags[{index}]: must not contain a comma (YouTube separates tags with commas)")
        if "<" in tag or ">" in tag:
            problems.append(f"tags[{index}]: must not contain < or >")
    total = tags_length(tags)
    if total > MAX_TAGS_CHARS:
        problems.append(
            f"tags: count as {total} characters (commas between tags and 2 per tag with a space included); "
            f"YouTube allows at most {MAX_TAGS_CHARS}"
        )
    return problems


def normalize_category(category: object) -> tuple[str | None, list[str]]:
    """A category id from an id (27, "27") or a name ("Education"), and any problem."""
    text = str(category).strip()
    if text in CATEGORIES:
        return text, []
    by_name = {name.casefold(): cid for cid, name in CATEGORIES.items()}
    if text.casefold() in by_name:
        return by_name[text.casefold()], []
    known = ", ".join(f"{cid} {name}" for cid, name in CATEGORIES.items())
    return None, [f"category: {shown_value(text)} is not a YouTube category a video can have (known: {known})"]


def parse_publish_at(value: object, now: datetime) -> tuple[str | None, list[str]]:
    """`publish_at` as RFC 3339 in UTC (`2025-06-01T14:00:00Z`), and any problem."""
    if value is None or value == "":
        return None, []
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        return None, ["publish_at: needs a time and a time zone, e.g. 2025-06-01T09:00:00-05:00"]
    else:
        text = str(value).strip()
        if not _RFC3339.match(text):
            return None, [f"publish_at: {shown_value(text)} is not an RFC 3339 date-time with a time zone, "
                          "e.g. 2025-06-01T09:00:00-05:00 or 2025-06-01T14:00:00Z"]
        try:
            moment = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00").replace("t", "T"))
        except ValueError:
            return None, [f"publish_at: {shown_value(text)} is not a real date-time"]
    if moment.tzinfo is None:
        return None, ["publish_at: needs a time zone (an offset like -05:00, or Z for UTC)"]
    utc = moment.astimezone(timezone.utc)
    if utc <= now.astimezone(timezone.utc):
        return None, [f"publish_at: {utc.isoformat()} is not in the future"]
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ"), []


def check_language(value: str | None, field: str) -> list[str]:
    if value is None or _LANGUAGE.match(value):
        return []
    return [f"{field}: {shown_value(value)} is not a language code like en, es or en-US"]


def check_video(facts: VideoFacts) -> list[str]:
    problems = []
    if facts.size_bytes == 0:
        problems.append(f"video: {facts.path.name} is empty")
    if facts.size_bytes > MAX_VIDEO_BYTES:
        problems.append(f"video: {facts.path.name} is larger than YouTube's 256 GB limit")
    if facts.duration_s is not None and facts.duration_s > MAX_VIDEO_DURATION_S:
        problems.append(f"video: {facts.path.name} is longer than YouTube's 12 hour limit")
    return problems


def check_caption_quality(meta: VideoMetadata, facts: VideoFacts, policy: PublishPolicy) -> list[str]:
    """The caption rules (pipeline.captions) and a recorded approval of the caption file
    (`wayfinder captions approve`, matching its sha256 and the output's) as upload
    problems, where the preset's `require_captions` gate applies: a public or scheduled
    upload. A private review upload may carry draft captions not yet right or approved."""
    if meta.captions is None or not policy.require_captions or not is_public_or_scheduled(meta):
        return []
    from pipeline.captions.check import caption_check_problems
    from pipeline.config import load_preset_settings

    settings = load_preset_settings(policy.preset).captions if policy.preset else None
    if settings is None:
        from pipeline.captions.settings import CaptionSettings

        settings = CaptionSettings()
    problems = caption_check_problems(Path(meta.captions), facts.path, settings)
    if problems:
        return problems
    # A human must have reviewed these very captions for this very output (issue 18).
    from pipeline.captions.approval import approval_problem

    problem = approval_problem(facts.path, Path(meta.captions))
    return [problem] if problem else []


def collect_problems(
    meta: VideoMetadata,
    facts: VideoFacts,
    policy: PublishPolicy,
    now: datetime,
) -> tuple[list[str], str | None]:
    """Every problem with this upload, and `publish_at` normalized for the request body.

    Reads the caption and thumbnail files; sends nothing.
    """
    problems: list[str] = []
    problems += check_video(facts)
    problems += check_title(meta.title)
    problems += check_description(meta.description)
    problems += check_tags(meta.tags)
    if meta.category not in CATEGORIES:
        problems += normalize_category(meta.category)[1]
    problems += check_language(meta.default_language, "default_language")
    problems += check_language(meta.default_audio_language, "default_audio_language")
    problems += check_language(meta.captions_language, "captions_language")
    publish_at, publish_problems = parse_publish_at(meta.publish_at, now)
    problems += publish_problems
    if meta.publish_at not in (None, "") and meta.privacy != "private":
        problems.append(f"publish_at: YouTube schedules only private videos; privacy is {shown_value(meta.privacy)} "
                        "(set privacy = \"private\"; the video becomes public at publish_at)")
    problems += check_chapters(meta.chapters, facts.duration_s)
    if meta.captions is not None:
        caption_problems = check_caption_file(Path(meta.captions), facts.duration_s)
        problems += caption_problems or check_caption_quality(meta, facts, policy)
    if meta.thumbnail == "auto":
        if facts.duration_s is None:
            problems.append("thumbnail: auto needs a video PyAV can read; this file's duration is unknown")
    elif meta.thumbnail is not None:
        problems += check_thumbnail_file(Path(meta.thumbnail))
    problems += check_policy(meta, policy)
    return problems, publish_at


def raise_if_problems(problems: list[str], *, file: Path | str | None = None) -> None:
    if problems:
        raise ConfigError(
            f"the upload metadata has {len(problems)} problem(s); nothing was sent",
            problems=problems,
            file=file,
        )
