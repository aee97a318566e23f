"""The end-to-end benchmark's measurements after the backfill: parsers side by side on the run's own
pages, publishing alone, analyst queries, and a no-change nightly run as an operator starts it."""

from __future__ import annotations

import gc
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import lxml.html

from statenotes.extractors.archive import RawArchive
from statenotes.extractors.parse import parse_note
from statenotes.transforms.paragraphs import normalise_body

WARMUP_PAGES = 20
NIGHTLY_TIMEOUT_S = 600
# The analyst's three questions (bench/README.md, "End to end"), run on the published file.
QUERIES = {
    "by_month": "select month, count_notes from notes_by_month order by month desc",
    "by_actor": ("select n.published_date, n.title from notes_latest n join mentions m using (note_id, version) "
                 "where m.actor_id = 'IRQ' group by all order by n.published_date desc"),
    # The documented search (docs/schema.md, search_paragraphs): the same rows as
    # `paragraphs p join notes_latest n using (note_id, version) where p.text ilike '%humanitarian%'`.
    "text_search": ("select published_date, title, label, text from search_paragraphs('humanitarian') "
                    "order by published_date desc, seq"),
}


def _ms(started: int) -> float:
    return (time.perf_counter_ns() - started) / 1e6


def sample_pages(db_path: Path, raw_dir: Path, limit: int) -> list[tuple[str, bytes]]:
    """Up to `limit` (url, raw bytes) of the run's note pages, spread evenly over the sha256 order."""
    with duckdb.connect(str(db_path), read_only=True) as con:
        rows = con.execute("select url, raw_sha256 from notes_latest order by raw_sha256").fetchall()
    step = max(1, len(rows) // max(1, limit))
    archive = RawArchive(raw_dir)
    return [(url, archive.get(sha)) for url, sha in rows[::step][:limit]]


def compare_parsers(pages: list[tuple[str, bytes]]) -> dict[str, float | int | None]:
    """Mean ms per page of statenotes (parse_note + normalise_body, from the bytes), trafilatura.extract
    and lxml.html.fromstring (both from the decoded text, as bench/extraction_eval.py gives them),
    interleaved page by page so that all three see the same machine load."""
    try:
        import trafilatura
    except ImportError:  # the bench group is not installed: uv run --group bench ...
        trafilatura = None
    decoded = [(url, body, body.decode("utf-8", "replace")) for url, body in pages]

    def statenotes(url: str, body: bytes) -> None:
        normalise_body(parse_note(body, url, None).blocks)

    for url, body, text in decoded[:WARMUP_PAGES]:
        statenotes(url, body), lxml.html.fromstring(text)
        if trafilatura:
            trafilatura.extract(text, url=url, include_tables=True, include_comments=False)
    gc.collect()
    ours, theirs, floor = [], [], []
    for url, body, text in decoded:
        started = time.perf_counter_ns()
        statenotes(url, body)
        ours.append(_ms(started))
        if trafilatura:
            started = time.perf_counter_ns()
            trafilatura.extract(text, url=url, include_tables=True, include_comments=False)
            theirs.append(_ms(started))
        started = time.perf_counter_ns()
        lxml.html.fromstring(text)
        floor.append(_ms(started))
    mean = lambda values: round(statistics.fmean(values), 3) if values else None  # noqa: E731
    result = {"parse_pages_compared": len(decoded), "parse_ms_statenotes": mean(ours),
              "parse_ms_trafilatura": mean(theirs), "parse_ms_lxml": mean(floor)}
    result["parse_ratio_vs_trafilatura"] = (round(result["parse_ms_statenotes"] / result["parse_ms_trafilatura"], 3)
                                            if theirs and ours else None)
    return result


def analyst_queries(db_path: Path, runs: int) -> dict[str, dict[str, float | int]]:
    """Each query `runs` times on one read-only connection: the first run's ms, the median, rows."""
    out = {}
    with duckdb.connect(str(db_path), read_only=True) as con:
        for name, sql in QUERIES.items():
            times, rows = [], 0
            for _ in range(runs):
                started = time.perf_counter_ns()
                rows = len(con.execute(sql).fetchall())
                times.append(_ms(started))
            out[name] = {"first_ms": round(times[0], 1), "p50_ms": round(statistics.median(times), 1), "rows": rows}
    return out


@dataclass(frozen=True, slots=True)
class NightlyResult:
    wall_s: float
    returncode: int
    output_tail: str


def nightly_subprocess(env: dict[str, str], on_start=lambda pid: None) -> NightlyResult:
    """`statenotes run` in a new process, timed from its start to its exit (Prefect's start-up included)."""
    command = [str(Path(sys.executable).with_name("statenotes")), "run"]
    if not Path(command[0]).exists():
        command = [sys.executable, "-c", "from statenotes.flows.cli import app; app()", "run"]
    started = time.perf_counter()
    process = subprocess.Popen(command, env={**os.environ, **env}, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    on_start(process.pid)
    try:
        output, _ = process.communicate(timeout=NIGHTLY_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    wall = time.perf_counter() - started
    return NightlyResult(round(wall, 2), process.returncode, "\n".join(output.strip().splitlines()[-25:]))
