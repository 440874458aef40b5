"""Checking a caption file against the programme it captions: read the file, measure
the programme's length and speech, apply the rules. The one place that touches files
for a caption check; `wayfinder captions check`, QA and the upload gate call it.

Also owns where captions of an output are looked for when none is named: a draft
(`OUT.en.vtt`, `OUT.en.srt`), the render's placed file (`OUT.mp4.captions.vtt` /
`.srt`), or a file with the output's own name (`OUT.vtt`, `OUT.srt`), in that order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pipeline.captions.read import CaptionTrack, read_captions
from pipeline.captions.rules import CaptionProblem, check_captions
from pipeline.captions.settings import CaptionSettings
from pipeline.captions.speech import Span, measure_speech_spans
from pipeline.errors import InputError, WayfinderError

REPORT_PROBLEMS = 50  # problems kept in a summary line; the JSON has them all


@dataclass(frozen=True)
class CaptionCheck:
    """The outcome of checking one caption file against one programme."""

    captions_path: Path
    video_path: Path
    format: str
    caption_count: int
    programme_s: float
    speech: tuple[Span, ...]
    settings: CaptionSettings
    problems: tuple[CaptionProblem, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, object]:
        return {
            "captions": str(self.captions_path),
            "video": str(self.video_path),
            "format": self.format,
            "status": "pass" if self.passed else "fail",
            "captions_count": self.caption_count,
            "programme_s": round(self.programme_s, 3),
            "profile": self.settings.profile,
            "limits": {**self.settings.model_dump(), "max_line_chars": self.settings.line_chars},
            "speech": [[round(a, 3), round(b, 3)] for a, b in self.speech],
            "problems": [{"caption": p.number, "time_s": round(p.time_s, 3), "rule": p.rule, "message": p.message}
                         for p in self.problems],
        }


def captions_beside(video: Path) -> Path | None:
    """The caption file that goes with output `video`, if one lies beside it."""
    stem = video.with_suffix("")
    for candidate in (Path(f"{stem}.en.vtt"), Path(f"{stem}.en.srt"),
                      video.with_name(f"{video.name}.captions.vtt"), video.with_name(f"{video.name}.captions.srt"),
                      video.with_suffix(".vtt"), video.with_suffix(".srt")):
        if candidate.is_file():
            return candidate
    return None


def _programme_s(video: Path) -> float:
    from pipeline.probe import probe

    return probe(video).duration_s


def run_caption_check(captions: Path, video: Path, settings: CaptionSettings, *,
                      silent_video_ok: bool = False) -> CaptionCheck:
    """Check `captions` against output `video`. InputError (exit 3) for a caption file
    that cannot be read or a video with no readable sound; problems are the result.

    `silent_video_ok`: a video with no audio stream at all is checked by the rules that
    need no sound (the upload gate: a silent video's captions still have to read well,
    but there is no speech to be in sync with)."""
    track: CaptionTrack = read_captions(captions)
    if not video.is_file():
        raise InputError("no such video file", file=video, field="--video")
    programme_s = _programme_s(video)
    speech: list[Span] | None
    try:
        speech = measure_speech_spans(video)
    except InputError as error:
        if not (silent_video_ok and error.message == "no audio stream"):
            raise InputError(f"the speech checks need the programme's sound: {error.message}", file=video,
                             field="audio") from None
        speech = None
    problems = check_captions(track.captions, settings, programme_s=programme_s, speech=speech)
    return CaptionCheck(captions, video, track.format, len(track.captions), programme_s, tuple(speech or ()),
                        settings, tuple(problems))


def caption_check_problems(captions: Path, video: Path, settings: CaptionSettings, *,
                           field_name: str = "captions") -> list[str]:
    """The check as one-line problems for a gate (upload): empty when it passes."""
    try:
        result = run_caption_check(captions, video, settings, silent_video_ok=True)
    except WayfinderError as error:
        return [f"{field_name}: {error.one_line()}"]
    lines = [f"{field_name}: {captions.name}: {p.one_line()}" for p in result.problems[:REPORT_PROBLEMS]]
    if len(result.problems) > REPORT_PROBLEMS:
        lines.append(f"{field_name}: {captions.name}: and {len(result.problems) - REPORT_PROBLEMS} more caption problems")
    return lines
