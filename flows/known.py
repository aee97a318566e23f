"""What the lake already knows when a run starts, read once per run: the validators of each URL's
latest good fetch (for conditional GET), each note's latest page metadata (for REST items), the
quarantined URLs (retried by every nightly run, whatever its window), and the layouts of the
latest successful runs (to see a jump in fallback layouts).

A fetch counts when it named an archived body: status 200, or 304 (which confirmed the body an
earlier 200 archived). Its ETag / Last-Modified go out as If-None-Match / If-Modified-Since; a 304
answer then means "the archived copy `sha256` is still the page".
A REST item has no release type, office or tags (page chrome; `extractors.rest`), and the note's
content hash covers them: a note read from the REST API after its page would look edited. So a
REST note takes them from its note's latest stored version (`fill_from_previous`). A note seen
first through the REST API gains a version when a page fetch later supplies them.
"""

from __future__ import annotations

import dataclasses
import json

import duckdb

from statenotes.extractors.records import Validators, note_id_for
from statenotes.extractors.selectors import LAYOUT_WP_JSON
from statenotes.warehouse.lake import Lake
from statenotes.warehouse.records import RUN_SUCCESS, LoadedNote

OK, NOT_MODIFIED = 200, 304

VALIDATORS_SQL = f"""
select url, etag, last_modified, sha256 from (
    select url, etag, last_modified, sha256,
           row_number() over (partition by url order by fetched_at desc) as newest
    from read_parquet(?, hive_partitioning = true)
    where status in ({OK}, {NOT_MODIFIED}) and sha256 is not null and sha256 <> ''
) where newest = 1
"""

METADATA_SQL = """
select note_id, release_type, office, tags from (
    select note_id, release_type, office, tags,
           row_number() over (partition by note_id order by version desc) as newest
    from read_parquet(?, hive_partitioning = true)
) where newest = 1
"""


@dataclasses.dataclass(frozen=True, slots=True)
class PageMetadata:
    release_type: str | None
    office: str | None
    tags: tuple[str, ...]


def _query(lake: Lake, table: str, sql: str) -> list[tuple]:
    """`sql` over the table's committed files (its one parameter), read under the lake's shared lock;
    no rows while the table has no file."""
    with lake.snapshot() as files:
        paths = [str(f) for f in files[table]]
        if not paths:
            return []
        with duckdb.connect() as con:
            return con.execute(sql, [paths]).fetchall()


def latest_validators(lake: Lake) -> dict[str, Validators]:
    """url -> the validators of its latest fetch that named an archived body."""
    rows = _query(lake, "fetches", VALIDATORS_SQL)
    return {url: Validators(etag=etag, last_modified=last_modified, sha256=sha)
            for url, etag, last_modified, sha in rows if etag or last_modified}


def latest_metadata(lake: Lake) -> dict[str, PageMetadata]:
    """note_id -> release type, office and tags of its latest stored version."""
    rows = _query(lake, "notes", METADATA_SQL)
    return {note_id: PageMetadata(release_type, office, tuple(tags or ())) for note_id, release_type, office, tags in rows}


def fill_from_previous(loaded: list[LoadedNote], known: dict[str, PageMetadata]) -> list[LoadedNote]:
    """Notes read from REST items (layout wp-json) take their note's stored release type, office and
    tags; notes that have them, or whose note is new, are returned as they are."""
    filled = []
    for item in loaded:
        note = item.note
        previous = known.get(note_id_for(item.url))
        if previous is not None and note.layout == LAYOUT_WP_JSON:
            note = dataclasses.replace(note, release_type=previous.release_type, office=previous.office,
                                       tags=list(previous.tags))
            item = dataclasses.replace(item, note=note)
        filled.append(item)
    return filled


def quarantined_urls(lake: Lake) -> list[str]:
    """Every URL in quarantine (any stage), sorted."""
    rows = _query(lake, "quarantine", "select distinct url from read_parquet(?) order by url")
    return [url for (url,) in rows]


RECENT_RUNS_SQL = f"""
select counts from read_parquet(?) where status = '{RUN_SUCCESS}' and flow <> 'reprocess'
order by started_at desc limit ?
"""


def recent_layouts(lake: Lake, limit: int) -> list[dict[str, int]]:
    """Notes by layout of the latest `limit` successful crawls (runs before the count existed: none)."""
    with lake.snapshot() as files:
        paths = [str(f) for f in files["runs"]]
        if not paths:
            return []
        with duckdb.connect() as con:
            rows = con.execute(RECENT_RUNS_SQL, [paths, limit]).fetchall()
    layouts = []
    for (counts,) in rows:
        found = json.loads(counts or "{}").get("layouts")
        if isinstance(found, dict):
            layouts.append({str(k): int(v) for k, v in found.items()})
    return layouts


class StoredMetadata:
    """`latest_metadata` of the lake, read when a REST note first needs it (most runs have none,
    and at 100,000 notes the map is tens of MB)."""

    def __init__(self, lake: Lake):
        self._lake = lake
        self._known: dict[str, PageMetadata] | None = None

    def fill(self, loaded: list[LoadedNote]) -> list[LoadedNote]:
        if not any(item.note.layout == LAYOUT_WP_JSON for item in loaded):
            return loaded
        if self._known is None:
            self._known = latest_metadata(self._lake)
        return fill_from_previous(loaded, self._known)
