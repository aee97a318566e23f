"""Parses one saved release page into a `MediaNote`: `parse_note(html, url, content_type)`.

A page goes through (0) a check for pages that are not releases (bot wall, soft 404), then the
numbered cascade of layout stages in `layouts`; the first stage that recognises its layout wins
and its name is recorded as `MediaNote.layout`. A stage that recognises its layout but finds no
usable body raises `ParseError`: an unknown or broken page is quarantined with a reason, never
loaded half-empty. (REST API items are read by `extractors.rest`; `parse_fetched` reads either.)
"""

from __future__ import annotations

import codecs
import logging

from bs4 import BeautifulSoup, SoupStrainer
from bs4.dammit import EncodingDetector

from statenotes.extractors import fields
from statenotes.extractors.fields import PageIndex
from statenotes.extractors.errors import ParseError
from statenotes.extractors.generic import generic_note
from statenotes.extractors.layouts import LAYOUT_STAGES
from statenotes.extractors.records import MediaNote
from statenotes.extractors.rest import REST_ITEM_TYPE, parse_rest_raw
from statenotes.extractors.selectors import (
    BODY_TAG,
    BOT_WALL_TITLE,
    CHARSET_PARAM,
    DOCUMENT_END,
    DOCUMENT_START,
    HEAD_END,
    HEAD_KEEP,
    MAIN_END,
    MAIN_START,
    NOT_FOUND_BODY_CLASS,
    NOT_FOUND_TITLE,
    RELATED_SECTION,
    WINDOWS_1252_ALIASES,
    WP_TITLE,
)

log = logging.getLogger(__name__)

# Recorded with every note version; bump when the same bytes would give different notes or
# paragraphs (parse_note or transforms.paragraphs changed), so that a reprocess can tell.
PARSER_VERSION = "1.3"  # 1.3: the generic fallback reads pages no known layout recognises

PARSER = "lxml"
FALLBACK_ENCODING = "windows-1252"  # what browsers assume for undeclared non-UTF-8 pages
HEADLESS_SNIFF_BYTES = 4096  # where to look for <meta charset> (or <html>) when a page has no </head>
TAIL_BYTES = 4096  # </html> is within this many bytes of the end, after any cache comment


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
    windows-1252. Deciding here keeps BeautifulSoup from running a slow statistical detector.

    One exception to the header's word: a windows-1252 family label (iso-8859-1, latin-1, ...) on
    bytes that decode as UTF-8, have non-ASCII in them, and do not themselves declare a non-UTF-8
    charset, is a mislabel (servers default to latin-1; valid multi-byte UTF-8 is next to
    impossible as real windows-1252 text). Trusting the header would load "â€™" for "’".
    """
    match = CHARSET_PARAM.search(content_type or "")
    from_header = _encoding_label(match.group(1)) if match else None
    if from_header and _codec(from_header) != _codec(FALLBACK_ENCODING):
        return from_header
    head_end = HEAD_END.search(html)
    head = html[: head_end.end()] if head_end else html[:HEADLESS_SNIFF_BYTES]
    declared = _encoding_label(
        EncodingDetector.find_declared_encoding(head, is_html=True, search_entire_document=True))
    if from_header:
        if _codec(declared) in (None, "utf-8") and _is_utf8_text(html):
            log.debug("charset %r in the header, but the bytes are UTF-8: read as UTF-8", match.group(1))
            return "utf-8"
        return from_header
    if declared:
        return declared
    try:
        html.decode("utf-8")
    except UnicodeDecodeError:
        return FALLBACK_ENCODING
    return "utf-8"


def _codec(label: str | None) -> str | None:
    """Python's canonical codec name of a known label ("utf8" -> "utf-8", "windows-1252" -> "cp1252")."""
    return codecs.lookup(label).name if label else None


def _is_utf8_text(html: bytes) -> bool:
    """True for bytes with non-ASCII in them that decode as UTF-8."""
    if html.isascii():
        return False  # every ASCII-compatible label reads ASCII the same
    try:
        html.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _decode(region: bytes, encoding: str) -> str:
    """The region as text. Bytes the chosen encoding cannot read (a wrong charset label) are
    retried as UTF-8 then windows-1252, as BeautifulSoup's own detection would, before any byte
    becomes U+FFFD."""
    for candidate in dict.fromkeys((encoding, "utf-8", FALLBACK_ENCODING)):
        try:
            return region.decode(candidate)
        except UnicodeDecodeError:
            continue
    return region.decode(encoding, errors="replace")


def _head_region(html: bytes, head_end: int) -> bytes:
    """`<head>` with only what the parser reads: title, metas, the canonical link."""
    return b"<html><head>" + b"\n".join(HEAD_KEEP.findall(html, 0, head_end)) + b"</head>"


