"""Prefect flows: `backfill` (a date range), `nightly` (incremental from the watermark).

Flows only compose. Tasks wrap the stage functions and work on batches of pages, not one task per
page; only the network-facing task retries."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from statenotes.extractors.archive import RawArchive
from statenotes.extractors.discover import discover_from_listing
from statenotes.extractors.http import Fetcher
from statenotes.extractors.records import FetchRecord, NoteRef
from statenotes.flows import progress
from statenotes.flows.pages import BatchOutcome, process_urls
from statenotes.flows.settings import Settings, load_settings
from statenotes.transforms.actors import gazetteer_actors, load_gazetteer
from statenotes.warehouse.lake import Lake
from statenotes.warehouse.publish import publish
from statenotes.warehouse.records import RUN_SUCCESS, FetchLog, RunRecord
from statenotes.warehouse.rows import actor_table, note_tables

SITE_URLS = {
    "www": "https://www.state.gov",
    "2017-2021": "https://2017-2021.state.gov",
    "2021-2025": "https://2021-2025.state.gov",
}


@dataclass(slots=True)
class RunSummary:
    run_id: str
    flow: str
    start: date
    end: date
    base_url: str
    discovered: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: list[tuple[str, str, str]] = field(default_factory=list)  # url, stage, reason
    requests: int = 0
    bytes: int = 0
    seconds: float = 0.0
    db_path: str = ""

    def counts(self) -> dict[str, int]:
        return {"discovered": self.discovered, "new": self.new, "updated": self.updated,
                "unchanged": self.unchanged, "quarantined": len(self.quarantined),
                "requests": self.requests, "bytes": self.bytes}


@task(retries=2, retry_delay_seconds=10, cache_policy=NO_CACHE)
def discover_notes(fetcher: Fetcher, settings: Settings, start: date, end: date) -> list[NoteRef]:
    refs = list(discover_from_listing(
        lambda url: fetcher.fetch_page(url).body, settings.base_url, start, end,
        frozenset(settings.release_types) or None))
    get_run_logger().info("discovered %d notes listed %s..%s at %s", len(refs), start, end, settings.base_url)
    return refs


@task(cache_policy=NO_CACHE)
def process_batch(urls: list[str], fetcher: Fetcher, archive: RawArchive, gazetteer) -> BatchOutcome:
    reporter = progress.current()
    return process_urls(urls, fetcher, archive, gazetteer, on_page=reporter.advance)


def fetch_log(record: FetchRecord) -> FetchLog:
    return FetchLog(url=record.url, status=record.status, etag=record.etag, last_modified=record.last_modified,
                    bytes=record.bytes, sha256=record.sha256, elapsed_ms=record.elapsed_ms, error=record.error,
                    fetched_at=record.fetched_at)


@task(cache_policy=NO_CACHE)
def load_and_publish(summary: RunSummary, outcome: BatchOutcome, fetcher: Fetcher, settings: Settings,
                     gazetteer, started_at: datetime, parameters: dict) -> RunSummary:
    lake = Lake(settings.lake_dir)
    with lake.transaction() as tx:
        counts = tx.merge_notes(note_tables(outcome.loaded, summary.run_id))
        tx.upsert_actors(actor_table(gazetteer_actors(gazetteer)))
        tx.append_fetches([fetch_log(r) for r in fetcher.log], summary.run_id)
        tx.upsert_quarantine(outcome.quarantined)
        tx.clear_quarantine(sorted({n.url for n in outcome.loaded}))
        summary.new, summary.updated, summary.unchanged = counts.new, counts.updated, counts.unchanged
        summary.requests = fetcher.request_count
        summary.bytes = sum(r.bytes for r in fetcher.log)
        tx.append_run(RunRecord(
            run_id=summary.run_id, flow=summary.flow, started_at=started_at, status=RUN_SUCCESS,
            finished_at=datetime.now(UTC), counts=summary.counts(),
            parameters={**parameters, "start": summary.start.isoformat(), "end": summary.end.isoformat(),
                        "base_url": summary.base_url}))
    publish(lake, settings.db_path)
    summary.db_path = str(settings.db_path)
    return summary


def _run(flow_name: str, start: date, end: date, settings: Settings, parameters: dict) -> RunSummary:
    logger = get_run_logger()
    if start > end:
        raise ValueError(f"start {start} is after end {end}")
    started_at, clock = datetime.now(UTC), time.monotonic()
    run_id = f"{started_at:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    summary = RunSummary(run_id=run_id, flow=flow_name, start=start, end=end, base_url=settings.base_url)
    gazetteer = load_gazetteer()
    archive = RawArchive(settings.raw_dir)
    outcome = BatchOutcome()
    with Fetcher(settings.fetch_policy()) as fetcher:
        refs = discover_notes(fetcher, settings, start, end)
        summary.discovered = len(refs)
        progress.current().add_total(len(refs))
        urls = [ref.url for ref in refs]
        for i in range(0, len(urls), settings.batch_size):
            outcome.extend(process_batch(urls[i:i + settings.batch_size], fetcher, archive, gazetteer))
        summary.quarantined = [(q.url, q.stage, q.reason) for q in outcome.quarantined]
        summary = load_and_publish(summary, outcome, fetcher, settings, gazetteer, started_at, parameters)
    summary.seconds = round(time.monotonic() - clock, 3)
    logger.info("run %s: %s", run_id, summary.counts())
    return summary


def _resolve(settings: Settings | None, site: str | None) -> Settings:
    settings = settings or load_settings()
    if site:
        settings = settings.model_copy(update={"base_url": SITE_URLS.get(site, site).rstrip("/")})
    return settings


@flow(name="backfill", log_prints=False)
def backfill(start: date, end: date, site: str | None = None, settings: Settings | None = None) -> RunSummary:
    """Load every media note listed between `start` and `end` (inclusive)."""
    settings = _resolve(settings, site)
    return _run("backfill", start, end, settings, {"start": start, "end": end, "site": site})


def nightly_window(lake: Lake, today: date, lookback_days: int, overlap_days: int) -> tuple[date, date]:
    """From the last successful run's end minus an overlap (edits and late listings), else a lookback."""
    last = lake.last_successful_run("nightly")
    if last is None or "end" not in last.parameters:
        return today - timedelta(days=lookback_days), today
    watermark = min(date.fromisoformat(last.parameters["end"]), today)
    return watermark - timedelta(days=overlap_days), today


@flow(name="nightly", log_prints=False)
def nightly(settings: Settings | None = None) -> RunSummary:
    """The incremental run: everything listed since the watermark (minus an overlap)."""
    settings = _resolve(settings, None)
    start, end = nightly_window(Lake(settings.lake_dir), datetime.now(UTC).date(),
                                settings.lookback_days, settings.overlap_days)
    return _run("nightly", start, end, settings, {"start": start, "end": end})


logging.getLogger("statenotes").addHandler(logging.NullHandler())
