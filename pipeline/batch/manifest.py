"""Batch manifests: the schema, and loading one into named jobs.

A manifest (TOML) lists jobs, defines a pattern, or both:

- `jobs`: each entry is the path of a job file (a string, or a table `{file = ..., name = ...}`),
  or an inline table with the job-file schema plus an optional `name`;
- `[pattern]`: a folder or glob of inputs, a preset, an output folder and name pattern,
  shared settings (`[pattern.video]`, `.audio`, `.light`, `.stabilize`, cards, `[pattern.youtube]`,
  `[pattern.captions]` for drafts: burning captions in needs each video's own approved file),
  and a CSV of per-video template variables joined on its `file` column by file name.
  The variables are stored in the job's `[youtube] vars` for publishing.

Problems in the manifest itself (unknown keys, bad values, a CSV that cannot be joined,
duplicate names or outputs) are reported all at once (ConfigError, exit 3) and nothing
runs. A job that cannot be loaded (its job file is missing or invalid, its preset is
unknown) is a failed job, and the rest of the batch goes on. So is a job whose output
is a file some job of the manifest reads (its own input, another job's inset, a card's
audio), by path, symlink or hard link: rendering it would overwrite a source.

Relative paths resolve against the manifest's folder.
"""

from __future__ import annotations

import csv
import glob
import os
import string
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError, model_validator

from pipeline.batch.model import BatchJob
from pipeline.config import (
    AudioSettings,
    CardSpec,
    Job,
    JobFile,
    LightSettings,
    StabilizeSettings,
    StrictModel,
    VideoSettings,
    RenderCaptions,
    build_job,
    deep_merge,
    format_validation_errors,
    load_job,
    read_toml,
    resolve_path,
)
from pipeline.errors import ConfigError, UsageError, WayfinderError
from pipeline.sources import SourceIndex, job_sources
from pipeline.youtube.metadata import parse_youtube_section

MEDIA_SUFFIXES = frozenset({
    ".mp4", ".m4v", ".mov", ".mkv", ".avi", ".webm", ".mts", ".m2ts", ".mpg", ".mpeg",
    ".wav", ".m4a", ".mp3", ".flac", ".aac", ".ogg", ".opus",
})
JOIN_COLUMN = "file"
NAME_FIELDS = ("stem", "name")  # what output_name may use besides the CSV columns


class FileEntry(StrictModel):
    file: Path
    name: str | None = None


class InlineEntry(JobFile):
    """A job written inside the manifest: the job-file schema plus a name."""

    name: str | None = None


class PatternSection(StrictModel):
    inputs: str
    preset: str = "youtube"
    output_dir: Path
    output_name: str = "{stem}.mp4"
    variables: Path | None = None
    video: VideoSettings = VideoSettings()
    audio: AudioSettings = AudioSettings()
    light: LightSettings = LightSettings()
    stabilize: StabilizeSettings = StabilizeSettings()
    intro: CardSpec | None = None
    outro: CardSpec | None = None
    youtube: dict[str, Any] | None = None
    captions: RenderCaptions = RenderCaptions()


class ManifestFile(StrictModel):
    report_dir: Path | None = None
    jobs: list[str | dict[str, Any]] = []
    pattern: PatternSection | None = None

    @model_validator(mode="after")
    def _has_work(self) -> "ManifestFile":
        if not self.jobs and self.pattern is None:
            raise ValueError("a manifest needs `jobs` or a `[pattern]`")
        return self


@dataclass(frozen=True)
class BatchManifest:
    path: Path
    report_dir: Path
    jobs: list[BatchJob]
    notes: list[str] = field(default_factory=list)  # worth saying, not worth stopping for


def _problem_count(problems: list[str]) -> str:
    return f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"


def build_table_job(
    *,
    name: str,
    base_dir: Path,
    source: Path,
    main: Path,
    output: Path,
    preset: str,
    settings_layer: dict[str, Any],
    pip: tuple[Any, ...] = (),
    intro: CardSpec | None = None,
    outro: CardSpec | None = None,
    youtube: dict[str, Any] | None = None,
    captions: RenderCaptions = RenderCaptions(),
) -> Job:
    """A Job from a table in the manifest, with the same precedence as a job file:
    defaults < preset < this table. Raises ConfigError (unknown preset, bad [youtube], ...)."""
    return build_job(
        source=source, label=f"manifest {source} ({name})", base_dir=base_dir, preset_name=preset,
        main=main, output=output, settings_layer=settings_layer, pip=pip, intro=intro, outro=outro,
        youtube=youtube, captions=captions,
    )


