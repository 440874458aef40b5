"""The commands that README.md and docs/*.md show, read out of their fenced shell blocks,
and a small interpreter that runs them as argument lists (no shell).

A block counts when its language is `sh` (every line is a command; a trailing backslash
continues it; `#` starts a comment) or `console` (lines starting with `$ ` are commands,
the others are what they print). Blocks in other languages (toml, ini, cron, python, and
bare blocks holding a synopsis or sample output) hold no commands to run.

The interpreter knows exactly the shell the docs use: `wayfinder ...` and
`.venv/bin/wayfinder ...` (this checkout's CLI), `.venv/bin/python`, `NAME=$(command)`,
`export NAME=value`, `"$NAME"`, and `> FILE`.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

SHELL_LANGUAGES = ("sh", "console")
BLOCK = re.compile(r"^([ \t]*)```(\w*)[ \t]*\n(.*?)^[ \t]*```", re.M | re.S)
ASSIGN_FROM_COMMAND = re.compile(r"^(\w+)=\$\((.*)\)$")


@dataclass(frozen=True)
class DocCommand:
    doc: str  # path relative to the repository
    line: int  # where the command starts
    text: str  # as written (continuations joined, comment removed)

    @property
    def where(self) -> str:
        return f"{self.doc}:{self.line}"


def _strip_comment(line: str) -> str:
    """The line without a `#` comment that starts a word outside quotes."""
    quote = ""
    for i, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].strip()
    return line.strip()


def extract_commands(repo: Path, doc: Path) -> list[DocCommand]:
    text = doc.read_text(encoding="utf-8")
    name = doc.relative_to(repo).as_posix()
    commands = []
    for block in BLOCK.finditer(text):
        language = block.group(2)
        if language not in SHELL_LANGUAGES:
            continue
        first_line = text.count("\n", 0, block.start()) + 2
        lines = block.group(3).splitlines()
        pending, pending_at = "", 0
        for offset, raw in enumerate(lines):
            line = raw.strip()
            if language == "console":
                if line.startswith("$ "):
                    commands.append(DocCommand(name, first_line + offset, _strip_comment(line[2:])))
                continue
            if not pending and (not line or line.startswith("#")):
                continue
            if not pending:
                pending_at = first_line + offset
            if line.endswith("\\"):
                pending += line[:-1] + " "
                continue
            commands.append(DocCommand(name, pending_at, _strip_comment(pending + line)))
            pending = ""
    return commands


@dataclass
class Ran:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str


class DocShell:
    """Runs doc commands in `cwd` with `env`; `/tmp/` in arguments is `tmp` instead, and
    `replace` maps other literal arguments (a server address) to what the test provides."""

    def __init__(self, cwd: Path, env: dict[str, str], tmp: Path, replace: dict[str, str], timeout_s: float) -> None:
        self.cwd, self.env, self.tmp, self.replace, self.timeout_s = cwd, env, tmp, replace, timeout_s

    def _word(self, word: str) -> str:
        for literal, value in self.replace.items():
            word = word.replace(literal, value)
        if word.startswith("$") and word[1:] in self.env:
            # a variable's value is a real path already (it may itself lie under /tmp)
            return self.env[word[1:]]
        if word.startswith("/tmp/"):
            word = str(self.tmp / word[len("/tmp/"):])
        return word

    def _argv(self, words: list[str]) -> list[str]:
        program, rest = words[0], words[1:]
        if program in ("wayfinder", ".venv/bin/wayfinder"):
            return [sys.executable, "-m", "pipeline.cli.app", *rest]
        if program == ".venv/bin/python":
            return [sys.executable, *rest]
        return [program, *rest]

    def run(self, text: str) -> Ran:
        assigned = ASSIGN_FROM_COMMAND.match(text)
        if assigned:
            ran = self.run(assigned.group(2))
            self.env[assigned.group(1)] = ran.stdout.strip()
            return ran
        words = [self._word(word) for word in shlex.split(text)]
        if words[0] == "export":
            for assignment in words[1:]:
                key, _, value = assignment.partition("=")
                self.env[key] = self._word(value)
            return Ran(words, 0, "", "")
        stdout_file = None
        if ">" in words:
            at = words.index(">")
            stdout_file, words = Path(words[at + 1]), words[:at] + words[at + 2:]
        argv = self._argv(words)
        result = subprocess.run(argv, cwd=self.cwd, env=self.env, capture_output=True, timeout=self.timeout_s)
        if stdout_file is not None:
            stdout_file.write_bytes(result.stdout)
        return Ran(argv, result.returncode, result.stdout.decode("utf-8", "replace"),
                   result.stderr.decode("utf-8", "replace"))


def base_env(extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    return env
