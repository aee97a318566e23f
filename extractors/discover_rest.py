"""Discovery from the WordPress REST API (`/wp-json/wp/v2/state_press_release`, corpus MARKUP.md):
100 releases per request, each with its body, so no page needs fetching.

Pages are asked for oldest first (`order=asc`): a release published while paging lands on the last
page instead of pushing every later item down a page. Paging follows `X-WP-TotalPages` of the first
answer. Each ref carries its item (`NoteRef.item`): canonical JSON for the raw archive and the item
parsed by `parse_rest_item` (or the reason it could not be).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta

from statenotes.extractors import fields
from statenotes.extractors.errors import ParseError
from statenotes.extractors.records import FetchedPage, NoteRef, RestItem
from statenotes.extractors.rest import item_bytes, parse_rest_item, parse_rest_page, rest_url, total_pages

log = logging.getLogger(__name__)

MAX_REST_PAGES = 1000  # 100,000 releases: a guard against a total that never ends
ORDER = "asc"


def _bound(day: date, clock: time) -> str:
    """A local (Washington) time as WordPress compares it with `date`."""
    return datetime.combine(day, clock).isoformat(timespec="seconds")


def _ref(item: dict, fetched_at: datetime) -> NoteRef:
    raw = item_bytes(item)
    try:
        note, error = parse_rest_item(item), None
    except ParseError as exc:
        note, error = None, exc.reason
    url = item.get("link") or (note.url if note else f"wp-json:{item.get('id')}")
    local = fields.parse_timestamp(item.get("date"))
    title = item.get("title", {}).get("rendered") if isinstance(item.get("title"), dict) else None
    return NoteRef(
        url=url,
        listed_date=local.date() if local else None,
        lastmod=note.modified_at if note else None,
        title=note.title if note else title,
        item=RestItem(raw=raw, sha256=hashlib.sha256(raw).hexdigest(), fetched_at=fetched_at, note=note, error=error),
    )


def discover_from_rest(fetch: Callable[[str], FetchedPage], base_url: str, start: date | None = None,
                       end: date | None = None, *, modified_after: datetime | None = None) -> Iterator[NoteRef]:
    """Yield the releases published between `start` and `end` (inclusive, Washington dates; either
    may be None for no bound) and, with `modified_after`, changed after that time; oldest first.

    `fetch(url)` is the I/O edge (e.g. `Fetcher.fetch_page`); a FetchError, or an answer that is not
    a page of items (ParseError), ends discovery: a partial list is never taken for the whole.
    """
    after = _bound(start - timedelta(days=1), time(23, 59, 59)) if start else None
    before = _bound(end + timedelta(days=1), time(0, 0, 0)) if end else None
    changed = modified_after.isoformat(timespec="seconds") if modified_after else None
    seen: set[str] = set()
    page_number, pages = 1, 1
    while page_number <= min(pages, MAX_REST_PAGES):
        url = rest_url(base_url, after=after, before=before, modified_after=changed, page=page_number, order=ORDER)
        answer = fetch(url)
        items = parse_rest_page(answer.body)
        if page_number == 1:
            pages = total_pages(answer.headers)
            if pages is None:
                raise ParseError(f"REST answer without X-WP-TotalPages: {url}")
        for item in items:
            ref = _ref(item, answer.fetched_at)
            if ref.url not in seen:
                seen.add(ref.url)
                yield ref
        page_number += 1
    log.info("REST API: %d releases in %d pages at %s", len(seen), pages, base_url)
