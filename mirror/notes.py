"""The bundled sample notes and the facts the mirror derives from a note dict.

A note is a corpus dict (see the corpus README: url, title, release_type, office, published_date,
dateline_place, dateline_date, body_lines, ...). The mirror may add `modified_at` (ISO 8601) when
a page is edited. Everything here is deterministic in the note's url, so every run serves the
same bytes.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from datetime import date, datetime, time, timezone
from functools import lru_cache
from importlib import resources
from urllib.parse import urlsplit

from statenotes.mirror.hosts import host_of, host_prefix

SAMPLE_PACKAGE = "statenotes.mirror"
SAMPLE_DIR = ("sample", "notes")
# Releases appear in US office hours: 14:00-21:59 UTC is the same calendar day in Washington.
FIRST_PUBLISH_HOUR_UTC = 14
PUBLISH_HOURS = 8
# Not tagged on the real site: nearly every release names it.
UNTAGGED_COUNTRIES = {"USA"}
# Names state.gov uses where ISO 3166 (pycountry) has a different one.
COUNTRY_ALIASES = {"Russia": "russia", "Turkey": "turkey", "Republic of Korea": "republic-of-korea",
                   "South Korea": "republic-of-korea", "North Korea": "north-korea", "Burma": "burma"}
MAX_COUNTRY_TAGS = 6


def stable_hash(text: str) -> int:
    """A hash that does not change between runs (unlike `hash()`)."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


@lru_cache(maxsize=1)
def _sample() -> tuple[dict, ...]:
    folder = resources.files(SAMPLE_PACKAGE).joinpath(*SAMPLE_DIR)
    notes = [json.loads(f.read_text(encoding="utf-8")) for f in folder.iterdir() if f.name.endswith(".json")]
    return tuple(sort_newest_first(notes))


def load_sample_notes() -> list[dict]:
    """The bundled corpus notes (fresh copies), newest first by published_date, then url."""
    return copy.deepcopy(list(_sample()))


def sort_newest_first(notes: list[dict]) -> list[dict]:
    return sorted(notes, key=lambda n: (n["published_date"], n["url"]), reverse=True)


def page_path(note: dict) -> str:
    """The path the note is served at: the path of its state.gov url, after the host prefix of an
    archive host (see `mirror.hosts`)."""
    return host_prefix(host_of(note)) + (urlsplit(note["url"]).path or "/")


def site_base(note: dict, base_url: str) -> str:
    """The mirror's address of the note's host: `base_url`, plus the prefix of an archive host."""
    return base_url.rstrip("/") + host_prefix(host_of(note))


def page_url(note: dict, base_url: str) -> str:
    return base_url.rstrip("/") + page_path(note)


def published_date(note: dict) -> date:
    return date.fromisoformat(note["published_date"])


def published_at(note: dict) -> datetime:
    """Publication time: the published date at an office-hours time derived from the url."""
    h = stable_hash(note["url"])
    clock = time(FIRST_PUBLISH_HOUR_UTC + h % PUBLISH_HOURS, (h >> 8) % 60, (h >> 16) % 60)
    return datetime.combine(published_date(note), clock, tzinfo=timezone.utc)


def modified_at(note: dict) -> datetime:
    """Last modification: the note's `modified_at` if set (an edited page), else its publication."""
    raw = note.get("modified_at")
    if not raw:
        return published_at(note)
    value = datetime.fromisoformat(raw)
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).replace(microsecond=0)


@lru_cache(maxsize=1)
def _country_names() -> tuple[re.Pattern, dict[str, str]]:
    import pycountry  # only the tag pills need it

    slugs: dict[str, str] = dict(COUNTRY_ALIASES)
    for country in pycountry.countries:
        if country.alpha_3 in UNTAGGED_COUNTRIES:
            continue
        name = getattr(country, "common_name", None) or country.name
        if "," not in name and "(" not in name:
            slugs[name] = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    names = sorted(slugs, key=len, reverse=True)  # longest first: "Niger" must not win over "Nigeria"
    return re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b"), slugs


def country_tags(note: dict) -> list[tuple[str, str]]:
    """(label, slug) of countries named in the title or body, in order of first mention."""
    pattern, slugs = _country_names()
    found: dict[str, str] = {}
    for text in [note["title"], *note["body_lines"]]:
        for match in pattern.finditer(text):
            slug = slugs[match.group(1)]
            if slug not in found.values():
                found[match.group(1)] = slug
    return list(found.items())[:MAX_COUNTRY_TAGS]
