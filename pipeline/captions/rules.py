"""The caption rules, checked one caption at a time: a pure function of the captions,
the rules, the programme's length and the speech spans found in its sound.

Owns the rule names (a contract: they appear in JSON and in QA's reports) and the
meaning of each:

- `lines`, `line_length`: at most `max_lines` lines of at most `line_chars` characters
  (tags stripped, spaces counted);
- `too_short`, `too_long`: on screen `min_duration_s` to `max_duration_s`;
- `reading_rate`: characters (no line breaks) over time on screen, at most `max_chars_per_s`;
- `overlap`: a caption starts before the one before it ends;
- `outside_programme`: starts or ends after the programme does;
- `onset`: a caption starts more than `onset_tolerance_s` from the speech it shows: no
  speech within that distance of its start, or speech that had already been going on
  for longer with no caption on screen (a caption that continues the one before, in the
  middle of a sentence, is in sync);
- `uncaptioned_speech`: speech longer than `max_uncaptioned_speech_s` with no caption
  on screen.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.captions.read import Caption, format_time
from pipeline.captions.settings import CaptionSettings

Span = tuple[float, float]

RULES: tuple[str, ...] = ("lines", "line_length", "too_short", "too_long", "reading_rate", "overlap",
                          "outside_programme", "onset", "uncaptioned_speech")

# Caption times are kept to the millisecond; a limit met to within that is met.
EPSILON_S = 0.0005


@dataclass(frozen=True)
class CaptionProblem:
    rule: str
    time_s: float
    message: str
    number: int | None = None  # the caption, None for speech that has none

    def one_line(self) -> str:
        where = f"caption {self.number} at {format_time(self.time_s)}" if self.number is not None \
            else f"at {format_time(self.time_s)}"
        return f"{where}: {self.rule}: {self.message}"


def _per_caption(caption: Caption, rules: CaptionSettings, programme_s: float) -> list[CaptionProblem]:
    problems: list[CaptionProblem] = []

    def add(rule: str, message: str) -> None:
        problems.append(CaptionProblem(rule, caption.start_s, message, caption.number))

    if len(caption.lines) > rules.max_lines:
        add("lines", f"{len(caption.lines)} lines; at most {rules.max_lines}")
    for index, line in enumerate(caption.lines, start=1):
        if len(line) > rules.line_chars:
            add("line_length", f"line {index} has {len(line)} characters; at most {rules.line_chars} "
                               f"({rules.profile} profile): {line[:60]!r}")
    duration_s = caption.duration_s
    if duration_s < rules.min_duration_s - EPSILON_S:
        add("too_short", f"on screen {duration_s:.3f} s; at least {rules.min_duration_s:g} s")
    if duration_s > rules.max_duration_s + EPSILON_S:
        add("too_long", f"on screen {duration_s:.3f} s; at most {rules.max_duration_s:g} s")
    rate = caption.chars / duration_s
    if rate > rules.max_chars_per_s + 1e-9:
        add("reading_rate", f"{caption.chars} characters in {duration_s:.3f} s is {rate:.1f} characters a second; "
                            f"at most {rules.max_chars_per_s:g}")
    if caption.start_s >= programme_s:
        add("outside_programme", f"starts after the programme ends ({format_time(programme_s)})")
    elif caption.end_s > programme_s + EPSILON_S:
        add("outside_programme", f"ends at {format_time(caption.end_s)}, after the programme "
                                 f"({format_time(programme_s)})")
    return problems


def _nearby_spans(time_s: float, speech: Sequence[Span], starts: Sequence[float]) -> Sequence[Span]:
    # Spans are sorted and apart: only the one starting at or before `time_s` and the
    # next can be nearest (bisect keeps a file of thousands of captions fast).
    index = bisect.bisect_right(starts, time_s)
    return speech[max(0, index - 1): index + 1]


def _distance_to_speech_s(time_s: float, spans: Sequence[Span]) -> float:
    return min((max(start - time_s, time_s - end, 0.0) for start, end in spans), default=float("inf"))


def _onset(caption: Caption, previous_end_s: float | None, rules: CaptionSettings,
           speech: Sequence[Span], starts: Sequence[float]) -> CaptionProblem | None:
    tolerance_s = rules.onset_tolerance_s + EPSILON_S
    start_s = caption.start_s
    nearby = _nearby_spans(start_s, speech, starts)
    distance_s = _distance_to_speech_s(start_s, nearby)
    if distance_s > tolerance_s:
        if distance_s == float("inf"):
            message = "no speech was found in the programme"
        else:
            message = f"no speech within {rules.onset_tolerance_s:g} s of its start (nearest {distance_s:.2f} s away)"
        return CaptionProblem("onset", start_s, message, caption.number)
    inside = next((span for span in nearby if span[0] <= start_s <= span[1]), None)
    continues = previous_end_s is not None and start_s - previous_end_s <= tolerance_s
    if inside is not None and start_s - inside[0] > tolerance_s and not continues:
        return CaptionProblem("onset", start_s, f"starts {start_s - inside[0]:.2f} s after the speech it shows began "
                              f"({format_time(inside[0])}); at most {rules.onset_tolerance_s:g} s",
                              caption.number)
    return None


def _on_screen(captions: Sequence[Caption]) -> list[Span]:
    """The union of the captions' times on screen: sorted, apart."""
    union: list[Span] = []
    for start_s, end_s in sorted((c.start_s, c.end_s) for c in captions):
        if union and start_s <= union[-1][1]:
            union[-1] = (union[-1][0], max(union[-1][1], end_s))
        else:
            union.append((start_s, end_s))
    return union


