"""The mirror's answers by request path, rendered when first asked for and kept in a small LRU cache,
for every host the notes live on (see `mirror.hosts`), plus each WordPress host's REST API.

Per WordPress host (www at the root, an archive host under its prefix): the listing pages, the
sitemaps, every release page and `/wp-json/wp/v2/state_press_release`. Per Drupal host: the
press-release index by year and month, and every release page. robots.txt and the 404 page are
the server's own. Only an index of the notes is held (path, url, dates: `sources.Entry`); a page
loads the few notes it shows from its `NoteSource`, so serving 100,000 notes takes tens of MB, and
the first request of a page pays for its rendering (a few ms) instead of the server's start.
"""

from __future__ import annotations

import hashlib
import re
import threading
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from urllib.parse import urlsplit

from statenotes.mirror import drupal, feeds, site, wpjson
from statenotes.mirror.bad_pages import NOTE_KINDS, SOFT_404, render_bad_page
from statenotes.mirror.hosts import DRUPAL_HOSTS, WWW_HOST, host_of, host_prefix, slug_of
from statenotes.mirror.redesign import render_redesigned_page
from statenotes.mirror.notes import modified_at, page_url, published_at, stable_hash
from statenotes.mirror.sources import Entry, NoteSource

HTML_WITH_CHARSET = "text/html; charset=UTF-8"
HTML_NO_CHARSET = "text/html"  # the parser must then read <meta charset> from the bytes
XML_TYPE = "text/xml; charset=UTF-8"
ROBOTS_TYPE = "text/plain; charset=utf-8"
FIRST_LISTING_PAGE = "page/1/"
# Rendered pages kept; the sample's ~70 pages all fit, a large corpus keeps its recent ones.
DEFAULT_CACHE_PAGES = 512
LISTING_PAGE = re.compile(r"^/press-releases/page/([1-9][0-9]*)/$")
SITEMAP_PAGE = re.compile(r"^/" + re.escape(feeds.SITEMAP_STEM) + r"([1-9][0-9]*)?\.xml$")


@dataclass(frozen=True, slots=True)
class Page:
    """A rendered answer, ready to send."""

    body: bytes
    content_type: str
    status: int = 200
    last_modified: datetime | None = None
    etag: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


def make_page(text: str | bytes, content_type: str, last_modified: datetime | None = None, status: int = 200,
              headers: tuple[tuple[str, str], ...] = ()) -> Page:
    body = text.encode("utf-8") if isinstance(text, str) else text
    etag = f'"{hashlib.sha256(body).hexdigest()[:20]}"' if status == 200 else None
    return Page(body, content_type, status, last_modified, etag, headers)


def _html_type(path: str) -> str:
    """Some pages declare their charset in the header, others only in <meta charset>."""
    return HTML_WITH_CHARSET if stable_hash("content-type:" + path) % 2 == 0 else HTML_NO_CHARSET


class _Host:
    """The notes of one host, in the orders its pages need (computed once, when first needed)."""

    def __init__(self, host: str, entries: list[Entry]):
        self.host, self.prefix = host, host_prefix(host)
        self.entries = entries  # the source's order (the REST API's ties keep it)
        self.newest_first = sorted(entries, key=lambda e: (e.published_date, e.url), reverse=True)

    @cached_property
    def by_day(self) -> tuple[list[Entry], list[int]]:
        ascending = self.newest_first[::-1]
        return ascending, [date.fromisoformat(e.published_date).toordinal() for e in ascending]

    @cached_property
    def by_modified(self) -> list[Entry]:
        return sorted(self.entries, key=lambda e: (modified_at(e.stub), e.url))

    @cached_property
    def newest(self) -> datetime | None:
        return max((modified_at(e.stub) for e in self.entries), default=None)

    @cached_property
    def drupal_index(self) -> dict[str, tuple[int | None, int | None]]:
        return {self.prefix + drupal.index_path(y, m): (y, m) for y, m in drupal.index_pages(self.stubs)}

    @cached_property
    def stubs(self) -> list[dict]:
        return [e.stub for e in self.entries]

    def related_pool(self, entry: Entry) -> list[Entry]:
        """Notes that include the RELATED_COUNT nearest in date to `entry` (what `site._related`
        picks from), found by bisection instead of a sort of the whole host."""
        ascending, days = self.by_day
        day = date.fromisoformat(entry.published_date).toordinal()
        lo, hi = bisect_left(days, day), bisect_right(days, day)
        window = range(max(0, lo - site.RELATED_COUNT), min(len(days), hi + site.RELATED_COUNT))
        distances = sorted(abs(days[i] - day) for i in window if ascending[i].url != entry.url)
        if len(distances) < site.RELATED_COUNT:
            return ascending
        bound = distances[site.RELATED_COUNT - 1]
        return ascending[bisect_left(days, day - bound):bisect_right(days, day + bound)]


