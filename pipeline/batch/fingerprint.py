"""The fingerprint of a job's output: a digest of everything that determines it, and the
record of it kept beside the output (`<output>.wayfinder.hash`).

What goes in: the contents of the main input, of every inset (`[[pip]]`) and card source
and of the external audio recorder (`[audio] external`), the card and inset specs, a
job's `[captions]` asks (the burned-in file's contents; a draft's language and
vocabulary), the
fully merged settings (preset, job, flags), the output container, the Wayfinder version
and PLAN_FORMAT_VERSION. Paths are left out on purpose:
moving the media library does not re-render it. `video.threads` is left out too (it says
how fast to encode, not what, and a batch sets it from the core count), and so are the
`[publish]` gates, which are checked at upload time.

Each part has its own digest, so a re-render can say what changed.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pipeline import __version__
from pipeline.batch.model import FingerprintRecord
from pipeline.config import CardSpec, Job

# Bump when the meaning of settings or the way a plan is built changes without a new
# Wayfinder version (for example a fix in a filter chain), so outputs are re-rendered.
PLAN_FORMAT_VERSION = 2  # 2: untagged HD read as BT.709, not converted from BT.601
RECORD_SUFFIX = ".wayfinder.hash"
RECORD_FORMAT = 1

# Settings that never change what a render produces: how fast it runs, the publishing
# gates (checked at upload time) and the caption rules (checked by QA and the upload).
IGNORED_SETTINGS: dict[str, tuple[str, ...] | None] = {"video": ("threads",), "publish": None, "captions": None}

COMPONENT_LABELS = {
    "version": "Wayfinder version",
    "input": "input file",
    "sources": "inset, card or external recorder sources",
    "settings": "settings",
}

DigestFile = Callable[[Path], str]


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode("utf-8")


def _sha256(value: Any) -> str:
    return hashlib.sha256(_canonical(value)).hexdigest()


def build_settings_part(job: Job) -> dict[str, Any]:
    settings = job.settings.model_dump(mode="json")
    for section, keys in IGNORED_SETTINGS.items():
        if keys is None:
            settings.pop(section, None)
            continue
        for key in keys:
            settings.get(section, {}).pop(key, None)
    # The recorder's path is not what it holds: its contents go in the sources part. Without
    # a recorder its settings say nothing, and jobs keep the fingerprints they had.
    external = settings["audio"].pop("external", None)
    if external is None:
        settings["audio"].pop("external_mix", None)
        settings["audio"].pop("external_under_db", None)
    return {"settings": settings, "container": job.output_path.suffix.lower()}


def _card_part(card: CardSpec | None, digest_file: DigestFile) -> dict[str, Any] | None:
    if card is None:
        return None
    data = card.model_dump(mode="json")
    for key in ("background_image", "audio"):
        value = getattr(card, key)
        data[key] = digest_file(value) if value is not None else None
    return data


def build_sources_part(job: Job, digest_file: DigestFile) -> dict[str, Any]:
    insets = []
    for spec in job.pip:
        data = spec.model_dump(mode="json")
        data["source"] = digest_file(spec.source)
        insets.append(data)
    takes = []
    for take in job.takes:
        data = take.model_dump(mode="json")
        data["source"] = digest_file(take.source)
        if take.external is not None:
            data["external"] = digest_file(take.external)
        takes.append(data)
    sources: dict[str, Any] = {
        **({"takes": takes} if takes else {}),  # absent for one input: old records stay valid
        "pip": insets,
        "intro": _card_part(job.intro, digest_file),
        "outro": _card_part(job.outro, digest_file),
    }
    if job.settings.audio.external is not None:
        # Only when set: jobs without a recorder keep the fingerprints they had.
        sources["external_audio"] = digest_file(job.settings.audio.external)
    if job.logo is not None:  # likewise: only jobs with overlays get the new keys
        sources["logo"] = {**job.logo.model_dump(mode="json"), "source": digest_file(job.logo.source)}
    if job.lower_thirds:
        sources["lower_thirds"] = [spec.model_dump(mode="json") for spec in job.lower_thirds]
    if job.captions.draft or job.captions.burn_in:  # likewise: only jobs that ask for captions
        sources["captions"] = _captions_part(job, digest_file)
    return sources


def _captions_part(job: Job, digest_file: DigestFile) -> dict[str, Any]:
    """What the render's captions depend on: the burned file's contents; the draft's
    language and vocabulary (the preset's rules table is otherwise left out)."""
    part: dict[str, Any] = {}
    if job.captions.draft:
        rules = job.settings.captions
        part["draft"] = {"language": rules.language, "vocabulary": [*rules.vocabulary, *job.captions.vocabulary]}
    if job.captions.burn_in and job.captions.file is not None:
        part["burn_in"] = digest_file(job.captions.file)
    return part


def build_fingerprint(job: Job, digest_file: DigestFile) -> FingerprintRecord:
    """Hash everything that determines `job`'s output. Raises InputError for an unreadable source."""
    components = {
        "version": f"wayfinder {__version__}, plan format {PLAN_FORMAT_VERSION}",
        "input": digest_file(job.main_path),
        "sources": _sha256(build_sources_part(job, digest_file)),
        "settings": _sha256(build_settings_part(job)),
    }
    return FingerprintRecord(digest=_sha256(components), components=components)


def record_path_for(output_path: Path) -> Path:
    return output_path.with_name(output_path.name + RECORD_SUFFIX)


def _whole_seconds(mtime_ns: int) -> int:
    # Shared storage may keep coarser timestamps than the machine that wrote the file.
    return mtime_ns // 1_000_000_000


def write_record(output_path: Path, fingerprint: FingerprintRecord, *, duration_s: float | None) -> Path:
    """Record the fingerprint of a freshly rendered output, and the output's size and time."""
    stat = output_path.stat()
    record = {
        "format": RECORD_FORMAT,
        "fingerprint": fingerprint.digest,
        "components": fingerprint.components,
        "output_size_bytes": stat.st_size,
        "output_mtime_s": _whole_seconds(stat.st_mtime_ns),
        "duration_s": None if duration_s is None or not math.isfinite(duration_s) else round(duration_s, 3),
        "rendered_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    path = record_path_for(output_path)
    temporary = path.with_name(f".{path.name}.partial")
    temporary.write_text(json.dumps(record, indent=2), encoding="utf-8")
    os.replace(temporary, path)
    return path


def read_record(output_path: Path) -> dict[str, Any] | None:
    """The record beside an output, or None if there is none or it is unreadable."""
    try:
        data = json.loads(record_path_for(output_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != RECORD_FORMAT or not isinstance(data.get("fingerprint"), str):
        return None
    return data


def check_up_to_date(output_path: Path, fingerprint: FingerprintRecord) -> str | None:
    """None if the output exists and was rendered from exactly this fingerprint; else why not."""
    try:
        stat = output_path.stat()
    except FileNotFoundError:
        return "new output"
    record = read_record(output_path)
    if record is None:
        return f"no fingerprint beside the existing output ({record_path_for(output_path).name})"
    if record.get("output_size_bytes") != stat.st_size or record.get("output_mtime_s") != _whole_seconds(stat.st_mtime_ns):
        return "the output was changed after it was rendered"
    if record["fingerprint"] == fingerprint.digest:
        return None
    old = record.get("components") if isinstance(record.get("components"), dict) else {}
    changed = [label for key, label in COMPONENT_LABELS.items() if old.get(key) != fingerprint.components.get(key)]
    return (", ".join(changed) or "fingerprint") + " changed"
