"""What a Wayfinder render did to a file's loudest peaks, read from the render report
beside it (`OUT.wayfinder.json`), for QA (effectful: reads files).

The limiting depth cannot be measured back from a limited file: it is what the limiter
took off peaks that are no longer there. The render knows it; QA trusts the report only
when it describes exactly this file (the report's `output.sha256`), so a report left
from an earlier render, or a file edited after its render, says nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

HASH_BLOCK_BYTES = 1 << 20


@dataclass(frozen=True)
class RenderLimiting:
    report_path: str
    limiter: bool
    limiting_db: float
    policy: str | None


def render_report_paths(media: Path) -> list[Path]:
    """Where a render writes its report: beside the output, named after it."""
    return [media.with_name(media.name + ".wayfinder.json"), media.with_name(media.stem + ".wayfinder.json")]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(HASH_BLOCK_BYTES):
            digest.update(block)
    return digest.hexdigest()


def parse_render_limiting(report: object, media_sha256: str, report_path: str) -> RenderLimiting | None:
    """The gain stage's limiting from a parsed render report, if it is this file's."""
    if not isinstance(report, dict):
        return None
    output = report.get("output")
    if not isinstance(output, dict) or output.get("sha256") != media_sha256:
        return None
    audio = (report.get("measurements") or {}).get("audio")
    gain = audio.get("gain") if isinstance(audio, dict) else None
    if not isinstance(gain, dict):
        return None
    # A correction pass after the encode may limit again: the deeper of the two counts.
    correction = ((audio.get("verified") or {}).get("correction") or {}) if isinstance(audio.get("verified"), dict) else {}
    depths = [value for value in (gain.get("limiting_db"), correction.get("limiting_db")) if isinstance(value, (int, float))]
    return RenderLimiting(
        report_path=report_path,
        limiter=bool(gain.get("limiter")) or bool(correction.get("limiter")),
        limiting_db=float(max(depths, default=0.0)),
        policy=gain.get("policy") if isinstance(gain.get("policy"), str) else None,
    )


def read_render_limiting(media: str | Path) -> RenderLimiting | None:
    """The limiting recorded by the render that made `media`, or None when no report
    beside it describes this very file."""
    media = Path(media)
    media_sha256: str | None = None
    for candidate in render_report_paths(media):
        if not candidate.is_file():
            continue
        try:
            report = json.loads(candidate.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        try:
            media_sha256 = media_sha256 or _sha256(media)
        except OSError:
            return None
        found = parse_render_limiting(report, media_sha256, str(candidate))
        if found is not None:
            return found
    return None
