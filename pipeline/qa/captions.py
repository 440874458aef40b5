"""QA's caption check: when a caption file lies beside a media file (a draft
`OUT.en.vtt`, the render's placed `OUT.mp4.captions.vtt`, or `OUT.vtt` / `.srt`), QA
checks it against the caption rules and the file's speech, and the outcome is one more
check, `captions`, in the file's verdict and so in QA's JSON, JUnit and HTML reports.
A file with no caption beside it has no `captions` check.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from pipeline.captions.check import captions_beside, run_caption_check
from pipeline.errors import WayfinderError
from pipeline.qa.model import CAPTIONS, CheckResult, FileResult, worst_status
from pipeline.qa.settings import QaLimits

PROBLEMS_IN_MESSAGE = 10


def caption_check_result(media: Path, limits: QaLimits) -> CheckResult | None:
    """The `captions` check of `media`, or None when no caption file lies beside it."""
    captions = captions_beside(media)
    if captions is None:
        return None
    try:
        result = run_caption_check(captions, media, limits.captions)
    except WayfinderError as error:
        return CheckResult(CAPTIONS, "fail", None, 0, f"{captions.name}: {error.message}", unit="problems")
    if result.passed:
        return CheckResult(CAPTIONS, "pass", 0, 0, f"{captions.name}: {result.caption_count} captions meet the "
                           f"{limits.captions.profile} rules", unit="problems")
    shown = "; ".join(p.one_line() for p in result.problems[:PROBLEMS_IN_MESSAGE])
    more = len(result.problems) - PROBLEMS_IN_MESSAGE
    tail = f"; and {more} more" if more > 0 else ""
    return CheckResult(CAPTIONS, "fail", float(len(result.problems)), 0,
                       f"{captions.name}: {len(result.problems)} caption problem(s): {shown}{tail}",
                       unit="problems", moments=tuple((p.time_s, p.time_s) for p in result.problems))


def with_caption_check(result: FileResult, limits: QaLimits) -> FileResult:
    """`result` with the `captions` check added (and the verdict it changes), if any."""
    check = caption_check_result(Path(result.path), limits)
    if check is None:
        return result
    checks = (*result.checks, check)
    return dataclasses.replace(result, checks=checks, status=worst_status(c.status for c in checks))
