"""Turns a note's raw body blocks into typed, labelled paragraphs: `normalise_body(blocks) -> NoteBody`.

Pure and deterministic. In order:
1. text: non-breaking and odd spaces become spaces, whitespace is collapsed; curly quotes and dashes
   stay as printed. Blank lines and blocks vanish.
2. a leading dateline ("Washington, DC" + "February 6, 2019", split by `<br>`, across two blocks,
   or on one line) becomes `dateline_place` / `dateline_date`, not a paragraph.
3. "Begin Text:" / "End Text" markers and "# # #" are not paragraphs; the markers set where the
   quoted text starts and ends.
4. each paragraph gets its printed label ("1." -> "1") and a kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from statenotes.extractors.records import (
    BLOCK_HEADING,
    BLOCK_ORDERED_ITEM,
    BLOCK_QUOTE,
    BLOCK_TABLE_ROW,
    BLOCK_UNORDERED_ITEM,
    BodyBlock,
)
from statenotes.transforms.records import (
    KIND_BODY,
    KIND_CLOSING,
    KIND_HEADING,
    KIND_LEAD,
    KIND_LIST_ITEM,
    KIND_NUMBERED,
    KIND_QUOTE,
    KIND_TABLE_ROW,
    NoteBody,
    Paragraph,
)

# Characters that print as nothing; removed before whitespace is collapsed.
INVISIBLE = str.maketrans({"\u200b": None, "\u2060": None, "\ufeff": None})

BEGIN_MARKER = re.compile(r"^begin\s+text\s*[:.]?$", re.IGNORECASE)
END_MARKER = re.compile(r"^end\s+(?:of\s+)?text\s*[:.]?$", re.IGNORECASE)
END_OF_RELEASE = re.compile(r"^(?:#\s*){3}$")  # "# # #", "###"

# "1. ", "1) ", "(1) " — the number must be followed by a space, so "1.5 million" is not a label.
NUMBER_LABEL = re.compile(r"^(?:(\d{1,3})[.)]|\((\d{1,3})\))\s+(?=\S)")
BULLET = re.compile(r"^[•◦▪▫●‣·]\s*(?=\S)")

# A dateline is strict: a short place (letters, no sentence) and a full printed date.
MONTH_NUMBERS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
    "oct": 10, "nov": 11, "dec": 12,
}
_DATE = r"(?P<month>[A-Za-z]{3,9})\.?\s(?P<day>\d{1,2}),\s(?P<year>(?:19|20)\d\d)"
_PLACE = r"(?P<place>[A-Z][A-Za-z.'’\- ]*(?:,\s?[A-Z][A-Za-z.'’\- ]*)?)"
DATE_LINE = re.compile(rf"^{_DATE}\.?$")
PLACE_LINE = re.compile(rf"^{_PLACE}$")
PLACE_DATE_LINE = re.compile(rf"^{_PLACE}(?:,|\s[-–—])\s{_DATE}\.?$")
MAX_PLACE_CHARS = 40  # "Washington, DC", "Brussels, Belgium"; a sentence is longer
MAX_PLACE_WORDS = 6
# Place names are capitalised word by word, but for these particles ("Port of Spain", "Dar es Salaam").
PLACE_PARTICLES = frozenset({"of", "and", "de", "del", "la", "le", "du", "da", "es", "el", "al"})

# Lines that close a release (contacts, follow-us); only at the end of the body.
CLOSING = re.compile(
    r"^(?:for (?:press|media) (?:inquiries|queries)|for (?:more|further|additional) information"
    r"|for (?:the latest )?updates|media (?:inquiries|contact)|press contact"
    r"|follow (?:us|@\w+|the [\w ]+) on (?:twitter|x|facebook|instagram))\b",
    re.IGNORECASE,
)

# How a block's markup kind maps to a paragraph kind, before text labels are looked at.
BLOCK_KINDS = {
    BLOCK_ORDERED_ITEM: KIND_NUMBERED,
    BLOCK_UNORDERED_ITEM: KIND_LIST_ITEM,
    BLOCK_QUOTE: KIND_QUOTE,
    BLOCK_HEADING: KIND_HEADING,
    BLOCK_TABLE_ROW: KIND_TABLE_ROW,
}
# Kinds whose text may carry a printed number or bullet (not headings or table rows).
LABELLED_KINDS = frozenset({KIND_BODY, KIND_QUOTE, KIND_NUMBERED, KIND_LIST_ITEM})


def normalise_text(text: str) -> str:
    """Non-breaking spaces to spaces, whitespace collapsed and stripped; quotes and dashes kept."""
    return " ".join(text.translate(INVISIBLE).split())


@dataclass(slots=True)
class _Piece:
    """A normalised block, possibly cut at marker lines: its kind, lines and list ordinal."""

    kind: str
    lines: list[str]
    ordinal: int | None


def _pieces(blocks: list[BodyBlock]) -> list[_Piece]:
    pieces = []
    for block in blocks:
        lines = [line for line in map(normalise_text, block.lines) if line]
        if lines:
            pieces.append(_Piece(BLOCK_KINDS.get(block.kind, KIND_BODY), lines, block.ordinal))
    return pieces


def _date(match: re.Match) -> date | None:
    month = MONTH_NUMBERS.get(match.group("month").lower())
    try:
        return date(int(match.group("year")), month, int(match.group("day"))) if month else None
    except ValueError:
        return None


def _place(text: str) -> str | None:
    words = text.replace(",", " ").split()
    if (
        PLACE_LINE.match(text)
        and len(text) <= MAX_PLACE_CHARS
        and len(words) <= MAX_PLACE_WORDS
        and all(word[0].isupper() or word in PLACE_PARTICLES for word in words)
    ):
        return text
    return None


def _take_dateline(pieces: list[_Piece]) -> tuple[str | None, date | None]:
    """Remove a leading dateline from `pieces` (in place) and return it."""
    if not pieces or pieces[0].kind != KIND_BODY:
        return None, None
    first = pieces[0].lines
    one_line = PLACE_DATE_LINE.match(first[0])
    if one_line and _place(one_line.group("place")) and _date(one_line):
        place, when, used = _place(one_line.group("place")), _date(one_line), [(0, 1)]
    else:
        place = _place(first[0])
        if place is None:
            return None, None
        if len(first) > 1:
            date_match, used = DATE_LINE.match(first[1]), [(0, 2)]
        elif len(pieces) > 1 and pieces[1].kind == KIND_BODY:
            date_match, used = DATE_LINE.match(pieces[1].lines[0]), [(0, 1), (1, 1)]
        else:
            return None, None
        when = _date(date_match) if date_match else None
        if when is None:
            return None, None
    for index, count in reversed(used):
        del pieces[index].lines[:count]
    pieces[:] = [piece for piece in pieces if piece.lines]
    return place, when


def _label(kind: str, text: str, ordinal: int | None) -> tuple[str, str | None, str]:
    """(kind, label, text) once a printed number or bullet is moved out of the text."""
    if kind == KIND_NUMBERED and ordinal is not None:
        return kind, str(ordinal), text
    if kind not in LABELLED_KINDS:
        return kind, None, text
    number = NUMBER_LABEL.match(text)
    if number:
        return KIND_NUMBERED, number.group(1) or number.group(2), text[number.end():]
    bullet = BULLET.match(text)
    if bullet:
        return KIND_LIST_ITEM, None, text[bullet.end():]
    return kind, None, text


def normalise_body(blocks: list[BodyBlock]) -> NoteBody:
    """Typed, labelled paragraphs of a note body, its dateline and its quoted-text span."""
    pieces = _pieces(blocks)
    place, when = _take_dateline(pieces)
    result = NoteBody(paragraphs=[], dateline_place=place, dateline_date=when)
    drafts: list[tuple[str, str | None, str]] = []

    for piece in pieces:
        # Marker lines split a block: text on either side becomes its own paragraph.
        run: list[str] = []
        for line in piece.lines + [""]:
            is_begin, is_end = bool(BEGIN_MARKER.match(line)), bool(END_MARKER.match(line))
            if line and not (is_begin or is_end or END_OF_RELEASE.match(line)):
                run.append(line)
                continue
            if run:
                drafts.append(_label(piece.kind, " ".join(run), piece.ordinal))
                run = []
            if is_begin and not result.has_quoted_text:
                result.has_quoted_text, result.quoted_start_seq = True, len(drafts)
            elif is_end:
                if not result.has_quoted_text:  # "End Text" alone: the body up to here is quoted
                    result.has_quoted_text, result.quoted_start_seq = True, 0
                result.quoted_end_seq = len(drafts)
    if result.has_quoted_text and result.quoted_end_seq is None:
        result.quoted_end_seq = len(drafts)

    kinds = _final_kinds(drafts)
    result.paragraphs = [
        Paragraph(seq=seq, label=label, kind=kind, text=text)
        for seq, ((_, label, text), kind) in enumerate(zip(drafts, kinds))
    ]
    return result


def _final_kinds(drafts: list[tuple[str, str | None, str]]) -> list[str]:
    """Plain paragraphs become the lead (the first), closing lines (a run at the end), or body."""
    kinds = [kind for kind, _, _ in drafts]
    plain = [i for i, kind in enumerate(kinds) if kind == KIND_BODY]
    if not plain:
        return kinds
    kinds[plain[0]] = KIND_LEAD
    for i in range(len(drafts) - 1, plain[0], -1):
        if kinds[i] != KIND_BODY or not CLOSING.match(drafts[i][2]):
            break
        kinds[i] = KIND_CLOSING
    return kinds
