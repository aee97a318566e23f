"""What the mirror sends for a fault (see `mirror.faults`): bodies, relabelled pages and redirect
targets. Pure functions; the server decides when and writes them to the socket."""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from dataclasses import replace
from functools import lru_cache
from urllib.parse import parse_qs, urlsplit

from statenotes.mirror.pages import HTML_NO_CHARSET, Page

FAULT_BODIES = {
    403: b"<html><head><title>Access Denied</title></head><body><h1>Access Denied</h1>"
         b"<p>You don't have permission to access this page on this server.</p></body></html>",
    429: b"<html><head><title>429 Too Many Requests</title></head><body><h1>Too Many Requests</h1></body></html>",
    503: b"<html><head><title>503 Service Unavailable</title></head><body><h1>Service Unavailable</h1></body></html>",
}
GZIP_TYPE = "text/html; charset=UTF-8"
LATIN1 = "iso-8859-1"
# A query parameter that marks a request inside a redirect loop: such requests always redirect,
# to the other end of the loop, whatever the fault plan says.
LOOP_PARAM = "redirect-loop"
# <meta charset="..."> and <meta http-equiv="Content-Type" content="...; charset=...">
META_CHARSET = re.compile(rb"<meta\s+charset=[^>]*>\s*|<meta\s+http-equiv=[\"']?content-type[^>]*>\s*",
                          re.IGNORECASE)
BOMB_CHUNK = 1 << 20
HUGE_CHUNK = 64 * 1024
HUGE_FILL = b"<!-- " + b"padding " * 8191 + b"-->\n"  # 64 kB of comment per chunk
BLANK_FILL = b" " * len(HUGE_FILL)  # JSON and XML allow trailing white space
BODY_END = re.compile(rb"</body\s*>", re.IGNORECASE)
RESULTS_END = re.compile(rb"(<ul[^>]*class=\"collection-results\"[^>]*>.*?)(</ul>)", re.DOTALL)
ROBOTS_PAD = b"# " + b"padding " * 127 + b"\n"  # a kilobyte of comment
ROBOTS_RULES_AT = 100 * 1024  # the rules sit after this much padding, well inside 500 KiB


@lru_cache(maxsize=4)
def gzip_bomb(inflated_bytes: int) -> bytes:
    """A gzip stream of `inflated_bytes` zero bytes (about 1/1000 of that on the wire), made a
    megabyte at a time so the mirror never holds the inflated size."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # 16+: gzip framing
    zeros, parts, left = bytes(BOMB_CHUNK), [], inflated_bytes
    while left > 0:
        parts.append(packer.compress(zeros[:min(left, BOMB_CHUNK)]))
        left -= BOMB_CHUNK
    parts.append(packer.flush())
    return b"".join(parts)


def huge_chunks(page: Page, size: int) -> Iterator[bytes]:
    """`page`'s body padded to at least `size` bytes, in pieces: an HTML page with comments before
    `</body>`, anything else with trailing blanks; still the same answer for a client that accepts
    bodies that big."""
    body = page.body
    end = BODY_END.search(body) if _is_html(page) else None
    split = end.start() if end else len(body)
    fill = HUGE_FILL if _is_html(page) else BLANK_FILL
    yield body[:split]
    sent = len(body)
    while sent < size:
        yield fill
        sent += len(fill)
    yield body[split:]


def huge_length(page: Page, size: int) -> int:
    """What `huge_chunks` sends in all (for a Content-Length)."""
    missing = max(0, size - len(page.body))
    return len(page.body) + -(-missing // len(HUGE_FILL)) * len(HUGE_FILL)


def _is_html(page: Page) -> bool:
    return page.content_type.startswith("text/html")


def huge_robots(size: int, disallow: str) -> bytes:
    """A robots.txt of at least `size` bytes: comment padding, a group disallowing `disallow`
    (inside the first 500 KiB, which RFC 9309 requires a crawler to parse), more padding."""
    head = ROBOTS_PAD * (ROBOTS_RULES_AT // len(ROBOTS_PAD))
    rules = f"User-agent: *\nDisallow: {disallow}\n".encode()
    tail = ROBOTS_PAD * max(0, -(-(size - len(head) - len(rules)) // len(ROBOTS_PAD)))
    return head + rules + tail


def with_listing_links(body: bytes, urls: tuple[str, ...], listed: str) -> bytes:
    """A listing page with one more item per url (a Media Note listed on `listed`, e.g. "May 1, 2024")."""
    items = b"".join(
        b'<li class="collection-result">\n<p class="collection-result__date">Media Note</p>\n'
        b'<a class="collection-result__link" href="%s">Injected link %d</a>\n'
        b'<div class="collection-result-meta">\n<span class="" dir="ltr">%s</span>\n</div>\n</li>\n'
        % (url.encode(), n, listed.encode()) for n, url in enumerate(urls))
    return RESULTS_END.sub(lambda m: m.group(1) + items + m.group(2), body, count=1)


def self_linking(body: bytes, url: str) -> bytes:
    """A listing page whose only "next" link leads to `url` (the page itself)."""
    body = re.sub(rb'<link rel="next"[^>]*>\s*', b"", body)
    return body.replace(b"</head>", b'<link rel="next" href="%s">\n</head>' % url.encode(), 1)


def relabelled(page: Page, wrong: bool) -> Page:
    """`page` with the header charset iso-8859-1 (`wrong`), or with no charset anywhere: neither
    in the header nor (an HTML page) in a `<meta>` of the page."""
    media_type = page.content_type.split(";")[0].strip()
    if wrong:
        return replace(page, content_type=f"{media_type}; charset={LATIN1}")
    if not _is_html(page):
        return replace(page, content_type=media_type)
    return replace(page, content_type=HTML_NO_CHARSET, body=META_CHARSET.sub(b"", page.body))


def loop_location(raw_path: str) -> str:
    """The next hop of a redirect loop: `path?redirect-loop=1` and `=2` point at each other."""
    parts = urlsplit(raw_path)
    hop = parse_qs(parts.query).get(LOOP_PARAM, ["2"])[-1]
    return f"{parts.path}?{LOOP_PARAM}={'1' if hop == '2' else '2'}"


def in_loop(raw_path: str) -> bool:
    return LOOP_PARAM in parse_qs(urlsplit(raw_path).query)


def offhost_location(offhost_url: str, raw_path: str) -> str:
    return offhost_url.rstrip("/") + raw_path