class Pages:
    """Every answer the mirror gives for `source`'s notes at `base_url`, rendered on demand.
    `bad_pages` ({path: kind}) replace or add pages that are not releases (`mirror.bad_pages`)."""

    def __init__(self, source: NoteSource, base_url: str, crawl_delay: float,
                 bad_pages: dict[str, str] | None = None, cache_pages: int = DEFAULT_CACHE_PAGES,
                 redesign: str | None = None):
        self.source, self.base_url = source, base_url.rstrip("/")
        self.redesign = redesign
        self.bad_pages = dict(bad_pages or {})
        self.cache_pages = cache_pages
        by_host: dict[str, list[Entry]] = {WWW_HOST: []}
        for entry in source.entries():
            by_host.setdefault(host_of({"url": entry.url}), []).append(entry)
        self.hosts = {host: _Host(host, entries) for host, entries in by_host.items()}
        self.entries = {e.path: e for entries in by_host.values() for e in entries}
        self.not_found_html = site.render_not_found(self.base_url)
        self.not_found = make_page(self.not_found_html, HTML_WITH_CHARSET, status=404)
        self.robots = make_page(site.render_robots(crawl_delay, self.base_url), ROBOTS_TYPE)
        self._cache: OrderedDict[str, Page] = OrderedDict()
        self._rest_index: dict[str, list[dict]] = {}
        self._lock = threading.Lock()

    # -- answers -------------------------------------------------------------------------------

    def lookup(self, raw_path: str) -> tuple[Page, str | None]:
        """The answer for a request path: a page, a REST answer, or a redirect location for WordPress's
        canonical forms (trailing slash, /page/1/). The query matters to the REST API only."""
        parts = urlsplit(raw_path)
        path = parts.path
        rest_host = self._rest_host(path.rstrip("/"))
        if rest_host is not None:
            status, body, headers = wpjson.answer(self._rest_keys(rest_host), parts.query,
                                                  self.base_url + path.rstrip("/"), self._rest_item)
            return make_page(body, wpjson.JSON_TYPE, status=status, headers=tuple(headers.items())), None
        page = self.page(path)
        if page is not None:
            return page, None
        target = path.removesuffix(FIRST_LISTING_PAGE) if path.endswith(site.LISTING_PATH + FIRST_LISTING_PAGE) \
            else path + "/"
        page = self.page(target)
        if page is not None:
            return page, self.base_url + target + (f"?{parts.query}" if parts.query else "")
        return self.not_found, None

    def page(self, path: str) -> Page | None:
        """The page served at `path` (from the cache, or rendered now), or None if there is none."""
        with self._lock:
            cached = self._cache.get(path)
            if cached is not None:
                self._cache.move_to_end(path)
                return cached
        render = self._renderer(path)
        if render is None:
            return None
        page = render()
        with self._lock:
            self._cache[path] = page
            while len(self._cache) > self.cache_pages:
                self._cache.popitem(last=False)
        return page

    def _renderer(self, path: str) -> Callable[[], Page] | None:
        if path in self.bad_pages:
            return lambda: self._bad_page(path)
        return self._release_renderer(path)

    def _release_renderer(self, path: str) -> Callable[[], Page] | None:
        """What would be served at `path` without the bad pages."""
        if path == "/robots.txt":
            return lambda: self.robots
        entry = self.entries.get(path)
        if entry is not None:
            return lambda: self._note_page(entry)
        host = self._host_of_path(path)
        if host is None:
            return None
        rest = path[len(host.prefix):]
        if host.host in DRUPAL_HOSTS:
            where = host.drupal_index.get(path)
            return None if where is None else (lambda: self._drupal_index(host, *where))
        if rest == site.LISTING_PATH:
            return lambda: self._listing(host, 1, path)
        match = LISTING_PAGE.match(rest)
        if match and 2 <= int(match.group(1)) <= site.listing_page_count(len(host.entries)):
            return lambda: self._listing(host, int(match.group(1)), path)
        if rest == "/" + feeds.SITEMAP_INDEX_NAME:
            return lambda: make_page(feeds.sitemap_index_xml(feeds.sitemap_count(len(host.entries)), host.newest,
                                                             self.base_url, host=host.host), XML_TYPE, host.newest)
        match = SITEMAP_PAGE.match(rest)
        number = int(match.group(1) or 1) if match else 0
        if match and (number == 1) == (match.group(1) is None) and number <= feeds.sitemap_count(len(host.entries)):
            return lambda: self._sitemap(host, number)
        return None

    def past_the_last_listing_page(self, path: str) -> tuple[Page, str] | None:
        """For a listing page number past the last one: the last page and its path; else None."""
        host = self._host_of_path(path)
        match = LISTING_PAGE.match(path[len(host.prefix):]) if host is not None else None
        if match is None or host.host in DRUPAL_HOSTS:
            return None
        last = site.listing_page_count(len(host.entries))
        if int(match.group(1)) <= last:
            return None
        last_path = host.prefix + (site.LISTING_PATH if last == 1 else f"{site.LISTING_PATH}page/{last}/")
        return self.page(last_path), last_path

    def _host_of_path(self, path: str) -> _Host | None:
        segment = path.split("/", 2)[1] if path.count("/") >= 2 else ""
        host = self.hosts.get(segment)
        return host if host is not None and host.prefix else self.hosts[WWW_HOST]

    # -- renderers -----------------------------------------------------------------------------

    def _note_page(self, entry: Entry) -> Page:
        note = self.source[entry.path]
        host = self.hosts[host_of(note)]
        if host.host in DRUPAL_HOSTS:
            text = site.render_note_page(note, self.base_url)
        else:
            related = [self.source[e.path] for e in host.related_pool(entry)]
            text = site.render_note_page(note, self.base_url, related=related) if self.redesign is None \
                else render_redesigned_page(note, self.base_url, self.redesign, related=related)
        return make_page(text, _html_type(entry.path), modified_at(note))

    def _listing(self, host: _Host, number: int, path: str) -> Page:
        shown = host.newest_first[(number - 1) * site.PER_PAGE: number * site.PER_PAGE]
        text = site.listing_page_html([self.source[e.path] for e in shown], number, len(host.entries),
                                      self.base_url, host=host.host)
        return make_page(text, _html_type(path), host.newest)

    def _sitemap(self, host: _Host, number: int) -> Page:
        shown = host.by_modified[(number - 1) * feeds.PER_SITEMAP: number * feeds.PER_SITEMAP]
        text = feeds.sitemap_xml([e.stub for e in shown], self.base_url, host=host.host)
        return make_page(text, XML_TYPE, host.newest)

    def _drupal_index(self, host: _Host, year: int | None, month: int | None) -> Page:
        shown = [] if month is None else [self.source[e.path] for e in host.entries
                                          if e.published_date.startswith(f"{year:04d}-{month:02d}-")]
        text = drupal.render_index_page(shown, self.base_url, year, month, years=drupal.years_of(host.stubs))
        return make_page(text, HTML_WITH_CHARSET)

    def _bad_page(self, path: str) -> Page:
        kind = self.bad_pages[path]
        served = None
        if kind in NOTE_KINDS:
            render = self._release_renderer(path)
            served = render().body.decode("utf-8") if render else None
        text = render_bad_page(kind, path, self.base_url, note_page=served,
                               not_found_page=self.not_found_html if kind == SOFT_404 else None)
        return make_page(text, HTML_WITH_CHARSET)

    # -- REST API ------------------------------------------------------------------------------

    def _rest_host(self, path: str) -> _Host | None:
        for host in self.hosts.values():
            if host.host not in DRUPAL_HOSTS and path == host.prefix + wpjson.REST_ROUTE:
                return host
        return None

    def _rest_keys(self, host: _Host) -> list[dict]:
        keys = self._rest_index.get(host.host)
        if keys is None:  # two threads may both build it; either result is the same
            keys = self._rest_index[host.host] = [self._keys_of(e) for e in host.entries]
        return keys

    def _keys_of(self, entry: Entry) -> dict:
        try:
            slug = slug_of(entry.stub)
        except KeyError:  # no slug in the url: WordPress made it from the title
            slug = slug_of(self.source[entry.path])
        stub = entry.stub
        keys = wpjson.query_keys(post_id=site.post_id(stub), slug=slug, published=published_at(stub),
                                 modified=modified_at(stub))
        return keys | {"path": entry.path}

    def _rest_item(self, keys: dict) -> dict:
        note = self.source[keys["path"]]
        prefix = host_prefix(host_of(note))
        return wpjson.rest_item(
            post_id=keys["id"], slug=keys["slug"], link=page_url(note, self.base_url), title=note["title"],
            content_html=site.note_body_html(note, self.base_url), excerpt=" ".join(note["body_lines"]),
            published=published_at(note), modified=modified_at(note), api_base=self.base_url + prefix)
