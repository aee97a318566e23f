"""What happens to one page, composed from the stages: fetch -> archive -> parse -> transform.

Plain functions (no Prefect), so they are tested directly and reused by the flows and `extract`."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from statenotes.extractors.archive import RawArchive
from statenotes.extractors.errors import FetchError, ParseError
from statenotes.extractors.http import Fetcher
from statenotes.extractors.parse import PARSER_VERSION, parse_note
from statenotes.extractors.records import FetchedPage, MediaNote
from statenotes.transforms.actors import Gazetteer, find_actors
from statenotes.transforms.paragraphs import normalise_body
from statenotes.transforms.records import ActorFindings, NoteBody
from statenotes.warehouse.records import LoadedNote, QuarantineItem

log = logging.getLogger(__name__)


@dataclass(slots=True)
class BatchOutcome:
    loaded: list[LoadedNote] = field(default_factory=list)
    quarantined: list[QuarantineItem] = field(default_factory=list)

    def extend(self, other: BatchOutcome) -> None:
        self.loaded.extend(other.loaded)
        self.quarantined.extend(other.quarantined)


def transform_page(body: bytes, url: str, content_type: str | None,
                   gazetteer: Gazetteer) -> tuple[MediaNote, NoteBody, ActorFindings]:
    """Parse and transform one page's bytes; raises ParseError for a page that is not a release."""
    note = parse_note(body, url, content_type)
    note_body = normalise_body(note.blocks)
    if not note_body.paragraphs:
        raise ParseError("release body has no paragraphs after normalisation", url)
    findings = find_actors(note.title, note_body.paragraphs, gazetteer)
    return note, note_body, findings


def load_page(page: FetchedPage, raw_sha256: str, gazetteer: Gazetteer) -> LoadedNote:
    note, note_body, findings = transform_page(page.body, page.url, page.content_type, gazetteer)
    return LoadedNote(note=note, body=note_body, findings=findings, url=page.url,
                      fetched_at=page.fetched_at, raw_sha256=raw_sha256, parser_version=PARSER_VERSION)


def process_urls(urls: list[str], fetcher: Fetcher, archive: RawArchive, gazetteer: Gazetteer,
                 on_page=lambda: None) -> BatchOutcome:
    """Fetch, archive, parse and transform each URL; a failing page is quarantined, never fatal."""
    outcome = BatchOutcome()
    for url in urls:
        try:
            page = fetcher.fetch_page(url)
        except FetchError as exc:
            log.warning("quarantined (fetch) %s: %s", url, exc.reason)
            outcome.quarantined.append(QuarantineItem(url=url, stage="fetch", reason=exc.reason,
                                                      raw_sha256=None, seen_at=datetime.now(UTC)))
            on_page()
            continue
        # The raw page is kept before anything tries to read it.
        raw_sha = archive.put(page.body, page.sha256)
        try:
            outcome.loaded.append(load_page(page, raw_sha, gazetteer))
        except ParseError as exc:
            log.warning("quarantined (parse) %s: %s", url, exc.reason)
            outcome.quarantined.append(QuarantineItem(url=url, stage="parse", reason=exc.reason,
                                                      raw_sha256=raw_sha, seen_at=page.fetched_at))
        except Exception as exc:  # a parser bug must not stop the run; the raw page is safe
            log.exception("quarantined (internal error) %s", url)
            outcome.quarantined.append(QuarantineItem(
                url=url, stage="parse", reason=f"internal error: {exc.__class__.__name__}: {exc}",
                raw_sha256=raw_sha, seen_at=page.fetched_at))
        on_page()
    return outcome
