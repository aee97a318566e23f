"""Discovery from the press-release listing pages (`/press-releases/`, `/press-releases/page/N/`).

Listings are newest first, so paging stops as soon as a page's oldest item is older than the
window's start (dlt's habit: an explicit cursor, and stop once items fall out of range). Paging also
checks that it makes progress: it stops, with a warning saying why, at a page that lists no note not
already seen (a repeated page, a listing that loops) or whose "next" link leads back to a page
already asked for (a page linking to itself)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, SoupStrainer

from statenotes.extractors.errors import FetchError, ParseError
from statenotes.extractors.records import NoteRef

log = logging.getLogger(__name__)

LISTING_PATH = "/press-releases/"
LISTING_PAGE_PATH = "/press-releases/page/{n}/"
# Listing pages beyond this are never requested: a guard against a site that pages forever.
# 20,000 pages of 10 is 200,000 releases (5,000 stopped a 100,000-note backfill at 50,000).
MAX_LISTING_PAGES = 20_000
_ONLY_RESULTS = SoupStrainer(["ul", "div"], attrs={"class": re.compile(r"collection-(results|info__total)")})
_ONLY_LINKS = SoupStrainer(["a", "link"])
_DATE_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%B %d,%Y")


@dataclass(frozen=True, slots=True)
class ListingPage:
    refs: list[NoteRef]
    total: int | None
    next_url: str | None = None  # where the page's "next" link (rel=next, or a link classed next) leads


def parse_listed_date(text: str) -> date | None:
    cleaned = " ".join(text.replace("\xa0", " ").split())
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    return None


def parse_listing(html: bytes | str, base_url: str) -> ListingPage:
    """The items of one listing page, in page order. Raises ParseError when it is not a listing."""
    soup = BeautifulSoup(html, "lxml", parse_only=_ONLY_RESULTS)
    results = soup.select_one("ul.collection-results")
    if results is None:
        raise ParseError("not a press-release listing (ul.collection-results missing)")
    refs = []
    for item in results.select("li.collection-result"):
        link = item.select_one("a.collection-result__link")
        if link is None or not link.get("href"):
            continue
        spans = item.select("div.collection-result-meta span[dir=ltr]")
        kind = item.select_one("p.collection-result__date")  # holds the release TYPE, despite its name
        refs.append(
            NoteRef(
                url=urljoin(base_url + "/", link["href"].strip()),
                listed_date=parse_listed_date(spans[-1].get_text()) if spans else None,
                title=" ".join(link.get_text().split()) or None,
                release_type=" ".join(kind.get_text().split()) if kind else None,
            )
        )
    total_el = soup.select_one("div.collection-info__total span.collection-info__number")
    total = int(re.sub(r"\D", "", total_el.get_text()) or 0) if total_el else None
    return ListingPage(refs=refs, total=total, next_url=_next_link(html, base_url))


def _next_link(html: bytes | str, base_url: str) -> str | None:
    links = BeautifulSoup(html, "lxml", parse_only=_ONLY_LINKS)
    for link in links.find_all(["link", "a"], href=True):
        if "next" in (link.get("rel") or []) or "next" in (link.get("class") or []):
            return urljoin(base_url + "/", link["href"].strip())
    return None


def _same_page(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.netloc.lower()}{parts.path.rstrip('/')}?{parts.query}"


def listing_url(base_url: str, page: int) -> str:
    return base_url + (LISTING_PATH if page == 1 else LISTING_PAGE_PATH.format(n=page))


def discover_from_listing(
    fetch: Callable[[str], bytes],
    base_url: str,
    start: date,
    end: date,
    release_types: frozenset[str] | None = None,
) -> Iterator[NoteRef]:
    """Yield the refs listed between `start` and `end` (inclusive), newest first.

    `fetch(url) -> bytes` is the I/O edge; a FetchError on page 2+ ends paging (past the last page).
    """
    seen: set[str] = set()
    asked: set[str] = set()
    for page_number in range(1, MAX_LISTING_PAGES + 1):
        url = listing_url(base_url, page_number)
        asked.add(_same_page(url))
        try:
            body = fetch(url)
        except FetchError:
            if page_number == 1:
                raise
            log.info("listing ends at page %d (%s unavailable)", page_number - 1, url)
            return
        page = parse_listing(body, base_url)
        if not page.refs:
            return
        if all(ref.url in seen for ref in page.refs):
            log.warning("listing paging stopped at page %d (%s): it lists no note that earlier pages did not "
                        "(a repeated page or a listing that loops)", page_number, url)
            return
        for ref in page.refs:
            if ref.url in seen:
                continue
            seen.add(ref.url)
            if release_types and ref.release_type not in release_types:
                continue
            if ref.listed_date is None or start <= ref.listed_date <= end:
                yield ref
        dated = [r.listed_date for r in page.refs if r.listed_date]
        if dated and min(dated) < start:
            return
        if page.next_url is not None and _same_page(page.next_url) in asked:
            log.warning("listing paging stopped at page %d (%s): its next link leads back to a page already "
                        "read (%s)", page_number, url, page.next_url)
            return
    log.warning("listing still going after %d pages at %s: stopped there; releases listed on later "
                "pages were not discovered", MAX_LISTING_PAGES, base_url)