def _load_job_entries(path: Path, base_dir: Path, entries: list[Any], problems: list[str]) -> list[BatchJob]:
    jobs: list[BatchJob] = []
    for index, raw in enumerate(entries):
        where = f"jobs[{index}]"
        if isinstance(raw, str) or (isinstance(raw, dict) and "file" in raw):
            try:
                entry = FileEntry.model_validate({"file": raw} if isinstance(raw, str) else raw)
            except ValidationError as exc:
                problems += format_validation_errors(exc, f"{path}: {where}", FileEntry)
                continue
            job_path = resolve_path(base_dir, entry.file)
            assert job_path is not None
            name = entry.name or job_path.stem
            try:
                job: Job | None = load_job(job_path)
                error = None
            except WayfinderError as exc:
                job, error = None, _describe(exc)
            jobs.append(BatchJob(name=name, origin=str(job_path), job=job, load_error=error))
            continue
        try:
            inline = InlineEntry.model_validate(raw)
        except ValidationError as exc:
            problems += format_validation_errors(exc, f"{path}: {where}", InlineEntry)
            continue
        main = resolve_path(base_dir, inline.input.main)
        assert main is not None
        output = resolve_path(base_dir, inline.output.path)
        name = inline.name or (output.stem if output else main.stem)
        try:
            job = build_table_job(
                name=name, base_dir=base_dir, source=path, main=main,
                output=output or base_dir / f"{name}.mp4", preset=inline.preset,
                settings_layer=inline.model_dump(include={"video", "audio", "light", "stabilize"}, exclude_unset=True),
                pip=tuple(inline.pip), intro=inline.intro, outro=inline.outro, youtube=inline.youtube,
                captions=inline.captions,
            )
            error = None
        except WayfinderError as exc:
            job, error = None, _describe(exc)
        jobs.append(BatchJob(name=name, origin=f"{path} {where}", job=job, load_error=error))
    return jobs


def _describe(error: WayfinderError) -> str:
    text = error.one_line()
    problems = getattr(error, "problems", [])
    return text + "".join(f"; {problem}" for problem in problems)


def find_pattern_inputs(base_dir: Path, inputs: str) -> list[Path]:
    """The input files a pattern names: every media file in a folder, or a glob's matches.

    Hidden files, partial files and Wayfinder's own outputs (a `.wayfinder.json` report
    beside them) are never inputs, so an output folder inside the input folder is safe.
    """
    target = resolve_path(base_dir, inputs)
    assert target is not None
    if target.is_dir():
        candidates = [p for p in target.iterdir() if p.suffix.lower() in MEDIA_SUFFIXES]
    else:
        candidates = [Path(p) for p in glob.glob(str(target), recursive=True)]
    found = [
        Path(os.path.abspath(p)) for p in candidates
        if p.is_file() and not p.name.startswith(".") and not p.with_name(p.name + ".wayfinder.json").exists()
    ]
    return sorted(found)


def read_variables(csv_path: Path, problems: list[str]) -> tuple[dict[str, dict[str, str]], list[str]]:
    """Rows of a CSV by their `file` column (a file name), and the other column names."""
    try:
        with csv_path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            columns = [c.strip() for c in reader.fieldnames or []]
            rows = list(reader)
    except FileNotFoundError:
        problems.append(f"{csv_path}: variables file not found")
        return {}, []
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        problems.append(f"{csv_path}: cannot read the variables file: {exc}")
        return {}, []
    if JOIN_COLUMN not in columns:
        problems.append(f"{csv_path}: needs a `{JOIN_COLUMN}` column (the input file name); columns: {', '.join(columns) or 'none'}")
        return {}, []
    by_file: dict[str, dict[str, str]] = {}
    for line, row in enumerate(rows, start=2):
        values = {(k or "").strip(): (v or "").strip() for k, v in row.items() if k is not None}
        key = values.pop(JOIN_COLUMN)
        if not key:
            problems.append(f"{csv_path}: line {line}: empty `{JOIN_COLUMN}`")
        elif key in by_file:
            problems.append(f"{csv_path}: line {line}: {key!r} has more than one row")
        else:
            by_file[key] = values
    return by_file, [c for c in columns if c != JOIN_COLUMN]


