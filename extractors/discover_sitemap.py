"""Discovery from the XML sitemaps: `sitemap_index.xml` -> every press-release sub-sitemap -> each
URL with its `lastmod` (corpus MARKUP.md).

The index's own lastmod values are often all the same, so every press-release sub-sitemap is read
and the window applies to the per-URL lastmod: a sitemap finds what *changed* in the window (new
and edited releases alike), not what was published in it. A note published in the window but
edited after its end is therefore not found, unless the window runs to today.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

from lxml import etree

from statenotes.extractors.errors import ParseError
from statenotes.extractors.records import FetchedPage, NoteRef

log = logging.getLogger(__name__)

SITEMAP_INDEX_PATH = "/sitemap_index.xml"
# Only the press releases' sub-sitemaps; the index also lists pages, posts, taxonomies...
PRESS_RELEASE_SITEMAP = re.compile(r"/state_press_release-sitemap\d*\.xml$")
# Listing dates are Washington dates; a lastmod is compared on the same calendar.
SITE_ZONE = ZoneInfo("America/New_York")
MAX_SUB_SITEMAPS = 1000  # a guard against an index that never ends
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)


def _root(xml: bytes, what: str) -> etree._Element:
    try:
        root = etree.fromstring(xml, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise ParseError(f"{what} is not XML ({exc.msg})") from None
    return root


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def parse_sitemap_index(xml: bytes) -> list[str]:
    """The `<loc>` of every `<sitemap>` in a sitemap index, in order. ParseError when it is not one."""
    root = _root(xml, "sitemap index")
    if _local(root.tag) != "sitemapindex":
        raise ParseError(f"not a sitemap index (root <{_local(root.tag)}>)")
    return [loc.text.strip() for loc in root.iterfind("{*}sitemap/{*}loc") if loc.text and loc.text.strip()]


def parse_lastmod(text: str | None) -> datetime | None:
    """A W3C datetime ("2019-02-07T15:25:05+00:00", "2019-02-07") as an aware datetime, else None."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=SITE_ZONE)


def parse_sitemap(xml: bytes) -> list[NoteRef]:
    """Each `<url>` of a sitemap as a ref with its `lastmod`, in order. ParseError when it is not one."""
    root = _root(xml, "sitemap")
    if _local(root.tag) != "urlset":
        raise ParseError(f"not a sitemap (root <{_local(root.tag)}>)")
    refs = []
    for entry in root.iterfind("{*}url"):
        loc = entry.findtext("{*}loc")
        if loc and loc.strip():
            refs.append(NoteRef(url=loc.strip(), lastmod=parse_lastmod(entry.findtext("{*}lastmod"))))
    return refs


def discover_from_sitemaps(fetch: Callable[[str], FetchedPage], base_url: str, start: date,
                           end: date) -> Iterator[NoteRef]:
    """Yield the press releases whose lastmod (a Washington date) is between `start` and `end`,
    inclusive, in sitemap order. A URL without a lastmod is yielded (it may have changed).
    `fetch(url)` is the I/O edge (e.g. `Fetcher.fetch_page`); its FetchError ends discovery."""
    index_url = base_url.rstrip("/") + SITEMAP_INDEX_PATH
    subs = [u for u in parse_sitemap_index(fetch(index_url).body) if PRESS_RELEASE_SITEMAP.search(u)]
    if not subs:
        raise ParseError(f"no press-release sitemap in {index_url}")
    seen: set[str] = set()
    for sub_url in subs[:MAX_SUB_SITEMAPS]:
        for ref in parse_sitemap(fetch(sub_url).body):
            if ref.url in seen:
                continue
            seen.add(ref.url)
            changed = ref.lastmod.astimezone(SITE_ZONE).date() if ref.lastmod else None
            if changed is None or start <= changed <= end:
                yield ref
    log.info("sitemaps: %d press-release sub-sitemaps read at %s", len(subs), index_url)
