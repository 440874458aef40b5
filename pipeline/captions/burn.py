"""The caption file a job burns into its picture (`[captions] burn_in = true`, `file`):
read, checked against its recorded review, and copied for the render's graph.

Burned captions cannot be corrected after upload, so the file must be approved exactly as
it is now: a `wayfinder captions approve` record holding its sha256 (approved for the
render it was drafted from; the burned render is a new output, so the approval cannot
name it). The file is timed on the output, as a draft of this job's output is. Every
problem is one line naming the file and `captions.file`, exit 3, raised before any work.
What is burned is the very bytes that were hashed: they are copied into the render's
working folder, with the shipped font alone in a folder of its own for libass.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

from pipeline.captions.approval import approve_command, local_time
from pipeline.captions.approval_store import read_approvals
from pipeline.captions.read import MAX_CAPTION_FILE_BYTES, parse_captions
from pipeline.config import Job
from pipeline.errors import ConfigError, InputError
from pipeline.video import caption_burn
from pipeline.video.caption_burn import BurnIn
from pipeline.video.fonts import REGULAR_FONT

SETTING = "captions.file"


@dataclass(frozen=True)
class ApprovedCaptions:
    path: Path
    data: bytes
    kind: str  # "srt" or "vtt"
    sha256: str
    captions: int
    approved_by: str
    approved_at: str  # UTC, as recorded
    approved_for: str  # the output the reviewer saw them with


def _refuse(path: Path, message: str) -> ConfigError:
    return ConfigError(message, file=path, field=SETTING)


def read_approved_captions(job: Job) -> ApprovedCaptions:
    """The job's caption file, parsed, with the approval that matches its bytes."""
    path = job.captions.file
    assert path is not None
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise _refuse(path, "no such caption file") from None
    except OSError as exc:
        raise _refuse(path, f"cannot read the caption file: {exc.strerror or exc}") from None
    if len(data) > MAX_CAPTION_FILE_BYTES:
        raise _refuse(path, f"the file is {len(data):,} bytes; at most {MAX_CAPTION_FILE_BYTES:,}")
    try:
        hint = "vtt" if path.suffix.lower() == ".vtt" else "srt"
        track = parse_captions(data.decode("utf-8"), path=path, format_hint=hint)
    except UnicodeDecodeError as exc:
        raise _refuse(path, f"not UTF-8 text (byte {exc.start})") from None
    except InputError as exc:
        raise _refuse(path, exc.message) from None
    sha256 = hashlib.sha256(data).hexdigest()
    recorded = read_approvals()
    matching = [a for a in recorded if a.captions_sha256 == sha256]
    if not matching:
        same_file = [a for a in recorded if a.captions_path == str(path.resolve())]
        if same_file:
            last = same_file[0]
            raise _refuse(path, f"changed after {last.approved_by} approved it at {local_time(last.approved_at)} (its "
                                "sha256 differs); burned-in captions cannot be corrected after upload: review it, then "
                                f"run {approve_command(Path(last.output_path), path)}")
        raise _refuse(path, "not approved; burned-in captions cannot be corrected after upload: review it with the "
                            "render it was drafted from (VIDEO), then run wayfinder captions approve VIDEO "
                            f'--by "NAME" --captions {shlex.quote(str(path))}')
    approval = matching[0]  # newest first
    return ApprovedCaptions(path, data, track.format, sha256, len(track.captions), approval.approved_by,
                            approval.approved_at, approval.output_path)


def prepare_burn_in(job: Job, work_dir: Path) -> tuple[BurnIn, dict[str, object]] | None:
    """The burn-in for the picture graph and its entry in the render report; None when
    the job burns nothing in. Raises ConfigError (exit 3) for a file that cannot be used."""
    if not job.captions.burn_in:
        return None
    approved = read_approved_captions(job)
    captions_path = work_dir / f"burn-captions.{approved.kind}"
    captions_path.write_bytes(approved.data)
    # Only the font in libass' font folder: it tries to load every file there.
    fonts_dir = work_dir / "burn-fonts"
    fonts_dir.mkdir(exist_ok=True)
    font = fonts_dir / REGULAR_FONT.name
    try:
        os.symlink(REGULAR_FONT, font)
    except OSError:
        shutil.copyfile(REGULAR_FONT, font)
    report: dict[str, object] = {
        "file": str(approved.path),
        "sha256": approved.sha256,
        "captions": approved.captions,
        "approved_by": approved.approved_by,
        "approved_at_utc": approved.approved_at,
        "approved_for": approved.approved_for,
        "style": {"font": caption_burn.FONT_NAME, "force_style": caption_burn.build_force_style(),
                  "safe_area_percent": round(100 * caption_burn.SAFE_FRACTION, 1)},
    }
    return BurnIn(captions_path, fonts_dir), report
