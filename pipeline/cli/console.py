"""Rich consoles: data goes to stdout, logs and progress to stderr.

What the consoles print is mostly user text: file names, job names, titles, reasons from
ffmpeg or YouTube. Rich would read `[/x]` in such text as a closing tag (MarkupError, a
crash after a finished render), swallow `[br]` as a style, and turn `:smile:` into an
emoji. So the consoles have markup, emoji and highlighting off, and colour is only ever
added around user text with `styled` (a Rich `Text`), never by formatting it into markup.
Lines are not wrapped (soft wrap): one message stays one line in a log.
"""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

out_console = Console(soft_wrap=True, markup=False, emoji=False, highlight=False)
err_console = Console(stderr=True, soft_wrap=True, markup=False, emoji=False, highlight=False)


def styled(*parts: str | tuple[str, str]) -> Text:
    """A line from plain parts and (text, style) parts; no part is read as markup."""
    return Text.assemble(*parts)


def print_labelled(label: str, style: str, text: str, *, console: Console = err_console) -> None:
    """`label text` with only the label coloured, e.g. `note:` or `rendered`."""
    console.print(styled((label, style), " ", text))


def print_plain(text: str, *, console: Console = err_console) -> None:
    console.print(Text(text))
