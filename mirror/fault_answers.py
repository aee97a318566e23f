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
