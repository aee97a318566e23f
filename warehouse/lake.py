"""The Parquet lake, the warehouse's source of truth: one directory per table, hive-partitioned by
year where the table grows with time, changed only through all-or-nothing transactions.

Layout: `<root>/<table>/year=YYYY/part-0.parquet` (notes, paragraphs, mentions: year of the note
version's published_date; fetches: year of fetched_at; no date -> `year=__HIVE_DEFAULT_PARTITION__`)
and `<root>/<table>/data.parquet` (actors, quarantine, runs). A changed file is rewritten whole, its
rows sorted by the table's keys, so the same content always gives the same bytes.

    with lake.spool(run_id) as spool:     # candidate rows on disk, batch by batch, outside the lock
        for batch in batches:
            spool.add(note_tables(batch.notes, run_id)); spool.add_fetches(batch.fetch_logs)
        with lake.transaction() as tx:  # one commit per run: all of it, or none of it
            counts = tx.merge_spooled(spool)
            tx.append_spooled_fetches(spool, run_id)
            tx.upsert_quarantine(items); tx.clear_quarantine(spool.urls())
            tx.append_run(run)

(`tx.merge_notes(note_tables(notes, run_id))` and `tx.append_fetches(fetch_logs, run_id)` do the same
for candidates already in memory.) A transaction stages each changed file on disk as soon as it is
put, so neither the spool nor the transaction holds more than one partition's rows at a time.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import journal, merge, upserts
from .errors import LakeCorruptError, LakeUnusableError, WarehouseError
from .records import FetchLog, QuarantineItem, RunRecord
from .schema import PARTITION_NONE, RENAMED_COLUMNS, TABLES, TableSpec, spec
from .spool import CandidateSpool, remove_stale_spools

log = logging.getLogger(__name__)

LAKE_DIRNAME = "lake"
PART_FILE = "part-0.parquet"
DATA_FILE = "data.parquet"
PARTITION_KEY = "year"
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"  # hive's name for a null partition value
COMPRESSION = "zstd"

MergeCounts = merge.MergeCounts
BeforeCommit = Callable[[dict[str, list[Path]]], None]


def conform(table: pa.Table, table_spec: TableSpec) -> pa.Table:
    """`table` with exactly the spec's columns, types and order, sorted by its sort keys."""
    schema = table_spec.schema
    # A nullable column added to the spec after a file was written reads as nulls from that file.
    columns = [table.column(name).cast(schema.field(name).type) if name in table.column_names
               or not schema.field(name).nullable else pa.nulls(table.num_rows, schema.field(name).type)
               for name in schema.names]
    table = pa.Table.from_arrays(columns, schema=schema)
    if table.num_rows > 1:
        order = pc.cast(pc.sort_indices(table, sort_keys=[(k, "ascending") for k in table_spec.sort_keys]), pa.int64())
        # Sorted already (every file the lake wrote): no copy. Sort keys are unique, so the
        # sorted order is the only one.
        if order[0].as_py() != 0 or not pc.all(pc.equal(pc.pairwise_diff(order)[1:], 1)).as_py():
            table = table.take(order)
    return table.combine_chunks()


def read_file(path: Path, columns: list[str] | None = None, table: str | None = None) -> pa.Table:
    """A Parquet file of the lake, read on this thread: each of Arrow's reader threads keeps the
    memory it freed in its own allocator heap, which piles up when a run reads partition after
    partition. Columns of `table` renamed since the file was written come back under their new names."""
    renamed = RENAMED_COLUMNS.get(table or "", {})
    try:
        try:
            content = pq.read_table(path, columns=columns, use_threads=False, pre_buffer=False)
        except pa.ArrowInvalid:  # a column asked by its new name from a file written before the rename
            if columns is None or not renamed:
                raise
            old_name = {new: old for old, new in renamed.items()}
            content = pq.read_table(path, columns=[old_name.get(c, c) for c in columns],
                                    use_threads=False, pre_buffer=False)
    except (pa.ArrowException, OSError) as exc:
        raise unreadable(path, exc) from exc
    if renamed and any(name in renamed for name in content.column_names):
        content = content.rename_columns([renamed.get(name, name) for name in content.column_names])
    return content


def read_metadata(path: Path) -> pq.FileMetaData:
    try:
        return pq.read_metadata(path)
    except (pa.ArrowException, OSError) as exc:
        raise unreadable(path, exc) from exc


def unreadable(path: Path, exc: Exception) -> LakeCorruptError:
    reason = " ".join(str(exc).split()) or type(exc).__name__
    return LakeCorruptError(f"lake file {path} cannot be read ({reason}): restore it from a backup or the "
                            "lake replica; the lake is left as it is")


