"""Text from the web (titles, URLs, reasons, names) shown as text, never as markup: in Markdown (the
Prefect artifacts) and in the terminal (rich). Every such place goes through these functions."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from rich.table import Table
from rich.text import Text

# CommonMark: any ASCII punctuation may be backslash-escaped, and an escaped character is literal
# text. Escaping all of it leaves no HTML tag, entity, link, image, emphasis, code span, table
# pipe or autolink (`http\:\/\/` is not a URL to a GFM renderer) to interpret.
_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def escape_markdown(text: object) -> str:
    """`text` as literal Markdown inline text, on one line (safe in a table cell)."""
    one_line = " ".join(str(text).split())  # newlines end a table row; every other whitespace too
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", _CONTROL.sub("\ufffd", one_line))


def plain(text: object, style: str = "") -> Text:
    """`text` for rich as it is: `[bold]`, `[/]` or `[link=...]` in it print literally."""
    return Text(str(text), style=style)


def plain_table(columns: Iterable[str], rows: Iterable[Iterable[object]], caption: str | None = None) -> Table:
    """A rich table whose every cell is literal text (None shows empty)."""
    table = Table(show_lines=False, caption=plain(caption) if caption is not None else None)
    for column in columns:
        table.add_column(plain(column), overflow="fold")
    for row in rows:
        table.add_row(*(plain(_shown(value)) for value in row))
    return table


def _shown(value: object) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, date) else str(value)
