"""Metadata templates: sandboxed, strict rendering, lookup order, and the shipped navigation template."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from pipeline.errors import ConfigError, UsageError
from pipeline.paths import builtin_presets_dir
from pipeline.youtube.templates import find_template, load_template, parse_var_assignments, render_fields, render_text

NAV_VARS = {"location": "Riverside Hospital", "building": "North Tower", "floor": 3,
            "department": "Cardiology Clinic", "phone": "555-0100"}


def test_missing_variable_is_a_problem_naming_field_and_variable() -> None:
    problems: list[str] = []
    assert render_text("Go to {{ department }}", {}, field="title", problems=problems) == ""
    assert problems == ["title: variable 'department' is not defined (give it with --var or [youtube.vars])"]


def test_sandbox_blocks_reaching_python_internals() -> None:
    problems: list[str] = []
    render_text("{{ ''.__class__.__mro__[1].__subclasses__() }}", {}, field="description", problems=problems)
    assert len(problems) == 1 and problems[0].startswith("description: template error")


def test_syntax_error_names_field_and_line() -> None:
    problems: list[str] = []
    render_text("ok\n{% if %}", {}, field="description", problems=problems)
    assert problems and "line 2" in problems[0]


def test_render_fields_renders_text_and_each_tag() -> None:
    problems: list[str] = []
    rendered = render_fields({"title": "{{ a }}!", "tags": ["{{ a }}", "{{ b }}"], "category": 27},
                             {"a": "x"}, problems)
    assert rendered["title"] == "x!" and rendered["tags"][0] == "x" and rendered["category"] == 27
    assert problems == ["tags[1]: variable 'b' is not defined (give it with --var or [youtube.vars])"]


def test_var_assignments() -> None:
    assert parse_var_assignments(["a=1", "phone=555=0100", "empty="]) == {"a": "1", "phone": "555=0100", "empty": ""}
    for bad in (["novalue"], ["=x"], ["two words=x"]):
        with pytest.raises(UsageError):
            parse_var_assignments(bad)


def test_shipped_navigation_template_renders_with_its_documented_variables() -> None:
    template, path = load_template("navigation")
    assert path == builtin_presets_dir() / "templates" / "navigation.toml"
    assert template.made_for_kids is None  # left to the job: the youtube preset requires an explicit answer
    assert str(template.category) == "27"
    problems: list[str] = []
    rendered = render_fields(template.model_dump(exclude_none=True), NAV_VARS, problems)
    assert problems == []
    assert rendered["title"] == "How to find Cardiology Clinic – North Tower, floor 3"
    for value in NAV_VARS.values():
        assert str(value) in rendered["description"]
    assert "Accessibility:" in rendered["description"]
    assert "Riverside Hospital" in rendered["playlist"]


@pytest.mark.parametrize("missing", sorted(NAV_VARS))
def test_navigation_template_needs_every_variable(missing: str) -> None:
    template, _ = load_template("navigation")
    problems: list[str] = []
    render_fields(template.model_dump(exclude_none=True), {k: v for k, v in NAV_VARS.items() if k != missing}, problems)
    assert problems and all(f"'{missing}'" in p for p in problems)


def test_user_template_wins_over_builtin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAYFINDER_CONFIG_DIR", str(tmp_path))
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "navigation.toml").write_text('title = "Ours"\n')
    template, path = load_template("navigation")
    assert template.title == "Ours" and path.parent == tmp_path / "templates"


def test_unknown_template_and_unknown_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAYFINDER_CONFIG_DIR", str(tmp_path))
    with pytest.raises(ConfigError, match="no metadata template named 'nope'"):
        find_template("nope")
    with pytest.raises(UsageError):
        find_template("../etc/passwd")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "bad.toml").write_text('title = "x"\ntitel = "typo"\nprivacy = "secret"\n')
    with pytest.raises(ConfigError) as caught:
        load_template("bad")
    assert any(p.startswith("titel: unknown key") for p in caught.value.problems)
    assert any(p.startswith("privacy:") for p in caught.value.problems)


def test_every_shipped_template_is_valid() -> None:
    for path in (builtin_presets_dir() / "templates").glob("*.toml"):
        tomllib.loads(path.read_text())
        load_template(path.stem)
