"""Typed records the transform stage hands to the warehouse."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

# Paragraph kinds (the `paragraphs.kind` column).
KIND_LEAD = "lead"
KIND_BODY = "body"
KIND_NUMBERED = "numbered"
KIND_LIST_ITEM = "list_item"
KIND_QUOTE = "quote"
KIND_HEADING = "heading"
KIND_TABLE_ROW = "table_row"
KIND_CLOSING = "closing"


@dataclass(frozen=True, slots=True)
class Paragraph:
    seq: int
    label: str | None
    kind: str
    text: str


@dataclass(slots=True)
class NoteBody:
    """What `normalise_body` makes of a note's blocks."""

    paragraphs: list[Paragraph]
    dateline_place: str | None = None
    dateline_date: date | None = None
    has_quoted_text: bool = False
    # seq of the first paragraph inside "Begin Text:" and one past the last (None when absent).
    quoted_start_seq: int | None = None
    quoted_end_seq: int | None = None


@dataclass(frozen=True, slots=True)
class Actor:
    actor_id: str
    name: str
    kind: str  # country / organization / group / government / person / region
    iso3: str | None = None
    parent_id: str | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ActorMention:
    """`seq` is the paragraph's seq; seq -1 is the note's title."""

    seq: int
    start: int
    end: int
    surface: str
    actor_id: str
    role: str | None = None


@dataclass(slots=True)
class ActorFindings:
    actors: list[Actor] = field(default_factory=list)
    mentions: list[ActorMention] = field(default_factory=list)
