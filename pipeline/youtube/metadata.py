"""The schemas of YouTube metadata: a job's `[youtube]` table, a metadata template file,
and the resolved `VideoMetadata` that becomes the `videos.insert` request body.

Unknown keys are errors everywhere, and every problem is reported at once with its key
(`youtube.chapters[2].at_s: ...`). These models only check shapes and types; the rules
YouTube enforces (lengths, characters, dates) live in `validate.py`, which reports them
against the rendered text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from pipeline.errors import ConfigError

Privacy = Literal["public", "unlisted", "private"]
License = Literal["youtube", "creativeCommon"]
VarValue = str | int | float | bool

DEFAULT_CATEGORY_ID = "27"  # Education

# Shape bounds, checked before any template renders, so that a 10 MB value or a million
# tags costs a message, not minutes. Far above what YouTube accepts after rendering (title
# 100 characters, description 5000 bytes, tags 500 characters in all, so at most 250 tags).
MAX_TEMPLATE_TEXT_CHARS = 20_000  # of a text field's template, and of a variable's value
MAX_TAGS = 500
MAX_VARS = 1000
MAX_CHAPTERS = 500
TemplateText = Annotated[str, StringConstraints(max_length=MAX_TEMPLATE_TEXT_CHARS)]

# Categories a video can be assigned to (videoCategories.list, `assignable: true`).
CATEGORIES: dict[str, str] = {
    "1": "Film & Animation",
    "2": "Autos & Vehicles",
    "10": "Music",
    "15": "Pets & Animals",
    "17": "Sports",
    "19": "Travel & Events",
    "20": "Gaming",
    "22": "People & Blogs",
    "23": "Comedy",
    "24": "Entertainment",
    "25": "News & Politics",
    "26": "Howto & Style",
    "27": "Education",
    "28": "Science & Technology",
    "29": "Nonprofits & Activism",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Chapter(_Strict):
    at_s: float = Field(ge=0)
    title: str = Field(min_length=1, max_length=5000)  # its line goes into the description (5000 bytes)


class Release(_Strict):
    """Who agreed to be shown: consent form references (file names or record ids), or none needed."""

    consent_forms: list[str] = Field(default_factory=list)
    no_identifiable_people: bool = False


class MetadataFields(_Strict):
    """Fields a template and a job can both set; text fields are Jinja2 templates."""

    title: TemplateText | None = None
    description: TemplateText | None = None
    tags: list[TemplateText] | None = Field(None, max_length=MAX_TAGS)
    category: int | str | None = None
    default_language: str | None = None
    default_audio_language: str | None = None
    made_for_kids: bool | None = None
    contains_synthetic_media: bool | None = None
    license: License | None = None
    privacy: Privacy | None = None
    playlist: TemplateText | None = None


class TemplateFile(MetadataFields):
    """A metadata template: `presets/templates/NAME.toml` or `<config dir>/templates/NAME.toml`."""


class YouTubeSection(MetadataFields):
    """A job file's `[youtube]` table. Paths are relative to the job file's folder."""

    template: str | None = None
    vars: dict[str, TemplateText | int | float | bool] = Field(default_factory=dict, max_length=MAX_VARS)
    chapters: list[Chapter] = Field(default_factory=list, max_length=MAX_CHAPTERS)
    release: Release | None = None
    publish_at: datetime | date | str | None = None
    captions: str | None = None
    captions_language: str | None = None
    captions_name: TemplateText | None = None
    thumbnail: str | None = None
    thumbnail_title: bool | None = None
    notify_subscribers: bool | None = None


@dataclass(frozen=True)
class VideoMetadata:
    """Everything about one upload after templates, job and flags are merged and rendered."""

    title: str
    description: str
    tags: list[str]
    category: str
    privacy: str
    made_for_kids: bool
    made_for_kids_explicit: bool
    default_language: str | None = None
    default_audio_language: str | None = None
    contains_synthetic_media: bool | None = None
    license: str | None = None
    publish_at: Any = None  # as given (str or datetime); validate.py checks and normalizes it
    playlist: str | None = None
    chapters: list[Chapter] = field(default_factory=list)
    captions: Path | None = None
    captions_language: str | None = None
    captions_name: str | None = None
    thumbnail: str | Path | None = None  # "auto", a path, or None
    thumbnail_title: bool = False
    release: Release | None = None
    notify_subscribers: bool | None = None
    template: str | None = None


_UNION_MEMBER_LOCS = {"str", "int", "float", "bool", "datetime", "date", "none"}


def format_pydantic_problems(error: ValidationError, prefix: str) -> list[str]:
    """One line per problem, with the dotted key path a user can find in their file."""
    problems: dict[str, str] = {}
    for item in error.errors():
        parts: list[str] = []
        for loc in item["loc"]:
            if isinstance(loc, int):
                parts[-1:] = [f"{parts[-1]}[{loc}]"] if parts else [f"[{loc}]"]
            elif str(loc) in _UNION_MEMBER_LOCS or "[" in str(loc):
                # A union (int | str) reports one failure per member, named by type: one line is enough.
                continue
            else:
                parts.append(str(loc))
        key = ".".join([prefix, *parts]) if prefix else ".".join(parts)
        message = "unknown key" if item["type"] == "extra_forbidden" else item["msg"]
        problems.setdefault(key, f"{key}: {message}")
    return list(problems.values())


def parse_youtube_section(data: dict[str, Any], *, file: Path | None = None) -> YouTubeSection:
    """Validate a job's raw `[youtube]` table, reporting every problem at once."""
    try:
        return YouTubeSection.model_validate(data)
    except ValidationError as error:
        problems = format_pydantic_problems(error, "youtube")
        raise ConfigError(f"the [youtube] table has {len(problems)} problem(s)", problems=problems,
                          file=file) from None


def parse_template(data: dict[str, Any], *, file: Path | None = None) -> TemplateFile:
    try:
        return TemplateFile.model_validate(data)
    except ValidationError as error:
        problems = format_pydantic_problems(error, "")
        raise ConfigError(f"the template has {len(problems)} problem(s)", problems=problems,
                          file=file) from None


def build_insert_body(meta: VideoMetadata, publish_at_rfc3339: str | None) -> dict[str, Any]:
    """The exact `videos.insert` request body; fields left unset are not sent."""
    snippet: dict[str, Any] = {
        "title": meta.title,
        "description": meta.description,
        "categoryId": meta.category,
    }
    if meta.tags:
        snippet["tags"] = list(meta.tags)
    if meta.default_language:
        snippet["defaultLanguage"] = meta.default_language
    if meta.default_audio_language:
        snippet["defaultAudioLanguage"] = meta.default_audio_language
    status: dict[str, Any] = {
        "privacyStatus": meta.privacy,
        "selfDeclaredMadeForKids": meta.made_for_kids,
    }
    if publish_at_rfc3339:
        status["publishAt"] = publish_at_rfc3339
    if meta.license:
        status["license"] = meta.license
    if meta.contains_synthetic_media is not None:
        status["containsSyntheticMedia"] = meta.contains_synthetic_media
    return {"snippet": snippet, "status": status}
