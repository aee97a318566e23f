"""The warehouse's tables and views: Arrow schemas, keys, partitioning and a description of every
table, view and column. One source for the Parquet files, the DuckDB `COMMENT ON`s and the docs."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

TIMESTAMP = pa.timestamp("us", tz="UTC")
DATE = pa.date32()
TEXT = pa.string()
TEXT_LIST = pa.list_(pa.string())
INT = pa.int32()
BIGINT = pa.int64()
BOOL = pa.bool_()

# How a table's files are split into `year=YYYY` directories.
PARTITION_NONE = None
PARTITION_BY_NOTE = "note"  # year of the note version's published_date
PARTITION_BY_FETCH = "fetched_at"  # year of the fetch time

# Parquet field metadata key holding the column description (the lake documents itself too).
DESCRIPTION_KEY = b"description"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: pa.DataType
    description: str
    nullable: bool = True


@dataclass(frozen=True, slots=True)
class TableSpec:
    name: str
    description: str  # states the grain
    columns: tuple[Column, ...]
    keys: tuple[str, ...]  # unique and not null together
    partition: str | None
    order: tuple[str, ...] = ()  # sort order of every file (default: keys); fixed for idempotency

    @property
    def sort_keys(self) -> tuple[str, ...]:
        return self.order or self.keys

    @property
    def schema(self) -> pa.Schema:
        return pa.schema(
            pa.field(c.name, c.type, nullable=c.nullable,
                     metadata={DESCRIPTION_KEY: c.description.encode()})
            for c in self.columns
        )

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


@dataclass(frozen=True, slots=True)
class ViewSpec:
    name: str
    description: str
    columns: tuple[tuple[str, str], ...]  # (name, description) in view order


@dataclass(frozen=True, slots=True)
class MacroSpec:
    """A table macro published in the DuckDB file (not in the lake): `FROM name(parameters...)`."""

    name: str
    parameters: tuple[str, ...]
    description: str


def _key(name: str, type_: pa.DataType, description: str) -> Column:
    return Column(name, type_, description, nullable=False)


_NOTE_ID = "Stable note id: first 16 hex digits of the sha256 of the lower-cased URL path."
_VERSION = "Note version, 1 for the first content seen; +1 each time the normalised content changes."

NOTES = TableSpec(
    "notes",
    "One row per note version: a media note's metadata and body as first seen with that content.",
    (
        _key("note_id", TEXT, _NOTE_ID),
        _key("version", INT, _VERSION),
        Column("url", TEXT, "URL the version was fetched from."),
        Column("canonical_url", TEXT, "The page's own canonical URL (link rel=canonical), if any."),
        Column("site", TEXT, "Which state.gov site served it: www, 2017-2021, 2021-2025, 2009-2017, ..."),
        Column("layout", TEXT, "Which parser read the page: a known layout ('wordpress', 'drupal', 'wp-json') or the "
               "generic fallback as 'generic:<metadata>+<body root>' (e.g. 'generic:jsonld+article'): "
               "a redesigned page the known layouts did not recognise."),
        Column("title", TEXT, "Title of the release as printed."),
        Column("release_type", TEXT, "Release type as printed, e.g. 'Media Note'."),
        Column("office", TEXT, "Issuing office, e.g. 'Office of the Spokesperson'."),
        Column("published_date", DATE, "Publication date shown on the page."),
        Column("modified_at", TIMESTAMP, "Last-modified time declared by the page, UTC."),
        Column("dateline_place", TEXT, "Place in the dateline, e.g. 'Washington, DC'."),
        Column("dateline_date", DATE, "Date in the dateline (may differ from published_date)."),
        Column("tags", TEXT_LIST, "Topic tags shown on the page, in page order."),
        Column("body_text", TEXT, "All paragraphs' text joined by blank lines."),
        Column("paragraph_count", INT, "Number of paragraphs in the body."),
        Column("has_quoted_text", BOOL, "True when the body quotes a text between 'Begin Text:' and 'End Text'."),
        Column("quoted_start_seq", INT, "seq of the first quoted paragraph; null without quoted text."),
        Column("quoted_end_seq", INT, "seq one past the last quoted paragraph; null without quoted text."),
        Column("content_sha256", TEXT,
               "sha256 of the normalised content (metadata and paragraphs, not the raw page); "
               "a new value makes a new version."),
        Column("raw_sha256", TEXT,
               "sha256 of the raw page bytes this version was parsed from (key of the raw archive)."),
        Column("first_seen_at", TIMESTAMP, "When the note (any version) was first fetched, UTC."),
        Column("fetched_at", TIMESTAMP, "When this version was first fetched, UTC."),
        Column("parser_version", TEXT, "Version of the parser that produced this version."),
        Column("run_id", TEXT, "Run that loaded this version (see runs)."),
    ),
    ("note_id", "version"),
    PARTITION_BY_NOTE,
)

PARAGRAPHS = TableSpec(
    "paragraphs",
    "One row per paragraph of a note version, in body order. For the latest versions with their note's "
    "date and title see paragraphs_latest; to search the text, search_paragraphs('word').",
    (
        _key("note_id", TEXT, _NOTE_ID),
        _key("version", INT, "Note version the paragraph belongs to."),
        _key("seq", INT, "0-based position of the paragraph in the body."),
        Column("label", TEXT, "The printed paragraph number, e.g. '1'; null when unnumbered."),
        Column("kind", TEXT, "lead / body / numbered / list_item / quote / heading / table_row / closing."),
        Column("text", TEXT, "Paragraph text, normalised: whitespace collapsed, no non-breaking spaces, curly quotes kept."),
    ),
    ("note_id", "version", "seq"),
    PARTITION_BY_NOTE,
)

ACTORS = TableSpec(
    "actors",
    "One row per actor (country, organization, group, government, person, region): the dimension.",
    (
        _key("actor_id", TEXT, "Actor id: ISO 3166-1 alpha-3 for countries, else a slug like 'org:united-nations'."),
        Column("name", TEXT, "Canonical name."),
        Column("kind", TEXT, "country / organization / group / government / person / region."),
        Column("iso3", TEXT, "ISO alpha-3 of the country (for governments and persons: their country), when known."),
        Column("parent_id", TEXT, "actor_id of the parent, e.g. the UN Security Council's is the United Nations."),
        Column("aliases", TEXT_LIST, "Surfaces seen or known for this actor, sorted."),
    ),
    ("actor_id",),
    PARTITION_NONE,
)

MENTIONS = TableSpec(
    "mentions",
    "One row per actor mention in a note version's title or paragraph.",
    (
        _key("note_id", TEXT, _NOTE_ID),
        _key("version", INT, "Note version the mention belongs to."),
        _key("seq", INT, "seq of the paragraph mentioning the actor; -1 for the note's title."),
        _key("start", INT, "Character offset where the mention starts in the paragraph (or title) text."),
        _key("end", INT, "Character offset one past the mention's end."),
        Column("surface", TEXT, "The text as printed, e.g. 'Daesh'."),
        _key("actor_id", TEXT, "Actor mentioned (see actors)."),
        Column("role", TEXT, "For persons: the title as printed, e.g. 'Foreign Minister'."),
    ),
    ("note_id", "version", "seq", "start", "end", "actor_id"),
    PARTITION_BY_NOTE,
)

FETCHES = TableSpec(
    "fetches",
    "One row per HTTP exchange, successful or not.",
    (
        _key("url", TEXT, "URL requested."),
        Column("status", INT, "HTTP status; null when no response came back."),
        Column("etag", TEXT, "ETag response header."),
        Column("last_modified", TEXT, "Last-Modified response header, as sent."),
        Column("bytes", BIGINT, "Size of the response body in bytes."),
        Column("sha256", TEXT, "sha256 of the response body."),
        Column("elapsed_ms", BIGINT, "Time the exchange took, in milliseconds; null for a REST item (its body came in a listing response, no request of its own)."),
        Column("error", TEXT, "Why the fetch failed; null on success."),
        _key("fetched_at", TIMESTAMP, "When the request was made, UTC."),
        _key("run_id", TEXT, "Run that made the request (see runs)."),
    ),
    ("fetched_at", "url", "run_id"),
    PARTITION_BY_FETCH,
)

QUARANTINE = TableSpec(
    "quarantine",
    "One row per URL and stage that failed and has not loaded since.",
    (
        _key("url", TEXT, "URL that failed."),
        _key("stage", TEXT, "Stage that failed, e.g. fetch / parse / transform."),
        Column("reason", TEXT, "Latest reason, one line."),
        Column("raw_sha256", TEXT, "sha256 of the raw page of the latest attempt, when there was one."),
        Column("first_seen_at", TIMESTAMP, "First failed attempt, UTC."),
        Column("last_seen_at", TIMESTAMP, "Latest failed attempt, UTC."),
        Column("attempts", INT, "Number of failed attempts recorded."),
    ),
    ("url", "stage"),
    PARTITION_NONE,
)

RUNS = TableSpec(
    "runs",
    "One row per flow run.",
    (
        _key("run_id", TEXT, "Run id."),
        Column("flow", TEXT, "Flow that ran, e.g. nightly / backfill / reprocess / demo."),
        Column("parameters", TEXT, "The run's parameters, a JSON object."),
        _key("started_at", TIMESTAMP, "When the run started, UTC."),
        Column("finished_at", TIMESTAMP, "When the run finished, UTC; null while running."),
        Column("status", TEXT, "running / success / failed."),
        Column("counts", TEXT, "What the run did, a JSON object of counts (new, updated, unchanged, ...) "
               "and stage_seconds: seconds spent in each stage up to the lake's merge (publish and "
               "finish read 0 here: they come after this row is written)."),
    ),
    ("run_id",),
    PARTITION_NONE,
    order=("started_at", "run_id"),
)

TABLES: dict[str, TableSpec] = {
    t.name: t for t in (NOTES, PARAGRAPHS, ACTORS, MENTIONS, FETCHES, QUARANTINE, RUNS)
}

VIEWS: dict[str, ViewSpec] = {
    "notes_latest": ViewSpec(
        "notes_latest",
        "One row per note: its latest version (the notes table keeps every version).",
        tuple((c.name, c.description) for c in NOTES.columns),
    ),
    "paragraphs_latest": ViewSpec(
        "paragraphs_latest",
        "One row per paragraph of each note's latest version, in body order, with the note's date, title and "
        "URL. To find paragraphs containing a word, FROM search_paragraphs('word'): the rows of "
        "WHERE text ILIKE '%word%', in about 60% of the time.",
        (
            ("note_id", _NOTE_ID),
            ("version", "The note's latest version, which the paragraph belongs to."),
            ("seq", "0-based position of the paragraph in the body."),
            ("published_date", "Publication date of the note (notes_latest.published_date)."),
            ("title", "Title of the note (notes_latest.title)."),
            ("url", "URL the note's latest version was fetched from (notes_latest.url)."),
            ("label", "The printed paragraph number, e.g. '1'; null when unnumbered."),
            ("kind", "lead / body / numbered / list_item / quote / heading / table_row / closing."),
            ("text", "Paragraph text, normalised: whitespace collapsed, no non-breaking spaces, curly quotes kept."),
        ),
    ),
    "notes_by_month": ViewSpec(
        "notes_by_month",
        "One row per month of publication: how many notes (latest versions) were published in it.",
        (
            ("month", "First day of the month of published_date; null for notes without a date."),
            ("count_notes", "Number of notes published that month."),
        ),
    ),
    "actor_mentions_by_month": ViewSpec(
        "actor_mentions_by_month",
        "One row per actor and month of publication: how often the latest versions of that month's "
        "notes mention the actor, and in how many notes.",
        (
            ("actor_id", "Actor mentioned (see actors)."),
            ("name", "The actor's canonical name (from actors)."),
            ("kind", "The actor's kind: country / organization / group / government / person / region."),
            ("month", "First day of the month of the notes' published_date; null for notes without a date."),
            ("count_mentions", "Mentions of the actor in those notes' titles and paragraphs."),
            ("count_notes", "Notes mentioning the actor at least once."),
        ),
    ),
    "co_mentions": ViewSpec(
        "co_mentions",
        "One row per pair of actors named in the same note (latest version), actor_a < actor_b: "
        "in how many notes both are named.",
        (
            ("actor_a", "The pair's first actor_id, in sort order (see actors)."),
            ("actor_b", "The pair's second actor_id, in sort order (see actors)."),
            ("name_a", "actor_a's canonical name."),
            ("name_b", "actor_b's canonical name."),
            ("count_notes", "Notes whose latest version names both actors."),
            ("first_published_date", "Earliest published_date among those notes."),
            ("last_published_date", "Latest published_date among those notes."),
        ),
    ),
}

# Table macros: functions an analyst calls in FROM; documented by COMMENT ON MACRO TABLE like the views.
MACROS: dict[str, MacroSpec] = {
    "search_paragraphs": MacroSpec(
        "search_paragraphs",
        ("term",),
        "The rows of paragraphs_latest (same columns) whose text contains term, ignoring case: "
        "FROM search_paragraphs('humanitarian') ORDER BY published_date DESC, seq. term is plain text, "
        "matched literally (no wildcards: '%', '_' and '.' stand for themselves). The same rows as "
        "paragraphs_latest WHERE text ILIKE '%term%' (for a term without '%' or '_') in about 60% of the "
        "time: every paragraph's text is still read, but with regexp_matches(text, regexp_escape(term), 'i'), "
        "a case-insensitive literal search that scans text about three times as fast as ILIKE. Case is "
        "folded the regular-expression way (Unicode simple case folding), which for a few non-ASCII "
        "letters can differ from ILIKE's lower-casing.",
    ),
}


def spec(table: str) -> TableSpec:
    """The spec of a table, by name (KeyError names the known tables)."""
    try:
        return TABLES[table]
    except KeyError:
        raise KeyError(f"unknown table {table!r}; known: {', '.join(TABLES)}") from None