def _uncaptioned(captions: Sequence[Caption], rules: CaptionSettings, speech: Sequence[Span]) -> list[CaptionProblem]:
    covered = _on_screen(captions)
    problems: list[CaptionProblem] = []
    first = 0  # both lists are sorted: walk them together
    for start_s, end_s in speech:
        while first < len(covered) and covered[first][1] <= start_s:
            first += 1
        cursor = start_s
        gaps: list[Span] = []
        index = first
        while index < len(covered) and covered[index][0] < end_s:
            cap_start, cap_end = covered[index]
            if cap_start > cursor:
                gaps.append((cursor, cap_start))
            cursor = max(cursor, cap_end)
            index += 1
        if cursor < end_s:
            gaps.append((cursor, end_s))
        for gap_start, gap_end in gaps:
            if gap_end - gap_start > rules.max_uncaptioned_speech_s + EPSILON_S:
                problems.append(CaptionProblem(
                    "uncaptioned_speech", gap_start,
                    f"speech from {format_time(gap_start)} to {format_time(gap_end)} ({gap_end - gap_start:.2f} s) "
                    f"has no caption; at most {rules.max_uncaptioned_speech_s:g} s"))
    return problems


def check_captions(captions: Sequence[Caption], rules: CaptionSettings, *, programme_s: float,
                   speech: Sequence[Span] | None) -> list[CaptionProblem]:
    """Every problem of every caption, in time order (speech problems among them).
    `speech` None: the programme has no sound, so the speech rules have nothing to judge."""
    problems: list[CaptionProblem] = []
    with_speech = speech is not None
    speech = sorted(speech or ())
    starts = [start for start, _ in speech]
    ordered = sorted(captions, key=lambda c: (c.start_s, c.number))
    previous: Caption | None = None
    for caption in ordered:
        problems += _per_caption(caption, rules, programme_s)
        if previous is not None and caption.start_s < previous.end_s - EPSILON_S:
            problems.append(CaptionProblem("overlap", caption.start_s, f"starts before caption {previous.number} "
                                           f"ends ({format_time(previous.end_s)})", caption.number))
        if with_speech and caption.start_s < programme_s:
            onset = _onset(caption, previous.end_s if previous else None, rules, speech, starts)
            if onset is not None:
                problems.append(onset)
        if previous is None or caption.end_s > previous.end_s:
            previous = caption
    if with_speech:
        problems += _uncaptioned(ordered, rules, speech)
    return sorted(problems, key=lambda p: (p.time_s, p.number or 0, RULES.index(p.rule)))
