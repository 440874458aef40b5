"""How `--help` reads: plain words at any width, value names a producer understands, and
one example per command.

Typer's Rich help panels read square brackets in help strings as markup (so "its
[youtube] table" lost a word), show developer type labels (`<list[Path]>`, `{target}`)
and cut long option names at 80 columns. `finish_help` walks the built Click command
tree once, before it runs, and switches every command to Click's plain formatter (which
wraps words and cuts nothing), gives every option and argument a value name, and adds
the example from `EXAMPLES` as the epilog.

Two of Typer's argument methods are replaced per instance (`get_usage_pieces`,
`display_type_rich`, as in Typer 0.29); tests/integration/test_cli_help.py fails if a
Typer release brings the type labels back.
"""

from __future__ import annotations

from typing import Any

# Typer builds its commands on its own vendored Click, so they are recognised by what
# they have (params, commands), not by `isinstance` against the `click` package.

# One example per command, keyed by the command's path below `wayfinder`.
# They run from the repository folder against the sample media of `make demo`.
EXAMPLES: dict[str, str] = {
    "render": "wayfinder render samples/jobs/walkthrough.toml --force",
    "probe": "wayfinder probe samples/media/walkthrough.mp4 --json",
    "presets list": "wayfinder presets list",
    "presets show": "wayfinder presets show youtube-draft",
    "samples": "wayfinder samples /tmp/wayfinder-samples",
    "qa": "wayfinder qa samples/media samples/out --html /tmp/qa.html",
    "batch": "wayfinder batch samples/batch/manifest.toml --dry-run",
    "upload": ("wayfinder upload samples/out/walkthrough.mp4 \\\n"
               "      --job samples/jobs/walkthrough.toml --dry-run"),
    "auth login": "wayfinder auth login --no-browser",
    "auth status": "wayfinder auth status",
    "queue add": ("wayfinder queue add samples/jobs/walkthrough.toml \\\n"
                  "      --publish-at 2030-06-03T09:00:00-05:00"),
    "queue list": "wayfinder queue list --state pending",
    "queue show": "wayfinder queue show 2",
    "queue cancel": "wayfinder queue cancel 2",
    "queue retry": "wayfinder queue retry 2",
    "queue run": "wayfinder queue run --once",
    "state check": "wayfinder state check",
    "state backups": "wayfinder state backups",
    "state backup": "wayfinder state backup",
    "state restore": "wayfinder state restore",
    "captions check": ("wayfinder captions check samples/media/walkthrough.srt \\\n"
                       "      --video samples/media/walkthrough.mp4"),
    "captions draft": ("wayfinder captions draft samples/media/walkthrough.mp4 \\\n"
                       "      --vocabulary \"Riverside Clinic\""),
    "captions approve": ("wayfinder captions approve samples/media/walkthrough.mp4 \\\n"
                         "      --by \"Dana Reviewer\" --captions samples/media/walkthrough.srt"),
    "captions status": "wayfinder captions status samples/media/walkthrough.mp4",
}

# Value names by option, where the value's meaning is more than its type.
OPTION_VALUE_NAMES: dict[str, str] = {
    "--out": "FILE", "--job": "JOB.toml", "--template": "NAME", "--var": "KEY=VALUE", "--preset": "NAME",
    "--not-before": "TIME", "--publish-at": "TIME", "--priority": "N", "--privacy": "public|unlisted|private",
    "--playlist": "NAME", "--thumbnail": "auto|FILE|none", "--captions": "FILE", "--captions-language": "LANG",
    "--consent-form": "TEXT", "--junit": "FILE", "--html": "FILE", "--jobs": "N", "--cluster": "ADDRESS",
    "--only": "NAME", "--state": "STATE", "--max": "N", "--credentials": "FILE", "--client-secrets": "FILE",
    "--api-root": "URL", "--chunk-kib": "KIB", "--retries": "N", "--from": "FILE",
    "--video": "FILE", "--profile": "standard|dcmp-strict", "--model": "DIR", "--vocabulary": "NAME",
}

# Suffixes that carry the unit of a number option (conventions: names with units).
UNIT_VALUE_NAMES = {"-s": "SECONDS", "-h": "HOURS", "-kib": "KIB"}


def _is_argument(param: Any) -> bool:
    return getattr(param, "param_type_name", "") == "argument"


def value_name(param: Any) -> str:
    """The word shown for a parameter's value: `FILE`, `SECONDS`, `NAME`…; never a type label."""
    if _is_argument(param):
        return (param.name or "value").upper()
    long_names = [opt for opt in param.opts if opt.startswith("--")]
    for name in long_names:
        if name in OPTION_VALUE_NAMES:
            return OPTION_VALUE_NAMES[name]
    for name in long_names:
        for suffix, unit in UNIT_VALUE_NAMES.items():
            if name.endswith(suffix):
                return unit
    # A list option (`--vocabulary`) may carry no `type` of its own.
    type_name = getattr(getattr(param, "type", None), "name", "") or ""
    return {"integer": "N", "float": "NUMBER", "path": "PATH"}.get(type_name, "TEXT")


def _plain_usage_piece(param: Any) -> list[str]:
    name = param.metavar or (param.name or "").upper()
    name = name if param.required else f"[{name}]"
    return [name + ("..." if param.nargs != 1 else "")]


def _finish_param(param: Any) -> None:
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        return
    if param.metavar is None:
        param.metavar = value_name(param)
    if _is_argument(param):
        # Typer writes a required argument as `{target}` in the usage line, and its type
        # (`<path>`) beside its name in the help; the value name says enough.
        param.get_usage_pieces = lambda ctx, p=param: _plain_usage_piece(p)
        param.display_type_rich = lambda ctx: None


def finish_help(command: Any, path: str = "") -> None:
    """Make the help of `command` and everything below it read as written (see module doc)."""
    if hasattr(command, "rich_markup_mode"):
        command.rich_markup_mode = None  # Click's own formatter: no markup, words wrapped, nothing cut
    for param in command.params:
        _finish_param(param)
    example = EXAMPLES.get(path)
    if example is not None and not command.epilog:
        # `\b` keeps Click from re-wrapping the example into a paragraph.
        command.epilog = "Example:\n\n\b\n" + "\n".join(f"  {line}" for line in example.splitlines())
    for name, sub in (getattr(command, "commands", None) or {}).items():
        # Click cuts a command's summary in a group's list with "..."; the list wraps instead.
        sub.get_short_help_str = lambda limit=0, c=sub: summary(c)
        finish_help(sub, f"{path} {name}".strip())


def summary(command: Any) -> str:
    """A command's first help paragraph, whole, on one line (the group's list wraps it)."""
    text = command.short_help or (command.help or "").split("\n\n")[0]
    return " ".join(text.split())


def commands_below(command: Any, path: str = "") -> dict[str, Any]:
    """Every leaf command by its path, e.g. {"queue add": <Command>}: for tests and checks."""
    if not getattr(command, "commands", None):
        return {path: command}
    found: dict[str, Any] = {}
    for name, sub in command.commands.items():
        found.update(commands_below(sub, f"{path} {name}".strip()))
    return found
