"""Pages that are not releases, served by the mirror with 200 (`bad_pages`, the "botwall" fault),
fetched over HTTP and refused by the parser with a one-line reason: quarantined, never loaded."""

from __future__ import annotations

from datetime import date

import pytest

from statenotes.extractors.discover import discover_from_listing
from statenotes.extractors.errors import ParseError
from statenotes.extractors.http import Fetcher, FetchPolicy
from statenotes.extractors.parse import parse_note
from statenotes.mirror.bad_pages import BAD_PAGE_KINDS, BOT_WALL
from statenotes.mirror.faults import FaultPlan
from statenotes.mirror.hosts import relocated
from statenotes.mirror.server import MirrorServer
from statenotes.mirror.notes import page_path
from statenotes.mirror.site import load_sample_notes, page_url

POLICY = FetchPolicy(user_agent="statenotes-tests", crawl_delay_s=0.0, backoff_factor_s=0.01)
SEED_PATH = "/statement-by-ministers-of-the-global-coalition-to-defeat-isis-daesh/"
REASONS = {
    "botwall": "bot wall: 'Technical Difficulties' page",
    "soft404": "page not found (404 page served with 200)",
    "no_body": "no release body (div.entry-content missing)",
    "empty_body": "empty release body",
    "unknown_layout": "unknown layout: no release title",
}


def test_every_kind_has_a_reason():
    assert set(REASONS) == set(BAD_PAGE_KINDS)


def refused(fetcher: Fetcher, url: str) -> str:
    page = fetcher.fetch_page(url)
    assert page.status == 200
    with pytest.raises(ParseError) as caught:
        parse_note(page.body, url, page.content_type)
    assert "\n" not in caught.value.reason and caught.value.url == url
    return caught.value.reason


@pytest.mark.parametrize("kind", BAD_PAGE_KINDS)
def test_bad_page_in_place_of_a_listed_release(kind):
    with MirrorServer(bad_pages={SEED_PATH: kind}) as site, Fetcher(POLICY) as fetcher:
        refs = list(discover_from_listing(lambda u: fetcher.fetch_page(u).body, site.base_url,
                                          date(2019, 2, 7), date(2019, 2, 7)))
        assert [r.url for r in refs] == [site.base_url + SEED_PATH]  # still listed: the crawler meets it
        assert refused(fetcher, refs[0].url) == REASONS[kind]
        others = [n for n in site.notes if not n["url"].endswith(SEED_PATH)][:2]
        for note in others:  # the rest of the site is untouched
            url = page_url(note, site.base_url)
            assert parse_note(fetcher.fetch_page(url).body, url).title == note["title"]


@pytest.mark.parametrize("kind", ["botwall", "soft404", "unknown_layout"])
def test_bad_page_at_a_path_of_its_own(kind):
    with MirrorServer(bad_pages={"/not-a-release/": kind}) as site, Fetcher(POLICY) as fetcher:
        assert refused(fetcher, site.base_url + "/not-a-release/") == REASONS[kind]


def test_bot_wall_fault_then_the_page():
    with MirrorServer(faults=FaultPlan.always(BOT_WALL, times=1)) as site, Fetcher(POLICY) as fetcher:
        url = site.base_url + SEED_PATH
        assert refused(fetcher, url) == REASONS["botwall"]
        assert parse_note(fetcher.fetch_page(url).body, url).title.startswith("Statement by Ministers")
        assert site.faults.history() == [(SEED_PATH, BOT_WALL)]


def test_bad_page_plans_are_checked_before_the_server_starts():
    with pytest.raises(ValueError, match="unknown bad page kind"):
        MirrorServer(bad_pages={SEED_PATH: "gibberish"})
    with pytest.raises(ValueError, match="none is served at"):
        MirrorServer(bad_pages={"/no-such-note/": "no_body"})
    drupal = relocated(load_sample_notes()[0], "2009-2017")
    with pytest.raises(ValueError, match="none is served at"):
        MirrorServer([drupal], bad_pages={page_path(drupal): "empty_body"})
