"""Caption files put on the rendered video's timeline: the intro card and the edit move
every cue, so the file given for upload is placed when the render knows where things
landed, and written beside the output for the upload to send.

Where a producer's caption files are timed:

- `[youtube] captions` of a job with one `[input] main`: on that input's timeline;
- `[youtube] captions` of a job with an edit list: on the edited programme (the takes
  as joined, before cards), as a producer captions a rough cut;
- `captions` in a `[[take]]`: on that take's source, trims and all. Cues (or the parts
  of them) outside the part of the take that plays are dropped.

Every cue then moves by the intro card's length. The placed file, `<output>.captions.vtt`
(or `.srt`, like the file given), is named in the render report under `captions`, and
`wayfinder upload` sends it instead of the file named in the job.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from pipeline.config import Job
from pipeline.errors import ConfigError
from pipeline.timeline import EditList
from pipeline.youtube.captions import CaptionFile, CaptionParseError, Cue, load_caption_file
from pipeline.youtube.record import render_report_candidates

# A cue cut by a trim to less than this is dropped: nobody can read it.
MIN_CUE_S = 0.2


def place_cues(
    *,
    job_captions: CaptionFile | None,
    take_captions: Sequence[tuple[int, CaptionFile]],
    edit: EditList | None,
    intro_s: float,
) -> list[Cue]:
    """The cues of every caption file on the output's timeline, in time order."""
    placed: list[Cue] = []
    if job_captions is not None:
        placed += [Cue(cue.start_s + intro_s, cue.end_s + intro_s, cue.text, cue.line) for cue in job_captions.cues]
    for index, captions in take_captions:
        assert edit is not None
        clip = edit.clips[index]
        begin_s = clip.source_start_s
        end_s = begin_s + edit.seconds(clip.frames)
        for cue in captions.cues:
            start_s, stop_s = max(cue.start_s, begin_s), min(cue.end_s, end_s)
            if stop_s - start_s < MIN_CUE_S:
                continue
            placed.append(Cue(
                edit.programme_time_s(index, start_s) + intro_s,
                edit.programme_time_s(index, stop_s) + intro_s,
                cue.text, cue.line,
            ))
    return sorted(placed, key=lambda cue: (cue.start_s, cue.end_s))


def _timestamp(seconds: float, separator: str) -> str:
    milliseconds = max(0, round(seconds * 1000))
    hours, rest = divmod(milliseconds, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    whole, fraction = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{whole:02d}{separator}{fraction:03d}"


def format_captions(cues: Sequence[Cue], kind: str) -> str:
    """WebVTT or SRT text of `cues`."""
    if kind == "vtt":
        blocks = [f"{_timestamp(c.start_s, '.')} --> {_timestamp(c.end_s, '.')}\n{c.text}" for c in cues]
        return "WEBVTT\n\n" + "\n\n".join(blocks) + "\n"
    blocks = [f"{n}\n{_timestamp(c.start_s, ',')} --> {_timestamp(c.end_s, ',')}\n{c.text}"
              for n, c in enumerate(cues, start=1)]
    return "\n\n".join(blocks) + "\n"


def placed_captions_path(output_path: Path, kind: str) -> Path:
    return output_path.with_name(f"{output_path.name}.captions.{kind}")


def placed_captions_for(video: Path) -> Path | None:
    """The placed caption file the render of `video` wrote, if its report names one that exists."""
    report = render_report_candidates(video)[0]
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    entry = data.get("captions") if isinstance(data, dict) else None
    if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
        return None
    path = Path(entry["file"])
    return path if path.is_file() else None


class JobCaptions:
    """A job's caption files, read and checked before the render starts."""

    def __init__(self, job_file: CaptionFile | None, takes: Sequence[tuple[int, CaptionFile]]) -> None:
        self.job_file = job_file
        self.takes = tuple(takes)

    @property
    def kind(self) -> str:
        return (self.job_file or self.takes[0][1]).format


def load_job_captions(job: Job) -> JobCaptions | None:
    """The caption files of `job` (its `[youtube] captions`, its takes' `captions`),
    parsed; None when it has none. ConfigError naming the field of each bad file."""
    problems: list[str] = []
    job_file: CaptionFile | None = None
    section_path = (job.youtube or {}).get("captions")
    if isinstance(section_path, str) and job.source is not None:
        path = Path(section_path).expanduser()
        job_file = _load(path if path.is_absolute() else job.source.resolve().parent / path, "youtube.captions", problems)
    takes = []
    for index, take in enumerate(job.takes):
        if take.captions is not None:
            loaded = _load(take.captions, f"take[{index}].captions", problems)
            if loaded is not None:
                takes.append((index, loaded))
    if problems:
        raise ConfigError(problems[0] if len(problems) == 1 else f"{len(problems)} caption files cannot be used",
                          file=job.source, problems=problems if len(problems) > 1 else ())
    return JobCaptions(job_file, takes) if job_file is not None or takes else None


def _load(path: Path, field: str, problems: list[str]) -> CaptionFile | None:
    try:
        return load_caption_file(path)
    except CaptionParseError as exc:
        problems.append(f"{field}: {path.name}: {exc.problems[0]}")
    except OSError as exc:
        problems.append(f"{field}: cannot read {path}: {exc.strerror or exc}")
    return None


def write_placed_captions(captions: JobCaptions, edit: EditList | None, intro_s: float, output_path: Path) -> dict[str, object]:
    """Write the placed caption file beside `output_path`; what the render report records."""
    cues = place_cues(job_captions=captions.job_file, take_captions=captions.takes, edit=edit, intro_s=intro_s)
    path = placed_captions_path(output_path, captions.kind)
    temporary = path.with_name(f".{path.name}.partial")
    temporary.write_text(format_captions(cues, captions.kind), encoding="utf-8")
    os.replace(temporary, path)
    return {
        "file": str(path),
        "from": [str(c.path) for c in ([captions.job_file] if captions.job_file else [])]
                + [str(c.path) for _, c in captions.takes],
        "moved_by_intro_s": round(intro_s, 3),
        "cues": len(cues),
    }
