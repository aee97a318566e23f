"""Parses one saved release page into a `MediaNote`: `parse_note(html, url, content_type)`.

A page goes through (0) a check for pages that are not releases (bot wall, soft 404), then a
numbered cascade of layout stages; the first stage that recognises its layout wins and its name is
recorded as `MediaNote.layout`. A stage that recognises its layout but finds no usable body raises
`ParseError`: an unknown or broken page is quarantined with a reason, never loaded half-empty.
"""

from __future__ import annotations

import codecs
import logging
from collections.abc import Callable
from datetime import date, datetime

from bs4 import BeautifulSoup
from bs4.dammit import EncodingDetector
from bs4.element import Tag

from statenotes.extractors.body import block_lines, body_blocks
from statenotes.extractors.errors import ParseError
from statenotes.extractors.records import BodyBlock, MediaNote
from statenotes.extractors.selectors import (
    BODY_TAG,
    BOT_WALL_TITLE,
    DOCUMENT_END,
    DOCUMENT_START,
    CANONICAL_LINK,
    CHARSET_PARAM,
    DRUPAL_BODY,
    DRUPAL_DATE,
    DRUPAL_TITLE,
    HEAD_END,
    LAYOUT_DRUPAL,
    LAYOUT_WORDPRESS,
    MAIN_END,
    MAIN_START,
    MODIFIED_META,
    MONTHS,
    NOT_FOUND_BODY_CLASS,
    NOT_FOUND_TITLE,
    OG_TITLE,
    OG_TITLE_SUFFIX,
    PRINTED_DATE,
    WINDOWS_1252_ALIASES,
    WP_BODY,
    WP_OFFICE,
    WP_PUBLISH_DATE,
    WP_RELEASE_TYPE,
    WP_TAGS,
    WP_TITLE,
)

log = logging.getLogger(__name__)

# Recorded with every note version; bump when the same bytes would give different notes or
# paragraphs (parse_note or transforms.paragraphs changed), so that a reprocess can tell.
PARSER_VERSION = "1.0"

PARSER = "lxml"
FALLBACK_ENCODING = "windows-1252"  # what browsers assume for undeclared non-UTF-8 pages
HEADLESS_SNIFF_BYTES = 4096  # where to look for <meta charset> (or <html>) when a page has no </head>
TAIL_BYTES = 4096  # </html> is within this many bytes of the end, after any cache comment
OFFICE_LINE_SEPARATOR = ", "  # remarks print "Name<br>Title" in the office slot


# --- Bytes in: encoding and the pre-slice ----------------------------------------------------------

def _encoding_label(label: str | None) -> str | None:
    """A codec name Python knows, or None for a missing or unknown label (then the next source
    of the encoding decides)."""
    label = (label or "").strip().strip("\"'").lower()
    if label in WINDOWS_1252_ALIASES:
        return FALLBACK_ENCODING
    try:
        codecs.lookup(label)
    except LookupError:
        return None
    return label


def choose_encoding(html: bytes, content_type: str | None) -> str:
    """HTTP header charset, else the page's own `<meta charset>`, else UTF-8 if it decodes, else
    windows-1252. Deciding here keeps BeautifulSoup from running a slow statistical detector."""
    match = CHARSET_PARAM.search(content_type or "")
    from_header = _encoding_label(match.group(1)) if match else None
    if from_header:
        return from_header
    head_end = HEAD_END.search(html)
    head = html[: head_end.end()] if head_end else html[:HEADLESS_SNIFF_BYTES]
    declared = _encoding_label(
        EncodingDetector.find_declared_encoding(head, is_html=True, search_entire_document=True))
    if declared:
        return declared
    try:
        html.decode("utf-8")
    except UnicodeDecodeError:
        return FALLBACK_ENCODING
    return "utf-8"


def article_region(html: bytes) -> bytes:
    """`<head>` + `<body …>` + `<main>…</main>`; the banner, navigation and footer around `<main>`
    are boilerplate and most of the bytes. Pages without a `<main>` are returned whole."""
    head_end = HEAD_END.search(html)
    if head_end is None:
        return html
    main_start = MAIN_START.search(html, head_end.end())
    main_end = MAIN_END.search(html, main_start.end()) if main_start else None
    if main_start is None or main_end is None:
        return html
    body_tag = BODY_TAG.search(html, head_end.end(), main_start.start())
    return b"".join((
        html[: head_end.end()],
        body_tag.group(0) if body_tag else b"<body>",
        html[main_start.start(): main_end.end()],
        b"</body></html>",
    ))


# --- Small readers ---------------------------------------------------------------------------------

def _clean(text: str) -> str:
    return " ".join(text.split())


def _text(soup: Tag, selector: str, line_separator: str = " ") -> str | None:
    """Whitespace-collapsed text of the first match; `<br>`-separated lines joined as given."""
    tag = soup.select_one(selector)
    lines = block_lines(tag) if tag is not None else None
    text = line_separator.join(filter(None, map(_clean, lines or ())))
    return text or None


def _head(soup: Tag) -> Tag:
    # <meta> and <link> live in <head>; searching only there skips walking the whole body.
    return soup.head or soup


def _meta(soup: Tag, selector: str) -> str | None:
    tag = _head(soup).select_one(selector)
    content = tag.get("content") if tag is not None else None
    return _clean(content) if content else None


def parse_printed_date(text: str | None) -> date | None:
    """"February 7, 2019" (also "Feb. 7, 2019") -> date; anything else -> None."""
    match = PRINTED_DATE.match(_clean(text or ""))
    month = MONTHS.get(match.group("month").lower()) if match else None
    if month is None:
        return None
    try:
        return date(int(match.group("year")), month, int(match.group("day")))
    except ValueError:
        return None


