"""The bounded template sandbox: real templates render as before; unbounded ones are
refused quickly with a reason, whatever the trick (issue 13, items 4 and 6)."""

from __future__ import annotations

import pytest

from pipeline.youtube.sandbox import (
    MAX_OUTPUT_CHARS,
    MAX_SOURCE_CHARS,
    ForbiddenTagError,
    TemplateBudgetError,
    render_bounded,
)
from pipeline.youtube.templates import render_text


@pytest.mark.parametrize(("source", "expected"), [
    ("How to find {{ department }}, floor {{ floor }}", "How to find Cardiology, floor 3"),
    ("{% for tag in ['a', 'b'] %}{{ tag|upper }}{% if not loop.last %},{% endif %}{% endfor %}", "A,B"),
    ("{{ '%s-%02d'|format(department, floor) }} {{ '{}:{}'.format(floor, 5) }}", "Cardiology-03 3:5"),
    ("{% set block | upper %}{{ department }}{% endset %}{{ block }}", "CARDIOLOGY"),
    ("{{ (department ~ ' ') * 2 }}|{{ department|center(14) }}|", "Cardiology Cardiology |  Cardiology  |"),
    ("{% macro room(n) %}R{{ n }}{% endmacro %}{{ room(floor * 100 + 2) }}", "R302"),
    ("{{ lipsum(n=1, html=False)|wordcount > 10 }}", "True"),
    ("{{ department|truncate(5000) }}", "Cardiology"),
])
def test_ordinary_templates_render_as_before(source: str, expected: str) -> None:
    assert render_bounded(source, {"department": "Cardiology", "floor": 3}) == expected


@pytest.mark.parametrize(("source", "reason"), [
    ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "loops run more than"),
    ("{% for i in range(100000) %}{% for c in s %}{% endfor %}{% endfor %}", "loops run more than"),
    ("{{ lipsum(n=2000000) }}", "lipsum is limited"),
    ("{{ 'x' * 10**10 }}", "value of more than"),
    ("{{ [1] * 10**9 }}", "value of more than"),
    ("{{ 7 ** 1000000 }}", "number of more than"),
    ("{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}", "value of more than"),
    ("{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}", "value of more than"),
    ("{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set t %}{{ ns.s }}{{ ns.s }}{% endset %}"
     "{% set ns.s = t %}{% endfor %}", "value of more than"),
    ("{% set l = [1] %}{% for i in range(64) %}{{ l.extend(l) }}{% endfor %}", "value of more than"),
    ("{{ '%999999999d' % 1 }}", "width or count"),
    ("{{ '%999999999d'|format(1) }}", "width or count"),
    ("{{ '{:>999999999}'.format(1) }}", "width or count"),
    ("{{ '{:>{w}}'.format(1, w=999999999) }}", "width or count"),
    ("{{ 'x'|center(999999999) }}", "width or count"),
    ("{{ 'x'.ljust(999999999) }}", "width or count"),
    ("{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(60) }}", "more than 100,000 calls"),
    ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "nests or recurses too deeply"),
    ("{% for i in range(50000) %}xxxx{% endfor %}", f"renders more than {MAX_OUTPUT_CHARS:,}"),
    ("x" * (MAX_SOURCE_CHARS + 1), "at most"),
])
def test_unbounded_templates_are_refused(source: str, reason: str) -> None:
    with pytest.raises(TemplateBudgetError, match=reason.replace("(", r"\(").replace("*", r"\*")):
        render_bounded(source, {"s": "y" * 1000})


def test_the_wall_clock_budget_stops_a_template_between_steps() -> None:
    with pytest.raises(TemplateBudgetError, match="ran longer than 0 s"):
        render_bounded("{% for i in range(3) %}{{ i }}{% endfor %}", {}, time_budget_s=0.0)


@pytest.mark.parametrize("tag", ["{% include 'a' %}", "{% import 'a' as b %}", "{% from 'a' import b %}",
                                 "{% extends 'a' %}"])
def test_loading_tags_are_refused_by_name(tag: str) -> None:
    with pytest.raises(ForbiddenTagError, match="is not allowed in metadata templates"):
        render_bounded("ok\n" + tag, {})


def test_render_text_turns_every_failure_into_one_problem_naming_field_and_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    origin = tmp_path / "mine.toml"
    problems: list[str] = []
    for source in ("{% include 'x' %}", "{{ lipsum(n=2000000) }}", "{{ 1 / 0 }}", "{{ 'a' + 1 }}"):
        assert render_text(source, {}, field="description", problems=problems, origin=origin) == ""
    assert len(problems) == 4
    assert all(p.startswith("description: template") and p.endswith(f"(in {origin})") for p in problems)
    assert "ZeroDivisionError" in problems[2] and "\n" not in "".join(problems)
