"""Typed records the extract stage hands downstream. Plain values only: no I/O, no parser objects."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class RestItem:
    """A release as the WordPress REST API gave it: no page fetch is needed.

    `raw` is the item as canonical JSON (sorted keys, UTF-8), what the raw archive keeps with
    content type `REST_ITEM_TYPE` (`extractors.rest.parse_rest_raw` reads it back); `note` is the
    item parsed, or None with `error` saying why it could not be.
    """

    raw: bytes
    sha256: str
    fetched_at: datetime
    note: MediaNote | None = field(default=None, compare=False)
    error: str | None = None


@dataclass(frozen=True, slots=True)
class NoteRef:
    """A release found by discovery: where it is and what the listing, sitemap or API said about it.
    `item` is set when the REST API gave the release itself."""

    url: str
    listed_date: date | None = None
    lastmod: datetime | None = None
    title: str | None = None
    release_type: str | None = None
    item: RestItem | None = None


@dataclass(frozen=True, slots=True)
class FetchedPage:
    """One HTTP exchange that produced a body (the raw bytes are also in the raw archive)."""

    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    body: bytes
    sha256: str
    fetched_at: datetime
    elapsed_ms: int = 0
    # "wayback" when the site blocked the request and the Wayback Machine's copy was fetched
    # instead (`final_url` is then the copy's address).
    via: str | None = None

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")


@dataclass(frozen=True, slots=True)
class Validators:
    """What an earlier fetch of a URL said about its body, for a conditional GET.

    `etag` and `last_modified` are the header values as received (the `fetches` table's columns);
    `sha256` is the archived body they describe, which a 304 answer confirms unchanged.
    """

    etag: str | None = None
    last_modified: str | None = None
    sha256: str | None = None

    def headers(self) -> dict[str, str]:
        sent = {}
        if self.etag:
            sent["If-None-Match"] = self.etag
        if self.last_modified:
            sent["If-Modified-Since"] = self.last_modified
        return sent

    def __bool__(self) -> bool:
        return bool(self.etag or self.last_modified)


# Block kinds as they appear in the page markup, before any text normalisation.
BLOCK_PARAGRAPH = "p"
BLOCK_ORDERED_ITEM = "ol_item"
BLOCK_UNORDERED_ITEM = "ul_item"
BLOCK_QUOTE = "blockquote"
BLOCK_HEADING = "heading"
BLOCK_TABLE_ROW = "table_row"


@dataclass(frozen=True, slots=True)
class BodyBlock:
    """One block of the statement body as printed: raw text (not yet normalised) and its markup kind.

    `lines` keeps `<br>`-separated lines apart, so that a dateline "Washington, DC<br>February 6, 2019"
    can be told from a paragraph. `ordinal` is the 1-based position in an `<ol>` (honouring `start`).
    """

    kind: str
    lines: tuple[str, ...]
    ordinal: int | None = None


@dataclass(slots=True)
class MediaNote:
    """A parsed release page: metadata plus the body blocks, in order. Output of `parse_note`."""

    url: str
    layout: str
    title: str
    release_type: str | None
    office: str | None
    published_date: date | None
    modified_at: datetime | None = None
    tags: list[str] = field(default_factory=list)
    blocks: list[BodyBlock] = field(default_factory=list)
    canonical_url: str | None = None


# A state.gov host: "www.state.gov", "2017-2021.state.gov", "2009-2017.state.gov", ...
STATE_GOV_HOST = re.compile(r"^(?:(?P<years>\d{4}-\d{4})|[a-z0-9-]+)\.state\.gov$")
# 2009-2017 archive paths (Drupal era): /r/pa/prs/ps/YYYY/MM/NNNNNN.htm
DRUPAL_PATH_PREFIX = "/r/pa/prs/"


def _state_gov_location(url: str) -> tuple[str | None, str]:
    """(state.gov host or None, path on that host).

    A URL may address a state.gov host inside its path, the way the Wayback Machine does
    (`https://web.archive.org/web/2020/https://2017-2021.state.gov/slug/`) and the offline mirror
    does (`http://127.0.0.1:8765/2017-2021.state.gov/slug/`): the last host-like segment wins and
    the path is what follows it.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    found, path = (host, parts.path) if STATE_GOV_HOST.match(host) else (None, parts.path)
    segments = parts.path.split("/")
    for index in range(len(segments) - 1, -1, -1):
        if STATE_GOV_HOST.match(segments[index].lower()):
            found, path = segments[index].lower(), "/" + "/".join(segments[index + 1:])
            break
    return found, path


def note_id_for(url: str) -> str:
    """A note's stable id: from the path on its state.gov host only, so the same release keeps its id
    when it moves host (www -> an archive host), is served by a mirror on another port, or is read
    through a host-in-path address (see `_state_gov_location`)."""
    path = _state_gov_location(url)[1].lower().rstrip("/") or "/"
    return hashlib.sha256(path.encode("utf-8")).hexdigest()[:16]


def site_for(url: str) -> str:
    """Which state.gov site a URL belongs to: www, 2017-2021, 2021-2025, 2009-2017, ...

    The archive hosts are named by their years; a 2009-2017-style path on another host (a copy of
    the Drupal archive) is still "2009-2017"; everything else is the current site, "www".
    """
    host, path = _state_gov_location(url)
    match = STATE_GOV_HOST.match(host or "")
    if match and match.group("years"):
        return match.group("years")
    if path.startswith(DRUPAL_PATH_PREFIX):
        return "2009-2017"
    return "www"


@dataclass(frozen=True, slots=True)
class FetchRecord:
    """One HTTP exchange as the `fetches` table logs it, failures included."""

    url: str
    status: int | None
    fetched_at: datetime
    elapsed_ms: int
    bytes: int = 0
    sha256: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None
