"""The caption rules, each on both sides of its limit (pipeline.captions.rules). Limits come
from the DCMP Captioning Key as the issue states them: 2 lines of 42 characters (32 for the
strict profile), 1 to 7 s on screen, 20 characters a second, onsets within 0.5 s of speech,
no speech over 2 s uncaptioned."""

from __future__ import annotations

import pytest

from pipeline.captions.read import Caption
from pipeline.captions.rules import check_captions
from pipeline.captions.settings import CaptionSettings

RULES = CaptionSettings()
STRICT = CaptionSettings(profile="dcmp-strict")


def cap(number: int, start_s: float, end_s: float, *lines: str) -> Caption:
    return Caption(number, start_s, end_s, tuple(lines) or ("Lift",))


def rules_hit(captions: list[Caption], *, rules: CaptionSettings = RULES, programme_s: float = 60.0,
              speech: list[tuple[float, float]] | None = None) -> list[tuple[int | None, str]]:
    spans = speech if speech is not None else [(c.start_s, c.end_s) for c in captions]
    return [(p.number, p.rule) for p in check_captions(captions, rules, programme_s=programme_s, speech=spans)]


def test_two_lines_pass_three_fail() -> None:
    assert rules_hit([cap(1, 0, 4, "Take the lift", "to floor 3")]) == []
    assert rules_hit([cap(1, 0, 4, "Take", "the lift", "to floor 3")]) == [(1, "lines")]


@pytest.mark.parametrize(("rules", "limit"), [(RULES, 42), (STRICT, 32)])
def test_line_length_at_and_over_the_profile_limit(rules: CaptionSettings, limit: int) -> None:
    assert rules_hit([cap(1, 0, 5, "x" * limit)], rules=rules) == []
    assert rules_hit([cap(1, 0, 5, "x" * (limit + 1))], rules=rules) == [(1, "line_length")]


def test_line_length_counts_characters_not_bytes() -> None:
    # 42 characters of which many are two or three bytes in UTF-8
    line = "Café Médical – Ünïversität, Hôpital 北京 ok!"
    assert len(line) == 42 and len(line.encode()) > 42
    assert rules_hit([cap(1, 0, 5, line)]) == []


def test_a_preset_line_length_wins_over_the_profile() -> None:
    assert rules_hit([cap(1, 0, 5, "x" * 36)], rules=CaptionSettings(profile="dcmp-strict", max_line_chars=36)) == []


def test_time_on_screen_one_to_seven_seconds() -> None:
    assert rules_hit([cap(1, 0, 1.0)]) == []
    assert rules_hit([cap(1, 0, 0.999)]) == [(1, "too_short")]
    assert rules_hit([cap(1, 0, 7.0, "x" * 20)]) == []
    assert rules_hit([cap(1, 0, 7.001, "x" * 20)]) == [(1, "too_long")]


def test_reading_rate_twenty_characters_a_second() -> None:
    # 40 characters (spaces count, the line break does not) in 2 s is exactly 20/s
    assert rules_hit([cap(1, 0, 2.0, "x" * 20, "y" * 20)]) == []
    assert rules_hit([cap(1, 0, 2.0, "x" * 21, "y" * 20)]) == [(1, "reading_rate")]


def test_overlap_names_the_later_caption() -> None:
    assert rules_hit([cap(1, 0, 2), cap(2, 2, 4)]) == []
    assert rules_hit([cap(1, 0, 2), cap(2, 1.9, 4)]) == [(2, "overlap")]


def test_inside_the_programme() -> None:
    assert rules_hit([cap(1, 8, 10)], programme_s=10.0) == []
    assert rules_hit([cap(1, 8, 10.1)], programme_s=10.0) == [(1, "outside_programme")]
    problems = check_captions([cap(1, 11, 12)], RULES, programme_s=10.0, speech=[(9.0, 10.0)])
    assert [(p.number, p.rule) for p in problems] == [(1, "outside_programme")]
    assert "starts after the programme ends" in problems[0].message


def test_onset_within_half_a_second_of_speech() -> None:
    assert rules_hit([cap(1, 1.5, 4)], speech=[(2.0, 4.0)]) == []  # 0.5 s early
    assert rules_hit([cap(1, 1.4, 4)], speech=[(2.0, 4.0)]) == [(1, "onset")]  # 0.6 s early
    assert rules_hit([cap(1, 2.5, 4)], speech=[(2.0, 4.0)]) == []  # 0.5 s late
    assert rules_hit([cap(1, 2.6, 4)], speech=[(2.0, 4.0)]) == [(1, "onset")]  # 0.6 s late
    assert rules_hit([cap(1, 6, 8)], speech=[(2.0, 4.0)]) == [(1, "onset")]  # over silence


def test_a_caption_continuing_the_one_before_is_in_sync_mid_speech() -> None:
    speech = [(0.0, 10.0)]
    assert rules_hit([cap(1, 0, 4), cap(2, 4.5, 9)], speech=speech) == []
    assert rules_hit([cap(1, 0, 4), cap(2, 4.6, 9)], speech=speech) == [(2, "onset")]


def test_speech_left_uncaptioned_at_most_two_seconds() -> None:
    assert rules_hit([cap(1, 0, 3)], speech=[(0.0, 5.0)]) == []  # 2.0 s after the caption
    problems = check_captions([cap(1, 0, 3)], RULES, programme_s=60, speech=[(0.0, 5.1)])
    assert [(p.number, p.rule, round(p.time_s, 3)) for p in problems] == [(None, "uncaptioned_speech", 3.0)]
    assert "00:00:03.000 to 00:00:05.100" in problems[0].message
    assert [(n, r) for n, r in rules_hit([], speech=[(10.0, 12.5)])] == [(None, "uncaptioned_speech")]


def test_problems_name_caption_and_time() -> None:
    problem = check_captions([cap(7, 65.25, 65.5)], RULES, programme_s=100, speech=[(65.25, 65.5)])[0]
    assert problem.one_line().startswith("caption 7 at 00:01:05.250: too_short:")


def test_settings_reject_unknown_keys_and_profiles() -> None:
    with pytest.raises(ValueError):
        CaptionSettings(max_lines_chars=3)  # type: ignore[call-arg]
    with pytest.raises(ValueError):
        CaptionSettings(profile="loose")  # type: ignore[arg-type]


def test_ten_thousand_captions_are_checked_in_one_pass() -> None:
    # every caption 1.5 s over its own 1.4 s of speech; a linear scan per caption would
    # take 10,000 x 10,000 steps
    captions = [cap(n, 2.0 * n, 2.0 * n + 1.5) for n in range(1, 10_001)]
    speech = [(2.0 * n, 2.0 * n + 1.4) for n in range(1, 10_001)]
    assert rules_hit(captions, programme_s=30_000, speech=speech) == []
    speech.append((40_000.0, 40_003.0))
    assert rules_hit(captions, programme_s=50_000, speech=speech) == [(None, "uncaptioned_speech")]


def test_a_programme_without_sound_is_judged_by_the_rules_that_need_none() -> None:
    captions = [cap(1, 10.0, 13.0, "Take the lift"), cap(2, 20.0, 23.0, "x" * 43)]
    # with sound but no speech there, both captions are out of sync...
    with_sound = [(p.number, p.rule) for p in check_captions(captions, RULES, programme_s=60.0, speech=[])]
    assert (1, "onset") in with_sound and (2, "onset") in with_sound
    # ...with no sound at all there is nothing to be in sync with; the line is still too long
    silent = [(p.number, p.rule) for p in check_captions(captions, RULES, programme_s=60.0, speech=None)]
    assert silent == [(2, "line_length")]
