"""Publishes the lake as one DuckDB file for analysts, atomically, and documents it.

DuckDB allows one writer per file, and analysts keep connections open. So the file is never written
in place: a new one is built beside it under a temporary name, checkpointed, closed, and
`os.replace`d over the old one. Open connections keep reading the old file (their snapshot, an
unlinked inode) and never block us; new connections see the new file.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from . import journal
from .lake import Lake
from statenotes.transforms.places import places
from statenotes.transforms.roles import canonical_role, read_role_rules

from .schema import MACROS, REFERENCE_TABLES, RENAMED_COLUMNS, TABLES, VIEWS, TableSpec

log = logging.getLogger(__name__)

DB_FILENAME = "statenotes.duckdb"  # under the data directory (settings: STATENOTES_DATA_DIR)
WAL_SUFFIX = ".wal"
BUILD_SUFFIX = ".tmp"  # `.statenotes.duckdb.<uuid>.tmp`: a file being built
BUILD_MEMORY_LIMIT = "256MB"  # DuckDB's buffer pool while building the file (streaming inserts)
# The file is written in the oldest storage format that holds the schema (tables, views, table
# macros, comments), so analysts' older clients open it: DuckDB 1.1 and later (CLI, Python, JDBC,
# R). The newest format would shut out every client older than the DuckDB that built the file.
STORAGE_VERSION = "v1.1.0"
# Views stored as tables of the DuckDB file: their regular expressions over every person mention
# are too slow to rerun in each query (minutes in DuckDB 1.1).
STORED_VIEWS = frozenset({"travels"})
# Where the publisher's own side starts in the actors' parent_id tree (see the publishing_side view).
PUBLISHING_SIDE_ROOTS = ("USA", "gov:USA")
def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# Travel: a person, then in the same sentence (a period ends it unless it follows a capital or a
# non-space: "U.S.", "2.5") a travel phrase, then a list of places (capitalised words, commas,
# "and", "the"). Present and future only: "visited" or "his visit to" is not a trip of this note.
_SAME_SENTENCE = r"(?:[^.;!?]|[A-Z]\.|\.\S)*?"
_TRAVEL_PHRASE = (r"(?i:(?:will |to )?travel(?:s|ling|ing)? to|(?:will |to )visit|visits|is visiting|will be in|"
                  r"(?:will |to )?(?:lead|leads|head|heads)(?: an?| the)?(?: [\pL\pN.'’-]+){0,6}? delegation to|"
                  r"arrives? in)")
_PLACE_LIST = r"(?:[ ,]|and |the |[A-Z][\pL\pN'’.-]*)*"
_LETTER = r"\pL"
TRAVEL_PATTERN = rf"^({_SAME_SENTENCE})\b({_TRAVEL_PHRASE})({_PLACE_LIST})"
VIEW_SQL = {
    "notes_latest": (
        "SELECT * FROM notes "
        "QUALIFY row_number() OVER (PARTITION BY note_id ORDER BY version DESC) = 1"
    ),
    # Paragraphs of the latest versions; filters on text are pushed down into the paragraphs scan.
    "paragraphs_latest": (
        "SELECT p.note_id, p.version, p.seq, n.published_date, n.title, n.url, p.label, p.kind, p.text "
        "FROM paragraphs AS p JOIN notes_latest AS n USING (note_id, version)"
    ),
    "notes_by_month": (
        'SELECT CAST(date_trunc(\'month\', published_date) AS DATE) AS "month", '
        "count(*) AS count_notes FROM notes_latest GROUP BY ALL"
    ),
    # Mentions of each note's latest version only: an edited note counts once.
    "actor_mentions_by_month": (
        "SELECT m.actor_id, a.name, a.kind, "
        'CAST(date_trunc(\'month\', n.published_date) AS DATE) AS "month", '
        "count(*) AS count_mentions, count(DISTINCT m.note_id) AS count_notes "
        "FROM mentions AS m JOIN notes_latest AS n USING (note_id, version) "
        "LEFT JOIN actors AS a USING (actor_id) GROUP BY ALL"
    ),
    # The publisher itself: the United States, its government and everything under it by parent_id
    # (the Department, its bureaus, other agencies), so rankings can set it aside.
    "publishing_side": (
        "WITH RECURSIVE side(actor_id) AS ("
        f"SELECT actor_id FROM actors WHERE actor_id IN ({', '.join(map(repr, PUBLISHING_SIDE_ROOTS))}) "
        "UNION SELECT a.actor_id FROM actors AS a JOIN side AS s ON a.parent_id = s.actor_id "
        "WHERE a.kind <> 'person') "
        "SELECT a.actor_id, a.name, a.kind FROM actors AS a JOIN side USING (actor_id)"
    ),
    "mentions_latest": (
        "SELECT m.note_id, m.version, n.published_date, n.title, n.url, m.seq, m.start_offset, m.end_offset, "
        "m.surface, m.actor_id, a.name, a.kind, a.iso3, m.role, r.role_canonical, "
        "m.actor_id IN (SELECT actor_id FROM publishing_side) AS publishing_side "
        "FROM mentions AS m JOIN notes_latest AS n USING (note_id, version) "
        "LEFT JOIN actors AS a USING (actor_id) "
        "LEFT JOIN roles AS r ON r.role = m.role AND r.iso3 IS NOT DISTINCT FROM a.iso3"
    ),
    "actors_mentioned": (
        "SELECT a.*, a.actor_id IN (SELECT actor_id FROM publishing_side) AS publishing_side, "
        "count(DISTINCT m.note_id) AS count_notes, count(*) AS count_mentions, "
        "min(m.published_date) AS first_published_date, max(m.published_date) AS last_published_date "
        "FROM actors AS a JOIN mentions_latest AS m USING (actor_id) GROUP BY ALL"
    ),
    "co_mentions": (
        "WITH named AS (SELECT DISTINCT m.note_id, m.actor_id, n.published_date "
        "FROM mentions AS m JOIN notes_latest AS n USING (note_id, version)) "
        "SELECT x.actor_id AS actor_a, y.actor_id AS actor_b, ax.name AS name_a, ay.name AS name_b, "
        "count(*) AS count_notes, min(x.published_date) AS first_published_date, "
        "max(x.published_date) AS last_published_date, "
        "x.actor_id IN (SELECT actor_id FROM publishing_side) AS publishing_side_a, "
        "y.actor_id IN (SELECT actor_id FROM publishing_side) AS publishing_side_b "
        "FROM named AS x JOIN named AS y ON x.note_id = y.note_id AND x.actor_id < y.actor_id "
        "LEFT JOIN actors AS ax ON ax.actor_id = x.actor_id LEFT JOIN actors AS ay ON ay.actor_id = y.actor_id "
        "GROUP BY ALL"
    ),
    # The dateline's place ("Washington, DC", "BAGHDAD", "Berlin, Germany"): its last part when that names a
    # country, else its first part looked up in places.
    "datelines": (
        "SELECT n.note_id, n.version, n.dateline_place, "
        "nullif(trim(string_split(n.dateline_place, ',')[1]), '') AS dateline_city, "
        "coalesce((SELECT min(a.actor_id) FROM actors AS a WHERE a.kind = 'country' AND n.dateline_place LIKE '%,%' "
        "AND lower(trim(string_split(n.dateline_place, ',')[-1])) IN (SELECT lower(unnest(list_append(a.aliases, a.name))))), "
        "(SELECT p.iso3 FROM places AS p WHERE lower(p.name) = lower(trim(string_split(n.dateline_place, ',')[1])))"
        ") AS dateline_iso3 "
        "FROM notes_latest AS n"
    ),
    "travels": (
        "WITH texts AS (SELECT note_id, version, seq, text FROM paragraphs_latest "
        "UNION ALL SELECT note_id, version, -1 AS seq, title AS text FROM notes_latest), "
        "after_person AS (SELECT m.note_id, m.version, m.published_date, m.seq, m.actor_id, m.name, m.role_canonical, "
        "m.end_offset, substr(t.text, m.end_offset + 1) AS rest "
        "FROM mentions_latest AS m JOIN texts AS t USING (note_id, version, seq) WHERE m.kind = 'person'), "
        "matched AS MATERIALIZED (SELECT *, "
        f"regexp_extract(rest, {literal(TRAVEL_PATTERN)}, 1) AS gap, "
        f"regexp_extract(rest, {literal(TRAVEL_PATTERN)}, 2) AS phrase, "
        f"regexp_extract(rest, {literal(TRAVEL_PATTERN)}, 3) AS tail FROM after_person), "
        # The traveller is the person nearest before the phrase ("X met Y, who will travel to ...": Y).
        "nearest AS MATERIALIZED (SELECT *, end_offset + length(gap) + length(phrase) AS tail_start, "
        "end_offset + length(gap) + length(phrase) + length(tail) AS tail_end FROM matched WHERE phrase <> '' "
        "QUALIFY row_number() OVER (PARTITION BY note_id, version, seq, end_offset + length(gap) "
        "ORDER BY end_offset DESC) = 1), "
        "countries AS (SELECT n.*, c.actor_id AS destination_iso3 "
        "FROM nearest AS n JOIN mentions_latest AS c USING (note_id, version, seq) "
        "WHERE c.kind = 'country' AND c.start_offset >= n.tail_start AND c.end_offset <= n.tail_end), "
        # Cities only: a name that is also an actor's ("Jamaica", a city in New York) is the actor.
        "city_names AS MATERIALIZED (SELECT * FROM places WHERE name NOT IN "
        "(SELECT unnest(list_append(aliases, name)) FROM actors)), "
        "candidates AS MATERIALIZED (SELECT n.*, p.iso3 AS destination_iso3, p.name AS place "
        "FROM nearest AS n JOIN city_names AS p ON contains(n.tail, p.name)), "
        # A whole word: some occurrence has no letter just before or after it. Split on the name rather
        # than a regex built per row (RE2 compiled 6,000 times cost 9 of 10 s at 10,000 notes).
        "matched_places AS MATERIALIZED (SELECT * EXCLUDE (pieces) FROM "
        "(SELECT *, string_split(tail, place) AS pieces FROM candidates) "
        f"WHERE len(list_filter(range(1, len(pieces)), lambda i: NOT regexp_matches(right(pieces[i], 1), {literal(_LETTER)}) "
        f"AND NOT regexp_matches(left(pieces[i + 1], 1), {literal(_LETTER)}))) > 0), "
        # "San José" is one place, not also "San".
        "cities AS (SELECT * FROM matched_places AS c WHERE NOT EXISTS (SELECT 1 FROM matched_places AS d "
        "WHERE d.note_id = c.note_id AND d.version = c.version AND d.seq = c.seq AND d.end_offset = c.end_offset "
        "AND d.place <> c.place AND contains(d.place, c.place))) "
        "SELECT note_id, version, published_date, seq, actor_id AS traveller_id, name AS traveller, "
        "role_canonical AS role, destination_iso3, string_agg(DISTINCT place, ', ' ORDER BY place) AS place, "
        "any_value(phrase) AS travel_phrase "
        "FROM (SELECT note_id, version, published_date, seq, actor_id, name, role_canonical, destination_iso3, "
        "NULL AS place, phrase FROM countries UNION ALL SELECT note_id, version, published_date, seq, actor_id, name, "
        "role_canonical, destination_iso3, place, phrase FROM cities) GROUP BY ALL"
    ),
}


# Table macros, created after the views. ILIKE '%x%' matches character by character with case
# folding; RE2's case-insensitive literal search reads the same text in about a third of the time
# (the term is constant, so regexp_escape folds and the expression compiles once per query).
MACRO_SQL = {
    "search_paragraphs": (
        "SELECT * FROM paragraphs_latest WHERE regexp_matches(text, regexp_escape(term), 'i')"
    ),
}


@dataclass(frozen=True, slots=True)
class PublishResult:
    db_path: Path
    row_counts: dict[str, int]  # per table
    views: tuple[str, ...]


def _wal(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + WAL_SUFFIX)


def _create_table(con: duckdb.DuckDBPyConnection, table_spec: TableSpec, files: list[Path]) -> None:
    # Created from the Arrow schema, so an empty table still has its columns and types.
    con.register("_empty", table_spec.schema.empty_table())
    con.execute(f"CREATE TABLE {quote(table_spec.name)} AS SELECT * FROM _empty")
    con.unregister("_empty")
    if not files:
        return
    columns = ", ".join(quote(c) for c in table_spec.column_names)
    renamed = RENAMED_COLUMNS.get(table_spec.name, {})
    if renamed and any(set(renamed) & set(pq.read_schema(f).names) for f in files):
        # Files written before a column was renamed: each file under the names it has, in order.
        selects = []
        for f in sorted(files):
            names = set(pq.read_schema(f).names)
            old_name = {new: old for old, new in renamed.items() if old in names}
            picked = ", ".join(f"{quote(old_name.get(c, c))} AS {quote(c)}" for c in table_spec.column_names)
            selects.append(f"SELECT {picked} FROM read_parquet({literal(str(f))}, hive_partitioning = true)")
        con.execute(f"INSERT INTO {quote(table_spec.name)} " + " UNION ALL ".join(selects))
        return
    # No ORDER BY: each lake file is sorted by the table's keys and the files are read in path
    # order, so rows land by partition, then key, deterministically, and the insert streams (a
    # global sort would hold the whole table in memory: 1.1 GB at 100,000 notes). By name: files
    # written before a column was added lack it (nulls).
    con.execute(
        f"INSERT INTO {quote(table_spec.name)} SELECT {columns} FROM read_parquet(?, hive_partitioning = true, union_by_name = true)",
        [[str(f) for f in sorted(files)]],
    )


def _create_roles(con: duckdb.DuckDBPyConnection) -> None:
    """The `roles` view: every printed role with the person's country, and its canonical form
    (config/roles.toml), as constants: the rules are Python regular expressions, applied here."""
    rules = read_role_rules()
    printed = con.execute("SELECT DISTINCT m.role, a.iso3 FROM mentions AS m LEFT JOIN actors AS a USING (actor_id) "
                          "WHERE m.role IS NOT NULL ORDER BY ALL").fetchall()
    rows = [(role, iso3, canonical_role(role, iso3, rules)) for role, iso3 in printed]
    typed = "SELECT NULL::VARCHAR AS role, NULL::VARCHAR AS iso3, NULL::VARCHAR AS role_canonical WHERE false"
    values = " UNION ALL ".join(
        f"SELECT {literal(role)}, {'NULL' if iso3 is None else literal(iso3)}, {literal(canonical)}"
        for role, iso3, canonical in rows)
    con.execute(f"CREATE VIEW roles AS {typed}" + (f" UNION ALL {values}" if values else ""))


def _create_places(con: duckdb.DuckDBPyConnection) -> None:
    """The `places` table (GeoNames: capitals and large cities), a reference beside the lake's tables."""
    rows = places()
    con.register("_places", pa.table({
        "name": [p.name for p in rows], "iso3": [p.iso3 for p in rows],
        "population": pa.array([p.population for p in rows], pa.int64()), "is_capital": [p.is_capital for p in rows]}))
    con.execute("CREATE TABLE places AS SELECT * FROM _places ORDER BY name")
    con.unregister("_places")


