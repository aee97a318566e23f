"""How candidate note rows become stored note versions.

A candidate whose content_sha256 equals its note's latest stored version is *unchanged*: nothing of
it is stored (the stored row keeps describing the version's first sighting), except that its
mentions replace the stored version's mentions when they differ — mentions come from the gazetteer,
which changes without the note changing. Any other candidate becomes version latest+1 (1 for a new
note), keeping the note's first_seen_at; its paragraphs and mentions are stored with it.

Candidates are taken in (note_id, provisional version) order, so a note loaded twice in a run gets
two versions when its content changed in between. A stored version takes its mentions from the last
candidate mapping to it.

The merge works on Arrow columns, one year partition at a time, from a `CandidateSpool`: the plan
(what each candidate becomes) is computed from the candidates' light columns against each note's
latest stored version; then, year by year, that year's candidate rows are read back from the spool,
given their stored versions, and appended to the year's partitions. `merge_notes` spools candidate
tables held in memory and takes the same path.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from . import upserts
from .schema import MENTIONS
from .spool import YEAR, CandidateSpool, Year, in_year, sorted_years, version_keys

if TYPE_CHECKING:
    from .lake import Transaction

LATEST_COLUMNS = ["note_id", "version", "content_sha256", "first_seen_at"]
VERSION_KEY = ["note_id", "version"]


@dataclass(frozen=True, slots=True)
class MergeCounts:
    new: int = 0  # notes seen for the first time
    updated: int = 0  # new versions of known notes
    unchanged: int = 0  # candidates equal to their note's latest version
    mentions_refreshed: int = 0  # unchanged versions whose mentions were replaced


# -- the plan ----------------------------------------------------------------------------------

def _previous(values: pa.Array) -> pa.Array:
    """values shifted down one row (null first)."""
    return pa.concat_arrays([pa.nulls(1, values.type), values.slice(0, len(values) - 1)])


def _next(values: pa.Array) -> pa.Array:
    """values shifted up one row (null last)."""
    return pa.concat_arrays([values.slice(1), pa.nulls(1, values.type)])


def _same(a: pa.Array, b: pa.Array) -> pa.Array:
    """Element-wise equality where null equals null (as Python's == on None)."""
    return pc.if_else(pc.and_(pc.is_null(a), pc.is_null(b)), True, pc.fill_null(pc.equal(a, b), False))


def latest_versions(stored: pa.Table) -> pa.Table:
    """Each note's latest stored version: one row per note_id, from a table with LATEST_COLUMNS."""
    stored = stored.select(LATEST_COLUMNS).sort_by([(k, "ascending") for k in VERSION_KEY]).combine_chunks()
    if not stored.num_rows:
        return stored
    note_ids = stored.column("note_id").chunk(0)
    return stored.filter(pc.fill_null(pc.not_equal(note_ids, _next(note_ids)), True))  # last of each note


def plan_versions(latest: pa.Table, candidates: pa.Table) -> tuple[pa.Table, MergeCounts]:
    """What each candidate (LIGHT_COLUMNS of the spool) becomes, decided in (note_id, provisional
    version) order. Returns the candidates with these columns, and the counts (but
    mentions_refreshed):
      final_version  the stored version it is (kept) or equals (unchanged)
      first_seen_at  its note's: the stored one, or the note's first candidate's
      kept           stored as a new version (else unchanged)
      source         the last candidate of its final version: that version's mentions are its own
      refreshed      source of an already stored version (its mentions replace the stored ones)"""
    c = candidates.sort_by([(k, "ascending") for k in VERSION_KEY]).combine_chunks()
    rows = c.num_rows
    if not rows:
        empty = {"final_version": pa.int32(), "kept": pa.bool_(), "source": pa.bool_(), "refreshed": pa.bool_()}
        for name, type_ in empty.items():
            c = c.append_column(name, pa.array([], type_))
        return c, MergeCounts()
    column = lambda name: c.column(name).chunk(0)  # noqa: E731
    note_ids, sha = column("note_id"), column("content_sha256")
    starts = pc.fill_null(pc.not_equal(note_ids, _previous(note_ids)), True)  # a note's first candidate
    ends = pc.fill_null(pc.not_equal(note_ids, _next(note_ids)), True)

    stored = pc.index_in(note_ids, value_set=latest.column("note_id"))
    stored_version = latest.column("version").take(stored).combine_chunks()
    stored_sha = latest.column("content_sha256").take(stored).combine_chunks()
    stored_first_seen = latest.column("first_seen_at").take(stored).combine_chunks()

    # A candidate is unchanged when it says what its note's latest version says at its turn: the
    # stored latest for a note's first candidate, else the previous candidate (kept or not).
    latest_sha = pc.if_else(starts, stored_sha, _previous(sha))
    has_latest = pc.or_(pc.invert(starts), pc.is_valid(stored_version))
    unchanged = pc.and_(has_latest, _same(latest_sha, sha))
    kept = pc.invert(unchanged)

    # final_version = stored latest (0 if none) + candidates kept so far in the note (this one too)
    kept_count = pc.cast(kept, pa.int64())
    running = pc.cumulative_sum(kept_count)
    first_row = pc.fill_null_forward(pc.if_else(starts, pa.array(range(rows), pa.int64()), None))
    kept_in_note = pc.subtract(running, pc.subtract(running, kept_count).take(first_row))
    final_version = pc.cast(pc.add(pc.fill_null(pc.cast(stored_version, pa.int64()), 0), kept_in_note), pa.int32())
    first_seen_at = pc.if_else(pc.is_valid(stored_version), stored_first_seen,
                               column("first_seen_at").take(first_row))
    source = pc.or_(ends, pc.fill_null(_next(kept), False))  # the next candidate starts a new version
    refreshed = pc.and_(source, pc.equal(kept_in_note, 0))

    plan = (c.set_column(c.schema.get_field_index("first_seen_at"), c.schema.field("first_seen_at"), first_seen_at)
            .append_column("final_version", final_version).append_column("kept", kept)
            .append_column("source", source).append_column("refreshed", refreshed))
    kept_total = pc.sum(kept).as_py() or 0
    new = pc.sum(pc.and_(starts, pc.is_null(stored_version))).as_py() or 0
    return plan, MergeCounts(new=new, updated=kept_total - new, unchanged=rows - kept_total)


# -- one partition -----------------------------------------------------------------------------

def _as_stored(rows: pa.Table, plan: pa.Table, chosen: str, set_first_seen: bool = False) -> pa.Table:
    """The candidate `rows` whose plan row has `chosen` set, with their final versions."""
    index = pc.index_in(version_keys(rows.column("note_id"), rows.column("version")),
                        value_set=version_keys(plan.column("note_id"), plan.column("version")))
    wanted = pc.fill_null(plan.column(chosen).take(index), False)
    rows, index = rows.filter(wanted), index.filter(wanted)
    replaced = ["version", *(["first_seen_at"] if set_first_seen else [])]
    for name, planned in zip(replaced, ["final_version", "first_seen_at"]):
        position = rows.schema.get_field_index(name)
        rows = rows.set_column(position, rows.schema.field(position), plan.column(planned).take(index))
    return rows


def _append(tx: Transaction, table: str, year: Year, added: pa.Table) -> None:
    path = tx.path_for(table, year)
    tx.put(path, table, pa.concat_tables([tx.load(path, table), added]))


def _changed_versions(old: pa.Table, new: pa.Table) -> int:
    """How many (note_id, version) have a different set of mention rows in `old` than in `new`
    (each table: the rows of some versions, keys unique). Arrow-side: a partition can be large."""
    counts = [t.group_by(VERSION_KEY).aggregate([([], "count_all")]).rename_columns([*VERSION_KEY, name])
              for t, name in ((old, "old"), (new, "new"))]
    both = counts[0].join(counts[1], keys=VERSION_KEY, join_type="full outer")
    same_count = pc.equal(pc.fill_null(both.column("old"), 0), pc.fill_null(both.column("new"), 0))
    changed = both.num_rows - (pc.sum(same_count).as_py() or 0)
    # Versions with as many rows on each side: compare the rows in key order, aligned.
    comparable = version_keys(*(both.filter(same_count).column(k) for k in VERSION_KEY))
    order = [(k, "ascending") for k in MENTIONS.sort_keys]
    old, new = (t.filter(pc.is_in(version_keys(t.column("note_id"), t.column("version")), value_set=comparable))
                .sort_by(order).combine_chunks() for t in (old, new))
    if not old.num_rows:
        return changed
    equal_rows = old.column(0).chunk(0).is_valid()  # all true
    for name in MENTIONS.column_names:
        equal_rows = pc.and_(equal_rows, _same(old.column(name).chunk(0), new.column(name).chunk(0)))
    differing = old.filter(pc.invert(equal_rows))
    return changed + len(pc.unique(version_keys(differing.column("note_id"), differing.column("version"))))


def _store_mentions(tx: Transaction, year: Year, candidates: pa.Table, plan: pa.Table) -> int:
    """Add the year's kept versions' mentions and replace its refreshed ones'; returns how many
    refreshed versions' mentions actually changed."""
    added = _as_stored(candidates, plan, "source")
    refreshed = plan.filter(plan.column("refreshed"))
    if not added.num_rows and not refreshed.num_rows:
        return 0
    refreshed_keys = version_keys(refreshed.column("note_id"), refreshed.column("final_version"))
    path = tx.path_for("mentions", year)
    existing = tx.load(path, "mentions")
    replaced = pc.is_in(version_keys(existing.column("note_id"), existing.column("version")), value_set=refreshed_keys)
    refreshing = pc.is_in(version_keys(added.column("note_id"), added.column("version")), value_set=refreshed_keys)
    changed = _changed_versions(existing.filter(replaced), added.filter(refreshing))
    tx.put(path, "mentions", pa.concat_tables([existing.filter(pc.invert(replaced)), added]))
    return changed


# -- merging -----------------------------------------------------------------------------------

def merge_spooled(tx: Transaction, spool: CandidateSpool) -> MergeCounts:
    """Merge a spool's candidate notes, paragraphs and mentions, one year partition at a time (at
    most one partition's rows in memory), and upsert its actors. Fetches are not merged here
    (`upserts.append_spooled_fetches`)."""
    plan, counts = plan_versions(latest_versions(tx.read("notes", columns=LATEST_COLUMNS)), spool.light())
    mentions_refreshed = 0
    for year in sorted_years(plan.column(YEAR).to_pylist()):
        planned = in_year(plan, year)
        if pc.any(planned.column("kept")).as_py():
            _append(tx, "notes", year, _as_stored(spool.read("notes", year), planned, "kept", set_first_seen=True))
            _append(tx, "paragraphs", year, _as_stored(spool.read("paragraphs", year), planned, "kept"))
        mentions_refreshed += _store_mentions(tx, year, spool.read("mentions", year), planned)
    if spool.actors is not None:
        upserts.upsert_actors(tx, spool.actors)
    return MergeCounts(new=counts.new, updated=counts.updated, unchanged=counts.unchanged,
                       mentions_refreshed=mentions_refreshed)


def merge_notes(tx: Transaction, tables: dict[str, pa.Table]) -> MergeCounts:
    """Merge candidate tables (from `rows.note_tables`) into the lake through `tx`: spooled as one
    batch next to the lake first, so that there is one merge."""
    with CandidateSpool.create(tx.root, f"merge-{uuid.uuid4().hex}") as spool:
        spool.add(tables)
        return merge_spooled(tx, spool)
