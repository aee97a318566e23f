"""The mirror's pages rendered once and kept as bytes with their HTTP metadata, by request path."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from statenotes.mirror import site
from statenotes.mirror.notes import modified_at, page_path, stable_hash

HTML_WITH_CHARSET = "text/html; charset=UTF-8"
HTML_NO_CHARSET = "text/html"  # the parser must then read <meta charset> from the bytes
XML_TYPE = "text/xml; charset=UTF-8"
ROBOTS_TYPE = "text/plain; charset=utf-8"
NOT_FOUND_KEY = "404"  # request paths start with "/", so this key never matches one


@dataclass(frozen=True, slots=True)
class Page:
    """A rendered answer, ready to send."""

    body: bytes
    content_type: str
    status: int = 200
    last_modified: datetime | None = None
    etag: str | None = None


def make_page(text: str, content_type: str, last_modified: datetime | None = None, status: int = 200) -> Page:
    body = text.encode("utf-8")
    etag = f'"{hashlib.sha256(body).hexdigest()[:20]}"' if status == 200 else None
    return Page(body, content_type, status, last_modified, etag)


def _html_type(path: str) -> str:
    """Some pages declare their charset in the header, others only in <meta charset>."""
    return HTML_WITH_CHARSET if stable_hash("content-type:" + path) % 2 == 0 else HTML_NO_CHARSET


def build_pages(notes: list[dict], base_url: str, crawl_delay: float) -> dict[str, Page]:
    """Every page the mirror serves, by path."""
    newest = max((modified_at(n) for n in notes), default=None)
    pages = {"/robots.txt": make_page(site.render_robots(crawl_delay, base_url), ROBOTS_TYPE),
             NOT_FOUND_KEY: make_page(site.render_not_found(base_url), HTML_WITH_CHARSET, status=404)}
    for number in range(1, site.listing_page_count(len(notes)) + 1):
        path = site.listing_path(number)
        pages[path] = make_page(site.render_listing_page(notes, number, base_url), _html_type(path), newest)
    pages["/sitemap_index.xml"] = make_page(site.render_sitemap_index(notes, base_url), XML_TYPE, newest)
    for number in range(1, site.sitemap_count(len(notes)) + 1):
        pages["/" + site.sitemap_name(number)] = make_page(site.render_sitemap(notes, number, base_url), XML_TYPE, newest)
    for note in notes:
        path = page_path(note)
        pages[path] = make_page(site.render_note_page(note, base_url, related=notes), _html_type(path), modified_at(note))
    return pages
