"""Where the mirror serves a note: the state.gov sites, their URL schemes, and how one local server
addresses several hosts.

A note dict's `url` says where it lives, as on the real site:
- `https://www.state.gov/<slug>/` (the current site, 2019 to early 2025; the bundled sample),
- `https://www.state.gov/releases/<bureau>/YYYY/MM/<slug>/` (the current site since 2025),
- `https://2017-2021.state.gov/<slug>/` and `https://2021-2025.state.gov/<slug>/` (WordPress archives),
- `https://2009-2017.state.gov/r/pa/prs/ps/YYYY/MM/NNNNNN.htm` (the Drupal-era archive).

The mirror is one server on 127.0.0.1, so a host other than www is addressed by a leading path
segment, the way the Wayback Machine addresses sites inside its own (`/web/<time>/<url>`):
`https://2017-2021.state.gov/slug/` is served at `{base_url}/2017-2021.state.gov/slug/`, and that
host's pages link to each other under the same prefix. www pages stay at the root.
"""

from __future__ import annotations

import copy
from datetime import date
from urllib.parse import urlsplit

from statenotes.mirror.chrome import slugify

WWW_HOST = "www.state.gov"
HOST_2009_2017 = "2009-2017.state.gov"
HOST_2017_2021 = "2017-2021.state.gov"
HOST_2021_2025 = "2021-2025.state.gov"
DRUPAL_HOSTS = frozenset({HOST_2009_2017})

# Places a note can be served from (the `place` argument of `relocated`).
PLACE_WWW = "www"
PLACE_WWW_RELEASES = "www-releases"
PLACE_2017_2021 = "2017-2021"
PLACE_2021_2025 = "2021-2025"
PLACE_2009_2017 = "2009-2017"
PLACES = (PLACE_WWW, PLACE_WWW_RELEASES, PLACE_2017_2021, PLACE_2021_2025, PLACE_2009_2017)
PLACE_HOSTS = {PLACE_WWW: WWW_HOST, PLACE_WWW_RELEASES: WWW_HOST, PLACE_2017_2021: HOST_2017_2021,
               PLACE_2021_2025: HOST_2021_2025, PLACE_2009_2017: HOST_2009_2017}
# Where state.gov keeps a release now, by publication date (administrations change on January 20).
# Releases before 2009 are on 2001-2009.state.gov, which the mirror does not build.
ERAS = ((date(2009, 1, 20), PLACE_2009_2017), (date(2017, 1, 20), PLACE_2017_2021),
        (date(2021, 1, 20), PLACE_2021_2025), (date(2025, 1, 20), PLACE_WWW_RELEASES))

DRUPAL_RELEASES_PATH = "/r/pa/prs/ps/"
# Drupal node numbers grew with time: about 115,000 in January 2009 and 266,000 in January 2017.
DRUPAL_FIRST_ID, DRUPAL_ID_EPOCH, DRUPAL_IDS_PER_DAY = 115_000, date(2009, 1, 1), 52
RELEASES_SEGMENT = "releases"
DEFAULT_BUREAU = "Office of the Spokesperson"


def host_of(note: dict) -> str:
    """The state.gov host of a note's url (www for anything that is not a state.gov archive host)."""
    host = (urlsplit(note["url"]).hostname or "").lower()
    return host if host in PLACE_HOSTS.values() else WWW_HOST


def host_prefix(host: str) -> str:
    """The path prefix that addresses `host` on the mirror: "" for www, "/<host>" for the others."""
    return "" if host == WWW_HOST else "/" + host


def is_drupal(note: dict) -> bool:
    return host_of(note) in DRUPAL_HOSTS


def slug_of(note: dict) -> str:
    """The WordPress slug: the last segment of a slug-style url (a Drupal url's title slug)."""
    path = urlsplit(note["url"]).path
    if path.endswith(".htm"):
        return slugify(note["title"])
    return path.rstrip("/").rsplit("/", 1)[-1] or slugify(note["title"])


def drupal_release_id(note: dict) -> int:
    """A node number in the range the 2009-2017 archive used at the note's date (unique per day
    for up to DRUPAL_IDS_PER_DAY notes that differ in slug)."""
    published = date.fromisoformat(note["published_date"])
    offset = sum(slug_of(note).encode("utf-8")) % DRUPAL_IDS_PER_DAY
    return DRUPAL_FIRST_ID + (published - DRUPAL_ID_EPOCH).days * DRUPAL_IDS_PER_DAY + offset


def url_at(note: dict, place: str) -> str:
    """The state.gov url the note has at `place`."""
    if place not in PLACE_HOSTS:
        raise ValueError(f"unknown place {place!r}; expected one of {PLACES}")
    published = date.fromisoformat(note["published_date"])
    host, slug = PLACE_HOSTS[place], slug_of(note)
    if place == PLACE_2009_2017:
        return f"https://{host}{DRUPAL_RELEASES_PATH}{published:%Y/%m}/{drupal_release_id(note)}.htm"
    if place == PLACE_WWW_RELEASES:
        bureau = slugify(note.get("office") or DEFAULT_BUREAU)
        return f"https://{host}/{RELEASES_SEGMENT}/{bureau}/{published:%Y/%m}/{slug}/"
    return f"https://{host}/{slug}/"


def relocated(note: dict, place: str) -> dict:
    """A copy of `note` served from `place` (one of PLACES) instead."""
    moved = copy.deepcopy(note)
    moved["url"] = url_at(note, place)
    return moved


def place_by_date(note: dict) -> str | None:
    """Where state.gov keeps the note now, by its publication date (None before 2009)."""
    published = date.fromisoformat(note["published_date"])
    found = None
    for start, place in ERAS:
        if published >= start:
            found = place
    return found


def archived(notes: list[dict]) -> list[dict]:
    """Each note moved to where state.gov keeps it now (see ERAS); notes from before 2009 are left
    out. Serve them beside the sample to have every host: `MirrorServer(notes + archived(notes))`."""
    return [relocated(note, place) for note in notes if (place := place_by_date(note))]
