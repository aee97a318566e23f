"""How candidate note rows become stored note versions.

A candidate whose content_sha256 equals its note's latest stored version is *unchanged*: nothing of
it is stored (the stored row keeps describing the version's first sighting), except that its
mentions replace the stored version's mentions when they differ — mentions come from the gazetteer,
which changes without the note changing. Any other candidate becomes version latest+1 (1 for a new
note), keeping the note's first_seen_at; its paragraphs and mentions are stored with it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from . import upserts
from .schema import MENTIONS, TABLES

if TYPE_CHECKING:
    from .lake import Transaction

Key = tuple[str, int]  # (note_id, version)
LATEST_COLUMNS = ["note_id", "version", "content_sha256", "first_seen_at"]


@dataclass(frozen=True, slots=True)
class MergeCounts:
    new: int = 0  # notes seen for the first time
    updated: int = 0  # new versions of known notes
    unchanged: int = 0  # candidates equal to their note's latest version
    mentions_refreshed: int = 0  # unchanged versions whose mentions were replaced


@dataclass(frozen=True, slots=True)
class Latest:
    version: int
    content_sha256: str
    first_seen_at: datetime


@dataclass(slots=True)
class VersionPlan:
    kept: dict[Key, tuple[int, datetime]] = field(default_factory=dict)  # -> (version, first_seen_at)
    unchanged: dict[Key, int] = field(default_factory=dict)  # -> the stored latest version
    new: int = 0
    updated: int = 0


def latest_versions(stored: pa.Table) -> dict[str, Latest]:
    """Each note's latest stored version, from a table with LATEST_COLUMNS."""
    latest: dict[str, Latest] = {}
    for row in stored.select(LATEST_COLUMNS).to_pylist():
        current = latest.get(row["note_id"])
        if current is None or row["version"] > current.version:
            latest[row["note_id"]] = Latest(row["version"], row["content_sha256"], row["first_seen_at"])
    return latest


def plan_versions(latest: dict[str, Latest], candidates: list[dict[str, Any]]) -> VersionPlan:
    """Decide, in (note_id, provisional version) order, what each candidate note row becomes."""
    latest = dict(latest)
    plan = VersionPlan()
    for row in sorted(candidates, key=lambda r: (r["note_id"], r["version"])):
        key = (row["note_id"], row["version"])
        current = latest.get(row["note_id"])
        if current is not None and current.content_sha256 == row["content_sha256"]:
            plan.unchanged[key] = current.version
            continue
        version = current.version + 1 if current else 1
        first_seen_at = current.first_seen_at if current else row["first_seen_at"]
        plan.kept[key] = (version, first_seen_at)
        latest[row["note_id"]] = Latest(version, row["content_sha256"], first_seen_at)
        if version == 1:
            plan.new += 1
        else:
            plan.updated += 1
    return plan


def _remap(rows: list[dict[str, Any]], versions: dict[Key, int]) -> list[dict[str, Any]]:
    return [{**r, "version": versions[(r["note_id"], r["version"])]}
            for r in rows if (r["note_id"], r["version"]) in versions]


def _pick_mentions(rows: list[dict[str, Any]], plan: VersionPlan) -> tuple[list[dict[str, Any]], set[Key]]:
    """Candidate mentions with stored versions, and the unchanged stored versions they refresh.
    Each stored version takes its mentions from one candidate: the last one mapping to it."""
    final: dict[Key, Key] = {k: (k[0], v) for k, (v, _) in plan.kept.items()}
    final.update({k: (k[0], v) for k, v in plan.unchanged.items()})
    source = {final[k]: k for k in sorted(final)}
    kept_finals = {final[k] for k in plan.kept}
    refreshed = {f for f, k in source.items() if k in plan.unchanged and f not in kept_finals}
    picked = []
    for row in rows:
        key = (row["note_id"], row["version"])
        if key in final and source[final[key]] == key:
            picked.append({**row, "version": final[key][1]})
    return picked, refreshed


def _by_path(tx: Transaction, table: str, rows: list[dict[str, Any]],
             years: dict[Key, int | None]) -> dict[Path, list[dict[str, Any]]]:
    grouped: dict[Path, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[tx.path_for(table, years[(row["note_id"], row["version"])])].append(row)
    return grouped


def _append(tx: Transaction, table: str, rows: list[dict[str, Any]], years: dict[Key, int | None]) -> None:
    table_spec = TABLES[table]
    for path, added in sorted(_by_path(tx, table, rows, years).items()):
        existing = tx.load(path, table)
        tx.put(path, table, pa.concat_tables([existing, pa.Table.from_pylist(added, schema=table_spec.schema)]))


def _as_set(rows: list[dict[str, Any]]) -> set[tuple]:
    return {tuple(r.values()) for r in rows}


def _store_mentions(tx: Transaction, rows: list[dict[str, Any]], refreshed_keys: set[Key],
                    years: dict[Key, int | None]) -> int:
    """Add the kept versions' mentions and replace the refreshed ones'; returns how many unchanged
    versions' mentions actually changed."""
    grouped = _by_path(tx, "mentions", rows, years)
    for key in refreshed_keys:  # a refreshed version may have no mentions left
        grouped.setdefault(tx.path_for("mentions", years[key]), [])
    changed = 0
    for path, added in sorted(grouped.items()):
        existing = tx.load(path, "mentions").to_pylist()
        old = defaultdict(list)
        for row in existing:
            old[(row["note_id"], row["version"])].append(row)
        new = defaultdict(list)
        for row in added:
            new[(row["note_id"], row["version"])].append(row)
        for key in refreshed_keys:
            if tx.path_for("mentions", years[key]) == path and _as_set(old[key]) != _as_set(new[key]):
                changed += 1
        kept = [r for r in existing if (r["note_id"], r["version"]) not in refreshed_keys]
        tx.put(path, "mentions", pa.Table.from_pylist(kept + added, schema=MENTIONS.schema))
    return changed


def merge_notes(tx: Transaction, tables: dict[str, pa.Table]) -> MergeCounts:
    """Merge candidate tables (from `rows.note_tables`) into the lake through `tx`."""
    from .lake import conform  # the lake imports this module

    def candidate(table: str) -> list[dict[str, Any]]:
        given = tables.get(table)
        return conform(given, TABLES[table]).to_pylist() if given is not None else []

    notes = candidate("notes")
    plan = plan_versions(latest_versions(tx.read("notes", columns=LATEST_COLUMNS)), notes)
    versions = {k: v for k, (v, _) in plan.kept.items()}
    years: dict[Key, int | None] = {}
    kept_notes = []
    for row in notes:
        key = (row["note_id"], row["version"])
        year = row["published_date"].year if row["published_date"] else None
        if key in plan.kept:
            version, first_seen_at = plan.kept[key]
            kept_notes.append({**row, "version": version, "first_seen_at": first_seen_at})
            years[(row["note_id"], version)] = year
        else:
            years[(row["note_id"], plan.unchanged[key])] = year

    _append(tx, "notes", kept_notes, years)
    _append(tx, "paragraphs", _remap(candidate("paragraphs"), versions), years)
    mentions, refreshed_keys = _pick_mentions(candidate("mentions"), plan)
    refreshed = _store_mentions(tx, mentions, refreshed_keys, years)
    if tables.get("actors") is not None:
        upserts.upsert_actors(tx, tables["actors"])
    return MergeCounts(new=plan.new, updated=plan.updated, unchanged=len(plan.unchanged),
                       mentions_refreshed=refreshed)