def _comment(con: duckdb.DuckDBPyConnection) -> None:
    for table_spec in TABLES.values():
        con.execute(f"COMMENT ON TABLE {quote(table_spec.name)} IS {literal(table_spec.description)}")
        for column in table_spec.columns:
            con.execute(f"COMMENT ON COLUMN {quote(table_spec.name)}.{quote(column.name)} "
                        f"IS {literal(column.description)}")
    for reference in REFERENCE_TABLES.values():
        con.execute(f"COMMENT ON TABLE {quote(reference.name)} IS {literal(reference.description)}")
        for name, description in reference.columns:
            con.execute(f"COMMENT ON COLUMN {quote(reference.name)}.{quote(name)} IS {literal(description)}")
    for view in VIEWS.values():
        kind = "TABLE" if view.name in STORED_VIEWS else "VIEW"
        con.execute(f"COMMENT ON {kind} {quote(view.name)} IS {literal(view.description)}")
        for name, description in view.columns:
            con.execute(f"COMMENT ON COLUMN {quote(view.name)}.{quote(name)} IS {literal(description)}")
    for macro in MACROS.values():
        con.execute(f"COMMENT ON MACRO TABLE {quote(macro.name)} IS {literal(macro.description)}")


def _build(files: dict[str, list[Path]], tmp: Path) -> dict[str, int]:
    con = duckdb.connect(str(tmp), config={"storage_compatibility_version": STORAGE_VERSION})
    try:
        # The build runs inside the pipeline's process: bounded, whatever the lake's size.
        con.execute(f"SET memory_limit = {literal(BUILD_MEMORY_LIMIT)}")
        for name, table_spec in TABLES.items():
            _create_table(con, table_spec, files[name])
        _create_roles(con)
        _create_places(con)
        for name in VIEWS:
            if name in STORED_VIEWS:  # computed once here, not by every query (and every older client)
                con.execute(f"CREATE TABLE {quote(name)} AS {VIEW_SQL[name]}")
            elif name != "roles":
                con.execute(f"CREATE VIEW {quote(name)} AS {VIEW_SQL[name]}")
        for name, macro in MACROS.items():
            parameters = ", ".join(quote(p) for p in macro.parameters)
            con.execute(f"CREATE MACRO {quote(name)}({parameters}) AS TABLE {MACRO_SQL[name]}")
        _comment(con)
        counts = {name: con.execute(f"SELECT count(*) FROM {quote(name)}").fetchone()[0]
                  for name in TABLES}
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return counts


