"""What a quarantine reason means: the page was never the release (a bot wall, a page that is not
there), the site refused or failed the request, or the page came but its markup was not readable.

Reasons are the one-line texts of `FetchError` and `ParseError` (the `quarantine.reason` column);
this module is the one place that reads them, so that a run can say why it failed and know which
pages another source of the same content (the REST API) may recover.
"""

from __future__ import annotations

import re

from statenotes.extractors.http import BLOCKED

BOT_WALL = "bot wall"  # a 403, or a 200 page that is a bot wall ("Technical Difficulties")
NOT_FOUND = "not found"  # 404, 410, or a page-not-found page served with 200
FETCH = "fetch"  # the request failed otherwise (5xx after retries, timeouts, refused bodies, robots.txt)
MARKUP = "markup"  # a page came back, but no layout could read it as a release

BOT_WALL_PREFIX = "bot wall:"  # parse.py's reason for a bot-wall page served with 200
BLOCKED_REASON = f"HTTP {BLOCKED}"
GONE = re.compile(r"^HTTP 4(?:04|10)$")
NOT_FOUND_PAGE = re.compile(r"^page not found\b")
HTTP_STATUS = re.compile(r"^HTTP \d{3}$")
WAYBACK_BLOCKED = re.compile(r"^blocked \(")  # the Wayback fallback was tried and failed


def reason_class(reason: str, stage: str) -> str:
    """BOT_WALL, NOT_FOUND, FETCH or MARKUP for a quarantine `reason` at `stage` ("fetch" / "parse")."""
    if reason.startswith(BOT_WALL_PREFIX) or reason == BLOCKED_REASON or WAYBACK_BLOCKED.match(reason):
        return BOT_WALL
    if GONE.match(reason) or NOT_FOUND_PAGE.match(reason):
        return NOT_FOUND
    return FETCH if stage == "fetch" else MARKUP


def reason_label(reason: str, stage: str) -> str:
    """The reason as an operator reads it: a 403 is named as the block it is."""
    if reason == BLOCKED_REASON:
        return f"bot wall: HTTP {BLOCKED} Forbidden"
    return reason


def content_may_come_from_elsewhere(reason: str, stage: str) -> bool:
    """True when the page was fetched but its markup could not be read: the same release from
    another source (its REST item) may be readable. A bot wall or a missing page is not the
    release at all; those are for the Wayback fallback, or for the next run."""
    return stage == "parse" and reason_class(reason, stage) == MARKUP
