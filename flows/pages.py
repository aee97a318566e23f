"""What happens to pages, composed from the stages: fetch -> archive (network side, in the flow's
process) and parse -> transform (pure, on any worker).

The two halves meet in `RawPage`, plain picklable values, so parsing can run on Dask workers while
every request stays with the one Fetcher that keeps the crawl delay. Plain functions (no Prefect),
tested directly and reused by the flows, `reprocess` and `extract`."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from statenotes.extractors.archive import RawArchive
from statenotes.extractors.errors import FetchError, ParseError, StatenotesError
from statenotes.extractors.http import NOT_MODIFIED, Fetcher
from statenotes.extractors.parse import PARSER_VERSION, parse_fetched
from statenotes.extractors.rest import REST_ITEM_TYPE
from statenotes.extractors.records import FetchedPage, MediaNote, NoteRef, Validators
from statenotes.transforms.actors import Gazetteer, find_actors, load_gazetteer
from statenotes.transforms.paragraphs import normalise_body
from statenotes.transforms.records import ActorFindings, NoteBody
from statenotes.warehouse.records import LoadedNote, QuarantineItem

log = logging.getLogger(__name__)

STAGE_FETCH = "fetch"
STAGE_PARSE = "parse"
STAGE_TRANSFORM = "transform"  # a stage of the run's timings only (stages.py); nothing is quarantined there


@dataclass(frozen=True, slots=True)
class RawPage:
    """A page's bytes as fetched (or read back from the raw archive), with where they came from."""

    url: str
    raw_sha256: str
    fetched_at: datetime
    content_type: str | None
    body: bytes


@dataclass(slots=True)
class FetchedBatch:
    pages: list[RawPage] = field(default_factory=list)
    quarantined: list[QuarantineItem] = field(default_factory=list)


def _no_seconds() -> dict[str, float]:
    return {STAGE_PARSE: 0.0, STAGE_TRANSFORM: 0.0}


@dataclass(slots=True)
class BatchOutcome:
    loaded: list[LoadedNote] = field(default_factory=list)
    quarantined: list[QuarantineItem] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=_no_seconds)  # parse, transform

    def extend(self, other: BatchOutcome) -> None:
        self.loaded.extend(other.loaded)
        self.quarantined.extend(other.quarantined)
        for stage, value in other.seconds.items():
            self.seconds[stage] = self.seconds.get(stage, 0.0) + value


def transform_page(body: bytes, url: str, content_type: str | None, gazetteer: Gazetteer,
                   seconds: dict[str, float] | None = None) -> tuple[MediaNote, NoteBody, ActorFindings]:
    """Parse and transform one page's bytes (an HTML page or an archived REST item); raises
    ParseError for a page that is not a release. Adds the time each half took to `seconds`."""
    seconds = seconds if seconds is not None else _no_seconds()
    started = time.perf_counter()
    try:
        note = parse_fetched(body, url, content_type)
    finally:
        parsed = time.perf_counter()
        seconds[STAGE_PARSE] += parsed - started
    try:
        note_body = normalise_body(note.blocks)
        if not note_body.paragraphs:
            raise ParseError("release body has no paragraphs after normalisation", url)
        findings = find_actors(note.title, note_body.paragraphs, gazetteer)
    finally:
        seconds[STAGE_TRANSFORM] += time.perf_counter() - parsed
    return note, note_body, findings


def load_page(page: RawPage, gazetteer: Gazetteer, seconds: dict[str, float] | None = None) -> LoadedNote:
    note, note_body, findings = transform_page(page.body, page.url, page.content_type, gazetteer, seconds)
    return LoadedNote(note=note, body=note_body, findings=findings, url=page.url,
                      fetched_at=page.fetched_at, raw_sha256=page.raw_sha256, parser_version=PARSER_VERSION)


