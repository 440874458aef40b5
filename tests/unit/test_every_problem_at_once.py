"""A bad job, or a template missing several variables, is reported in ONE run: every
problem of the schema, the preset, the [youtube] table, the inputs and the template
variables together (the issue: a job took three runs, five variables three runs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import load_job
from pipeline.errors import ConfigError
from pipeline.youtube.templates import render_fields

BAD_JOB = '''
preset = "no-such-preset"
colour = "blue"
[input]
main = "missing-walkthrough.mp4"
[youtube]
privacy = "sometimes"
'''


def test_schema_preset_youtube_and_input_problems_come_together(tmp_path: Path) -> None:
    job = tmp_path / "bad.toml"
    job.write_text(BAD_JOB, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_job(job)
    problems = caught.value.problems
    keys = [problem.split(": ")[1] for problem in problems]
    assert keys == ["colour", "preset", "youtube.privacy", "input.main"], problems
    assert all(problem.startswith(f"{job}: ") for problem in problems)
    assert problems[-1] == f"{job}: input.main: file not found: {tmp_path / 'missing-walkthrough.mp4'}"
    assert caught.value.message == "invalid job file (4 problems)"


def test_without_a_schema_problem_the_preset_and_input_still_come_together(tmp_path: Path) -> None:
    job = tmp_path / "bad.toml"
    job.write_text('preset = "no-such-preset"\n[input]\nmain = "gone.mp4"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_job(job)
    assert [p.split(": ")[1] for p in caught.value.problems] == ["preset", "input.main"]


def test_one_problem_alone_reads_as_it_always_did(tmp_path: Path) -> None:
    (tmp_path / "clip.mp4").write_bytes(b"")
    job = tmp_path / "job.toml"
    job.write_text('preset = "tiktok"\n[input]\nmain = "clip.mp4"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown preset 'tiktok'") as caught:
        load_job(job)
    assert caught.value.field == "preset" and caught.value.problems == []


def test_every_missing_template_variable_is_named_at_once() -> None:
    fields = {"title": "How to find {{ department }} – {{ building }}, floor {{ floor }}",
              "description": "{{ location }}. Questions: call {{ phone }}.", "tags": ["{{ department }}"]}
    problems: list[str] = []
    render_fields(fields, {}, problems)
    named = [problem.split("'")[1] for problem in problems]
    assert named == ["department", "building", "floor", "location", "phone", "department"], problems
    assert problems[0] == "title: variable 'department' is not defined (give it with --var or [youtube.vars])"


def test_a_variable_used_only_on_a_branch_not_taken_is_not_asked_for() -> None:
    problems: list[str] = []
    render_fields({"title": "{% if floor is defined %}Floor {{ floor }}: {% endif %}{{ a }} {{ b }}"}, {}, problems)
    assert [problem.split("'")[1] for problem in problems] == ["a", "b"]
