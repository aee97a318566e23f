"""Pure conversion of loaded notes into candidate Arrow rows for the lake (no I/O).

Candidate rows carry a *provisional* `version`: the note's ordinal within this batch (1, 2, ... when
the same note was loaded more than once, ordered by fetched_at). The lake's merge turns it into the
stored version, or drops the candidate when its content is already the latest stored version.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timezone
from typing import Any, Iterable

import pyarrow as pa

from statenotes.extractors.records import note_id_for, site_for
from statenotes.transforms.records import Actor

from .records import LoadedNote
from .schema import ACTORS, MENTIONS, NOTES, PARAGRAPHS, TableSpec

BODY_SEPARATOR = "\n\n"
CANDIDATE_TABLES = ("notes", "paragraphs", "mentions", "actors")


def utc(value: datetime | None) -> datetime | None:
    """The same instant in UTC; a naive datetime is taken to be UTC already."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def content_sha256(loaded: LoadedNote) -> str:
    """sha256 of what the note *says*, never of the raw bytes, so that page chrome, tag order or a
    new host do not make a new version. Covers every stored column derived from the content."""
    note, body = loaded.note, loaded.body
    payload = {
        "title": note.title,
        "release_type": note.release_type,
        "office": note.office,
        "published_date": _iso(note.published_date),
        "dateline_place": body.dateline_place,
        "dateline_date": _iso(body.dateline_date),
        "tags": sorted(note.tags),
        "paragraphs": [[p.label, p.kind, p.text] for p in sorted(body.paragraphs, key=lambda p: p.seq)],
        "quoted": [body.has_quoted_text, body.quoted_start_seq, body.quoted_end_seq],
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _note_row(loaded: LoadedNote, note_id: str, version: int, run_id: str) -> dict[str, Any]:
    note, body = loaded.note, loaded.body
    paragraphs = sorted(body.paragraphs, key=lambda p: p.seq)
    fetched_at = utc(loaded.fetched_at)
    return {
        "note_id": note_id,
        "version": version,
        "url": loaded.url,
        "canonical_url": note.canonical_url,
        "site": site_for(loaded.url),
        "layout": note.layout,
        "content_source": loaded.content_source,
        "title": note.title,
        "release_type": note.release_type,
        "office": note.office,
        "published_date": note.published_date,
        "modified_at": utc(note.modified_at),
        "dateline_place": body.dateline_place,
        "dateline_date": body.dateline_date,
        "tags": list(note.tags),
        "body_text": BODY_SEPARATOR.join(p.text for p in paragraphs),
        "paragraph_count": len(paragraphs),
        "has_quoted_text": body.has_quoted_text,
        "quoted_start_seq": body.quoted_start_seq,
        "quoted_end_seq": body.quoted_end_seq,
        "content_sha256": content_sha256(loaded),
        "raw_sha256": loaded.raw_sha256,
        "first_seen_at": fetched_at,
        "fetched_at": fetched_at,
        "parser_version": loaded.parser_version,
        "run_id": run_id,
    }


def merge_actors(actors: Iterable[Actor]) -> list[dict[str, Any]]:
    """One row per actor_id: the first occurrence's attributes (a later one fills what it left
    empty), aliases the sorted union. Sorted by actor_id."""
    merged: dict[str, dict[str, Any]] = {}
    for actor in actors:
        row = merged.get(actor.actor_id)
        if row is None:
            merged[actor.actor_id] = {
                "actor_id": actor.actor_id, "name": actor.name, "kind": actor.kind,
                "iso3": actor.iso3, "parent_id": actor.parent_id, "aliases": set(actor.aliases),
            }
            continue
        for name in ("name", "kind", "iso3", "parent_id"):
            if row[name] is None:
                row[name] = getattr(actor, name)
        row["aliases"].update(actor.aliases)
    return [{**row, "aliases": sorted(row["aliases"])} for _, row in sorted(merged.items())]


def to_table(spec: TableSpec, rows: list[dict[str, Any]]) -> pa.Table:
    """Rows as a table of `spec`'s schema, sorted by its sort keys."""
    table = pa.Table.from_pylist(rows, schema=spec.schema)
    return table.sort_by([(k, "ascending") for k in spec.sort_keys]) if rows else table


def note_tables(notes: list[LoadedNote], run_id: str) -> dict[str, pa.Table]:
    """Candidate rows for the tables notes, paragraphs, mentions and actors (see module docstring)."""
    order = sorted(range(len(notes)), key=lambda i: (note_id_for(notes[i].url), utc(notes[i].fetched_at), i))
    ordinal: dict[str, int] = {}
    note_rows, paragraph_rows, mention_rows = [], [], []
    for i in order:
        loaded = notes[i]
        note_id = note_id_for(loaded.url)
        version = ordinal[note_id] = ordinal.get(note_id, 0) + 1
        note_rows.append(_note_row(loaded, note_id, version, run_id))
        paragraph_rows.extend(
            {"note_id": note_id, "version": version, "seq": p.seq, "label": p.label, "kind": p.kind,
             "text": p.text}
            for p in loaded.body.paragraphs
        )
        # The same span found twice for the same actor is one mention.
        spans = {(m.seq, m.start, m.end, m.actor_id): m for m in loaded.findings.mentions}
        mention_rows.extend(
            {"note_id": note_id, "version": version, "seq": m.seq, "start_offset": m.start, "end_offset": m.end,
             "surface": m.surface, "actor_id": m.actor_id, "role": m.role}
            for m in spans.values()
        )
    return {
        "notes": to_table(NOTES, note_rows),
        "paragraphs": to_table(PARAGRAPHS, paragraph_rows),
        "mentions": to_table(MENTIONS, mention_rows),
        "actors": to_table(ACTORS, merge_actors(a for i in order for a in notes[i].findings.actors)),
    }


def actor_table(actors: Iterable[Actor]) -> pa.Table:
    """The `actors` dimension rows for `actors` (e.g. the whole gazetteer), one per actor_id."""
    return to_table(ACTORS, merge_actors(actors))