def _name_fields(template: str) -> list[str]:
    try:
        return [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise ValueError(f"not a valid name pattern: {exc}") from None


def _load_pattern(path: Path, base_dir: Path, pattern: PatternSection, problems: list[str],
                  notes: list[str]) -> list[BatchJob]:
    where = f"{path}: pattern"
    inputs = find_pattern_inputs(base_dir, pattern.inputs)
    if not inputs:
        problems.append(f"{where}.inputs: matches no files ({pattern.inputs!r})")
    rows: dict[str, dict[str, str]] = {}
    columns: list[str] = []
    if pattern.variables is not None:
        csv_path = resolve_path(base_dir, pattern.variables)
        assert csv_path is not None
        rows, columns = read_variables(csv_path, problems)
        names = {p.name for p in inputs}
        for file_name in sorted(set(rows) - names):
            notes.append(f"{csv_path.name}: no input named {file_name!r}; its row is not used")
        for file_name in sorted(names - set(rows)):
            notes.append(f"{csv_path.name}: no row for {file_name!r}; it gets no per-video variables")
    try:
        fields = _name_fields(pattern.output_name)
    except ValueError as exc:
        problems.append(f"{where}.output_name: {exc}")
        fields = []
    allowed = [*NAME_FIELDS, *columns]
    unknown = [f for f in fields if f not in allowed]
    if unknown:
        problems.append(f"{where}.output_name: unknown field {{{unknown[0]}}}; allowed: {', '.join(allowed)}")
        return []
    if pattern.youtube is not None:
        try:
            parse_youtube_section(pattern.youtube, file=path)
        except ConfigError as exc:
            problems += [f"{where}.youtube: {problem}" for problem in exc.problems] or [exc.one_line()]
            return []
    if pattern.captions.burn_in:
        problems.append(f"{where}.captions.burn_in: each video needs its own approved caption file: "
                        "burn captions in with a job file per video")
        return []
    output_dir = resolve_path(base_dir, pattern.output_dir)
    assert output_dir is not None
    settings_layer = pattern.model_dump(include={"video", "audio", "light", "stabilize"}, exclude_unset=True)
    jobs: list[BatchJob] = []
    for input_path in inputs:
        variables = rows.get(input_path.name, {})
        job: Job | None = None
        error: str | None = None
        values = {"stem": input_path.stem, "name": input_path.name, **variables}
        missing = [f for f in fields if not values.get(f)]
        output_name = "" if missing else pattern.output_name.format_map(values)
        if missing:
            error = f"{input_path.name}: output_name needs {{{missing[0]}}}, which is empty for this input"
        elif Path(output_name).name != output_name or output_name.startswith("."):
            error = f"{input_path.name}: output name {output_name!r} must be a plain file name"
        else:
            youtube = pattern.youtube
            if variables:
                youtube = deep_merge(youtube or {}, {"vars": variables})
            try:
                job = build_table_job(
                    name=input_path.stem, base_dir=base_dir, source=path, main=input_path,
                    output=output_dir / output_name, preset=pattern.preset, settings_layer=settings_layer,
                    intro=pattern.intro, outro=pattern.outro, youtube=youtube, captions=pattern.captions,
                )
            except WayfinderError as exc:
                error = _describe(exc)
        jobs.append(BatchJob(name=input_path.stem, origin=str(input_path), job=job,
                             load_error=error, variables=variables))
    return jobs


def _check_unique(path: Path, jobs: list[BatchJob], problems: list[str]) -> None:
    seen_names: dict[str, str] = {}
    seen_outputs: dict[Path, str] = {}
    for item in jobs:
        if item.name in seen_names:
            problems.append(f"{path}: two jobs are named {item.name!r} ({seen_names[item.name]} and {item.origin}); give them a `name`")
        seen_names.setdefault(item.name, item.origin)
        if item.job is not None:
            output = item.job.output_path
            if output in seen_outputs:
                problems.append(f"{path}: jobs {seen_outputs[output]!r} and {item.name!r} both write {output}")
            seen_outputs.setdefault(output, item.name)


def refuse_source_overwrites(jobs: list[BatchJob]) -> list[BatchJob]:
    """The jobs, with each one whose output is a source of any job turned into a failed
    job naming both files. The job that reads the file still runs."""
    index = SourceIndex()
    for item in jobs:
        if item.job is not None:
            index.add(item.name, job_sources(item.job))
    checked = []
    for item in jobs:
        clash = index.find(item.job.output_path) if item.job is not None else None
        if clash is not None and item.job is not None:
            message = clash.message(item.job.output_path, writer=item.name)
            item = replace(item, job=None, load_error=f"{item.job.source}: {message}")
        checked.append(item)
    return checked


def load_manifest(path: Path) -> BatchManifest:
    """Read and validate a manifest and load its jobs. Raises ConfigError listing every problem."""
    raw = read_toml(path, "manifest")
    try:
        manifest = ManifestFile.model_validate(raw)
    except ValidationError as exc:
        problems = format_validation_errors(exc, path, ManifestFile)
        raise ConfigError(f"invalid manifest ({_problem_count(problems)})", file=path, problems=problems) from None
    base_dir = path.resolve().parent
    problems: list[str] = []
    notes: list[str] = []
    jobs = _load_job_entries(path, base_dir, manifest.jobs, problems)
    if manifest.pattern is not None:
        jobs += _load_pattern(path, base_dir, manifest.pattern, problems, notes)
    _check_unique(path, jobs, problems)
    jobs = refuse_source_overwrites(jobs)
    if problems:
        raise ConfigError(f"invalid manifest ({_problem_count(problems)})", file=path, problems=problems)
    report_dir = resolve_path(base_dir, manifest.report_dir) or base_dir
    return BatchManifest(path=path, report_dir=report_dir, jobs=jobs, notes=notes)


def select_jobs(jobs: list[BatchJob], only: list[str]) -> list[BatchJob]:
    """The jobs named in `only` (all when empty), in manifest order. Unknown names are an error."""
    if not only:
        return list(jobs)
    wanted = {name.strip() for item in only for name in item.split(",") if name.strip()}
    known = {item.name for item in jobs}
    unknown = sorted(wanted - known)
    if unknown:
        raise UsageError(f"--only: no job named {', '.join(map(repr, unknown))}; jobs: {', '.join(sorted(known))}")
    return [item for item in jobs if item.name in wanted]
