"""The committed Parquet lake published as Delta tables (`deltalake`, delta-rs) under one URI, for
readers on other machines: Spark, Trino, Databricks, Polars, DuckDB, each with snapshots.

The lake stays the source of truth on a local disk (its commit needs atomic renames and flock,
which object stores lack); `publish` brings `<uri>/<table>` up to it after each run:

- one Delta commit per table that changed, carrying the run id (`statenotes.run_id`) and the sha256
  of every lake file it reflects (`statenotes.partitions`) in its commit metadata; the next publish
  compares those with the lake and rewrites only the partitions whose file changed
  (an overwrite with a `year` predicate), so a failed or killed publish is redone by the next one;
- partitions as in the lake (`year`, null for no date), every column's description in its Delta
  field metadata (`comment`, the key Spark and Databricks show), the table's in its description;
- `runs` committed last, whenever anything else was: its commit metadata names the version of
  every table as published (`statenotes.versions`). A reader that opens `runs` first and the other
  tables at those versions (`snapshot`) sees all tables as of one run, even during a publish.

Credentials come from the environment (AWS_*, GOOGLE_*, AZURE_*: delta-rs's object_store reads
them), never from the URI, and never reach a log: `redacted` strips what could hold a secret."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pyarrow as pa
import pyarrow.parquet as pq
from deltalake import CommitProperties, DeltaTable, write_deltalake
from deltalake.exceptions import CommitFailedError, TableNotFoundError

from statenotes.extractors.credentials import redact

from .lake import NULL_PARTITION, PARTITION_KEY, Lake
from .schema import PARTITION_NONE, TABLES, TableSpec

log = logging.getLogger(__name__)

RUN_ID_KEY = "statenotes.run_id"
PARTITIONS_KEY = "statenotes.partitions"  # {partition ("2019", "null" or "" unpartitioned): sha256}
SCHEMA_KEY = "statenotes.schema"  # sha256 of the Delta schema the table was written with
VERSIONS_KEY = "statenotes.versions"  # on runs' commits: {table: version} as of that publish
COMMENT_KEY = "comment"  # Delta field metadata key Spark/Databricks read as the column comment
MARKER_TABLE = "runs"
PUBLISH_ORDER = tuple(t for t in TABLES if t != MARKER_TABLE) + (MARKER_TABLE,)
NULL_KEY = "null"
WHOLE_TABLE = ""
BATCH_ROWS = 64_000
CONFLICT_ATTEMPTS = 3
HISTORY_SCAN = 50  # commits looked through for our own metadata (others' OPTIMIZE/VACUUM in between)
# object_store waits: bounded, so a dead endpoint fails the publish in seconds, not minutes.
STORAGE_DEFAULTS = {"timeout": "60s", "connect_timeout": "5s", "max_retries": "2", "retry_timeout": "20s"}


@dataclass
class PublishResult:
    versions: dict[str, int] = field(default_factory=dict)  # every table's version after the publish
    rewritten: dict[str, list[str]] = field(default_factory=dict)  # table -> partitions written or removed

    @property
    def committed(self) -> list[str]:
        return list(self.rewritten)


def redacted(uri: str) -> str:
    """The URI without what could be a secret: userinfo (`redact`) and the query (a SAS token)."""
    parts = urlsplit(redact(uri))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def table_uri(uri: str, table: str) -> str:
    return f"{uri.rstrip('/')}/{table}"


def storage_options(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {**STORAGE_DEFAULTS, **(extra or {})}


def delta_schema(table_spec: TableSpec) -> pa.Schema:
    """The lake's columns with their descriptions as `comment`, plus `year` for partitioned tables."""
    fields = [pa.field(c.name, c.type, nullable=c.nullable, metadata={COMMENT_KEY: c.description})
              for c in table_spec.columns]
    if table_spec.partition is not PARTITION_NONE:
        fields.append(pa.field(PARTITION_KEY, pa.int32(), metadata={
            COMMENT_KEY: f"Partition: the year of {_partition_source(table_spec)} (null: no date)."}))
    return pa.schema(fields)


def _partition_source(table_spec: TableSpec) -> str:
    return "fetched_at" if table_spec.partition == "fetched_at" else "the note version's published_date"


def _schema_sha(schema: pa.Schema) -> str:
    text = json.dumps([[f.name, str(f.type), f.nullable, (f.metadata or {}).get(COMMENT_KEY.encode(), b"").decode()]
                       for f in schema])
    return hashlib.sha256(text.encode()).hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _partition_of(path: Path) -> str:
    """`year=2019/part-0.parquet` -> "2019"; the null partition -> "null"."""
    value = path.parent.name.split("=", 1)[1]
    return NULL_KEY if value == NULL_PARTITION else value


def _local_partitions(table_spec: TableSpec, files: list[Path]) -> dict[str, Path]:
    if table_spec.partition is PARTITION_NONE:
        return {WHOLE_TABLE: path for path in files}
    return {_partition_of(path): path for path in files}


def _open(uri: str, options: dict[str, str]) -> DeltaTable | None:
    try:
        return DeltaTable(uri, storage_options=options)
    except TableNotFoundError:
        return None


def _our_last_commit(dt: DeltaTable) -> dict:
    """The newest commit this module made (skipping others', e.g. an OPTIMIZE), or {}."""
    for limit in (1, HISTORY_SCAN):  # normally the newest one: one read, not fifty
        for commit in dt.history(limit):
            if PARTITIONS_KEY in commit:
                return commit
    return {}