def fetch_pages(urls: list[str], fetcher: Fetcher, archive: RawArchive, concurrency: int = 1,
                on_page: Callable[[], None] = lambda: None,
                validators: Mapping[str, Validators] | None = None) -> FetchedBatch:
    """Fetch each URL (at most `concurrency` in flight; the fetcher still spaces request starts by
    the crawl delay) and keep its body in the raw archive before anything reads it. A page that
    cannot be fetched is quarantined, never fatal. Results keep the order of `urls`.

    A URL with `validators` is asked conditionally; a 304 gives back the archived body, which is
    then processed like a fresh one (so an unchanged page merges as unchanged and rewrites nothing)."""
    validators = validators or {}

    def fetch_one(url: str) -> RawPage | QuarantineItem:
        try:
            page, body = _fetch_or_reuse(url, fetcher, archive, validators.get(url))
        except FetchError as exc:
            log.warning("quarantined (fetch) %s: %s", url, exc.reason)
            return QuarantineItem(url=url, stage=STAGE_FETCH, reason=exc.reason, raw_sha256=None,
                                  seen_at=datetime.now(UTC))
        finally:
            on_page()
        if page.status == NOT_MODIFIED:  # the response's headers need not repeat the Content-Type
            return RawPage(url=url, raw_sha256=page.sha256, fetched_at=page.fetched_at, content_type=None, body=body)
        raw_sha = archive.put(body, page.sha256)
        return RawPage(url=url, raw_sha256=raw_sha, fetched_at=page.fetched_at,
                       content_type=page.content_type, body=body)

    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="fetch") as pool:
        try:
            results = list(pool.map(fetch_one, urls))
        except BaseException:
            # The run is stopping (SIGTERM, Ctrl-C): end the requests in flight, or leaving this
            # block would wait for them.
            fetcher.cancel("the run is stopping")
            raise
    batch = FetchedBatch()
    for result in results:
        (batch.pages if isinstance(result, RawPage) else batch.quarantined).append(result)
    return batch


def rest_pages(refs: list[NoteRef], archive: RawArchive) -> FetchedBatch:
    """Releases the REST API gave with their bodies (`ref.item`): archived as the items they are,
    never fetched again. An item that could not be read is quarantined at the parse stage."""
    batch = FetchedBatch()
    for ref in refs:
        item = ref.item
        raw_sha = archive.put(item.raw, item.sha256)
        if item.error is not None:
            log.warning("quarantined (parse) %s: %s", ref.url, item.error)
            batch.quarantined.append(QuarantineItem(url=ref.url, stage=STAGE_PARSE, reason=item.error,
                                                    raw_sha256=raw_sha, seen_at=item.fetched_at))
            continue
        batch.pages.append(RawPage(url=ref.url, raw_sha256=raw_sha, fetched_at=item.fetched_at,
                                   content_type=REST_ITEM_TYPE, body=item.raw))
    return batch


def _fetch_or_reuse(url: str, fetcher: Fetcher, archive: RawArchive,
                    validators: Validators | None) -> tuple[FetchedPage, bytes]:
    """The page and its body: fetched, or (on a 304) read back from the raw archive. An archived
    copy that is gone or corrupt is fetched again in full rather than trusted."""
    page = fetcher.fetch_page(url, validators=validators)
    if page.status != NOT_MODIFIED:
        return page, page.body
    try:
        return page, archive.get(page.sha256)
    except StatenotesError as exc:
        log.warning("%s: 304 but the archived copy is unusable (%s); fetching it in full", url, exc)
        page = fetcher.fetch_page(url)
        return page, page.body


def parse_pages(pages: list[RawPage], gazetteer: Gazetteer | None = None) -> BatchOutcome:
    """Parse and transform each page; a page that is not a release is quarantined with its reason."""
    gazetteer = gazetteer or load_gazetteer()  # loaded once per process, also on a Dask worker
    outcome = BatchOutcome()
    for page in pages:
        try:
            outcome.loaded.append(load_page(page, gazetteer, outcome.seconds))
        except ParseError as exc:
            log.warning("quarantined (parse) %s: %s", page.url, exc.reason)
            outcome.quarantined.append(QuarantineItem(url=page.url, stage=STAGE_PARSE, reason=exc.reason,
                                                      raw_sha256=page.raw_sha256, seen_at=page.fetched_at))
        except Exception as exc:  # a parser bug must not stop the run; the raw page is safe
            log.exception("quarantined (internal error) %s", page.url)
            outcome.quarantined.append(QuarantineItem(
                url=page.url, stage=STAGE_PARSE, reason=f"internal error: {exc.__class__.__name__}: {exc}",
                raw_sha256=page.raw_sha256, seen_at=page.fetched_at))
    return outcome
