"""Metadata templates: finding them by name and rendering their text fields.

A template is a TOML file named `NAME.toml` in `<config dir>/templates/` (the user's,
which wins) or in the built-in `presets/templates/`. Text fields are Jinja2 templates
rendered in a sandboxed environment with StrictUndefined and budgets
(`pipeline.youtube.sandbox`): a template cannot reach Python internals or run for
minutes, and a variable that was not given is an error naming the field and the
variable, never an empty string in a published title.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import TemplateError, UndefinedError

from pipeline.errors import ConfigError, UsageError, shorten, shown_value
from pipeline.tomlfile import read_toml_file
from pipeline.youtube.metadata import TemplateFile, VarValue, parse_template
from pipeline.youtube.sandbox import ForbiddenTagError, TemplateBudgetError, render_bounded

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")



def template_dirs() -> list[Path]:
    """Where templates are looked up, the user's folder first."""
    from pipeline.paths import builtin_presets_dir, user_config_dir

    return [user_config_dir() / "templates", builtin_presets_dir() / "templates"]


def find_template(name: str) -> Path:
    if not _NAME.match(name):
        raise UsageError(f"template name {shown_value(name)} is not a plain name (letters, digits, _ . -)")
    for folder in template_dirs():
        candidate = folder / f"{name}.toml"
        if candidate.is_file():
            return candidate
    known = sorted({p.stem for folder in template_dirs() if folder.is_dir() for p in folder.glob("*.toml")})
    raise ConfigError(
        f"no metadata template named {shown_value(name)} (known: {', '.join(known) or 'none'})", field="template"
    )


def load_template(name: str) -> tuple[TemplateFile, Path]:
    path = find_template(name)
    data = read_toml_file(path, "metadata template")
    return parse_template(data, file=path), path


def parse_var_assignments(assignments: list[str]) -> dict[str, str]:
    """`--var key=value` flags as a dict; the value keeps any further '=' signs."""
    result: dict[str, str] = {}
    for assignment in assignments:
        key, sep, value = assignment.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise UsageError(f"--var {shown_value(assignment)}: expected key=value with a plain key (letters, digits, _)")
        result[key] = value
    return result


def render_text(source: str, variables: Mapping[str, VarValue], *, field: str, problems: list[str],
                origin: Path | None = None) -> str:
    """Render one text field in the bounded sandbox; a failure is added to `problems`
    (naming the field, the variable, and `origin`, the template file the field came from)."""
    where = f" (in {origin})" if origin is not None else ""
    try:
        return render_bounded(source, variables)
    except UndefinedError as exc:
        for name in _all_undefined(source, variables, exc):
            problems.append(f"{field}: variable {name!r} is not defined (give it with --var or [youtube.vars]){where}")
    except ForbiddenTagError as exc:
        line = f" (line {exc.lineno})" if exc.lineno else ""
        problems.append(f"{field}: template error{line}: {exc}{where}")
    except TemplateBudgetError as exc:
        problems.append(f"{field}: template refused: {exc}{where}")
    except TemplateError as exc:
        line = f" (line {exc.lineno})" if getattr(exc, "lineno", None) else ""
        problems.append(f"{field}: template error{line}: {shorten(str(exc.message or exc))}{where}")
    except Exception as exc:  # noqa: BLE001 - a template's own arithmetic or type error: {{ 1 / 0 }}
        problems.append(f"{field}: template error: {exc.__class__.__name__}: {shorten(str(exc))}{where}")
    return ""


MAX_MISSING_VARIABLES = 50  # re-renders to find them all: bounded, like every template run


def _undefined_name(exc: UndefinedError) -> str | None:
    match = re.search(r"'([^']+)' is undefined", str(exc))
    return match.group(1) if match else None


def _all_undefined(source: str, variables: Mapping[str, VarValue], first: UndefinedError) -> list[str]:
    """Every variable the field needs and was not given, not only the first: Jinja stops at
    the first, and five missing variables took five runs to learn. The field is rendered
    again with a stand-in for each name found until it renders or fails otherwise; only
    variables on the path the template really takes are named."""
    name = _undefined_name(first)
    if name is None:
        return [str(first)]
    missing = [name]
    trial: dict[str, VarValue] = dict(variables)
    while len(missing) < MAX_MISSING_VARIABLES:
        trial[missing[-1]] = "…"
        try:
            render_bounded(source, trial)
            break
        except UndefinedError as exc:
            name = _undefined_name(exc)
            if name is None or name in missing:
                break
            missing.append(name)
        except Exception:  # noqa: BLE001 - the stand-in did not fit (arithmetic...): report what is known
            break
    return missing


def render_fields(fields: Mapping[str, Any], variables: Mapping[str, VarValue],
                  problems: list[str], *, prefix: str = "",
                  origins: Mapping[str, Path] | None = None) -> dict[str, Any]:
    """Render the text fields (title, description, tags, playlist) of a metadata mapping.
    `origins` names the template file a field came from, for its problems."""
    origins = origins or {}
    rendered: dict[str, Any] = dict(fields)
    for key in ("title", "description", "playlist", "captions_name"):
        value = fields.get(key)
        if isinstance(value, str):
            rendered[key] = render_text(value, variables, field=f"{prefix}{key}", problems=problems,
                                        origin=origins.get(key))
    tags = fields.get("tags")
    if isinstance(tags, list):
        rendered["tags"] = [
            render_text(tag, variables, field=f"{prefix}tags[{index}]", problems=problems, origin=origins.get("tags"))
            for index, tag in enumerate(tags)
        ]
    return rendered