def _batches(paths: list[tuple[str, Path]], schema: pa.Schema, partitioned: bool) -> Iterator[pa.RecordBatch]:
    for partition, path in paths:
        year = None if partition in (NULL_KEY, WHOLE_TABLE) else int(partition)
        parquet = pq.ParquetFile(path)
        names = [f.name for f in schema if f.name != PARTITION_KEY or not partitioned]
        for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=names):
            arrays = [batch.column(name).cast(schema.field(name).type) for name in names]
            if partitioned:
                arrays.append(pa.array([year] * batch.num_rows, pa.int32()))
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)


def _predicate(partitions: list[str]) -> str:
    years = sorted(int(p) for p in partitions if p != NULL_KEY)
    terms = [f"{PARTITION_KEY} IN ({', '.join(map(str, years))})"] if years else []
    if NULL_KEY in partitions:
        terms.append(f"{PARTITION_KEY} IS NULL")
    return " OR ".join(terms)


def _publish_table(uri: str, table: str, files: list[Path], run_id: str, options: dict[str, str],
                   force: bool = False, versions: dict[str, int] | None = None) -> tuple[int, list[str] | None]:
    """Commit what changed in one table; returns (its version, partitions rewritten or None)."""
    table_spec = TABLES[table]
    partitioned = table_spec.partition is not PARTITION_NONE
    schema = delta_schema(table_spec)
    local = _local_partitions(table_spec, files)
    shas = {partition: _sha256(path) for partition, path in local.items()}
    target = table_uri(uri, table)
    for attempt in range(1, CONFLICT_ATTEMPTS + 1):
        dt = _open(target, options)
        last = _our_last_commit(dt) if dt is not None else {}
        published = json.loads(last.get(PARTITIONS_KEY, "{}"))
        same_schema = last.get(SCHEMA_KEY) == _schema_sha(schema)
        whole = dt is None or not same_schema or not partitioned  # rewritten whole, if at all
        if whole:
            changed, gone = sorted(local), sorted(set(published) - set(local))
            needed = dt is None or not same_schema or force or published != shas
        else:
            changed = sorted(p for p in local if published.get(p) != shas[p])
            gone = sorted(set(published) - set(local))
            needed = bool(changed or gone or force)
        if not needed:
            return dt.version(), None
        metadata = {RUN_ID_KEY: run_id, PARTITIONS_KEY: json.dumps(shas, sort_keys=True),
                    SCHEMA_KEY: _schema_sha(schema)}
        if versions is not None:
            metadata[VERSIONS_KEY] = json.dumps(versions, sort_keys=True)
        data = pa.RecordBatchReader.from_batches(schema, _batches([(p, local[p]) for p in changed], schema, partitioned))
        try:
            write_deltalake(
                target, data, mode="overwrite", storage_options=options,
                partition_by=[PARTITION_KEY] if partitioned else None,
                predicate=None if whole else _predicate(changed + gone),
                schema_mode="overwrite" if whole and dt is not None else None,
                name=table, description=table_spec.description,
                commit_properties=CommitProperties(custom_metadata=metadata, max_commit_retries=0),
            )
        except CommitFailedError as exc:
            # Another publisher committed since we read the table: read it again and redo the diff.
            if attempt == CONFLICT_ATTEMPTS:
                raise
            log.info("delta %s: concurrent commit (%s); reading it again", table, exc)
            continue
        return DeltaTable(target, storage_options=options).version(), changed + gone
    raise AssertionError("unreachable")


def publish(lake: Lake, uri: str, run_id: str, extra_options: dict[str, str] | None = None) -> PublishResult:
    """Bring the Delta tables under `uri` up to the lake's committed state, table by table, `runs`
    last. Raises on any failure; what was committed stays, and the next publish does the rest."""
    options = storage_options(extra_options)
    result = PublishResult()
    with lake.snapshot() as files:  # no lake commit lands while we read its files
        for table in PUBLISH_ORDER:
            marker = table == MARKER_TABLE
            version, rewritten = _publish_table(
                uri, table, files[table], run_id, options,
                force=marker and bool(result.rewritten),
                versions=result.versions if marker else None)
            result.versions[table] = version
            if rewritten is not None:
                result.rewritten[table] = rewritten
    if result.rewritten:
        log.info("delta %s: run %s committed %s", redacted(uri), run_id,
                 ", ".join(f"{t} v{result.versions[t]} ({len(p)} partitions)" for t, p in result.rewritten.items()))
    return result


def published_run(uri: str, extra_options: dict[str, str] | None = None) -> str | None:
    """The run id of the newest complete publish under `uri` (its `runs` marker), None if nothing is."""
    runs = _open(table_uri(uri, MARKER_TABLE), storage_options(extra_options))
    if runs is None:
        return None
    marker = next((c for c in runs.history(HISTORY_SCAN) if VERSIONS_KEY in c), None)
    return marker.get(RUN_ID_KEY) if marker else None


def snapshot(uri: str, run_id: str | None = None, extra_options: dict[str, str] | None = None) -> dict[str, DeltaTable]:
    """Every table as of one publish: the latest (or run `run_id`'s), read through `runs`' marker."""
    options = storage_options(extra_options)
    runs = DeltaTable(table_uri(uri, MARKER_TABLE), storage_options=options)
    marker = next((c for c in runs.history() if VERSIONS_KEY in c and (run_id is None or c.get(RUN_ID_KEY) == run_id)),
                  None)
    if marker is None:
        raise LookupError(f"no publish of run {run_id} in {redacted(uri)}" if run_id else
                          f"nothing published in {redacted(uri)}")
    versions = {**json.loads(marker[VERSIONS_KEY]), MARKER_TABLE: marker["version"]}
    tables = {}
    for table, version in versions.items():
        dt = DeltaTable(table_uri(uri, table), storage_options=options)
        dt.load_as_version(version)
        tables[table] = dt
    return tables
