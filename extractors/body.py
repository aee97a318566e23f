"""Turns a release body element (e.g. `div.entry-content`) into `BodyBlock`s, in document order.

The text is kept as printed: only `<br>` splits lines, and nothing is collapsed or stripped inside a
line (normalisation belongs to `transforms.paragraphs`). Widgets, scripts and empty blocks are
dropped; everything that is prose becomes a block, also loose text outside any `<p>`.
"""

from __future__ import annotations

import re

from bs4.element import NavigableString, PreformattedString, Tag

from statenotes.extractors.records import (
    BLOCK_HEADING,
    BLOCK_ORDERED_ITEM,
    BLOCK_PARAGRAPH,
    BLOCK_QUOTE,
    BLOCK_TABLE_ROW,
    BLOCK_UNORDERED_ITEM,
    BodyBlock,
)
from statenotes.extractors.selectors import (
    BLOCK_TAGS,
    HEADING_TAGS,
    LINE_BLOCK_TAGS,
    LIST_TAGS,
    PDF_LINK_CLASS,
    SKIP_CLASS,
    SKIP_TAGS,
)

# Invisible characters count as blank when deciding whether a line or block is empty.
BLANK = re.compile(r"^[\s\u200b\u2060\ufeff]*$")
TABLE_CELL_SEPARATOR = " | "


class _Lines:
    """Accumulates inline text into `<br>`-separated lines and remembers what the text came from."""

    __slots__ = ("lines", "prose")

    def __init__(self) -> None:
        self.lines: list[list[str]] = [[]]
        self.prose = False  # non-blank text outside PDF download links was seen

    def add(self, text: str, in_pdf_link: bool) -> None:
        self.lines[-1].append(text)
        if not (self.prose or in_pdf_link or BLANK.match(text)):
            self.prose = True

    def newline(self) -> None:
        self.lines.append([])

    def take(self) -> tuple[str, ...] | None:
        """The lines without blank ones at either end; None when there is nothing worth a block
        (blank, or only a PDF download link — an attachment, not prose)."""
        joined = ["".join(pieces) for pieces in self.lines]
        keep = self.prose
        self.lines, self.prose = [[]], False
        if not keep:
            return None
        while joined and BLANK.match(joined[0]):
            joined.pop(0)
        while joined and BLANK.match(joined[-1]):
            joined.pop()
        return tuple(joined) or None


def _skipped(tag: Tag) -> bool:
    if tag.name in SKIP_TAGS:
        return True
    return any(SKIP_CLASS.search(name) for name in tag.get("class") or ())


def _is_pdf_link(tag: Tag) -> bool:
    return tag.name == "a" and PDF_LINK_CLASS in (tag.get("class") or ())


def _is_text(node) -> bool:
    # Comments, CDATA, doctypes are PreformattedString; script/style text never gets here.
    return isinstance(node, NavigableString) and not isinstance(node, PreformattedString)


def _inline(node: Tag, acc: _Lines, in_pdf: bool = False) -> None:
    """Add the text under an inline element (strong, em, a, span, ...) to `acc`."""
    for child in node.children:
        if isinstance(child, Tag):
            if child.name == "br":
                acc.newline()
            elif not _skipped(child):
                _inline(child, acc, in_pdf or _is_pdf_link(child))
        elif _is_text(child):
            acc.add(str(child), in_pdf)


def block_lines(tag: Tag) -> tuple[str, ...] | None:
    """Lines of a block element; nested block children (rare: `<li><p>`) start a new line."""
    acc = _Lines()
    for child in tag.children:
        if isinstance(child, Tag):
            if child.name == "br":
                acc.newline()
            elif _skipped(child) or child.name in LIST_TAGS:
                continue  # nested lists are emitted by the list walker after their item
            elif child.name in BLOCK_TAGS:
                acc.newline()
                _inline(child, acc, _is_pdf_link(child))
                acc.newline()
            else:
                _inline(child, acc, _is_pdf_link(child))
        elif _is_text(child):
            acc.add(str(child), False)
    return acc.take()


def _emit(out: list[BodyBlock], kind: str, lines: tuple[str, ...] | None, ordinal: int | None = None):
    if lines:
        out.append(BodyBlock(kind=kind, lines=lines, ordinal=ordinal))


def _int_attr(tag: Tag, name: str) -> int | None:
    try:
        return int(str(tag.get(name, "")).strip())
    except ValueError:
        return None


def _walk_list(lst: Tag, out: list[BodyBlock], quote: bool) -> None:
    items = lst.find_all("li", recursive=False)
    ordered = lst.name == "ol"
    step = -1 if lst.has_attr("reversed") else 1
    number = _int_attr(lst, "start")
    if number is None:
        number = len(items) if step < 0 else 1
    for li in items:
        number = _int_attr(li, "value") or number
        if ordered:
            _emit(out, BLOCK_ORDERED_ITEM, block_lines(li), number)
        else:
            _emit(out, BLOCK_UNORDERED_ITEM, block_lines(li))
        for nested in li.find_all(list(LIST_TAGS), recursive=False):
            _walk_list(nested, out, quote)
        number += step


def _walk_table(table: Tag, out: list[BodyBlock]) -> None:
    for row in table.find_all("tr"):
        if row.find_parent("table") is not table:
            continue  # rows of a nested table belong to that table's own walk
        cells = []
        for cell in row.find_all(("td", "th"), recursive=False):
            lines = block_lines(cell)
            cells.append(" ".join(line.strip() for line in lines) if lines else "")
        if any(cells):
            out.append(BodyBlock(kind=BLOCK_TABLE_ROW, lines=(TABLE_CELL_SEPARATOR.join(cells),)))


def _walk(container: Tag, out: list[BodyBlock], quote: bool) -> None:
    paragraph_kind = BLOCK_QUOTE if quote else BLOCK_PARAGRAPH
    loose = _Lines()  # inline content sitting directly in a container: an implicit paragraph
    for child in container.children:
        if not isinstance(child, Tag):
            if _is_text(child):
                loose.add(str(child), False)
            continue
        name = child.name
        if name == "br":
            loose.newline()
            continue
        if name not in BLOCK_TAGS:
            if not _skipped(child):
                _inline(child, loose, _is_pdf_link(child))
            continue
        _emit(out, paragraph_kind, loose.take())
        if _skipped(child):
            continue
        if name in HEADING_TAGS:
            _emit(out, BLOCK_HEADING, block_lines(child))
        elif name in LIST_TAGS:
            _walk_list(child, out, quote)
        elif name == "table":
            _walk_table(child, out)
        elif name == "blockquote":
            _walk(child, out, quote=True)
        elif name in LINE_BLOCK_TAGS:
            _emit(out, paragraph_kind, block_lines(child))
        else:  # div.wp-block-paragraph, section, figure, ...: look inside
            _walk(child, out, quote)
    _emit(out, paragraph_kind, loose.take())


def body_blocks(container: Tag) -> list[BodyBlock]:
    """The blocks of a release body, in document order."""
    out: list[BodyBlock] = []
    _walk(container, out, quote=False)
    return out
