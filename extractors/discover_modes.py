"""Which way a run finds its releases: the REST API, the listing pages or the sitemaps, the cheapest
that covers the window first, falling back to the next when one fails.

Cost on state.gov, in requests per release found (the figures of the offline mirror are in the
tests): the REST API gives 100 releases *with their bodies* per request, about 0.01; the listing
gives 10 links per page, and each release's page is then fetched, about 1.1; the sitemaps must all
be read (the index's lastmod says nothing) before the pages are fetched, 1 + every sub-sitemap + 1
a release. What each covers:

1. "rest": releases published in the window, on a WordPress host. Items carry no release type, so
   when `release_types` is given the listing of the window is walked too and lends its types
   (refs the listing has and the API lacks are kept, to be fetched as pages).
2. "listing": releases listed in the window, with their type; on the 2009-2017 (Drupal) archive,
   its year and month index.
3. "sitemap": releases *changed* in the window, on a WordPress host; it covers a window of
   publication dates only when the window runs to today, so "auto" skips it otherwise. Refs carry
   no type: the parsed page says it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from statenotes.extractors.discover import discover_from_listing
from statenotes.extractors.discover_drupal import discover_from_archive_index
from statenotes.extractors.discover_rest import discover_from_rest
from statenotes.extractors.discover_sitemap import discover_from_sitemaps
from statenotes.extractors.errors import FetchError, ParseError, StatenotesError
from statenotes.extractors.records import FetchedPage, NoteRef, site_for

log = logging.getLogger(__name__)

AUTO, REST, LISTING, SITEMAP = "auto", "rest", "listing", "sitemap"
MODES = (REST, LISTING, SITEMAP)  # cheapest first: the order "auto" tries them in
DRUPAL_SITE = "2009-2017"  # no REST API nor sitemaps there


class DiscoveryError(StatenotesError):
    """Every way of discovering failed; `failures` holds (mode, reason) of each."""

    def __init__(self, failures: list[tuple[str, str]]):
        super().__init__("discovery failed: " + "; ".join(f"{mode}: {reason}" for mode, reason in failures))
        self.failures = failures


@dataclass(frozen=True, slots=True)
class Discovery:
    """What a discovery found, and how: the mode that succeeded, the requests all modes made
    (failed ones included), and (mode, reason) of each mode that failed first."""

    mode: str
    refs: list[NoteRef]
    requests: int
    failures: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class _Window:
    fetch: Callable[[str], FetchedPage]
    base_url: str
    start: date
    end: date
    release_types: frozenset[str] | None

    def body(self, url: str) -> bytes:
        return self.fetch(url).body


def _listing(window: _Window) -> list[NoteRef]:
    if site_for(window.base_url) == DRUPAL_SITE:
        return list(discover_from_archive_index(window.body, window.base_url, window.start, window.end))
    return list(discover_from_listing(window.body, window.base_url, window.start, window.end, window.release_types))


def _rest(window: _Window) -> list[NoteRef]:
    refs = list(discover_from_rest(window.fetch, window.base_url, window.start, window.end))
    if window.release_types is None:
        return refs
    listed = {ref.url: ref for ref in discover_from_listing(window.body, window.base_url, window.start, window.end)}
    wanted = {url: ref for url, ref in listed.items() if ref.release_type in window.release_types}
    kept = [replace(ref, release_type=wanted[ref.url].release_type) for ref in refs if ref.url in wanted]
    from_api = {ref.url for ref in refs}
    missing = [ref for url, ref in wanted.items() if url not in from_api]
    if missing:
        log.warning("REST API lacks %d listed releases of the window; they will be fetched as pages", len(missing))
    log.info("REST API: %d of %d releases are of the types %s", len(kept), len(refs), sorted(window.release_types))
    return kept + missing


def _sitemap(window: _Window) -> list[NoteRef]:
    return list(discover_from_sitemaps(window.fetch, window.base_url, window.start, window.end))


RUNNERS = {REST: _rest, LISTING: _listing, SITEMAP: _sitemap}


def uncovered(mode: str, base_url: str, end: date, today: date) -> str | None:
    """Why `mode` cannot cover a window ending `end` on `base_url`, or None when it can."""
    if mode in (REST, SITEMAP) and site_for(base_url) == DRUPAL_SITE:
        return "the 2009-2017 archive has no WordPress REST API nor sitemaps"
    if mode == SITEMAP and end < today:
        return "sitemaps find what changed in the window, and it ends before today"
    return None


def plan(mode: str, base_url: str, end: date, today: date) -> list[str]:
    """The modes to try, in order: the one asked for first (a sitemap even for a window that ends
    before today: then it finds what changed in the window), then the others that cover the
    window, cheapest first; "auto" is just the latter. A mode the host lacks is never tried."""
    if mode != AUTO and mode not in MODES:
        raise ValueError(f"unknown discovery mode {mode!r}; expected {AUTO!r} or one of {MODES}")
    chosen = [] if mode == AUTO or uncovered(mode, base_url, today, today) else [mode]
    return chosen + [m for m in MODES if m not in chosen and uncovered(m, base_url, end, today) is None]


def discover(fetch: Callable[[str], FetchedPage], base_url: str, start: date, end: date, mode: str = AUTO, *,
             release_types: frozenset[str] | None = None, today: date | None = None,
             admit: Callable[[str], bool] = lambda url: True) -> Discovery:
    """The releases of the window `start`..`end` (inclusive), found the cheapest way that works.

    `fetch(url)` is the I/O edge (e.g. `Fetcher.fetch_page`). A mode that fails (FetchError or
    ParseError: blocked, broken, absent) hands over to the next in `plan`; DiscoveryError when
    all fail. The requests of failed modes count in `Discovery.requests`. A ref whose URL `admit`
    refuses (the URL policy: another origin, credentials in the URL) is dropped.
    """
    base_url = base_url.rstrip("/")
    today = today or datetime.now(UTC).date()
    made = 0

    def counted(url: str) -> FetchedPage:
        nonlocal made
        made += 1
        return fetch(url)

    window = _Window(counted, base_url, start, end, frozenset(release_types) if release_types else None)
    failures: list[tuple[str, str]] = []
    order = plan(mode, base_url, end, today)
    if mode != AUTO and mode not in order:
        failures.append((mode, uncovered(mode, base_url, today, today)))
        log.warning("discovery by %s is impossible at %s (%s)", mode, base_url, failures[-1][1])
    for candidate in order:
        try:
            refs = [ref for ref in RUNNERS[candidate](window) if admit(ref.url)]
        except (FetchError, ParseError) as exc:
            failures.append((candidate, exc.reason))
            log.warning("discovery by %s failed (%s); trying the next way", candidate, exc.reason)
            continue
        log.info("discovery by %s: %d releases %s..%s at %s in %d requests", candidate, len(refs), start, end,
                 base_url, made)
        return Discovery(mode=candidate, refs=refs, requests=made, failures=tuple(failures))
    raise DiscoveryError(failures)
