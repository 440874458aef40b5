"""Timed words into captions that follow the caption rules: pure.

Owns how a draft transcript becomes captions: a new caption at each sentence end and
after a long pause; when a caption is full (lines, characters a line, time on screen) it
is closed at its last phrase boundary (a comma, semicolon or colon, or a pause) if one
lies in its second half, else before the word that does not fit. Names from the
vocabulary list are joined into one token first, so no caption or line splits a name.
Lines are balanced (the break that makes the longer line shortest, after punctuation
when that costs nothing). Each caption then stays on screen long enough to be read
(`min_duration_s`, and its characters at `max_chars_per_s`) when the programme's end
leaves room, holding the next caption back by at most 0.8 of the onset tolerance.

A recognizer's word times are coarse where speech follows silence (whisper stretches the
first word of a passage back into the pause before it, by up to a second), so a word that
starts in silence and has a detected speech onset inside it is moved to that onset first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pipeline.captions.read import Caption
from pipeline.captions.settings import CaptionSettings

if TYPE_CHECKING:  # the detector pulls in numpy; this pure module needs only its type
    from pipeline.captions.speech import Span

SENTENCE_END = (".", "?", "!", "…")
PHRASE_END = (",", ";", ":", "—", "–")
PHRASE_PAUSE_S = 0.25  # a pause this long between words is a phrase boundary
NEW_CAPTION_PAUSE_S = 1.0  # after a pause this long a new caption starts


@dataclass(frozen=True)
class Word:
    text: str
    start_s: float
    end_s: float


def _key(text: str) -> str:
    return re.sub(r"[^\w'-]", "", text.casefold())


def join_names(words: Sequence[Word], vocabulary: Sequence[str]) -> list[Word]:
    """`words` with each vocabulary name of several words joined into one token."""
    names = sorted({tuple(_key(w) for w in name.split()) for name in vocabulary if len(name.split()) > 1},
                   key=len, reverse=True)
    out: list[Word] = []
    index = 0
    while index < len(words):
        for name in names:
            window = words[index:index + len(name)]
            if len(window) == len(name) and tuple(_key(w.text) for w in window) == name:
                out.append(Word(" ".join(w.text for w in window), window[0].start_s, window[-1].end_s))
                index += len(name)
                break
        else:
            out.append(words[index])
            index += 1
    return out


def snap_word_starts(words: Sequence[Word], speech: Sequence[Span]) -> list[Word]:
    """`words`, each one that starts outside every speech span but has a span's onset
    inside it starting at that onset instead (`speech` sorted, as the detector gives it)."""
    out: list[Word] = []
    for word in words:
        in_speech = any(start_s <= word.start_s < end_s for start_s, end_s in speech)
        onset_s = next((start_s for start_s, _ in speech if word.start_s < start_s < word.end_s), None)
        out.append(Word(word.text, onset_s, word.end_s) if not in_speech and onset_s is not None else word)
    return out


def wrap_lines(tokens: Sequence[str], line_chars: int, max_lines: int) -> list[str] | None:
    """The tokens in at most `max_lines` balanced lines of at most `line_chars`, or None."""
    text = " ".join(tokens)
    if len(text) <= line_chars:
        return [text]
    if max_lines < 2:
        return None
    best: tuple[tuple[int, int], list[str]] | None = None
    for cut in range(1, len(tokens)):
        first, rest = " ".join(tokens[:cut]), tokens[cut:]
        if len(first) > line_chars:
            break
        rest_lines = wrap_lines(rest, line_chars, max_lines - 1)
        if rest_lines is None:
            continue
        lines = [first, *rest_lines]
        # Shortest longest line; on a tie, a break after punctuation.
        score = (max(len(line) for line in lines), 0 if tokens[cut - 1].endswith(PHRASE_END + SENTENCE_END) else 1)
        if best is None or score < best[0]:
            best = (score, lines)
    return None if best is None else best[1]


def _fits(tokens: Sequence[Word], rules: CaptionSettings) -> bool:
    if tokens[-1].end_s - tokens[0].start_s > rules.max_duration_s:
        return False
    return wrap_lines([t.text for t in tokens], rules.line_chars, rules.max_lines) is not None


def _phrase_cut(tokens: Sequence[Word]) -> int | None:
    """Where to close a full caption: after its last phrase boundary in the second half."""
    for index in range(len(tokens) - 1, len(tokens) // 2 - 1, -1):
        if index + 1 >= len(tokens) or index < 1:
            continue
        word, following = tokens[index], tokens[index + 1]
        if word.text.endswith(PHRASE_END) or following.start_s - word.end_s >= PHRASE_PAUSE_S:
            return index + 1
    return None


def group_words(words: Sequence[Word], rules: CaptionSettings) -> list[list[Word]]:
    """Words grouped into captions (before timing is adjusted)."""
    groups: list[list[Word]] = []
    current: list[Word] = []
    for word in words:
        if current and word.start_s - current[-1].end_s >= NEW_CAPTION_PAUSE_S:
            groups.append(current)
            current = []
        if current and not _fits([*current, word], rules):
            cut = _phrase_cut(current)
            if cut is not None and _fits([*current[cut:], word], rules):
                groups.append(current[:cut])
                current = current[cut:]
            else:
                groups.append(current)
                current = []
        current.append(word)
        if word.text.endswith(SENTENCE_END):
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    return groups


def build_captions(words: Sequence[Word], rules: CaptionSettings, *, programme_s: float,
                   vocabulary: Sequence[str] = ()) -> list[Caption]:
    """Captions for timed `words` following `rules`, numbered from 1."""
    groups = group_words(join_names([w for w in words if w.text.strip()], vocabulary), rules)
    # A caption read too fast may hold the next one back a little: well inside the onset
    # tolerance, so the next still starts in sync with its speech.
    delay_s = 0.8 * rules.onset_tolerance_s
    captions: list[Caption] = []
    previous_end_s = 0.0
    for index, group in enumerate(groups):
        lines = wrap_lines([w.text for w in group], rules.line_chars, rules.max_lines) or [" ".join(w.text for w in group)]
        start_s = max(group[0].start_s, previous_end_s)
        latest_s = min(groups[index + 1][0].start_s + delay_s, programme_s) if index + 1 < len(groups) else programme_s
        chars = sum(len(line) for line in lines)
        wanted_s = max(rules.min_duration_s, chars / rules.max_chars_per_s)
        end_s = min(max(group[-1].end_s, start_s + wanted_s), latest_s, start_s + rules.max_duration_s)
        end_s = max(end_s, min(group[-1].end_s, latest_s))
        captions.append(Caption(index + 1, round(start_s, 3), round(end_s, 3), tuple(lines)))
        previous_end_s = end_s
    return captions
