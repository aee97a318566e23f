"""A run's candidate rows staged on disk, batch by batch, so that a run of any size never holds them
in memory: `CandidateSpool`, under `<lake root>/.spool/<name>/`.

Each `add` takes one batch's `rows.note_tables` output and writes one Parquet file per table
(notes, paragraphs, mentions), each row tagged with its note's year partition (`partition_year`:
the year of published_date, null without one), so the merge can read one year at a time; a small
index says which files hold which years, and reading a year opens only those. Batches of notes
fetched in date order hold one year or two, and each file is then read once; but a batch may span
every year, and then each year would be read from every file. So every SEGMENT_BATCHES batch files
(or SEGMENT_BYTES of rows), if they average two years or more, are rewritten as one *segment*
whose row groups each hold one year.

Provisional versions are renumbered on the way in: a note's candidates are numbered 1, 2, ...
across the whole run in the order they were added (a small note_id -> highest version dict), so a
note loaded in two batches keeps two distinct candidates. Actors, few, are kept merged in memory.
`add_fetches` spools fetch logs the same way, by year of fetched_at.

A spool belongs to one process: the one that created it and adds to it (it is not shared with
worker processes). `owner.json` names that process, so that opening the lake removes only spools
whose owner is gone (`remove_stale_spools`); leaving the context manager removes the spool.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from statenotes.transforms.records import Actor

from . import upserts
from .errors import WarehouseError
from .journal import SPOOL_DIRNAME
from .records import FetchLog
from .rows import actor_table
from .schema import TABLES

log = logging.getLogger(__name__)

YEAR = "partition_year"  # the lake partition a spooled row goes to
NOTE_TABLES = ("notes", "paragraphs", "mentions")
FETCHES = "fetches"
OWNER_FILE = "owner.json"
# A spool whose owner cannot be checked (another host, no owner file) is stale after a day without
# an `add`; one whose owner can be checked is stale exactly when that process is gone.
STALE_AFTER_S = 24 * 3600
COMPRESSION = "zstd"
# Batch files considered for one segment: at most this many, of at most this many Arrow bytes in all
# (they are in memory while the segment is written); a batch this large is written as a segment.
SEGMENT_BATCHES = 64
SEGMENT_BYTES = 16 << 20
LIGHT_COLUMNS = ["note_id", "version", "content_sha256", "first_seen_at", YEAR]

Year = int | None


def version_keys(note_id: pa.ChunkedArray | pa.Array, version: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray:
    """One string per (note_id, version), to look rows up by version with `pc.index_in`/`is_in`
    (Arrow joins refuse tables with list columns, like notes.tags)."""
    return pc.binary_join_element_wise(note_id, pc.cast(version, pa.string()), "#")


# -- owners ------------------------------------------------------------------------------------

def _process_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux; None elsewhere or if it is gone or
    a zombie): with the pid, it tells a process from a later one given the same pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()  # after "pid (command) "
    return None if fields[0] == "Z" else fields[19]


def _owner() -> dict[str, Any]:
    pid = os.getpid()
    return {"pid": pid, "started": _process_start(pid), "host": socket.gethostname()}


def _owner_alive(owner: dict[str, Any]) -> bool | None:
    """Whether the owning process still runs; None when that cannot be told from here."""
    if owner.get("host") != socket.gethostname():
        return None
    pid = owner.get("pid")
    if not isinstance(pid, int):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, another user's
    started = _process_start(pid)
    if owner.get("started") is not None and Path("/proc").is_dir():
        return started == owner["started"]  # None: a zombie or gone meanwhile
    return True


def _is_stale(directory: Path, now: float) -> bool:
    owner_file = directory / OWNER_FILE
    last_active = now  # gone meanwhile: nothing to remove
    try:
        owner = json.loads(owner_file.read_text(encoding="utf-8"))
        last_active = owner_file.stat().st_mtime
    except (OSError, ValueError):
        owner = None  # being created, or its creator died at once
        with contextlib.suppress(OSError):
            last_active = directory.stat().st_mtime
    alive = _owner_alive(owner) if isinstance(owner, dict) else None
    if alive is None:
        return now - last_active > STALE_AFTER_S
    return not alive


def remove_stale_spools(lake_root: Path) -> int:
    """Remove the spools of processes that are gone (see STALE_AFTER_S). Returns how many."""
    spools = Path(lake_root) / SPOOL_DIRNAME
    if not spools.is_dir():
        return 0
    now = time.time()
    removed = 0
    for directory in sorted(spools.iterdir()):
        if directory.is_dir() and _is_stale(directory, now):
            shutil.rmtree(directory, ignore_errors=True)
            removed += 1
    if removed:
        log.warning("lake %s: removed %d spool(s) left by runs that died", lake_root, removed)
    with contextlib.suppress(OSError):
        spools.rmdir()  # only if empty
    return removed


# -- files by year -----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SpoolFile:
    """One spooled Parquet file: a batch (`by_year` False: rows of any year in any row group) or a
    segment (each row group holds one year)."""

    name: str  # relative to the spool directory
    row_groups: dict[Year, list[int] | None]  # year -> the row groups holding its rows (None: all)
    by_year: bool
    nbytes: int  # Arrow size of its rows


def _read(path: Path, columns: list[str] | None = None) -> pa.Table:
    # On this thread, as `lake.read_file` (which this module cannot import: the lake imports it).
    return pq.read_table(path, columns=columns, use_threads=False, pre_buffer=False)


def _write_batch(path: Path, table: pa.Table) -> dict[Year, list[int] | None]:
    pq.write_table(table, path, compression=COMPRESSION)
    return dict.fromkeys(pc.unique(table.column(YEAR)).to_pylist())  # None: read the whole file


def _write_by_year(path: Path, table: pa.Table) -> dict[Year, list[int]]:
    """Write `table` sorted by YEAR, one year per row group; returns year -> row group indexes."""
    table = table.sort_by([(YEAR, "ascending")]).combine_chunks()
    runs = pc.run_end_encode(table.column(YEAR).combine_chunks())
    years, ends = runs.values.to_pylist(), runs.run_ends.to_pylist()
    with pq.ParquetWriter(path, table.schema, compression=COMPRESSION) as writer:
        start = 0
        for end in ends:
            writer.write_table(table.slice(start, end - start))  # never shares a row group
            start = end
    groups: dict[Year, list[int]] = {}
    metadata = pq.read_metadata(path)
    year_index, rows = 0, 0
    for group in range(metadata.num_row_groups):  # a large year may take several row groups
        groups.setdefault(years[year_index], []).append(group)
        rows += metadata.row_group(group).num_rows
        if rows == ends[year_index]:
            year_index += 1
        elif rows > ends[year_index]:
            raise WarehouseError(f"{path}: a row group spans two years")
    return groups


def in_year(rows: pa.Table, year: Year) -> pa.Table:
    """The rows whose YEAR is `year` (None: null)."""
    column = rows.column(YEAR)
    return rows.filter(pc.is_null(column) if year is None else pc.fill_null(pc.equal(column, year), False))


def sorted_years(years: Iterable[Year]) -> list[Year]:
    """Distinct years ascending, None (no date) last."""
    return sorted(set(years), key=lambda y: (y is None, y or 0))


class CandidateSpool:
    """The candidate rows of one run on disk (see the module docstring). Holds only its directory
    and small indexes: which file has which years in which row groups, how many candidate rows,
    each note's highest provisional version so far, and the merged actors."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self._files: dict[str, list[SpoolFile]] = {t: [] for t in (*NOTE_TABLES, FETCHES)}  # in add order
        self._written: dict[str, int] = {t: 0 for t in self._files}  # files written, to name the next
        self._settled: dict[str, int] = {t: 0 for t in self._files}  # files no longer to be compacted
        self._versions: dict[str, int] = {}  # note_id -> highest provisional version spooled
        self._rows: dict[str, int] = {t: 0 for t in (*NOTE_TABLES, FETCHES)}
        self._actors: pa.Table | None = None

    @classmethod
    def create(cls, lake_root: Path, name: str) -> CandidateSpool:
        """A new, empty spool `<lake_root>/.spool/<name>/` owned by this process. A spool of that
        name left by a dead process is replaced; a live one is refused."""
        if not name or name.startswith(".") or "/" in name or os.sep in name:
            raise ValueError(f"not a spool name: {name!r}")
        directory = Path(lake_root) / SPOOL_DIRNAME / name
        if directory.exists():
            if not _is_stale(directory, time.time()):
                raise WarehouseError(f"spool {directory} is in use by a live process")
            shutil.rmtree(directory)
        for attempt in range(3):
            try:
                directory.mkdir(parents=True)
                break
            except FileNotFoundError:  # `.spool` removed by another process's cleanup meanwhile
                if attempt == 2:
                    raise
        (directory / OWNER_FILE).write_text(json.dumps(_owner()), encoding="utf-8")
        for kind in (*NOTE_TABLES, FETCHES):
            (directory / kind).mkdir()
        return cls(directory)

    def __enter__(self) -> CandidateSpool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.remove()

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)
        with contextlib.suppress(OSError):
            self.directory.parent.rmdir()  # `.spool` too, when no other run has one

    def __len__(self) -> int:
        """Candidate note rows spooled."""
        return self._rows["notes"]

    @property
    def fetch_count(self) -> int:
        return self._rows[FETCHES]

    @property
    def actors(self) -> pa.Table | None:
        """The actors of every batch, merged (None if no batch had an actors table)."""
        return self._actors

    # -- writing -------------------------------------------------------------------------------
    def add(self, tables: dict[str, pa.Table]) -> None:
        """Spool one batch's candidate tables (keys notes, paragraphs, mentions, actors; missing
        ones are empty). Paragraphs and mentions of no note in the batch are dropped."""
        from .lake import conform  # the lake imports this module

        given = {t: conform(tables[t], TABLES[t]) if tables.get(t) is not None else TABLES[t].schema.empty_table()
                 for t in NOTE_TABLES}
        notes = given["notes"]
        provisional = version_keys(notes.column("note_id"), notes.column("version"))
        versions = self._renumber(notes)
        years = pc.cast(pc.year(notes.column("published_date")), pa.int32())
        spooled = {"notes": self._with(notes, versions, years)}
        for table in ("paragraphs", "mentions"):
            rows = given[table]
            index = pc.index_in(version_keys(rows.column("note_id"), rows.column("version")), value_set=provisional)
            found = pc.is_valid(index)
            rows, index = rows.filter(found), index.filter(found)
            spooled[table] = self._with(rows, versions.take(index), years.take(index))
        for table, rows in spooled.items():
            self._write(table, rows)
        if tables.get("actors") is not None:
            self._add_actors(tables["actors"])
        self._touch()

    def _renumber(self, notes: pa.Table) -> pa.Array:
        """The notes' versions renumbered after the same notes' earlier batches."""
        note_ids = notes.column("note_id").to_pylist()
        versions = notes.column("version").to_pylist()
        offsets = [self._versions.get(note_id, 0) for note_id in note_ids]
        for note_id, version, offset in zip(note_ids, versions, offsets):
            self._versions[note_id] = max(self._versions.get(note_id, 0), offset + version)
        if not any(offsets):
            return notes.column("version").combine_chunks()
        return pa.array([v + o for v, o in zip(versions, offsets)], pa.int32())

    @staticmethod
    def _with(rows: pa.Table, versions: pa.Array, years: pa.Array) -> pa.Table:
        position = rows.schema.get_field_index("version")
        rows = rows.set_column(position, rows.schema.field(position), versions)
        return rows.append_column(pa.field(YEAR, pa.int32()), years)

    def add_fetches(self, logs: Iterable[FetchLog]) -> None:
        """Spool one batch's fetch logs (their run_id is given when they are appended)."""
        rows = upserts.fetch_rows(logs)
        self._write(FETCHES, rows.append_column(pa.field(YEAR, pa.int32()),
                                                pc.cast(pc.year(rows.column("fetched_at")), pa.int32())))
        self._touch()

    def _write(self, kind: str, rows: pa.Table) -> None:
        if not rows.num_rows:
            return
        self._rows[kind] += rows.num_rows
        if rows.nbytes >= SEGMENT_BYTES:
            self._settle(kind)  # files keep the add order: a later fetch row replaces an earlier one
            self._files[kind].append(self._new_file(kind, rows, by_year=True))
            self._settled[kind] = len(self._files[kind])
            return
        self._files[kind].append(self._new_file(kind, rows, by_year=False))
        batches = self._files[kind][self._settled[kind]:]
        if len(batches) >= SEGMENT_BATCHES or sum(f.nbytes for f in batches) >= SEGMENT_BYTES:
            self._settle(kind)

    def _new_file(self, kind: str, rows: pa.Table, by_year: bool) -> SpoolFile:
        name = f"{kind}/{self._written[kind]:06d}.parquet"
        self._written[kind] += 1
        write = _write_by_year if by_year else _write_batch
        return SpoolFile(name, write(self.directory / name, rows), by_year, rows.nbytes)

    def _settle(self, kind: str) -> None:
        """Close the run of batch files written since the last settle: rewritten as one segment
        when they average two years or more, else left as they are (each is read once anyway)."""
        files = self._files[kind]
        batches = files[self._settled[kind]:]
        if len(batches) >= 2 and sum(len(f.row_groups) for f in batches) >= 2 * len(batches):
            rows = pa.concat_tables([_read(self.directory / f.name) for f in batches])
            segment = self._new_file(kind, rows, by_year=True)  # the stable sort keeps add order within a year
            del files[self._settled[kind]:]
            files.append(segment)
            for batch in batches:
                (self.directory / batch.name).unlink()
            del rows
            pa.default_memory_pool().release_unused()  # as after a lake partition (`Transaction.put`)
        self._settled[kind] = len(files)

    def _add_actors(self, actors: pa.Table) -> None:
        # The first batch's attributes win, a later one fills what they left empty (as within
        # one batch: `rows.merge_actors`); few rows, so plain Python.
        merged = self._actors.to_pylist() if self._actors is not None else []
        rows = [*merged, *actors.to_pylist()]
        self._actors = actor_table(Actor(**{**row, "aliases": tuple(row["aliases"] or ())}) for row in rows)

    def _touch(self) -> None:
        # The owner file's mtime is the spool's last activity (see STALE_AFTER_S).
        with contextlib.suppress(OSError):
            os.utime(self.directory / OWNER_FILE)

    # -- reading -------------------------------------------------------------------------------
    def years(self, kind: str) -> list[Year]:
        """The years (None: no date) `kind` has rows in, ascending, None last."""
        return sorted_years(year for f in self._files[kind] for year in f.row_groups)

    def read(self, kind: str, year: Year) -> pa.Table:
        """Every spooled row of `kind` in year partition `year`, in the order added, without YEAR.
        Opens only the files holding that year, and reads only its row groups."""
        parts = []
        for spooled in self._files[kind]:
            if year not in spooled.row_groups:
                continue
            path = self.directory / spooled.name
            if not spooled.by_year:
                parts.append(in_year(_read(path), year))
                continue
            with pq.ParquetFile(path) as parquet:
                parts.append(parquet.read_row_groups(spooled.row_groups[year], use_threads=False))
        if not parts:
            return self._empty(kind)
        return pa.concat_tables(parts).drop_columns([YEAR])

    def light(self) -> pa.Table:
        """Every candidate note's LIGHT_COLUMNS (what the merge plans versions from)."""
        parts = [_read(self.directory / f.name, LIGHT_COLUMNS) for f in self._files["notes"]]
        if not parts:
            empty = TABLES["notes"].schema.empty_table().select(LIGHT_COLUMNS[:-1])
            return empty.append_column(pa.field(YEAR, pa.int32()), pa.array([], pa.int32()))
        return pa.concat_tables(parts)

    def urls(self) -> list[str]:
        """The distinct URLs of the spooled notes, sorted."""
        urls: set[str] = set()
        for spooled in self._files["notes"]:
            urls.update(pc.unique(_read(self.directory / spooled.name, ["url"]).column("url")).to_pylist())
        urls.discard(None)
        return sorted(urls)

    @staticmethod
    def _empty(kind: str) -> pa.Table:
        if kind == FETCHES:
            return upserts.fetch_rows([])
        return TABLES[kind].schema.empty_table()
