"""Discovery from the XML sitemaps: `sitemap_index.xml` -> every press-release sub-sitemap -> each
URL with its `lastmod` (corpus MARKUP.md).

The index's own lastmod values are often all the same, so every press-release sub-sitemap is read
and the window applies to the per-URL lastmod: a sitemap finds what *changed* in the window (new
and edited releases alike), not what was published in it. A note published in the window but
edited after its end is therefore not found, unless the window runs to today.

Each sub-sitemap is read once however often it is listed; a sub-sitemap that is itself an index is
followed (MAX_SITEMAP_DEPTH levels); one that cannot be fetched or read is skipped with a warning,
and only when none is readable does sitemap discovery fail.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

from lxml import etree

from statenotes.extractors.errors import FetchError, ParseError
from statenotes.extractors.records import FetchedPage, NoteRef

log = logging.getLogger(__name__)

SITEMAP_INDEX_PATH = "/sitemap_index.xml"
# Only the press releases' sub-sitemaps; the index also lists pages, posts, taxonomies...
PRESS_RELEASE_SITEMAP = re.compile(r"/state_press_release-sitemap\d*\.xml$")
# Listing dates are Washington dates; a lastmod is compared on the same calendar.
SITE_ZONE = ZoneInfo("America/New_York")
MAX_SUB_SITEMAPS = 1000  # a guard against an index that never ends
MAX_SITEMAP_DEPTH = 3  # the index, and two levels of nested indexes below it
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
    return _urlset_refs(root)


def parse_sitemap_or_index(xml: bytes) -> tuple[list[NoteRef], list[str]]:
    """(refs, sub-sitemaps): a sitemap's refs, or an index's `<loc>`s. ParseError for anything else."""
    root = _root(xml, "sitemap")
    if _local(root.tag) == "sitemapindex":
        return [], parse_sitemap_index(xml)
    if _local(root.tag) != "urlset":
        raise ParseError(f"neither a sitemap nor a sitemap index (root <{_local(root.tag)}>)")
    return _urlset_refs(root), []


def _urlset_refs(root: etree._Element) -> list[NoteRef]:
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
    subs = list(dict.fromkeys(u for u in parse_sitemap_index(fetch(index_url).body) if PRESS_RELEASE_SITEMAP.search(u)))
    if not subs:
        raise ParseError(f"no press-release sitemap in {index_url}")
    # Breadth first; the children of a press-release index are all press-release sitemaps.
    queue, visited = [(url, 2) for url in subs], {index_url}
    seen: set[str] = set()
    read, skipped = 0, []
    while queue and read + len(skipped) < MAX_SUB_SITEMAPS:
        sub_url, depth = queue.pop(0)
        if sub_url in visited:
            continue
        visited.add(sub_url)
        try:
            refs, nested = parse_sitemap_or_index(fetch(sub_url).body)
        except (FetchError, ParseError) as exc:
            skipped.append(sub_url)
            log.warning("sitemap %s skipped (%s); the other sitemaps are read", sub_url, exc.reason)
            continue
        if nested:
            if depth >= MAX_SITEMAP_DEPTH:
                log.warning("sitemap index %s nested deeper than %d levels: not followed", sub_url, MAX_SITEMAP_DEPTH)
                continue
            queue.extend((url, depth + 1) for url in dict.fromkeys(nested) if url not in visited)
            continue
        read += 1
        for ref in refs:
            if ref.url in seen:
                continue
            seen.add(ref.url)
            changed = ref.lastmod.astimezone(SITE_ZONE).date() if ref.lastmod else None
            if changed is None or start <= changed <= end:
                yield ref
    if read == 0:
        raise ParseError(f"no readable press-release sitemap in {index_url} ({len(skipped)} skipped)")
    if queue:
        log.warning("sitemaps: stopped after %d sub-sitemaps at %s", MAX_SUB_SITEMAPS, index_url)
    log.info("sitemaps: %d press-release sitemaps read (%d skipped) at %s", read, len(skipped), index_url)
