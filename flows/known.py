"""What the lake already knows about URLs when a run starts, read once per run: the validators of
each URL's latest good fetch (for conditional GET).

A fetch counts when it named an archived body: status 200, or 304 (which confirmed the body an
earlier 200 archived). Its ETag / Last-Modified go out as If-None-Match / If-Modified-Since; a 304
answer then means "the archived copy `sha256` is still the page"."""

from __future__ import annotations

from pathlib import Path

import duckdb

from statenotes.extractors.records import Validators
from statenotes.warehouse.lake import Lake

OK, NOT_MODIFIED = 200, 304

VALIDATORS_SQL = f"""
select url, etag, last_modified, sha256 from (
    select url, etag, last_modified, sha256,
           row_number() over (partition by url order by fetched_at desc) as newest
    from read_parquet(?, hive_partitioning = true)
    where status in ({OK}, {NOT_MODIFIED}) and sha256 is not null and sha256 <> ''
) where newest = 1
"""


def _paths(files: list[Path]) -> list[str]:
    return [str(f) for f in files]


def latest_validators(lake: Lake) -> dict[str, Validators]:
    """url -> the validators of its latest fetch that named an archived body."""
    with lake.snapshot() as files:
        fetches = _paths(files["fetches"])
        if not fetches:
            return {}
        with duckdb.connect() as con:
            rows = con.execute(VALIDATORS_SQL, [fetches]).fetchall()
    return {url: Validators(etag=etag, last_modified=last_modified, sha256=sha)
            for url, etag, last_modified, sha in rows if etag or last_modified}
