"""A recorded human review of captions: approving a caption file for an output, and
judging whether an output's captions are approved as they are now.

An approval names the caption file's sha256 and the output's sha256, so editing the
captions (or re-rendering the output) after a review voids it: the publish gate
(`require_captions`, pipeline.youtube.validate) asks for a new approval. A caption file
must pass the caption rules (`pipeline.captions.check`) to be approved, so a reviewer
cannot sign off captions the checks would refuse at upload.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pipeline.captions.approval_store import Approval, open_approvals, read_approvals
from pipeline.captions.check import REPORT_PROBLEMS, captions_beside, run_caption_check
from pipeline.captions.settings import CaptionSettings
from pipeline.errors import InputError, UsageError, WayfinderError
from pipeline.state import sha256_of_file
from pipeline.local_time import local_time_text

MAX_NAME_CHARS = 200


class CaptionsNotPassing(WayfinderError):
    """The caption file fails the caption rules, so it cannot be approved (exit 1).
    `problems` are the rule failures, one line each."""

    def __init__(self, message: str, *, problems: list[str], **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.problems = problems


def approve_command(video: Path, captions: Path) -> str:
    """The command a producer runs to approve `captions` for `video` (shown in refusals)."""
    return " ".join(["wayfinder captions approve", shlex.quote(str(video)), '--by "NAME"',
                     "--captions", shlex.quote(str(captions))])


def resolve_captions(video: Path, captions: Path | None) -> Path:
    """The caption file named, else the one beside the output (`captions_beside`)."""
    if captions is not None:
        if not captions.is_file():
            raise InputError("no such caption file", file=captions, field="--captions")
        return captions
    found = captions_beside(video)
    if found is None:
        stem = video.with_suffix("")
        raise InputError(f"no caption file beside the output (looked for {stem.name}.en.vtt, {stem.name}.en.srt, "
                         f"{video.name}.captions.vtt/.srt, {stem.name}.vtt/.srt): name one with --captions",
                         file=video)
    return found


def approve(video: Path, captions: Path | None, approved_by: str, settings: CaptionSettings) -> Approval:
    """Check `captions` against output `video` and record `approved_by`'s approval of it.

    UsageError for an empty name; InputError for a missing output or caption file;
    CaptionsNotPassing when a caption rule fails (nothing is recorded then)."""
    name = " ".join(approved_by.split())
    if not name:
        raise UsageError("--by: name the person who reviewed the captions")
    if len(name) > MAX_NAME_CHARS:
        raise UsageError(f"--by: a name of at most {MAX_NAME_CHARS} characters")
    if not video.is_file():
        raise InputError("no such output file", file=video)
    captions = resolve_captions(video, captions)
    # The upload gate judges a video with no sound by the rules that need none; so does approval.
    result = run_caption_check(captions, video, settings, silent_video_ok=True)
    if not result.passed:
        lines = [f"{captions.name}: {p.one_line()}" for p in result.problems[:REPORT_PROBLEMS]]
        raise CaptionsNotPassing(f"{len(result.problems)} caption problem(s): fix them (wayfinder captions check), "
                                 "then approve", file=captions, problems=lines)
    with open_approvals() as store:
        return store.record(output_path=video.resolve(), output_sha256=sha256_of_file(video),
                            captions_path=captions.resolve(), captions_sha256=sha256_of_file(captions),
                            approved_by=name)


@dataclass(frozen=True)
class ApprovalState:
    """Whether an approval still holds for the files as they are now."""

    approval: Approval
    status: str  # current | captions changed | output changed | captions missing | output missing

    @property
    def current(self) -> bool:
        return self.status == "current"


def judge(approval: Approval) -> ApprovalState:
    """Compare an approval's hashes with its files now."""
    captions, output = Path(approval.captions_path), Path(approval.output_path)
    if not captions.is_file():
        return ApprovalState(approval, "captions missing")
    if sha256_of_file(captions) != approval.captions_sha256:
        return ApprovalState(approval, "captions changed")
    if not output.is_file():
        return ApprovalState(approval, "output missing")
    if sha256_of_file(output) != approval.output_sha256:
        return ApprovalState(approval, "output changed")
    return ApprovalState(approval, "current")


def local_time(utc_text: str) -> str:
    """A recorded UTC time in the producer's zone (the machine's), the zone named, as the queue shows times."""
    return local_time_text(datetime.fromisoformat(utc_text))


def approval_problem(video: Path, captions: Path) -> str | None:
    """Why `captions` are not approved for output `video` as both are now (one line
    naming the command to run), or None when a recorded approval matches both hashes."""
    captions_sha = sha256_of_file(captions)
    recorded = read_approvals(video.resolve())
    matching = [a for a in recorded if a.captions_sha256 == captions_sha]
    fix = f"review them, then run: {approve_command(video, captions)}"
    if matching:
        output_sha = sha256_of_file(video)
        if any(a.output_sha256 == output_sha for a in matching):
            return None
        return (f"captions: {captions.name} was approved for another render of {video.name} (the output's sha256 "
                f"differs); {fix}")
    same_file = [a for a in recorded if a.captions_path == str(captions.resolve())]
    if same_file:
        last = same_file[0]
        return (f"captions: {captions.name} changed after {last.approved_by} approved it at {local_time(last.approved_at)} "
                f"(its sha256 differs); {fix}")
    return f"captions: {captions.name} is not approved for {video.name}; {fix}"
