"""Small readers of page metadata shared by the layout stages: text of a selector, `<head>` meta,
printed dates, og:title, canonical link, tags. Pure functions over parsed soup."""

from __future__ import annotations

import logging
from datetime import date, datetime

from bs4.element import Tag

from statenotes.extractors.body import block_lines
from statenotes.extractors.selectors import (
    CANONICAL_LINK,
    MODIFIED_META,
    MONTHS,
    OG_TITLE,
    OG_TITLE_SUFFIX,
    PRINTED_DATE,
    WP_TAGS,
)

log = logging.getLogger(__name__)


def clean(text: str) -> str:
    """Whitespace (non-breaking spaces included) collapsed and stripped."""
    return " ".join(text.split())


def text_of(soup: Tag, selector: str, line_separator: str = " ") -> str | None:
    """Whitespace-collapsed text of the first match; `<br>`-separated lines joined as given."""
    tag = soup.select_one(selector)
    lines = block_lines(tag) if tag is not None else None
    text = line_separator.join(filter(None, map(clean, lines or ())))
    return text or None


def head(soup: Tag) -> Tag:
    # <meta> and <link> live in <head>; searching only there skips walking the whole body.
    return soup.head or soup


def meta(soup: Tag, selector: str) -> str | None:
    tag = head(soup).select_one(selector)
    content = tag.get("content") if tag is not None else None
    return clean(content) if content else None


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


def modified_at(soup: Tag) -> datetime | None:
    for selector in MODIFIED_META:
        value = parse_timestamp(meta(soup, selector))
        if value is not None:
            return value
    return None


def og_title(soup: Tag) -> tuple[str | None, bool]:
    """og:title without the site suffix, and whether the suffix was there (a state.gov page)."""
    title = meta(soup, OG_TITLE)
    suffix = OG_TITLE_SUFFIX.strip()
    if title and title.endswith(suffix):
        return title[: -len(suffix)].rstrip(" -–|") or None, True
    return title, False


def canonical(soup: Tag) -> str | None:
    link = head(soup).select_one(CANONICAL_LINK)
    href = link.get("href") if link is not None else None
    return href.strip() if href and href.strip() else None


def tags(soup: Tag) -> list[str]:
    seen: dict[str, None] = {}
    for link in soup.select(WP_TAGS):
        name = clean(link.get_text(" "))
        if name:
            seen.setdefault(name, None)
    return list(seen)

