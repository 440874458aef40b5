"""From a video, a job file or template, variables and flags to one validated `UploadPlan`.

Precedence: template < job `[youtube]` table < command-line flags; variables: job
`[youtube.vars]` < batch row < `--var`. Paths in the job are relative to the job file's
folder, paths on the command line to the working folder. Everything is rendered and
checked here, before any credentials are read or any request is made; a plan that
exists is one YouTube's published rules accept.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError, InputError, UsageError
from pipeline.tomlfile import parse_toml_text
from pipeline.youtube.chapters import append_chapters
from pipeline.youtube.caption_timing import placed_captions_for
from pipeline.youtube.metadata import (
    DEFAULT_CATEGORY_ID,
    MetadataFields,
    Release,
    VarValue,
    VideoMetadata,
    YouTubeSection,
    build_insert_body,
    parse_youtube_section,
)
from pipeline.youtube.policy import PublishPolicy, load_publish_policy
from pipeline.youtube.templates import load_template, render_fields
from pipeline.youtube.validate import collect_problems, normalize_category, raise_if_problems
from pipeline.youtube.video_facts import VideoFacts, read_video_facts

INSERT_PART = "snippet,status"
DEFAULT_PRIVACY = "private"  # review first: nothing goes public unless someone says so
DEFAULT_CAPTIONS_NAME = "Captions"


@dataclass(frozen=True)
class UploadOverrides:
    """What the command line says; None means "not given"."""

    template: str | None = None
    preset: str | None = None
    variables: Mapping[str, VarValue] = field(default_factory=dict)
    privacy: str | None = None
    publish_at: str | None = None
    playlist: str | None = None
    thumbnail: str | None = None
    thumbnail_title: bool | None = None
    captions: str | None = None
    captions_language: str | None = None
    made_for_kids: bool | None = None
    consent_forms: tuple[str, ...] = ()
    no_identifiable_people: bool | None = None


@dataclass(frozen=True)
class JobTable:
    """A job's `[youtube]` table that does not come from a job file (an inline or pattern
    job of a batch manifest): the table, the folder its paths are relative to, its preset."""

    table: Mapping[str, Any]
    base_dir: Path
    preset: str | None = None
    source: Path | None = None


@dataclass(frozen=True)
class UploadPlan:
    """A checked upload: what will be sent, and under which policy."""

    video: VideoFacts
    metadata: VideoMetadata
    body: dict[str, Any]
    part: str
    policy: PublishPolicy
    job_file: Path | None = None
    template_file: Path | None = None

    @property
    def metadata_sha256(self) -> str:
        """Identity of what videos.insert sends: a resumed session must carry the same metadata."""
        canonical = json.dumps({"part": self.part, "body": self.body,
                                "notify": self.metadata.notify_subscribers}, sort_keys=True)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    @property
    def captions_language(self) -> str:
        meta = self.metadata
        return meta.captions_language or meta.default_audio_language or meta.default_language or "en"

    def captions_body(self, video_id: str) -> dict[str, Any]:
        return {"snippet": {"videoId": video_id, "language": self.captions_language,
                            "name": self.metadata.captions_name or DEFAULT_CAPTIONS_NAME, "isDraft": False}}

    @property
    def playlist_privacy(self) -> str:
        """A playlist created for this video gets the video's privacy (scheduled: private)."""
        return self.metadata.privacy


def audio_language(explicit: str | None, captions: Path | None, captions_language: str | None,
                   preset: str | None) -> str | None:
    """`defaultAudioLanguage` for the video: as the metadata says, else, for a video sent
    with captions, the captions' language (`captions_language`, else the preset's
    `[captions] language`). Captions for accessibility are in the language spoken, and
    YouTube needs the audio language to list the track as the video's own captions."""
    if explicit:
        return explicit
    if captions is None:
        return None
    if captions_language:
        return captions_language
    if preset:
        from pipeline.config import load_preset_settings

        return load_preset_settings(preset).captions.language
    return None


def read_job_file(job_file: Path) -> tuple[dict[str, Any], str | None]:
    """The raw `[youtube]` table and the `preset` name of a job file."""
    try:
        text = job_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"no such job file: {job_file}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the job file: {exc}", file=job_file) from exc
    data = parse_toml_text(text, file=job_file)
    youtube = data.get("youtube", {})
    if not isinstance(youtube, dict):
        raise ConfigError("[youtube] must be a table", file=job_file, field="youtube")
    preset = data.get("preset")
    if preset is not None and not isinstance(preset, str):
        raise ConfigError("preset must be a preset name", file=job_file, field="preset")
    return youtube, preset