@dataclass(frozen=True, slots=True)
class PreparedFile:
    """A complete new DuckDB file under a temporary name beside `db_path`, not yet swapped in."""

    tmp: Path
    db_path: Path
    row_counts: dict[str, int]


def discard(prepared: PreparedFile) -> None:
    with contextlib.suppress(OSError):
        prepared.tmp.unlink(missing_ok=True)
        _wal(prepared.tmp).unlink(missing_ok=True)


def prepare(files: dict[str, list[Path]], db_path: Path) -> PreparedFile:
    """Build the file from every table's Parquet `files`, without touching `db_path`. Lets a run
    know the publish will work before it commits the lake (`Lake.transaction(before_commit=)`)."""
    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    prepared = PreparedFile(db_path.with_name(f".{db_path.name}.{uuid.uuid4().hex}{BUILD_SUFFIX}"), db_path, {})
    try:
        counts = _build(files, prepared.tmp)
        _wal(prepared.tmp).unlink(missing_ok=True)  # checkpointed and closed: nothing left in it
        journal.fsync_file(prepared.tmp)
    except BaseException:
        discard(prepared)
        raise
    return PreparedFile(prepared.tmp, db_path, counts)


def remove_stale_builds(db_path: Path) -> list[Path]:
    """Delete half-built files of `db_path` (and their WALs) left by killed runs. Only safe when no
    other process is building one: the caller holds the data folder's run lock."""
    db_path = Path(db_path)
    stale = sorted(db_path.parent.glob(f".{glob.escape(db_path.name)}.*{BUILD_SUFFIX}"))
    stale += sorted(db_path.parent.glob(f".{glob.escape(db_path.name)}.*{BUILD_SUFFIX}{WAL_SUFFIX}"))
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def install(prepared: PreparedFile) -> PublishResult:
    """Swap a prepared file in atomically."""
    try:
        os.replace(prepared.tmp, prepared.db_path)
        # A WAL left by the old file would be replayed into the new one by the next connection.
        _wal(prepared.db_path).unlink(missing_ok=True)
        journal.fsync_dir(prepared.db_path.parent)
    except BaseException:
        discard(prepared)
        raise
    log.info("published %s: %s", prepared.db_path, prepared.row_counts)
    return PublishResult(db_path=prepared.db_path, row_counts=prepared.row_counts, views=tuple(VIEWS))