def last_of_each_key(table: pa.Table, keys: list[str]) -> pa.Array:
    """For a table sorted by `keys`: whether each row's key differs from the next row's. Rows with
    the same key are neighbours, so this marks the last row of each key."""
    rows = table.num_rows
    if not rows:
        return pa.array([], pa.bool_())
    differs = None
    for key in keys:
        column = table.column(key).combine_chunks()
        changed = pc.fill_null(pc.not_equal(column.slice(1), column.slice(0, rows - 1)), True)
        differs = changed if differs is None else pc.or_(differs, changed)
    return pa.concat_arrays([differs, pa.array([True])])


def _check_keys(table: pa.Table, table_spec: TableSpec, path: Path) -> None:
    # Arrow-side: a partition's keys as Python tuples would cost more than the partition itself.
    keys = list(table_spec.keys)
    if any(table.column(k).null_count for k in keys):
        raise WarehouseError(f"{table_spec.name}: null in key {table_spec.keys} ({path})")
    if table.num_rows < 2:
        duplicate = False
    elif table_spec.sort_keys == table_spec.keys:  # conformed: equal keys are neighbours
        duplicate = not pc.all(last_of_each_key(table, keys)).as_py()
    else:
        duplicate = table.select(keys).group_by(keys).aggregate([]).num_rows != table.num_rows
    if duplicate:
        raise WarehouseError(f"{table_spec.name}: duplicate key {table_spec.keys} ({path})")