def article_region(html: bytes) -> bytes:
    """The head's title, the metas read and the canonical link + `<body …>` + `<main>…</main>`
    without its related-articles section; styles, scripts and social metas in the head, and the
    banner, navigation and footer around `<main>`, are boilerplate and most of the bytes (and of
    BeautifulSoup's time). Pages without a `<main>` are returned whole."""
    head_end = HEAD_END.search(html)
    if head_end is None:
        return html
    main_start = MAIN_START.search(html, head_end.end())
    main_end = MAIN_END.search(html, main_start.end()) if main_start else None
    if main_start is None or main_end is None:
        return html
    body_tag = BODY_TAG.search(html, head_end.end(), main_start.start())
    return b"".join((
        _head_region(html, head_end.start()),
        body_tag.group(0) if body_tag else b"<body>",
        RELATED_SECTION.sub(b"", html[main_start.start(): main_end.end()]),
        b"</body></html>",
    ))


# --- 0. Not a release at all -----------------------------------------------------------------------

def _page_titles(soup: BeautifulSoup) -> list[str]:
    """The first few `<title>` and `<h1>` texts: where a bot wall or a 404 page says what it is."""
    return [fields.clean(tag.get_text(" ")) for tag in soup.find_all(("title", "h1"), limit=4)]


def _bot_wall_phrase(titles: list[str]) -> str | None:
    for title in titles:
        match = BOT_WALL_TITLE.search(title)
        if match:
            return match.group(0)
    return None


def _reject_non_release(page: PageIndex, url: str) -> None:
    body = page.soup.body
    if body is not None and NOT_FOUND_BODY_CLASS in (body.get("class") or ()):
        raise ParseError("page not found (404 page served with 200)", url)
    if page.first(WP_TITLE) is not None:
        return  # a release headline: whatever the title says, this is a release page
    titles = _page_titles(page.soup)
    phrase = _bot_wall_phrase(titles)
    if phrase:
        raise ParseError(f"bot wall: '{phrase}' page", url)
    if any(NOT_FOUND_TITLE.search(title) for title in titles):
        raise ParseError("page not found (404 page served with 200)", url)


def is_bot_wall(html: bytes, content_type: str | None = None) -> bool:
    """True when `html` is a bot-wall page ("Technical Difficulties", "Access Denied", ...) rather
    than what was asked for: the check `parse_note` makes, without parsing the release. A JSON or
    XML answer, or a release page whatever its title says, is not one."""
    start = html[:HEADLESS_SNIFF_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not start.startswith(b"<") or start[:5].lower() == b"<?xml":
        return False  # JSON (the REST API), plain text or XML (sitemaps)
    text = _decode(article_region(html), choose_encoding(html, content_type))
    soup = BeautifulSoup(text, PARSER, parse_only=SoupStrainer(("title", "h1")))
    if soup.select_one(WP_TITLE) is not None:
        return False
    return _bot_wall_phrase(_page_titles(soup)) is not None


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
    # Decoded here, not by BeautifulSoup: its encoding detection costs more than the parse.
    encoding = choose_encoding(html, content_type)
    text = _decode(article_region(html), encoding)
    page = PageIndex(BeautifulSoup(text, PARSER))
    _reject_non_release(page, url)
    for stage in LAYOUT_STAGES:
        note = stage(page, url)
        if note is not None:
            return note
    # No known layout: the generic fallback reads the whole page (its head's JSON-LD and the
    # chrome it must see to drop are outside the pre-slice).
    return generic_note(BeautifulSoup(_decode(html, encoding), PARSER), url)


def parse_generic(html: bytes, url: str, content_type: str | None = None) -> MediaNote:
    """The generic fallback alone on a page, whatever its layout (for the extraction evaluation)."""
    encoding = choose_encoding(html, content_type)
    _reject_non_release(PageIndex(BeautifulSoup(_decode(article_region(html), encoding), PARSER)), url)
    return generic_note(BeautifulSoup(_decode(html, encoding), PARSER), url)


def parse_fetched(body: bytes, url: str, content_type: str | None = None) -> MediaNote:
    """A raw page as the archive keeps it: a REST item (content type `rest.REST_ITEM_TYPE`, as
    discovery by the REST API stores it) or a fetched HTML page. Without a content type (read
    back from the archive), a body that is a JSON object is a REST item: no HTML page starts so."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type == REST_ITEM_TYPE or (not media_type and body.lstrip()[:1] == b"{"):
        return parse_rest_raw(body, url)
    return parse_note(body, url, content_type)
