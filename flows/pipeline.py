"""Prefect flows: `backfill` (a window of listed dates), `nightly` (incremental from the watermark)
and `reprocess` (the raw archive parsed again, without the network).

Flows only compose. Fetching happens in the flow's process; parsing is submitted to the task
runner the settings choose (threads, or Dask) while the next batch downloads, and each parsed batch
is staged as candidate rows in the run's spool on disk (flows/loading.py), so memory does not grow
with the run. The lake commits the spool in one transaction at the end, and the DuckDB file lands
with it: a run that fails leaves the warehouse as it was and records nothing."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from prefect import flow, get_run_logger
from prefect.states import Failed, State
from prefect.utilities.annotations import quote
from pydantic import ValidationError

from statenotes.extractors.archive import RawArchive
from statenotes.extractors.credentials import redact
from statenotes.extractors.http import Fetcher
from statenotes.extractors.records import NoteRef
from statenotes.flows import interrupts, prefect_run, progress
from statenotes.flows.health import RECENT_RUNS, RunFailed, fallback_jump, quarantine_failure
from statenotes.flows.known import StoredMetadata, latest_validators, quarantined_urls, recent_layouts
from statenotes.flows.loading import SpooledLoad
from statenotes.flows.parameters import BackfillRequest, DiscoveryMode, request_problems
from statenotes.flows.pages import rest_fallback, rest_pages
from statenotes.flows.reprocess import archived_pages, read_pages
from statenotes.flows.runlock import start_run
from statenotes.flows.runners import parse_runner
from statenotes.flows.settings import Settings, settings_for_run
from statenotes.flows.stages import StageClock
from statenotes.flows.summary import RunSummary, publish_artifacts
from statenotes.flows.tasks import (
    REST_ITEM_STATUS,
    commit_and_publish,
    discover_notes,
    fetch_batch,
    fetch_log,
    rest_fetch_log,
    retrying,
)
from statenotes.warehouse.lake import Lake
from statenotes.warehouse.records import FetchLog
from statenotes.warehouse.spool import CandidateSpool

log = logging.getLogger(__name__)

REPORT_FILENAME = "report.html"  # written beside the DuckDB file after every run


def _new_summary(flow_name: str, start: date | None, end: date | None, settings: Settings,
                 run_id: str) -> RunSummary:
    prefect_run.name_after(run_id)
    return RunSummary(run_id=run_id, flow=flow_name, start=start, end=end, base_url=redact(settings.base_url))


def _batches(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _finish(summary: RunSummary, load: SpooledLoad, settings: Settings, stages: StageClock) -> RunSummary:
    """After the commit: the report, the Delta tables and the artifacts. The run has succeeded
    by now, so a failure here is logged, not raised (the next run redoes all three)."""
    from statenotes.flows.report import write_report

    logger = get_run_logger()
    summary.top_actors = load.actors.top()
    with stages.timing("finish"):
        try:
            summary.report_path = str(write_report(settings.db_path, settings.data_dir / REPORT_FILENAME))
            if settings.report_base_url:
                summary.report_url = settings.report_base_url + REPORT_FILENAME
        except Exception as exc:  # noqa: BLE001 - see the docstring
            logger.warning("report not written (%s: %s); `statenotes report` retries it", type(exc).__name__, exc)
        if settings.delta_uri:
            _publish_delta(settings, summary.run_id, logger)
        summary.stage_seconds = stages.seconds()
        try:
            publish_artifacts(summary)
        except Exception as exc:  # noqa: BLE001
            logger.warning("artifacts not created (%s: %s)", type(exc).__name__, exc)
    summary.stage_seconds = stages.seconds()
    logger.info("run %s: %s", summary.run_id, summary.counts())
    return summary


def _publish_delta(settings: Settings, run_id: str, logger) -> None:
    from statenotes.warehouse.delta import publish, redacted

    target = redacted(settings.delta_uri)
    try:
        result = publish(Lake(settings.lake_dir), settings.delta_uri, run_id)
        logger.info("lake published as Delta tables to %s (%s)", target,
                    ", ".join(f"{t} v{result.versions[t]}" for t in result.committed) or "nothing changed")
    except Exception as exc:  # noqa: BLE001 - the lake and the DuckDB file are committed; the next run publishes
        logger.warning("lake not published to %s (%s: %s); the next run publishes what is missing",
                       target, type(exc).__name__, redact(str(exc).replace(settings.delta_uri, target))[:500])


@contextlib.contextmanager
def _says_what_a_failure_left(settings: Settings) -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        get_run_logger().error(
            "run failed (%s: %s); nothing was committed: the lake and %s are as they were and no run is "
            "recorded as a success. Fix the cause and run the same parameters again.",
            type(exc).__name__, redact(str(exc)), settings.db_path)
        prefect_run.allow_retries_for(exc, settings.flow_retries, settings.flow_retry_delay_s)
        raise


def _crawl(flow_name: str, start: date, end: date, settings: Settings, parameters: dict,
           discovery: str = DiscoveryMode.LISTING.value) -> RunSummary:
    with _says_what_a_failure_left(settings), start_run(settings, flow_name) as run_id:
        return _crawl_window(flow_name, start, end, settings, parameters, discovery, False, run_id)


def _with_quarantined(refs: list[NoteRef], lake: Lake, admit) -> list[NoteRef]:
    """The window's refs plus every quarantined URL outside it (fetched as a page) that the URL
    policy admits (an earlier run, or other settings, may have quarantined another origin's URL)."""
    listed = {ref.url for ref in refs}
    return refs + [NoteRef(url=url) for url in quarantined_urls(lake) if url not in listed and admit(url)]


def _spool_fetches(spool: CandidateSpool, fetcher: Fetcher, summary: RunSummary) -> None:
    """Move the fetcher's log of requests so far into the spool (not held until the end)."""
    fetches = [fetch_log(record) for record in fetcher.take_log()]
    summary.requests += len(fetches)
    summary.bytes += sum(f.bytes or 0 for f in fetches)
    spool.add_fetches(fetches)


def _crawl_window(flow_name: str, start: date, end: date, settings: Settings, parameters: dict,
                  discovery: str, retry_quarantined: bool, run_id: str) -> RunSummary:
    logger = get_run_logger()
    started_at, clock, stages = datetime.now(UTC), time.monotonic(), StageClock()
    summary = _new_summary(flow_name, start, end, settings, run_id)
    logger.info("%s %s: notes listed %s..%s at %s into %s", flow_name, summary.run_id, start, end,
                redact(settings.base_url), settings.data_dir)
    archive, lake = RawArchive(settings.raw_dir), Lake(settings.lake_dir)
    validators = latest_validators(lake)  # conditional GET for pages seen before
    with (lake.spool(summary.run_id) as spool, Fetcher(settings.fetch_policy()) as fetcher,
          parse_runner(settings) as runner):
        load = SpooledLoad(runner, spool, summary.run_id, StoredMetadata(lake), stages)
        with stages.timing("discover"):
            refs = retrying(discover_notes, settings)(fetcher, settings, start, end, discovery)
        if retry_quarantined:
            refs = _with_quarantined(refs, lake, fetcher.admit)
        summary.discovered = len(refs)
        progress.current().add_total(len(refs))
        given = [ref for ref in refs if ref.item is not None]  # the REST API sent their bodies
        if given:
            with stages.timing("fetch"):
                items = rest_pages(given, archive)
            load.quarantined.extend(items.quarantined)
            # not requests: rows that let `reprocess` find the archived items
            spool.add_fetches([rest_fetch_log(ref) for ref in given])
            progress.current().advance(len(given))
            for pages in _batches(items.pages, settings.batch_size):
                load.parse(pages)
        for urls in _batches([ref.url for ref in refs if ref.item is None], settings.batch_size):
            known = {url: validators[url] for url in urls if url in validators}
            with stages.timing("fetch"):
                fetched = retrying(fetch_batch, settings)(urls, fetcher, archive, settings.http_concurrency,
                                                          quote(known))
            load.quarantined.extend(fetched.quarantined)
            _spool_fetches(spool, fetcher, summary)
            load.parse(fetched.pages)  # parsed on the runner while the next batch downloads
        load.finish()
        if settings.rest_fallback and load.quarantined:
            with stages.timing("fetch"):
                _recover_from_rest(load, fetcher, archive, settings, {ref.url for ref in refs if ref.item is None})
        _spool_fetches(spool, fetcher, summary)
        summary.refused_urls = fetcher.refused
        summary.quarantined = [(q.url, q.stage, q.reason) for q in load.quarantined]
        _judge(summary, load, settings, lake)
        parameters = {**parameters, "start": start.isoformat(), "end": end.isoformat(),
                      "base_url": redact(settings.base_url)}
        summary = commit_and_publish(quote(summary), quote(spool), quote(load.quarantined), settings,
                                     started_at, parameters, clock, quote(stages))
        interrupts.mark_committed()
    return _finish(summary, load, settings, stages)


def _recover_from_rest(load: SpooledLoad, fetcher: Fetcher, archive: RawArchive, settings: Settings,
                       page_urls: set[str]) -> None:
    """Pages fetched this run whose markup no parser could read, tried through their REST items;
    those that load leave the quarantine (a `fetches` row ties each URL to its archived item)."""
    candidates = [q for q in load.quarantined if q.url in page_urls]
    found = rest_fallback(candidates, fetcher, archive, settings.base_url)
    loaded = load.recover(found.pages)
    if not found.pages and not found.api_failure:
        return
    load.spool.add_fetches([
        FetchLog(url=url, status=REST_ITEM_STATUS, etag=None, last_modified=None, bytes=size, sha256=sha,
                 elapsed_ms=None, error=None, fetched_at=fetched_at)
        for url, sha, size, fetched_at in found.fetches if url in loaded])
    load.quarantined = [q for q in load.quarantined if q.url not in loaded]
    get_run_logger().warning("REST fallback: %d of %d pages whose markup could not be read loaded from their "
                             "REST items%s", len(loaded), len(found.pages) + len(found.missing),
                          f" (the API stopped answering: {found.api_failure})" if found.api_failure else "")


def _judge(summary: RunSummary, load: SpooledLoad, settings: Settings, lake: Lake) -> None:
    """Layouts and sources of the run's notes, whether the fallback share jumped, and whether the
    run read the site at all (`summary.failure`)."""
    logger = get_run_logger()
    summary.layouts, summary.sources = dict(load.layouts), dict(load.sources)
    summary.fallback_warning = fallback_jump(summary.layouts, recent_layouts(lake, RECENT_RUNS),
                                             settings.fallback_jump, settings.quarantine_min_pages) or ""
    if summary.fallback_warning:
        logger.warning("%s", summary.fallback_warning)
    summary.failure = quarantine_failure(load.loaded + len(summary.quarantined), summary.quarantined,
                                         settings.max_quarantine_share, settings.quarantine_min_pages) or ""


def _ended(summary: RunSummary) -> RunSummary | State:
    """The flow's result: the summary, or for a crawl that could not read the site a Failed state
    whose message is the one line (no traceback: nothing crashed). Calling the flow raises
    RunFailed; the CLI prints it and exits non-zero."""
    if not summary.failure:
        return summary
    get_run_logger().error("run %s failed: %s. The notes that loaded are committed; the run is recorded as "
                           "failed and the nightly watermark does not move.", summary.run_id, summary.failure)
    return Failed(message=summary.failure, data=RunFailed(summary.failure, summary))


def _resolve(base_url: str | None = None) -> Settings:
    # Settings are never a flow parameter (Prefect stores and shows those): see flows/settings.py.
    settings = settings_for_run()
    return settings.model_copy(update={"base_url": base_url}) if base_url else settings


@flow(name="backfill", log_prints=False, validate_parameters=False)
def backfill(request: BackfillRequest) -> RunSummary:
    """Load every media note listed between `request.start` and `request.end` (inclusive), with
    the settings of the process that runs the flow (config/settings.toml, then STATENOTES_*).

    Args:
        request: The window of listed dates, the site, and how its notes are found.
    """
    # Validated here, not by Prefect before the flow starts: a bad form then ends the run Failed
    # with its one reason, instead of an engine crash and a traceback in the UI.
    try:
        request = BackfillRequest.model_validate(request)
    except ValidationError as exc:
        return refused(request_problems(exc))
    settings = _resolve(request.base_url)
    parameters = {"site": request.site.value, "discovery": request.discovery.value}
    return _ended(_crawl("backfill", request.start, request.end, settings, parameters, request.discovery.value))


def refused(reason: str) -> State:
    """The run's end when its parameters are refused: Failed, with the reason as its message."""
    get_run_logger().error("refused: %s", reason)
    return Failed(message=reason)


def nightly_window(lake: Lake, today: date, lookback_days: int, overlap_days: int) -> tuple[date, date]:
    """From the last successful run's end minus an overlap (edits and late listings), else a lookback."""
    last = lake.last_successful_run("nightly")
    if last is None or "end" not in last.parameters:
        return today - timedelta(days=lookback_days), today
    watermark = min(date.fromisoformat(last.parameters["end"]), today)
    return watermark - timedelta(days=overlap_days), today


@flow(name="nightly", log_prints=False)
def nightly() -> RunSummary:
    """The incremental run: everything listed since the watermark (minus an overlap)."""
    settings = _resolve()
    with _says_what_a_failure_left(settings), start_run(settings, "nightly") as run_id:
        # the watermark is read under the run lock: a run that ended meanwhile has moved it
        start, end = nightly_window(Lake(settings.lake_dir), datetime.now(UTC).date(),
                                    settings.lookback_days, settings.overlap_days)
        return _ended(_crawl_window("nightly", start, end, settings, {}, DiscoveryMode.LISTING.value, True,
                                    run_id))


@flow(name="reprocess", log_prints=False)
def reprocess() -> RunSummary:
    """Parse every archived note page again (after a parser or gazetteer change), without the network."""
    settings = _resolve()
    with _says_what_a_failure_left(settings), start_run(settings, "reprocess") as run_id:
        return _reprocess(settings, run_id)


def _reprocess(settings: Settings, run_id: str) -> RunSummary:
    logger = get_run_logger()
    started_at, clock, stages = datetime.now(UTC), time.monotonic(), StageClock()
    summary = _new_summary("reprocess", None, None, settings, run_id)
    archive, lake = RawArchive(settings.raw_dir), Lake(settings.lake_dir)
    candidates = archived_pages(lake)
    summary.discovered = len(candidates)
    logger.info("reprocess %s: %d archived pages under %s", summary.run_id, len(candidates), settings.raw_dir)
    progress.current().add_total(len(candidates))
    unreadable: list[str] = []
    with lake.spool(summary.run_id) as spool, parse_runner(settings) as runner:
        load = SpooledLoad(runner, spool, summary.run_id, StoredMetadata(lake), stages,
                           on_parsed=progress.current().advance)
        for batch in _batches(candidates, settings.batch_size):
            with stages.timing("fetch"):  # from the raw archive: reprocess's "fetch"
                pages, problems = read_pages(batch, archive)
            unreadable += problems
            load.parse(pages)
        load.finish()
        if unreadable:
            logger.warning("%d pages have no readable raw copy and keep their loaded versions: %s",
                           len(unreadable), "; ".join(unreadable[:5]))
        summary.quarantined = [(q.url, q.stage, q.reason) for q in load.quarantined]
        summary.layouts, summary.sources = dict(load.layouts), dict(load.sources)
        summary.unreadable = unreadable
        summary = commit_and_publish(quote(summary), quote(spool), quote(load.quarantined), settings,
                                     started_at, {"unreadable": len(unreadable)}, clock, quote(stages))
    return _finish(summary, load, settings, stages)


logging.getLogger("statenotes").addHandler(logging.NullHandler())
prefect_run.quiet_returned_failures()  # imported by the process that executes a deployment's run