def _relative_to(base: Path, value: str | None) -> Path | None:
    if value is None:
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def build_upload_plan(
    video: Path,
    *,
    job_file: Path | None = None,
    overrides: UploadOverrides = UploadOverrides(),
    row_vars: Mapping[str, VarValue] | None = None,
    now: datetime,
    job_table: JobTable | None = None,
) -> UploadPlan:
    """Merge, render and check everything; raises ConfigError listing every problem."""
    if not video.is_file():
        raise InputError(f"no such video file: {video}")
    section = YouTubeSection()
    preset: str | None = None
    job_dir = Path.cwd()
    if job_file is not None:
        raw, preset = read_job_file(job_file)
        section = parse_youtube_section(raw, file=job_file)
        job_dir = job_file.resolve().parent
    elif job_table is not None:
        section = parse_youtube_section(dict(job_table.table), file=job_table.source)
        preset = job_table.preset
        job_dir = job_table.base_dir
    template_name = overrides.template or section.template
    if job_file is None and job_table is None and template_name is None:
        raise UsageError("give --job JOB.toml or --template NAME")
    template_fields: dict[str, Any] = {}
    template_file: Path | None = None
    if template_name:
        template, template_file = load_template(template_name)
        template_fields = template.model_dump(exclude_none=True)

    job_fields = section.model_dump(include=set(MetadataFields.model_fields), exclude_none=True)
    cli_fields = {key: value for key, value in {
        "privacy": overrides.privacy, "playlist": overrides.playlist,
        "made_for_kids": overrides.made_for_kids,
    }.items() if value is not None}
    merged: dict[str, Any] = {**template_fields, **job_fields, **cli_fields}
    variables: dict[str, VarValue] = {**section.vars, **(row_vars or {}), **overrides.variables}

    problems: list[str] = []
    from_template = {key: template_file for key in template_fields
                     if template_file is not None and key not in job_fields and key not in cli_fields}
    rendered = render_fields(merged, variables, problems, origins=from_template)

    facts = read_video_facts(video)
    category_raw = rendered.get("category", DEFAULT_CATEGORY_ID)
    category_id, _ = normalize_category(category_raw)
    release = section.release
    if overrides.consent_forms or overrides.no_identifiable_people is not None:
        base = release or Release()
        release = Release(
            consent_forms=[*base.consent_forms, *overrides.consent_forms],
            no_identifiable_people=bool(overrides.no_identifiable_people) or base.no_identifiable_people,
        )
    thumbnail: str | Path | None
    if overrides.thumbnail is not None:
        thumbnail = overrides.thumbnail if overrides.thumbnail in {"auto", "none"} else Path(overrides.thumbnail).expanduser()
    elif section.thumbnail is not None:
        thumbnail = section.thumbnail if section.thumbnail in {"auto", "none"} else _relative_to(job_dir, section.thumbnail)
    else:
        thumbnail = None
    if thumbnail == "none":
        thumbnail = None
    captions = (Path(overrides.captions).expanduser() if overrides.captions is not None
                else placed_captions_for(video) or _relative_to(job_dir, section.captions))

    meta = VideoMetadata(
        title=str(rendered.get("title", "")).strip(),
        description=str(rendered.get("description", "")).strip(),
        tags=[tag.strip() for tag in rendered.get("tags", [])],
        category=category_id or str(category_raw),
        privacy=str(rendered.get("privacy", DEFAULT_PRIVACY)),
        made_for_kids=bool(rendered.get("made_for_kids", False)),
        made_for_kids_explicit="made_for_kids" in merged,
        default_language=rendered.get("default_language"),
        default_audio_language=audio_language(rendered.get("default_audio_language"), captions,
                                              overrides.captions_language or section.captions_language,
                                              overrides.preset or preset),
        contains_synthetic_media=rendered.get("contains_synthetic_media"),
        license=rendered.get("license"),
        publish_at=overrides.publish_at if overrides.publish_at is not None else section.publish_at,
        playlist=(rendered.get("playlist") or "").strip() or None,
        chapters=list(section.chapters),
        captions=captions,
        captions_language=overrides.captions_language or section.captions_language,
        captions_name=rendered.get("captions_name") or section.captions_name,
        thumbnail=thumbnail,
        thumbnail_title=bool(overrides.thumbnail_title if overrides.thumbnail_title is not None
                             else section.thumbnail_title),
        release=release,
        notify_subscribers=section.notify_subscribers,
        template=template_name,
    )
    meta = replace(meta, description=append_chapters(meta.description, meta.chapters, facts.duration_s))
    policy = load_publish_policy(overrides.preset or preset)
    rule_problems, publish_at = collect_problems(meta, facts, policy, now)
    # A field whose template failed to render is empty: say why once, not also "must not be empty".
    unrendered = {problem.split(":", 1)[0].split("[", 1)[0] for problem in problems}
    problems += [p for p in rule_problems if p.split(":", 1)[0].split("[", 1)[0] not in unrendered]
    raise_if_problems(problems, file=job_file)
    return UploadPlan(
        video=facts,
        metadata=meta,
        body=build_insert_body(meta, publish_at),
        part=INSERT_PART,
        policy=policy,
        job_file=job_file,
        template_file=template_file,
    )
