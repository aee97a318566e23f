"""The mirror imitating the Wayback Machine: `/web/<timestamp>id_/<url>` serves the page the mirror
serves for `<url>` (a mirror address, or a state.gov url mapped as in `mirror.hosts`), as archived.

As on web.archive.org, a timestamp that is not the capture's own redirects (302) to the capture
nearest it (here: the only one, stamped with the page's Last-Modified), keeping the `id_` flag;
`id_` answers are the original bytes with a `Memento-Datetime` header; a url never captured is a 404.
The site's fault plan does not apply: the Wayback Machine is another service.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from email.utils import format_datetime
from urllib.parse import urlsplit

from statenotes.mirror.hosts import PLACE_HOSTS, host_prefix
from statenotes.mirror.pages import HTML_WITH_CHARSET, Page

ROUTE = re.compile(r"^/web/(?P<stamp>\d{1,14})(?P<flag>[a-z]{2}_)?/(?P<url>https?:/.*)$")
STAMP_FORMAT = "%Y%m%d%H%M%S"
UNDATED_CAPTURE = datetime(2025, 1, 1, tzinfo=timezone.utc)  # pages without Last-Modified
NOT_ARCHIVED = Page(b"<html><head><title>Wayback Machine</title></head><body><p>The Wayback Machine has not "
                    b"archived that URL.</p></body></html>", HTML_WITH_CHARSET, 404)
STATE_GOV_HOSTS = frozenset(PLACE_HOSTS.values())


def is_wayback(raw_path: str) -> bool:
    return ROUTE.match(raw_path) is not None


def original_path(url: str, base_url: str) -> str | None:
    """The mirror's request path (with query) for an archived `url`, or None for a url the mirror
    does not serve. A collapsed scheme (`http:/host/...`, as some clients send it) is accepted."""
    url = re.sub(r"^(https?):/+", r"\1://", url)
    parts, mirror = urlsplit(url), urlsplit(base_url)
    host = (parts.hostname or "").lower()
    if (host, parts.port) == (mirror.hostname, mirror.port):
        path = parts.path or "/"
    elif host in STATE_GOV_HOSTS:
        path = host_prefix(host) + (parts.path or "/")
    else:
        return None
    return path + (f"?{parts.query}" if parts.query else "")


def capture_stamp(page: Page) -> str:
    return (page.last_modified or UNDATED_CAPTURE).astimezone(timezone.utc).strftime(STAMP_FORMAT)


def answer(raw_path: str, base_url: str, lookup) -> tuple[Page, dict[str, str]]:
    """(page, extra headers) for a Wayback request; `lookup(path) -> Page` gives the site's page.
    A redirect is a page with status 302 and a Location header."""
    match = ROUTE.match(raw_path)
    path = original_path(match.group("url"), base_url) if match else None
    page = lookup(path) if path is not None else None
    if page is None or page.status != 200:
        return NOT_ARCHIVED, {}
    stamp, flag = capture_stamp(page), match.group("flag") or ""
    if match.group("stamp") != stamp:
        location = f"/web/{stamp}{flag}/{match.group('url')}"
        return Page(b"", HTML_WITH_CHARSET, 302), {"Location": location}
    captured = datetime.strptime(stamp, STAMP_FORMAT).replace(tzinfo=timezone.utc)
    return page, {"Memento-Datetime": format_datetime(captured, usegmt=True)}