class Transaction:
    """Changes to several tables, committed at once by `Lake.transaction`. Each `put` writes the
    file's new content at once under its temporary name (see `journal`), so memory does not grow
    with the number of files changed; the commit only renames. Reads through the transaction see
    its own uncommitted changes."""

    def __init__(self, root: Path):
        self.root = root
        self.txid = uuid.uuid4().hex
        self._pending: dict[Path, Path | None] = {}  # final path -> staged temporary file; None: delete
        self._made_dirs: list[Path] = []  # partition directories this transaction created
        self._failed: str | None = None  # why it must not commit

    # -- files ---------------------------------------------------------------------------------
    def path_for(self, table: str, year: int | None = None) -> Path:
        if spec(table).partition is PARTITION_NONE:
            return self.root / table / DATA_FILE
        value = NULL_PARTITION if year is None else str(year)
        return self.root / table / f"{PARTITION_KEY}={value}" / PART_FILE

    def files(self, table: str) -> list[Path]:
        on_disk = set(Lake.committed_files(self.root, table))
        for path, staged in self._pending.items():
            if path.parent == self.root / table or path.parent.parent == self.root / table:
                (on_disk.add if staged is not None else on_disk.discard)(path)
        return sorted(on_disk)

    def load(self, path: Path, table: str, columns: list[str] | None = None) -> pa.Table:
        """A file's content as this transaction sees it (empty when absent)."""
        table_spec = spec(table)
        if path in self._pending:
            staged = self._pending[path]
            if staged is not None:  # written conformed by `put`
                return read_file(staged, columns)
            path = None
        if path is None or not path.exists():
            empty = table_spec.schema.empty_table()
            return empty.select(columns) if columns else empty
        if columns:
            return read_file(path, columns, table)
        return conform(read_file(path, table=table), table_spec)

    def read(self, table: str, columns: list[str] | None = None) -> pa.Table:
        parts = [self.load(p, table, columns) for p in self.files(table)]
        if not parts:
            empty = spec(table).schema.empty_table()
            return empty.select(columns) if columns else empty
        if columns:
            return pa.concat_tables([p.cast(parts[0].schema) for p in parts])
        return conform(pa.concat_tables(parts), spec(table))

    def put(self, path: Path, table: str, content: pa.Table) -> bool:
        """Stage `content` as the whole of `path`, written now to its temporary file (a second put
        of the same path replaces it). Returns whether it differs from the committed file (an
        identical file is not rewritten; an empty one is deleted)."""
        try:
            return self._stage(path, spec(table), content)
        finally:
            # One partition done: hand the allocator's freed pages back to the system, or the
            # process keeps the high-water mark of every partition's working copies.
            pa.default_memory_pool().release_unused()

    def _stage(self, path: Path, table_spec: TableSpec, content: pa.Table) -> bool:
        content = conform(content, table_spec)
        _check_keys(content, table_spec, path)
        committed_rows = read_metadata(path).num_rows if path.exists() else 0
        # Another row count differs for sure: no need to read the committed file as well.
        if content.num_rows == committed_rows and (
                not committed_rows or content.equals(conform(read_file(path, table=table_spec.name), table_spec))):
            self._unstage(path)
            return False
        if not content.num_rows:
            self._unstage(path)
            self._pending[path] = None
            return True
        self._make_dir(path.parent)
        staged = journal.tmp_name(path, self.txid)
        self._pending[path] = staged
        try:
            pq.write_table(content, staged, compression=COMPRESSION)
        except BaseException:
            # The earlier staged content of `path`, if any, is gone too: this transaction can
            # no longer commit what its caller staged.
            self._unstage(path)
            self._failed = f"staging {path} failed"
            raise
        return True

    def _unstage(self, path: Path) -> None:
        staged = self._pending.pop(path, None)
        if staged is not None:
            staged.unlink(missing_ok=True)

    def _make_dir(self, directory: Path) -> None:
        missing = []
        while not directory.exists() and directory != self.root:
            missing.append(directory)
            directory = directory.parent
        for directory in reversed(missing):
            directory.mkdir(exist_ok=True)
            self._made_dirs.append(directory)

    @property
    def changed(self) -> list[Path]:
        return sorted(self._pending)

    # -- operations ----------------------------------------------------------------------------
    def merge_notes(self, tables: dict[str, pa.Table]) -> merge.MergeCounts:
        """Merge candidate tables (`rows.note_tables`) held in memory; see `merge_spooled`."""
        return merge.merge_notes(self, tables)

    def merge_spooled(self, spool: CandidateSpool) -> merge.MergeCounts:
        """Merge a run's spooled candidate notes, paragraphs, mentions and actors (not its fetches:
        `append_spooled_fetches`), one year partition at a time."""
        return merge.merge_spooled(self, spool)

    def upsert_actors(self, actors: pa.Table) -> int:
        return upserts.upsert_actors(self, actors)

    def append_fetches(self, rows: Iterable[FetchLog], run_id: str) -> int:
        return upserts.append_fetches(self, list(rows), run_id)

    def append_spooled_fetches(self, spool: CandidateSpool, run_id: str) -> int:
        """`append_fetches` of every fetch log spooled by `spool.add_fetches`, one year at a time."""
        return upserts.append_spooled_fetches(self, spool, run_id)

    def upsert_quarantine(self, items: Iterable[QuarantineItem]) -> int:
        return upserts.upsert_quarantine(self, list(items))

    def clear_quarantine(self, urls: Iterable[str]) -> int:
        return upserts.clear_quarantine(self, set(urls))

    def append_run(self, run: RunRecord) -> None:
        upserts.upsert_run(self, run)

    # -- commit --------------------------------------------------------------------------------
    def staged_files(self, renames: dict[Path, Path]) -> dict[str, list[Path]]:
        """Every table's files as they will be after the commit, staged files under their
        temporary names (readable now, e.g. to build the DuckDB file before committing)."""
        staged = {final: tmp for tmp, final in renames.items()}
        return {table: [staged.get(path, path) for path in self.files(table)] for table in TABLES}

    def _commit(self, before_commit: BeforeCommit | None = None,
                after_commit: Callable[[], None] | None = None) -> None:
        renames = {staged: final for final, staged in sorted(self._pending.items()) if staged is not None}
        deletes = sorted(final for final, staged in self._pending.items() if staged is None)
        try:
            if self._failed:
                raise WarehouseError(f"lake {self.root}: not committing, {self._failed}")
            for staged in renames:
                journal.fsync_file(staged)
            if before_commit is not None:
                before_commit(self.staged_files(renames))  # raising here commits nothing
        except BaseException:
            self._abort()
            raise
        journal.commit(self.root, renames, deletes, self.txid)
        if renames or deletes:
            log.info("lake %s: committed %d file(s), deleted %d", self.root, len(renames), len(deletes))
        if after_commit is not None:
            after_commit()  # still under the lock: no later commit can overtake what it does

    def _abort(self) -> None:
        """Remove everything staged (before the commit point only: after it, recovery needs them)."""
        for staged in self._pending.values():
            if staged is not None:
                staged.unlink(missing_ok=True)
        self._pending.clear()
        for directory in reversed(self._made_dirs):
            with contextlib.suppress(OSError):
                directory.rmdir()  # only if empty: another file may have landed there since
        self._made_dirs.clear()