def publish(lake: Lake, db_path: Path) -> PublishResult:
    """Rebuild `db_path` from the lake and swap it in atomically."""
    with lake.snapshot() as files:  # no commit can land while we read
        prepared = prepare(files, db_path)
    return install(prepared)


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def describe_schema(db_path: Path) -> str:
    """Markdown documentation of a published file's tables, views, columns and table macros, from its
    comments (a macro's columns from its result with every parameter null)."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        relations = con.execute(
            "SELECT 'table' AS kind, table_name AS name, comment FROM duckdb_tables() "
            "WHERE NOT internal AND NOT temporary "
            "UNION ALL SELECT 'view', view_name, comment FROM duckdb_views() "
            "WHERE NOT internal AND NOT temporary"
        ).fetchall()
        columns = con.execute(
            "SELECT table_name, column_name, data_type, comment FROM duckdb_columns() "
            "WHERE NOT internal ORDER BY table_name, column_index"
        ).fetchall()
        macros = con.execute(
            "SELECT function_name, parameters, comment FROM duckdb_functions() "
            "WHERE function_type = 'table_macro' AND NOT internal AND database_name = current_database() "
            "ORDER BY function_name"
        ).fetchall()
        returns = {name: con.execute(f"DESCRIBE SELECT * FROM {quote(name)}({', '.join('NULL' for _ in parameters)})"
                                     ).fetchall()
                   for name, parameters, _ in macros}
    finally:
        con.close()
    by_relation: dict[str, list[tuple[str, str, str | None]]] = {}
    for relation, column, data_type, comment in columns:
        by_relation.setdefault(relation, []).append((column, data_type, comment))
    order = {name: i for i, name in enumerate([*TABLES, *VIEWS])}
    relations.sort(key=lambda r: (r[0] != "table", order.get(r[1], len(order)), r[1]))
    lines = [f"# Warehouse schema (`{Path(db_path).name}`)", "",
             "Generated by `statenotes.warehouse.publish.describe_schema` from the file's comments.", ""]
    for heading, kind in (("Tables", "table"), ("Views", "view")):
        lines += [f"## {heading}", ""]
        for _, name, comment in (r for r in relations if r[0] == kind):
            lines += [f"### `{name}`", "", _cell(comment), "", "| column | type | description |",
                      "|---|---|---|"]
            lines += [f"| `{c}` | {t} | {_cell(d)} |" for c, t, d in by_relation.get(name, [])]
            lines.append("")
    lines += ["## Macros", ""]
    for name, parameters, comment in macros:
        lines += [f"### `{name}({', '.join(parameters)})`", "", _cell(comment), "",
                  "Returns: " + ", ".join(f"`{row[0]}` {row[1]}" for row in returns[name]) + ".", ""]
    return "\n".join(lines)
