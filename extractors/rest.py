"""Reads releases from the WordPress REST API (`/wp-json/wp/v2/state_press_release`, corpus MARKUP.md):
the query url, a page of items, and one item into a `MediaNote` (layout "wp-json").

One request returns up to 100 releases with their bodies, so a backfill needs far fewer requests
than page by page. An item has no release type, office or tags (those are page chrome or
taxonomy ids); everything else a page gives, it gives too: `title.rendered` and
`content.rendered` are HTML with WordPress's character references (`&#8211;`), `date` is
Washington local time, `modified_gmt` UTC.
"""

from __future__ import annotations

import json
import re
from datetime import timezone
from html import unescape
from urllib.parse import urlencode, urlsplit

from bs4 import BeautifulSoup

from statenotes.extractors import fields
from statenotes.extractors.errors import ParseError
from statenotes.extractors.layouts import checked_blocks
from statenotes.extractors.records import MediaNote
from statenotes.extractors.selectors import LAYOUT_WP_JSON

REST_ROUTE = "/wp-json/wp/v2/state_press_release"
MAX_PER_PAGE = 100  # WordPress refuses more
REST_FIELDS = ("id", "date", "date_gmt", "modified_gmt", "slug", "link", "title", "content")
TOTAL_HEADER, TOTAL_PAGES_HEADER = "X-WP-Total", "X-WP-TotalPages"
# How one item is kept in the raw archive (see `item_bytes`): the content type `parse_fetched` knows.
REST_ITEM_TYPE = "application/vnd.statenotes.wp-json-item+json"
PARSER = "lxml"
# A WordPress slug as it appears in a page path (lower-case words, digits, hyphens; non-ASCII
# percent-encoded). Two answers are asked for, so that an ambiguous slug is seen as such.
SLUG = re.compile(r"^[A-Za-z0-9%_-]{1,200}$")
SLUG_MATCHES = 2


def rest_url(base_url: str, *, after: str | None = None, before: str | None = None,
             modified_after: str | None = None, page: int = 1, per_page: int = MAX_PER_PAGE,
             order: str | None = None, slug: str | None = None) -> str:
    """The collection url for one page of releases. `after` / `before` / `modified_after` are
    ISO 8601 times (exclusive bounds; WordPress compares them with the local `date`); `order`
    "asc" or "desc" (WordPress's default) by date; `slug` the one release of that slug."""
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise ValueError(f"per_page must be in 1..{MAX_PER_PAGE}, got {per_page}")
    params = {"per_page": per_page, "page": page, "after": after, "before": before,
              "modified_after": modified_after, "order": order, "slug": slug, "_fields": ",".join(REST_FIELDS)}
    query = urlencode({k: v for k, v in params.items() if v is not None}, safe=",:")
    return f"{base_url.rstrip('/')}{REST_ROUTE}?{query}"


def item_query_for_page(base_url: str, page_url: str) -> str | None:
    """The REST query for the item of the release page `page_url`: the API of the configured site
    `base_url`, asked for the page's slug. None when the page is not a release page directly on
    that site (`<base_url>/<slug>/`). The host and the route come from `base_url` only: a page
    (or a listing) never chooses where the query goes."""
    base, page = urlsplit(base_url.rstrip("/")), urlsplit(page_url)
    if (page.scheme, page.netloc.lower()) != (base.scheme, base.netloc.lower()) or page.query:
        return None
    if not page.path.startswith(base.path + "/"):
        return None
    slug = page.path[len(base.path):].strip("/")
    if not SLUG.match(slug):
        return None
    return rest_url(base_url, slug=slug, per_page=SLUG_MATCHES)


def item_for_page(items: list[dict], page_url: str) -> dict | None:
    """The one item of a slug query that is the page `page_url` (its `link` has the page's path);
    None when there is none, or more than one (never a guess)."""
    wanted = urlsplit(page_url).path.rstrip("/")
    found = [item for item in items
             if isinstance(item.get("link"), str) and urlsplit(item["link"]).path.rstrip("/") == wanted]
    return found[0] if len(found) == 1 else None


def total_pages(headers: dict[str, str]) -> int | None:
    """`X-WP-TotalPages` of an answer (header names in any case), or None when absent."""
    for name, value in headers.items():
        if name.lower() == TOTAL_PAGES_HEADER.lower():
            try:
                return int(value)
            except ValueError:
                return None
    return None


def parse_rest_page(body: bytes | str) -> list[dict]:
    """The items of one answer. ParseError when it is not a JSON array of objects (an error
    object, a bot-wall HTML page, a truncated body)."""
    try:
        items = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(f"REST answer is not JSON ({exc.__class__.__name__})") from None
    if isinstance(items, dict) and "code" in items:
        raise ParseError(f"REST error: {items.get('code')}: {items.get('message')}")
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ParseError("REST answer is not a list of items")
    return items


def _rendered(item: dict, name: str) -> str | None:
    value = item.get(name)
    value = value.get("rendered") if isinstance(value, dict) else None
    return value if isinstance(value, str) else None


def _plain(html: str) -> str:
    """Text of a rendered title: references decoded, any inline tags dropped."""
    if "<" in html:
        html = BeautifulSoup(html, PARSER).get_text()  # inline tags only: no space between them
    return fields.clean(unescape(html))


def parse_rest_item(item: dict, url: str | None = None) -> MediaNote:
    """One REST item as a note. `url` defaults to the item's `link` (the page it is the body of).
    Raises ParseError (one-line reason) for an item without a title or a body."""
    url = url or item.get("link") or f"wp-json:{item.get('id')}"
    title_html = _rendered(item, "title")
    title = _plain(title_html) if title_html else None
    if not title:
        raise ParseError("unknown layout: REST item without title.rendered", url)
    content = _rendered(item, "content")
    soup = BeautifulSoup(content, PARSER) if content is not None else None
    blocks = checked_blocks(soup.body or soup if soup is not None else None, "content.rendered", url)
    local = fields.parse_timestamp(item.get("date"))
    modified = fields.parse_timestamp(item.get("modified_gmt"), naive_zone=timezone.utc)
    return MediaNote(
        url=url,
        layout=LAYOUT_WP_JSON,
        title=title,
        release_type=None,
        office=None,
        published_date=local.date() if local else None,
        modified_at=modified,
        blocks=blocks,
        canonical_url=item.get("link") or None,
    )


def item_bytes(item: dict) -> bytes:
    """One item as canonical JSON (sorted keys, UTF-8): the same item always gives the same bytes,
    so an unchanged release is the same raw page run after run."""
    return json.dumps(item, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def parse_rest_raw(body: bytes, url: str | None = None) -> MediaNote:
    """`parse_rest_item` of an item kept as `item_bytes` (e.g. read back from the raw archive)."""
    try:
        item = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(f"REST item is not JSON ({exc.__class__.__name__})", url) from None
    if not isinstance(item, dict):
        raise ParseError("REST item is not an object", url)
    return parse_rest_item(item, url)