class Lake:
    """The Parquet lake at `root` (normally `<data_dir>/lake`). Opening it finishes or undoes any
    commit a killed process left behind."""

    def __init__(self, root: Path, lock_timeout_s: float = journal.LOCK_TIMEOUT_S):
        self.root = Path(root)
        self.lock_timeout_s = lock_timeout_s
        self._in_transaction = False
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LakeUnusableError(f"lake {self.root} cannot be created: {exc.strerror or exc}") from None
        with journal.locked(self.root, exclusive=True, timeout_s=lock_timeout_s):
            journal.recover(self.root)
            remove_stale_spools(self.root)

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> Lake:
        return cls(Path(data_dir) / LAKE_DIRNAME)

    @staticmethod
    def committed_files(root: Path, table: str) -> list[Path]:
        """The table's committed data files (temporary names start with '.' and never match; spools
        live outside the table directories, in `<root>/.spool`)."""
        pattern = DATA_FILE if spec(table).partition is PARTITION_NONE else f"{PARTITION_KEY}=*/{PART_FILE}"
        return sorted((root / table).glob(pattern))

    def _not_in_transaction(self) -> None:
        # Our own exclusive lock would make us wait for ourselves until the timeout.
        if self._in_transaction:
            raise WarehouseError("this lake has an open transaction: read through it (tx.read)")

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[dict[str, list[Path]]]:
        """Hold a shared lock (no commit can happen) and yield every table's committed files."""
        self._not_in_transaction()
        while True:
            with journal.locked(self.root, exclusive=False, timeout_s=self.lock_timeout_s):
                if not journal.needs_recovery(self.root):
                    yield {t: self.committed_files(self.root, t) for t in TABLES}
                    return
            with journal.locked(self.root, exclusive=True, timeout_s=self.lock_timeout_s):
                journal.recover(self.root)  # a writer died mid-apply since we opened the lake

    def check_files(self) -> int:
        """Read every committed file's footer (cheap: no data pages) and check its columns: a
        truncated or overwritten file raises `LakeCorruptError` naming it. Returns the file count.
        What `read_file` and `conform` make good is not missing: a column renamed since the file was
        written, or a nullable one added since (it reads as nulls)."""
        with self.snapshot() as files:
            for table, paths in files.items():
                expected = {f.name for f in spec(table).schema if not f.nullable}
                renamed = RENAMED_COLUMNS.get(table, {})
                for path in paths:
                    found = {renamed.get(name, name) for name in read_metadata(path).schema.to_arrow_schema().names}
                    if not expected <= found:
                        raise LakeCorruptError(f"lake file {path} lacks columns {sorted(expected - found)}: "
                                               "restore it from a backup or the lake replica")
        return sum(len(paths) for paths in files.values())

    def read(self, table: str) -> pa.Table:
        """The whole table, sorted by its keys."""
        with self.snapshot():
            return Transaction(self.root).read(table)

    @contextlib.contextmanager
    def transaction(self, before_commit: BeforeCommit | None = None,
                    after_commit: Callable[[], None] | None = None) -> Iterator[Transaction]:
        """Exclusive until exit; commits on a normal exit, changes nothing on an exception.
        `before_commit(files)` runs once everything is staged, just before the commit point, with
        every table's files as they will be (see `Transaction.staged_files`); if it raises,
        nothing is committed. `after_commit()` runs just after the commit point, still under the
        lock (the DuckDB file is swapped in there, so files are published in commit order)."""
        self._not_in_transaction()
        with journal.locked(self.root, exclusive=True, timeout_s=self.lock_timeout_s):
            journal.recover(self.root)
            tx = Transaction(self.root)
            self._in_transaction = True
            try:
                try:
                    yield tx
                except BaseException:
                    tx._abort()
                    raise
                tx._commit(before_commit, after_commit)  # removes what it staged itself if it fails before the commit point
            finally:
                self._in_transaction = False

    def spool(self, run_id: str) -> CandidateSpool:
        """A new, empty spool for the candidate rows of run `run_id`, under `<root>/.spool/<run_id>/`
        (a context manager that removes it on exit). Needs no lock: the commit protocol and
        recovery leave `.spool` alone, and opening the lake removes only spools whose owning
        process is gone (see `spool.remove_stale_spools`)."""
        return CandidateSpool.create(self.root, run_id)

    # One-operation transactions, for callers that need no more.
    def merge_notes(self, tables: dict[str, pa.Table]) -> merge.MergeCounts:
        with self.transaction() as tx:
            return tx.merge_notes(tables)

    def append_fetches(self, rows: Iterable[FetchLog], run_id: str) -> int:
        with self.transaction() as tx:
            return tx.append_fetches(rows, run_id)

    def upsert_quarantine(self, items: Iterable[QuarantineItem]) -> int:
        with self.transaction() as tx:
            return tx.upsert_quarantine(items)

    def clear_quarantine(self, urls: Iterable[str]) -> int:
        with self.transaction() as tx:
            return tx.clear_quarantine(urls)

    def append_run(self, run: RunRecord) -> None:
        with self.transaction() as tx:
            tx.append_run(run)

    def last_successful_run(self, flow: str | None = None) -> RunRecord | None:
        """The latest-started successful run (of `flow`, if given): the incremental watermark."""
        return upserts.last_successful_run(self.read("runs"), flow)