def _modified_at(soup: Tag) -> datetime | None:
    for selector in MODIFIED_META:
        value = _meta(soup, selector)
        if value:
            try:
                return datetime.fromisoformat(value)
            except ValueError:
                log.debug("unreadable modified time %r", value)
    return None


def _og_title(soup: Tag) -> tuple[str | None, bool]:
    """og:title without the site suffix, and whether the suffix was there (a state.gov page)."""
    title = _meta(soup, OG_TITLE)
    suffix = OG_TITLE_SUFFIX.strip()
    if title and title.endswith(suffix):
        return title[: -len(suffix)].rstrip(" -–|") or None, True
    return title, False


def _canonical(soup: Tag) -> str | None:
    link = _head(soup).select_one(CANONICAL_LINK)
    href = link.get("href") if link is not None else None
    return href.strip() if href and href.strip() else None


def _tags(soup: Tag) -> list[str]:
    seen: dict[str, None] = {}
    for link in soup.select(WP_TAGS):
        name = _clean(link.get_text(" "))
        if name:
            seen.setdefault(name, None)
    return list(seen)


def _has_prose(blocks: list[BodyBlock]) -> bool:
    # "# # #" alone, or punctuation, is not a release body.
    return any(ch.isalnum() for block in blocks for line in block.lines for ch in line)


def _checked_blocks(body: Tag | None, missing: str, url: str) -> list[BodyBlock]:
    if body is None:
        raise ParseError(f"no release body ({missing} missing)", url)
    blocks = body_blocks(body)
    if not _has_prose(blocks):
        raise ParseError("empty release body", url)
    return blocks


# --- 0. Not a release at all -----------------------------------------------------------------------

def _reject_non_release(soup: BeautifulSoup, url: str) -> None:
    body = soup.body
    if body is not None and NOT_FOUND_BODY_CLASS in (body.get("class") or ()):
        raise ParseError("page not found (404 page served with 200)", url)
    if soup.select_one(WP_TITLE) is not None:
        return  # a release headline: whatever the title says, this is a release page
    titles = [_clean(tag.get_text(" ")) for tag in soup.find_all(("title", "h1"), limit=4)]
    for title in titles:
        match = BOT_WALL_TITLE.search(title)
        if match:
            raise ParseError(f"bot wall: '{match.group(0)}' page", url)
    if any(NOT_FOUND_TITLE.search(title) for title in titles):
        raise ParseError("page not found (404 page served with 200)", url)


# --- The layout cascade ----------------------------------------------------------------------------

def _wordpress(soup: BeautifulSoup, url: str) -> MediaNote | None:
    # 1. WordPress release page (www.state.gov since 2019; the 2017-2021 / 2021-2025 archives).
    #    Recognised by its headline, its body or a state.gov og:title; the title falls back to og:title.
    headline = _text(soup, WP_TITLE)
    body = soup.select_one(WP_BODY)
    og_title, og_is_state_gov = _og_title(soup)
    if headline is None and body is None and not og_is_state_gov:
        return None
    title = headline or og_title
    if not title:
        return None
    return MediaNote(
        url=url,
        layout=LAYOUT_WORDPRESS,
        title=title,
        release_type=_text(soup, WP_RELEASE_TYPE),
        office=_text(soup, WP_OFFICE, line_separator=OFFICE_LINE_SEPARATOR),
        published_date=parse_printed_date(_text(soup, WP_PUBLISH_DATE)),
        modified_at=_modified_at(soup),
        tags=_tags(soup),
        blocks=_checked_blocks(body, WP_BODY, url),
        canonical_url=_canonical(soup),
    )


def _drupal(soup: BeautifulSoup, url: str) -> MediaNote | None:
    # 2. Drupal-era archive page (2009-2017.state.gov). Believed markup, never seen from here:
    #    engages only when its own title and body classes are both present.
    title = _text(soup, DRUPAL_TITLE)
    body = soup.select_one(DRUPAL_BODY)
    if not title or body is None:
        return None
    return MediaNote(
        url=url,
        layout=LAYOUT_DRUPAL,
        title=title,
        release_type=None,
        office=None,
        published_date=parse_printed_date(_text(soup, DRUPAL_DATE)),
        blocks=_checked_blocks(body, DRUPAL_BODY, url),
        canonical_url=_canonical(soup),
    )


LAYOUT_STAGES: tuple[Callable[[BeautifulSoup, str], MediaNote | None], ...] = (_wordpress, _drupal)


def parse_note(html: bytes, url: str, content_type: str | None = None) -> MediaNote:
    """Parse a release page. Raises `ParseError` (one-line `reason`) for anything not a release.

    Give the bytes as received: the encoding comes from `content_type`'s charset, else the page's
    `<meta charset>`. (Already-decoded text is accepted and read as UTF-8.)
    """
    if isinstance(html, str):
        html, content_type = html.encode("utf-8"), "text/html; charset=utf-8"
    if DOCUMENT_START.search(html[:HEADLESS_SNIFF_BYTES]) and not DOCUMENT_END.search(html[-TAIL_BYTES:]):
        # A body cut short in transit would otherwise load as a shorter note.
        raise ParseError("truncated page (no </html>)", url)
    encoding = choose_encoding(html, content_type)
    soup = BeautifulSoup(article_region(html), PARSER, from_encoding=encoding)
    _reject_non_release(soup, url)
    for stage in LAYOUT_STAGES:
        note = stage(soup, url)
        if note is not None:
            return note
    raise ParseError("unknown layout: no release title", url)
