"""Readers of page metadata shared by the layout stages, over a `PageIndex`: text of a selector,
`<head>` meta, printed dates, og:title, canonical link, tags. Pure functions over parsed soup."""

from __future__ import annotations

import logging
import re
from datetime import date, datetime
from functools import lru_cache

from bs4 import BeautifulSoup
from bs4.element import Tag

from statenotes.extractors.body import block_lines
from statenotes.extractors.selectors import (
    CANONICAL_REL,
    MODIFIED_META,
    MONTHS,
    OG_TITLE,
    OG_TITLE_SUFFIX,
    PRINTED_DATE,
    WP_TAGS,
)

log = logging.getLogger(__name__)

SIMPLE_SELECTOR = re.compile(r"^(?P<name>[a-z][a-z0-9]*)?(?P<classes>(?:\.[\w-]+)+)$")


@lru_cache(maxsize=64)
def simple_selector(selector: str) -> tuple[str | None, tuple[str, ...]]:
    """("div", ("entry-content",)) for "div.entry-content"; ValueError for anything richer."""
    match = SIMPLE_SELECTOR.match(selector)
    if match is None:
        raise ValueError(f"not a simple tag.class selector: {selector!r}")
    return match.group("name"), tuple(match.group("classes")[1:].split("."))


class PageIndex:
    """A parsed page with what the layout stages look up, found in one walk: elements by class (in
    document order), `<meta>` contents by property or name, the canonical link.

    A dozen selectors a page, each a soupsieve walk, cost more than the parse itself on small
    pages, and far more on XHTML pages (their namespaces defeat soupsieve's compile cache).
    """

    __slots__ = ("soup", "_by_class", "_meta", "canonical")

    def __init__(self, soup: BeautifulSoup):
        self.soup = soup
        self._by_class: dict[str, list[Tag]] = {}
        for tag in soup.find_all(True):
            for name in tag.get("class") or ():
                self._by_class.setdefault(name, []).append(tag)
        head = soup.head or soup  # <meta> and <link> live in <head>
        self._meta: dict[str, str] = {}
        for tag in head.find_all("meta"):
            key, content = tag.get("property") or tag.get("name"), tag.get("content")
            if key and content:
                self._meta.setdefault(key.strip().lower(), content)
        self.canonical = None
        for link in head.find_all("link", href=True):
            if CANONICAL_REL in (link.get("rel") or ()) and link["href"].strip():
                self.canonical = link["href"].strip()
                break

    def first(self, selector: str) -> Tag | None:
        """The first element matching a simple selector, in document order."""
        name, classes = simple_selector(selector)
        for tag in self._by_class.get(classes[0], ()):
            if (name is None or tag.name == name) and all(c in tag.get("class") for c in classes[1:]):
                return tag
        return None

    def meta(self, key: str) -> str | None:
        content = self._meta.get(key.lower())
        return clean(content) if content else None


def clean(text: str) -> str:
    """Whitespace (non-breaking spaces included) collapsed and stripped."""
    return " ".join(text.split())


def text_of(page: PageIndex, selector: str, line_separator: str = " ") -> str | None:
    """Whitespace-collapsed text of the first match; `<br>`-separated lines joined as given."""
    tag = page.first(selector)
    lines = block_lines(tag) if tag is not None else None
    text = line_separator.join(filter(None, map(clean, lines or ())))
    return text or None


def parse_printed_date(text: str | None) -> date | None:
    """"February 7, 2019" (also "Feb. 7, 2019") -> date; anything else -> None."""
    match = PRINTED_DATE.match(clean(text or ""))
    month = MONTHS.get(match.group("month").lower()) if match else None
    if month is None:
        return None
    try:
        return date(int(match.group("year")), month, int(match.group("day")))
    except ValueError:
        return None


def parse_timestamp(value: str | None, naive_zone=None) -> datetime | None:
    """An ISO 8601 timestamp; a naive one is taken to be in `naive_zone` (None: left naive)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        log.debug("unreadable timestamp %r", value)
        return None
    return parsed.replace(tzinfo=naive_zone) if parsed.tzinfo is None and naive_zone else parsed


def modified_at(page: PageIndex) -> datetime | None:
    for key in MODIFIED_META:
        value = parse_timestamp(page.meta(key))
        if value is not None:
            return value
    return None


def og_title(page: PageIndex) -> tuple[str | None, bool]:
    """og:title without the site suffix, and whether the suffix was there (a state.gov page)."""
    title = page.meta(OG_TITLE)
    suffix = OG_TITLE_SUFFIX.strip()
    if title and title.endswith(suffix):
        return title[: -len(suffix)].rstrip(" -–|") or None, True
    return title, False


def tags(page: PageIndex) -> list[str]:
    pills = page.first(WP_TAGS)
    seen: dict[str, None] = {}
    for link in pills.find_all("a") if pills is not None else ():
        name = clean(link.get_text(" "))
        if name:
            seen.setdefault(name, None)
    return list(seen)
