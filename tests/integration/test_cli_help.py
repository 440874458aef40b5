"""`--help` at 80 columns reads as written: every help string whole (square brackets
included), whole option names, value names instead of type labels, and an example.

The expected words come from the source: each parameter's and command's own help string.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from pipeline.cli.app import build_command
from pipeline.cli.help_text import EXAMPLES, commands_below

TYPE_LABEL = re.compile(r"<(bool|str|int|float|path|list\[|[a-z]+\|)|\{[a-z_]+\}")

# One process prints the help of every command (one process per command would cost
# ~20 interpreter starts on a loaded machine); it runs the real `main` entry's tree.
PRINT_ALL_HELP = """
import sys
from pipeline.cli.app import build_command
from pipeline.cli.help_text import commands_below
root = build_command()
for path in ["", *commands_below(root)]:
    try:
        root.main([*path.split(), "--help"], prog_name="wayfinder", standalone_mode=False)
    except SystemExit:
        pass
    sys.stdout.write("\\0" + path + "\\0")
"""


def squeeze(text: str) -> str:
    """Text without whitespace: wrapping may move line breaks, never change the words."""
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def helps() -> dict[str, str]:
    done = subprocess.run([sys.executable, "-c", PRINT_ALL_HELP], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "COLUMNS": "80"})
    assert done.returncode == 0, done.stderr
    parts = done.stdout.split("\0")
    # Output, then "\0path\0" after it: pair each help text with the path printed after it.
    texts, paths = parts[0::2], parts[1::2]
    return dict(zip(paths, texts))


def source_commands() -> dict[str, object]:
    return commands_below(build_command())


def test_every_command_has_help_and_an_example(helps: dict[str, str]) -> None:
    commands = source_commands()
    assert set(commands) <= set(helps)
    assert set(commands) == set(EXAMPLES), "every command needs exactly one example"
    for path in commands:
        assert "Example:" in helps[path], path
        assert f"wayfinder {path}" in helps[path], path


def test_help_keeps_every_word_of_the_source_at_80_columns(helps: dict[str, str]) -> None:
    for path, command in source_commands().items():
        text = helps[path]
        for line in text.splitlines():
            assert len(line) <= 80, f"{path}: line longer than 80 columns: {line!r}"
        assert "…" not in text, f"{path}: something was cut: {text}"
        assert squeeze(command.help or "") in squeeze(text), f"{path}: the command's text lost words"
        for param in command.params:
            assert squeeze(param.help or "") in squeeze(text), f"{path}: {param.name}: help lost words:\n{text}"
            for name in [*param.opts, *param.secondary_opts]:
                if name.startswith("--"):
                    assert re.search(rf"(^|[\s,/]){re.escape(name)}([\s,=]|$)", text, re.M), f"{path}: {name} cut"
        assert not TYPE_LABEL.search(text), f"{path}: a type label in the help: {TYPE_LABEL.search(text)}"


def test_bracketed_words_survive_in_the_issue_examples(helps: dict[str, str]) -> None:
    # The words the issue saw lost: "with its [youtube] table", "wins over [youtube.vars]".
    assert "its [youtube] table" in " ".join(helps["queue add"].split())
    assert "Preset for the [publish] rules" in " ".join(helps["queue add"].split())
    assert "wins over [youtube.vars])" in " ".join(helps["upload"].split())
    assert "--captions-language LANG" in helps["queue add"]
    assert "--no-identifiable-people" in helps["queue add"]


def test_the_wayfinder_command_itself_prints_plain_help_at_80_columns() -> None:
    done = subprocess.run([sys.executable, "-m", "pipeline.cli.app", "queue", "add", "--help"], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "COLUMNS": "80"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: wayfinder queue add [OPTIONS] TARGET")
    assert "its [youtube] table" in " ".join(done.stdout.split())
    assert max(len(line) for line in done.stdout.splitlines()) <= 80
    assert "\x1b[" not in done.stdout  # plain text: no colour codes in a pipe
