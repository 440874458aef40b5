"""The files a job reads, and the guard that keeps an output from being one of them.

A render writes its output by renaming a finished partial file over the output path. If
that path is the job's own recording (typed twice, a manifest pattern whose output
template names the input, a symlink or a hard link to it), the rename replaces the
producer's raw footage with the render, and a batch then sees "input changed" and
renders its own output again on every run. A source file is never an output: not by the
same path, not through a symlink, not as a hard link or any other name of the same inode.

This module only reads the file system (realpath and stat); it decides nothing else.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import Job
from pipeline.errors import ConfigError


@dataclass(frozen=True)
class Source:
    """A file a job reads, with the role it plays, for messages ("inset 2", "intro card audio")."""

    role: str
    path: Path


def job_sources(job: Job) -> list[Source]:
    """Every file `job` reads, in the order a producer would name them."""
    sources = [Source(f"take[{index}] source", take.source) for index, take in enumerate(job.takes)]
    sources += [Source(f"take[{index}] recorder", take.external)
                for index, take in enumerate(job.takes) if take.external is not None]
    if not job.takes:
        sources.append(Source("input", job.main_path))
    if job.settings.audio.external is not None:
        sources.append(Source("external recorder", job.settings.audio.external))
    sources += [Source(f"inset {index}" if len(job.pip) > 1 else "inset", spec.source)
                for index, spec in enumerate(job.pip, start=1)]
    if job.logo is not None:
        sources.append(Source("logo", job.logo.source))
    for name, card in (("intro", job.intro), ("outro", job.outro)):
        if card is None:
            continue
        if card.background_image is not None:
            sources.append(Source(f"{name} card background", card.background_image))
        if card.audio is not None:
            sources.append(Source(f"{name} card audio", card.audio))
    return sources


def _identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the file `path` names, following symlinks; None if it does not exist."""
    try:
        status = os.stat(path)
    except (OSError, ValueError):
        return None
    return status.st_dev, status.st_ino


def _real(path: Path) -> str:
    return os.path.realpath(path)


def describe_match(output: Path, source: Path) -> str | None:
    """How `output` names the same file as `source` ("same path", "same file, through a
    symlink", "same file, a hard link"), or None when they are different files."""
    if os.path.abspath(output) == os.path.abspath(source):
        return "same path"
    if _real(output) == _real(source):
        return "same file, through a symlink"
    output_id, source_id = _identity(output), _identity(source)
    if output_id is not None and output_id == source_id:
        return "same file, a hard link"
    return None


@dataclass(frozen=True)
class Clash:
    """An output that is a source: of which job (its name), in which role, and how."""

    owner: str
    source: Source
    how: str

    def message(self, output: Path, *, writer: str | None = None) -> str:
        whose = "its" if self.owner == writer or writer is None else f"job {self.owner!r}'s"
        return (f"output {output} is {whose} {self.source.role} {self.source.path} ({self.how}); "
                "rendering would overwrite the source: pick another output path")


class SourceIndex:
    """The sources of many jobs, looked up by real path and by inode, so a batch of
    thousands of jobs checks every output against every source in one pass."""

    def __init__(self) -> None:
        self._by_real: dict[str, tuple[str, Source]] = {}
        self._by_identity: dict[tuple[int, int], tuple[str, Source]] = {}

    def add(self, owner: str, sources: Iterable[Source]) -> None:
        for source in sources:
            self._by_real.setdefault(_real(source.path), (owner, source))
            identity = _identity(source.path)
            if identity is not None:
                self._by_identity.setdefault(identity, (owner, source))

    def find(self, output: Path) -> Clash | None:
        found = self._by_real.get(_real(output))
        if found is None:
            identity = _identity(output)
            found = self._by_identity.get(identity) if identity is not None else None
        if found is None:
            return None
        owner, source = found
        return Clash(owner, source, describe_match(output, source.path) or "same file")


def find_job_clash(job: Job) -> Clash | None:
    """The first of `job`'s own sources that its output would overwrite, if any."""
    index = SourceIndex()
    index.add("", job_sources(job))
    return index.find(job.output_path)


def check_output_not_source(job: Job) -> None:
    """ConfigError (a bad job, exit 3) naming both files when the output is one of the
    job's sources. Checked before "output exists", so no message ever suggests --force."""
    clash = find_job_clash(job)
    if clash is not None:
        raise ConfigError(clash.message(job.output_path), file=job.source)
