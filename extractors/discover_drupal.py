"""Discovery on the 2009-2017 archive (Drupal era): the press-release index by year and by month.

`/r/pa/prs/ps/YYYY/index.htm` links the year's month pages; a month page lists its releases
(`/r/pa/prs/ps/YYYY/MM/NNNNNN.htm`) each with its date in `span.date-display-single` (corpus
MARKUP.md). Links are read by their paths, not by the page's classes, so a theme change does not
hide them; hrefs are resolved against the page's own url (Drupal writes root-relative links).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, SoupStrainer

from statenotes.extractors.discover import parse_listed_date
from statenotes.extractors.errors import FetchError
from statenotes.extractors.records import NoteRef

log = logging.getLogger(__name__)

RELEASES_PATH = "/r/pa/prs/ps/"
YEAR_INDEX = RELEASES_PATH + "{year}/index.htm"
MONTH_INDEX = re.compile(r"/r/pa/prs/ps/(?P<year>\d{4})/(?P<month>\d{2})/index\.htm$")
RELEASE = re.compile(r"/r/pa/prs/ps/(?P<year>\d{4})/(?P<month>\d{2})/\d+\.htm$")
DATE_SPAN = "span.date-display-single"
ROW_TAGS = ("li", "tr", "p", "div")  # the element that holds one release's link and its date
NUMERIC_DATE_FORMATS = ("%m/%d/%y", "%m/%d/%Y")
ARCHIVE_YEARS = (2009, 2017)
_ONLY_LINKS = SoupStrainer(["a", "span", *ROW_TAGS])


def year_index_url(base_url: str, year: int) -> str:
    return base_url.rstrip("/") + YEAR_INDEX.format(year=year)


def _date(text: str) -> date | None:
    cleaned = " ".join(text.split())
    found = parse_listed_date(cleaned)
    for fmt in NUMERIC_DATE_FORMATS:
        if found is not None:
            break
        try:
            found = datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    return found


def parse_year_index(html: bytes | str, page_url: str) -> list[tuple[int, int, str]]:
    """(year, month, url) of every month page the year index links, newest first."""
    soup = BeautifulSoup(html, "lxml", parse_only=SoupStrainer("a"))
    months = {}
    for link in soup.find_all("a", href=True):
        url = urljoin(page_url, link["href"].strip())
        match = MONTH_INDEX.search(urlsplit(url).path)
        if match:
            months[(int(match.group("year")), int(match.group("month")))] = url
    return [(year, month, url) for (year, month), url in sorted(months.items(), reverse=True)]


def parse_month_index(html: bytes | str, page_url: str) -> list[NoteRef]:
    """The releases a month page lists, in page order, with the date printed beside each."""
    soup = BeautifulSoup(html, "lxml", parse_only=_ONLY_LINKS)
    refs, seen = [], set()
    for link in soup.find_all("a", href=True):
        url = urljoin(page_url, link["href"].strip())
        if not RELEASE.search(urlsplit(url).path) or url in seen:
            continue
        seen.add(url)
        row = link.find_parent(ROW_TAGS)
        span = row.select_one(DATE_SPAN) if row is not None else None
        refs.append(NoteRef(url=url, listed_date=_date(span.get_text()) if span else None,
                            title=" ".join(link.get_text().split()) or None))
    return refs


def discover_from_archive_index(fetch: Callable[[str], bytes], base_url: str, start: date,
                                end: date) -> Iterator[NoteRef]:
    """Yield the archive's releases dated between `start` and `end` (inclusive), newest month
    first. `fetch(url) -> bytes` is the I/O edge; a year without an index page is skipped."""
    first, last = max(start.year, ARCHIVE_YEARS[0]), min(end.year, ARCHIVE_YEARS[1])
    for year in range(last, first - 1, -1):
        index_url = year_index_url(base_url, year)
        try:
            months = parse_year_index(fetch(index_url), index_url)
        except FetchError as exc:
            log.warning("no year index for %d (%s)", year, exc.reason)
            continue
        for _, month, month_url in months:
            if not (start.year, start.month) <= (year, month) <= (end.year, end.month):
                continue
            for ref in parse_month_index(fetch(month_url), month_url):
                if ref.listed_date is None or start <= ref.listed_date <= end:
                    yield ref
