"""Which archived pages `reprocess` reads again: the latest successful fetch of every URL that was
ever a note or failed to parse, found in the lake (`fetches` maps url -> sha256 of the raw body),
in order of the year the note was published, so that each batch's rows fall in few of the lake's
year partitions.

Listing pages, robots.txt and pages that failed to download are not candidates: the first were
never notes, the last have no body to re-read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from statenotes.extractors.archive import RawArchive
from statenotes.extractors.errors import ArchiveError
from statenotes.flows.pages import STAGE_PARSE, RawPage
from statenotes.warehouse.lake import Lake

CANDIDATES_SQL = f"""
with candidates as (
    select url, max(year(published_date)) as year from (
        select url, published_date from notes
        union all
        select url, null from quarantine where stage = '{STAGE_PARSE}'
    ) group by url
), latest as (
    select url, sha256, fetched_at,
           row_number() over (partition by url order by fetched_at desc) as newest
    from fetches
    where status between 200 and 299 and sha256 is not null and coalesce(bytes, 0) > 0
)
select c.url, l.sha256, l.fetched_at
from candidates c left join latest l on l.url = c.url and l.newest = 1
order by c.year nulls last, c.url
"""


@dataclass(frozen=True, slots=True)
class ArchivedPage:
    url: str
    sha256: str | None  # None: no successful fetch of this URL is on record
    fetched_at: datetime | None


def _relation(con: duckdb.DuckDBPyConnection, name: str, files: list[Path], columns: str) -> None:
    if files:  # a view cannot take a prepared parameter: the file list goes in as literals
        paths = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
        con.execute(f"create view {name} as select {columns} from read_parquet([{paths}], hive_partitioning = true)")
    else:  # a table with no file yet is empty, not missing
        con.execute(f"create view {name} as select {columns} from (select null::varchar as url, "
                    "null::varchar as stage, null::varchar as sha256, null::timestamptz as fetched_at, "
                    "null::integer as status, null::bigint as bytes, null::date as published_date) where false")


def archived_pages(lake: Lake) -> list[ArchivedPage]:
    """Every candidate URL with its latest successfully fetched raw body (by sha256)."""
    with lake.snapshot() as files, duckdb.connect() as con:
        _relation(con, "notes", files["notes"], "url, published_date")
        _relation(con, "quarantine", files["quarantine"], "url, stage")
        _relation(con, "fetches", files["fetches"], "url, sha256, fetched_at, status, bytes")
        rows = con.execute(CANDIDATES_SQL).fetchall()
    return [ArchivedPage(url, sha, fetched_at) for url, sha, fetched_at in rows]


def read_pages(archived: list[ArchivedPage], archive: RawArchive) -> tuple[list[RawPage], list[str]]:
    """The raw pages to parse, and one line per page that cannot be read back (missing, corrupt)."""
    pages, problems = [], []
    for item in archived:
        if item.sha256 is None:
            problems.append(f"{item.url}: no successful fetch on record")
            continue
        try:
            body = archive.get(item.sha256)
        except ArchiveError as exc:  # missing or damaged: skipped, named; the loaded version stays
            problems.append(f"{item.url}: {exc}")
            continue
        # The response's Content-Type is not kept: the encoding comes from the page itself.
        pages.append(RawPage(url=item.url, raw_sha256=item.sha256, fetched_at=item.fetched_at,
                             content_type=None, body=body))
    return pages, problems
