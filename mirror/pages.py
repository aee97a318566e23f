"""The mirror's pages rendered once and kept as bytes with their HTTP metadata, by request path, for
every host the notes live on (see `mirror.hosts`), plus the REST items each WordPress host lists.

Per WordPress host (www at the root, an archive host under its prefix): the listing pages, the
sitemaps, every release page and `/wp-json/wp/v2/state_press_release`. Per Drupal host: the
press-release index by year and month, and every release page. robots.txt and the 404 page are
the server's own.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from statenotes.mirror import drupal, site, wpjson
from statenotes.mirror.bad_pages import SOFT_404, render_bad_page
from statenotes.mirror.hosts import DRUPAL_HOSTS, WWW_HOST, host_of, host_prefix, slug_of
from statenotes.mirror.notes import modified_at, page_path, page_url, published_at, stable_hash

HTML_WITH_CHARSET = "text/html; charset=UTF-8"
HTML_NO_CHARSET = "text/html"  # the parser must then read <meta charset> from the bytes
XML_TYPE = "text/xml; charset=UTF-8"
ROBOTS_TYPE = "text/plain; charset=utf-8"
NOT_FOUND_KEY = "404"  # request paths start with "/", so this key never matches one
FIRST_LISTING_PAGE = "page/1/"


@dataclass(frozen=True, slots=True)
class Page:
    """A rendered answer, ready to send."""

    body: bytes
    content_type: str
    status: int = 200
    last_modified: datetime | None = None
    etag: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(slots=True)
class Content:
    """Everything the mirror serves: static pages by path, REST items by endpoint path."""

    pages: dict[str, Page] = field(default_factory=dict)
    rest: dict[str, list[dict]] = field(default_factory=dict)


def make_page(text: str | bytes, content_type: str, last_modified: datetime | None = None, status: int = 200,
              headers: tuple[tuple[str, str], ...] = ()) -> Page:
    body = text.encode("utf-8") if isinstance(text, str) else text
    etag = f'"{hashlib.sha256(body).hexdigest()[:20]}"' if status == 200 else None
    return Page(body, content_type, status, last_modified, etag, headers)


def _html_type(path: str) -> str:
    """Some pages declare their charset in the header, others only in <meta charset>."""
    return HTML_WITH_CHARSET if stable_hash("content-type:" + path) % 2 == 0 else HTML_NO_CHARSET


def _by_host(notes: list[dict]) -> dict[str, list[dict]]:
    hosts: dict[str, list[dict]] = {WWW_HOST: []}
    for note in notes:
        hosts.setdefault(host_of(note), []).append(note)
    return hosts


def _wordpress_host(content: Content, host: str, notes: list[dict], base_url: str) -> None:
    prefix, pages = host_prefix(host), content.pages
    newest = max((modified_at(n) for n in notes), default=None)
    for number in range(1, site.listing_page_count(len(notes)) + 1):
        path = prefix + site.listing_path(number)
        pages[path] = make_page(site.render_listing_page(notes, number, base_url, host=host), _html_type(path), newest)
    pages[prefix + "/sitemap_index.xml"] = make_page(
        site.render_sitemap_index(notes, base_url, host=host), XML_TYPE, newest)
    for number in range(1, site.sitemap_count(len(notes)) + 1):
        pages[f"{prefix}/{site.sitemap_name(number)}"] = make_page(
            site.render_sitemap(notes, number, base_url, host=host), XML_TYPE, newest)
    for note in notes:
        path = page_path(note)
        pages[path] = make_page(site.render_note_page(note, base_url, related=notes), _html_type(path), modified_at(note))
    api_base = base_url + prefix
    content.rest[prefix + wpjson.REST_ROUTE] = [
        wpjson.rest_item(post_id=site.post_id(n), slug=slug_of(n), link=page_url(n, base_url), title=n["title"],
                         content_html=site.note_body_html(n, base_url), excerpt=" ".join(n["body_lines"]),
                         published=published_at(n), modified=modified_at(n), api_base=api_base)
        for n in notes]


def _drupal_host(content: Content, host: str, notes: list[dict], base_url: str) -> None:
    prefix = host_prefix(host)
    for year, month in drupal.index_pages(notes):
        path = prefix + drupal.index_path(year, month)
        content.pages[path] = make_page(drupal.render_index_page(notes, base_url, year, month), HTML_WITH_CHARSET)
    for note in notes:
        path = page_path(note)
        content.pages[path] = make_page(site.render_note_page(note, base_url), _html_type(path), modified_at(note))


def build_content(notes: list[dict], base_url: str, crawl_delay: float,
                  bad_pages: dict[str, str] | None = None) -> Content:
    """Every page the mirror serves; `bad_pages` ({path: kind}) replace or add pages that are not
    releases (see `mirror.bad_pages`)."""
    base_url = base_url.rstrip("/")
    content = Content()
    not_found = site.render_not_found(base_url)
    content.pages["/robots.txt"] = make_page(site.render_robots(crawl_delay, base_url), ROBOTS_TYPE)
    content.pages[NOT_FOUND_KEY] = make_page(not_found, HTML_WITH_CHARSET, status=404)
    for host, hosted in _by_host(notes).items():
        (_drupal_host if host in DRUPAL_HOSTS else _wordpress_host)(content, host, hosted, base_url)
    for path, kind in (bad_pages or {}).items():
        served = content.pages.get(path)
        text = render_bad_page(kind, path, base_url, not_found_page=not_found if kind == SOFT_404 else None,
                               note_page=served.body.decode("utf-8") if served else None)
        content.pages[path] = make_page(text, HTML_WITH_CHARSET)
    return content


def lookup(content: Content, raw_path: str, base_url: str) -> tuple[Page, str | None]:
    """The answer for a request path: a page, a REST answer, or a redirect location for WordPress's
    canonical forms (trailing slash, /page/1/). The query matters to the REST API only."""
    parts = urlsplit(raw_path)
    path = parts.path
    items = content.rest.get(path.rstrip("/"))
    if items is not None:
        status, body, headers = wpjson.answer(items, parts.query, base_url + path.rstrip("/"))
        return make_page(body, wpjson.JSON_TYPE, status=status, headers=tuple(headers.items())), None
    if path in content.pages:
        return content.pages[path], None
    target = path.removesuffix(FIRST_LISTING_PAGE) if path.endswith(site.LISTING_PATH + FIRST_LISTING_PAGE) \
        else path + "/"
    if target in content.pages:
        return content.pages[target], base_url + target + (f"?{parts.query}" if parts.query else "")
    return content.pages[NOT_FOUND_KEY], None
