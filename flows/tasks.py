"""The Prefect tasks the flows compose. Each wraps stage functions and works on a batch of pages.

Network-facing tasks (discovery, fetching) run in the flow's process and retry (settings
task_retries); they carry the tag `statenotes-http`, so an operator can cap requests across
concurrent runs with a Prefect tag concurrency limit. Parsing is pure and does not retry."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlsplit

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.tasks import Task

from statenotes.extractors.archive import RawArchive
from statenotes.extractors.credentials import redact
from statenotes.extractors.discover_modes import discover
from statenotes.extractors.http import Fetcher
from statenotes.extractors.records import FetchRecord, NoteRef, Validators
from statenotes.flows import progress
from statenotes.flows.parameters import DiscoveryMode
from statenotes.flows.pages import BatchOutcome, FetchedBatch, RawPage, fetch_pages, parse_pages
from statenotes.flows.settings import Settings
from statenotes.flows.stages import StageClock
from statenotes.flows.summary import RunSummary
from statenotes.transforms.actors import gazetteer_actors, load_gazetteer
from statenotes.warehouse.lake import Lake
from statenotes.warehouse.publish import PreparedFile, discard, install, prepare
from statenotes.warehouse.records import RUN_SUCCESS, FetchLog, QuarantineItem, RunRecord
from statenotes.warehouse.rows import actor_table
from statenotes.warehouse.spool import CandidateSpool

HTTP_TAG = "statenotes-http"
REST_ITEM_STATUS = 200  # the listing response's status, which carried the item


def retrying(task_: Task, settings: Settings) -> Task:
    return task_.with_options(retries=settings.task_retries, retry_delay_seconds=settings.task_retry_delay_s)


@task(name="discover", cache_policy=NO_CACHE, tags=[HTTP_TAG])
def discover_notes(fetcher: Fetcher, settings: Settings, start: date, end: date,
                   mode: str = DiscoveryMode.LISTING.value) -> list[NoteRef]:
    logger = get_run_logger()
    parts = urlsplit(settings.base_url)
    delay = fetcher.crawl_delay_for(f"{parts.scheme}://{parts.netloc}")
    found = discover(fetcher.fetch_page, settings.base_url, start, end, mode,
                     release_types=frozenset(settings.release_types) or None, admit=fetcher.admit)
    for failed, reason in found.failures:
        logger.warning("discovery by %s failed (%s); %s was used instead", failed, reason, found.mode)
    refs = found.refs
    logger.info("discovered %d notes listed %s..%s at %s (%s, %d requests)", len(refs), start, end,
                redact(settings.base_url), found.mode, found.requests)
    if not refs:
        logger.warning("no note listed %s..%s at %s with types %s: if notes are expected, open the "
                       "listing page in a browser and check base_url and release_types",
                       start, end, redact(settings.base_url), settings.release_types)
    elif delay:
        logger.info("crawl delay %.1f s: fetching %d pages takes at least %.0f min",
                    delay, len(refs), len(refs) * delay / 60)
    return refs


@task(name="fetch-pages", cache_policy=NO_CACHE, tags=[HTTP_TAG])
def fetch_batch(urls: list[str], fetcher: Fetcher, archive: RawArchive, concurrency: int,
                validators: dict[str, Validators] | None = None) -> FetchedBatch:
    batch = fetch_pages(urls, fetcher, archive, concurrency, on_page=progress.current().advance,
                        validators=validators)
    if batch.quarantined:
        reasons = sorted({q.reason for q in batch.quarantined})
        get_run_logger().warning("%d of %d pages could not be fetched (%s); they are quarantined and "
                                 "retried next run", len(batch.quarantined), len(urls), "; ".join(reasons[:3]))
    return batch


@task(name="parse-pages", cache_policy=NO_CACHE)
def parse_batch(pages: list[RawPage]) -> BatchOutcome:
    outcome = parse_pages(pages)
    if outcome.quarantined:
        get_run_logger().warning(
            "%d of %d pages are not loadable releases: %s", len(outcome.quarantined), len(pages),
            "; ".join(f"{q.url} ({q.reason})" for q in outcome.quarantined[:3]))
    return outcome


def fetch_log(record: FetchRecord) -> FetchLog:
    return FetchLog(url=redact(record.url), status=record.status, etag=record.etag, last_modified=record.last_modified,
                    bytes=record.bytes, sha256=record.sha256, elapsed_ms=record.elapsed_ms, error=record.error,
                    fetched_at=record.fetched_at)


def rest_fetch_log(ref: NoteRef) -> FetchLog:
    """The row of a release whose body came in a REST listing response: no request of its own
    (`elapsed_ms` null), but the url -> archived body link `reprocess` and quarantine need."""
    item = ref.item
    return FetchLog(url=redact(ref.url), status=REST_ITEM_STATUS, etag=None, last_modified=None, bytes=len(item.raw),
                    sha256=item.sha256, elapsed_ms=None, error=None, fetched_at=item.fetched_at)


@task(name="commit-and-publish", cache_policy=NO_CACHE)
def commit_and_publish(summary: RunSummary, spool: CandidateSpool, quarantined: list[QuarantineItem],
                       settings: Settings, started_at: datetime, parameters: dict, clock_start: float,
                       stages: StageClock) -> RunSummary:
    """One lake transaction for the whole run (the spooled rows merged partition by partition), its
    DuckDB file built from the staged lake before the commit point and swapped in after it: any
    failure up to the commit changes nothing.

    The `runs` row is written inside the transaction, so its stage_seconds stop at the merge: the
    DuckDB build (publish) and finish are in the summary the flow returns and in its artifacts."""
    prepared: list[PreparedFile] = []
    build_seconds: list[float] = []
    lake = Lake(settings.lake_dir)

    def build_duckdb(files: dict[str, list[Path]]) -> None:
        started = time.perf_counter()
        prepared.append(prepare(files, settings.db_path))
        build_seconds.append(time.perf_counter() - started)

    merging = time.perf_counter()
    try:
        with lake.transaction(before_commit=build_duckdb) as tx:
            counts = tx.merge_spooled(spool)
            tx.upsert_actors(actor_table(gazetteer_actors(load_gazetteer())))
            tx.append_spooled_fetches(spool, summary.run_id)
            tx.upsert_quarantine(quarantined)
            tx.clear_quarantine(spool.urls())
            summary.new, summary.updated, summary.unchanged = counts.new, counts.updated, counts.unchanged
            summary.seconds = round(time.monotonic() - clock_start, 3)
            stages.add("parquet", time.perf_counter() - merging)
            summary.stage_seconds = stages.seconds()
            tx.append_run(RunRecord(
                run_id=summary.run_id, flow=summary.flow, started_at=started_at, status=RUN_SUCCESS,
                finished_at=datetime.now(UTC), counts=summary.counts(), parameters=parameters))
            merging = time.perf_counter()
    except BaseException:
        for item in prepared:
            discard(item)
        raise
    # the commit itself (the runs file, fsyncs, renames) is parquet time; the DuckDB build is publish
    stages.add("parquet", time.perf_counter() - merging - sum(build_seconds))
    with stages.timing("publish"):
        install(prepared[-1])
    stages.add("publish", sum(build_seconds))
    summary.stage_seconds = stages.seconds()
    summary.db_path = str(settings.db_path)
    get_run_logger().info("published %s: %d new, %d updated, %d unchanged, %d quarantined",
                          settings.db_path, summary.new, summary.updated, summary.unchanged,
                          len(summary.quarantined))
    return summary
