"""Discovery three ways against the real mirror — sitemaps (per-URL lastmod), the REST API (bodies
included) and the listing — and the chooser that picks the cheapest and falls back when one fails."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from statenotes.extractors.discover_modes import LISTING, REST, SITEMAP, DiscoveryError, discover, plan
from statenotes.extractors.discover_rest import discover_from_rest
from statenotes.extractors.discover_sitemap import discover_from_sitemaps, parse_sitemap, parse_sitemap_index
from statenotes.extractors.errors import ParseError
from statenotes.extractors.http import Fetcher, FetchPolicy
from statenotes.extractors.parse import parse_fetched, parse_note
from statenotes.extractors.records import FetchedPage
from statenotes.extractors.rest import REST_ITEM_TYPE
from statenotes.mirror import faults as kinds
from statenotes.mirror.faults import FaultPlan
from statenotes.mirror.hosts import HOST_2009_2017, HOST_2017_2021, HOST_2021_2025, WWW_HOST, archived, host_of, host_prefix
from statenotes.mirror.notes import modified_at, page_path
from statenotes.mirror.server import MirrorServer
from statenotes.mirror.site import load_sample_notes, page_url

NOTES = load_sample_notes()
EVERYTHING = NOTES + archived(NOTES)  # all 22 notes on www and their copies on the archive hosts
POLICY = FetchPolicy(user_agent="statenotes-tests", crawl_delay_s=0.0, backoff_factor_s=0.01, max_retries=1)
ALL_TIME = (date(2000, 1, 1), date(2026, 12, 31))
TODAY = date(2026, 12, 31)
SEED_PATH = "/statement-by-ministers-of-the-global-coalition-to-defeat-isis-daesh/"
MEDIA_NOTES = frozenset({"Media Note"})


@pytest.fixture(scope="module")
def site():
    with MirrorServer(EVERYTHING) as server:
        yield server


@pytest.fixture
def fetcher():
    with Fetcher(POLICY) as client:
        yield client


def on_host(host: str) -> list[dict]:
    return [n for n in EVERYTHING if host_of(n) == host]


# -- sitemaps -----------------------------------------------------------------------------------

INDEX = b"""<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://www.state.gov/page-sitemap.xml</loc><lastmod>2026-01-01T00:00:00+00:00</lastmod></sitemap>
<sitemap><loc> https://www.state.gov/state_press_release-sitemap.xml </loc></sitemap>
<sitemap><loc>https://www.state.gov/state_press_release-sitemap2.xml</loc></sitemap></sitemapindex>"""
URLSET = b"""<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>https://www.state.gov/a/</loc><lastmod>2019-02-07T15:25:05+00:00</lastmod></url>
<url><loc>https://www.state.gov/b/</loc><lastmod>2019-02-08</lastmod></url>
<url><loc>https://www.state.gov/c/</loc></url><url><lastmod>2019-02-08</lastmod></url></urlset>"""


def test_sitemap_markup_is_read_exactly():
    assert parse_sitemap_index(INDEX) == ["https://www.state.gov/page-sitemap.xml",
                                          "https://www.state.gov/state_press_release-sitemap.xml",
                                          "https://www.state.gov/state_press_release-sitemap2.xml"]
    refs = parse_sitemap(URLSET)
    assert [(r.url, r.lastmod.isoformat() if r.lastmod else None) for r in refs] == [
        ("https://www.state.gov/a/", "2019-02-07T15:25:05+00:00"),
        ("https://www.state.gov/b/", "2019-02-08T00:00:00-05:00"),  # a bare date is a Washington date
        ("https://www.state.gov/c/", None)]
    for wrong, reason in ((b"<html><title>Technical Difficulties</title></html>", "not a sitemap index"),
                          (b"<?xml version='1.0'?><sitemapindex", "not XML"), (URLSET, "root <urlset>")):
        with pytest.raises(ParseError, match=reason):
            parse_sitemap_index(wrong)


def test_sitemaps_find_every_note_with_its_lastmod(site, fetcher):
    notes = on_host(WWW_HOST)
    site.clear_requests()
    refs = list(discover_from_sitemaps(fetcher.fetch_page, site.base_url, *ALL_TIME))
    assert sorted(r.url for r in refs) == sorted(page_url(n, site.base_url) for n in notes)
    assert {r.url: r.lastmod for r in refs} == {page_url(n, site.base_url): modified_at(n) for n in notes}
    asked = [p for _, p, _ in site.requests if p != "/robots.txt"]
    assert asked == ["/sitemap_index.xml", "/state_press_release-sitemap.xml", "/state_press_release-sitemap2.xml"]


def test_sitemap_window_is_on_lastmod_so_an_edit_is_found():
    with MirrorServer() as server, Fetcher(POLICY) as client:
        seed = next(n for n in NOTES if page_path(n) == SEED_PATH)
        server.update_note(SEED_PATH, dict(seed, body_lines=seed["body_lines"] + ["Updated."]))
        today = datetime.now(UTC).date()
        changed = list(discover_from_sitemaps(client.fetch_page, server.base_url, today - timedelta(days=1), today))
        published_2019 = list(discover_from_sitemaps(client.fetch_page, server.base_url, date(2019, 1, 1),
                                                     date(2019, 12, 31)))
    assert [r.url for r in changed] == [server.base_url + SEED_PATH]
    assert server.base_url + SEED_PATH not in {r.url for r in published_2019}  # its lastmod left 2019
    assert len(published_2019) == sum(n["published_date"].startswith("2019") for n in NOTES) - 1


# -- REST API -----------------------------------------------------------------------------------

def test_rest_finds_every_note_with_its_body_in_one_request(site, fetcher):
    notes = on_host(HOST_2017_2021)
    base = site.base_url + host_prefix(HOST_2017_2021)
    site.clear_requests()
    refs = list(discover_from_rest(fetcher.fetch_page, base, *ALL_TIME))
    assert len([p for _, p, _ in site.requests if "/wp-json/" in p]) == 1
    assert sorted(r.url for r in refs) == sorted(page_url(n, site.base_url) for n in notes)
    assert [r.listed_date for r in refs] == sorted(date.fromisoformat(n["published_date"]) for n in notes)  # oldest first
    for ref in refs:
        page = fetcher.fetch_page(ref.url)
        from_page = parse_note(page.body, ref.url, page.content_type)
        assert ref.item.error is None and ref.item.note.title == from_page.title == ref.title
        assert ref.item.note.blocks == from_page.blocks
        assert parse_fetched(ref.item.raw, ref.url, REST_ITEM_TYPE).blocks == from_page.blocks  # from the archive
        assert parse_fetched(ref.item.raw, ref.url).layout == "wp-json"  # its content type unknown
        assert parse_fetched(page.body, ref.url).layout == from_page.layout
        assert json.loads(ref.item.raw)["link"] == ref.url


def test_rest_window_bounds_are_inclusive_washington_dates(site, fetcher):
    day = date.fromisoformat(NOTES[0]["published_date"])
    refs = list(discover_from_rest(fetcher.fetch_page, site.base_url, day, day))
    assert [r.url for r in refs] == [page_url(n, site.base_url) for n in on_host(WWW_HOST)
                                      if n["published_date"] == day.isoformat()]
    assert list(discover_from_rest(fetcher.fetch_page, site.base_url, day + timedelta(days=1), TODAY)) == []


def test_rest_pages_by_total_pages_and_modified_after():
    many = [dict(n, url=f"https://www.state.gov/copy-{i}-{page_path(n).strip('/')}/") for i in range(6) for n in NOTES]
    with MirrorServer(many) as server, Fetcher(POLICY) as client:
        refs = list(discover_from_rest(client.fetch_page, server.base_url, *ALL_TIME))
        rest_calls = [p for _, p, _ in server.requests if "/wp-json/" in p]
        assert len(refs) == len({r.url for r in refs}) == len(many) == 132
        assert len(rest_calls) == math.ceil(132 / 100) and "page=2" in rest_calls[-1]
        before_edit = datetime.now(UTC) - timedelta(seconds=1)
        edited = many[5]
        server.update_note(page_path(edited), dict(edited, body_lines=edited["body_lines"] + ["Updated."]))
        changed = list(discover_from_rest(client.fetch_page, server.base_url, modified_after=before_edit))
    assert [r.url for r in changed] == [page_url(edited, server.base_url)]
    assert any("Updated." in block.lines for block in changed[0].item.note.blocks)


def canned(pages: dict[int, tuple[dict, list]]):
    """A fetch callable answering REST pages from memory: {page: (headers, items)}."""
    def fetch(url: str) -> FetchedPage:
        number = int(parse_qs(urlsplit(url).query)["page"][0])
        headers, items = pages[number]
        return FetchedPage(url, url, 200, headers, json.dumps(items).encode(), "", datetime.now(UTC))
    return fetch


def test_rest_item_that_cannot_be_parsed_keeps_its_reason_and_a_broken_answer_fails():
    good = {"id": 1, "date": "2019-02-07T10:00:00", "link": "https://www.state.gov/a/",
            "title": {"rendered": "A"}, "content": {"rendered": "<p>Washington, DC</p><p>Body text.</p>"}}
    empty = {"id": 2, "date": "2019-02-08T10:00:00", "link": "https://www.state.gov/b/",
             "title": {"rendered": "B"}, "content": {"rendered": ""}}
    refs = list(discover_from_rest(canned({1: ({"X-WP-TotalPages": "1"}, [good, empty])}), "https://www.state.gov"))
    assert [r.item.note is not None for r in refs] == [True, False]
    assert refs[1].item.error and refs[1].title == "B"
    with pytest.raises(ParseError, match="without X-WP-TotalPages"):
        list(discover_from_rest(canned({1: ({}, [good])}), "https://www.state.gov"))


# -- the chooser --------------------------------------------------------------------------------

def test_auto_prefers_the_rest_api(site, fetcher):
    found = discover(fetcher.fetch_page, site.base_url, *ALL_TIME, today=TODAY)
    assert (found.mode, found.requests, found.failures) == (REST, 1, ())
    assert all(ref.item is not None for ref in found.refs) and len(found.refs) == len(on_host(WWW_HOST))


def test_rest_with_release_types_takes_the_types_from_the_listing():
    notes = [dict(n, release_type="Press Statement") if i == 3 else n for i, n in enumerate(NOTES)]
    with MirrorServer(notes) as server, Fetcher(POLICY) as client:
        every = discover(client.fetch_page, server.base_url, *ALL_TIME, today=TODAY)
        media = discover(client.fetch_page, server.base_url, *ALL_TIME, release_types=MEDIA_NOTES, today=TODAY)
    assert (every.mode, media.mode) == (REST, REST)
    assert len(every.refs) == 22 and {r.release_type for r in every.refs} == {None}
    assert len(media.refs) == 21 and {r.release_type for r in media.refs} == {"Media Note"}
    assert page_url(notes[3], server.base_url) not in {r.url for r in media.refs}
    assert media.requests == 1 + 4  # the API, and the listing's three pages and the page past the end


@pytest.mark.parametrize(("broken", "end", "expected"), [
    (r"^/wp-json/", TODAY, LISTING),
    (r"^/(wp-json|press-releases)/", TODAY, SITEMAP),
])
def test_a_failing_mode_hands_over_to_the_next(broken, end, expected):
    plan_ = FaultPlan.always(kinds.FORBIDDEN, times=100, paths=broken)
    with MirrorServer(faults=plan_) as server, Fetcher(POLICY) as client:
        found = discover(client.fetch_page, server.base_url, ALL_TIME[0], end, today=TODAY)
    assert found.mode == expected and len(found.refs) == 22
    assert [mode for mode, _ in found.failures] == [REST, LISTING][: len(found.failures)]
    assert all(reason == "HTTP 403" for _, reason in found.failures)


def test_a_bot_wall_instead_of_the_api_is_a_failure_too():
    with MirrorServer(faults=FaultPlan.always(kinds.BOT_WALL, times=100, paths=r"^/wp-json/")) as server:
        with Fetcher(POLICY) as client:
            found = discover(client.fetch_page, server.base_url, *ALL_TIME, today=TODAY)
    assert found.mode == LISTING and found.failures[0][0] == REST and "not JSON" in found.failures[0][1]


def test_when_nothing_covers_the_window_discovery_fails_with_every_reason():
    plan_ = FaultPlan.always(kinds.FORBIDDEN, times=100, paths=r"^/(wp-json|press-releases)/")
    with MirrorServer(faults=plan_) as server, Fetcher(POLICY) as client:
        with pytest.raises(DiscoveryError, match="rest: HTTP 403; listing: HTTP 403") as failed:
            discover(client.fetch_page, server.base_url, date(2019, 1, 1), date(2019, 12, 31), today=TODAY)
    assert [mode for mode, _ in failed.value.failures] == [REST, LISTING]  # sitemaps skipped: past window


def test_plan_orders_and_skips():
    www, drupal = "https://www.state.gov", "https://2009-2017.state.gov"
    assert plan("auto", www, TODAY, TODAY) == [REST, LISTING, SITEMAP]
    assert plan("auto", www, TODAY - timedelta(days=1), TODAY) == [REST, LISTING]
    assert plan(SITEMAP, www, date(2019, 12, 31), TODAY) == [SITEMAP, REST, LISTING]
    assert plan("auto", drupal, TODAY, TODAY) == plan(REST, drupal, TODAY, TODAY) == [LISTING]
    with pytest.raises(ValueError, match="unknown discovery mode"):
        plan("rss", www, TODAY, TODAY)


def test_the_drupal_archive_is_found_by_its_index(site, fetcher):
    base = site.base_url + host_prefix(HOST_2009_2017)
    found = discover(fetcher.fetch_page, base, date(2009, 1, 20), date(2017, 1, 19), REST, today=TODAY)
    assert found.mode == LISTING and found.failures[0][0] == REST
    assert sorted(r.url for r in found.refs) == sorted(page_url(n, site.base_url) for n in on_host(HOST_2009_2017))


# -- what each mode costs on the mirror ----------------------------------------------------------

def requests_for(site: MirrorServer, host: str, mode: str, types=None) -> tuple[int, int]:
    """(HTTP requests to discover and fetch every note of `host`, notes found), robots.txt included."""
    site.clear_requests()
    with Fetcher(POLICY) as client:
        found = discover(client.fetch_page, site.base_url + host_prefix(host), *ALL_TIME, mode,
                         release_types=types, today=TODAY)
        assert found.mode == mode
        for ref in found.refs:
            if ref.item is None:
                client.fetch_page(ref.url)
    return len(site.requests), len(found.refs)


def test_requests_per_note_for_each_mode(site):
    hosts = (WWW_HOST, HOST_2017_2021, HOST_2021_2025)
    costs = {}
    for mode, types in ((REST, None), (REST, MEDIA_NOTES), (LISTING, None), (SITEMAP, None)):
        counted = [requests_for(site, host, mode, types) for host in hosts]
        assert [found for _, found in counted] == [len(on_host(h)) for h in hosts]
        costs[(mode, types is not None)] = sum(made for made, _ in counted)
    notes = sum(len(on_host(h)) for h in hosts)
    assert notes == 37
    # robots.txt once per host (3), then: the API once per host; + the listing pages (4 + 2 + 3);
    # the listing and every page; the index, its sub-sitemaps (2 + 1 + 1) and every page.
    assert costs == {(REST, False): 3 + 3, (REST, True): 3 + 3 + 9, (LISTING, False): 3 + 9 + 37,
                     (SITEMAP, False): 3 + 3 + 4 + 37}
    drupal, found = requests_for(site, HOST_2009_2017, LISTING)
    assert found == 6 and drupal > found  # the year and month index pages of 2000-2026


# -- discovery under faults -----------------------------------------------------------------------

@pytest.mark.parametrize("kind", sorted(kinds.RETRIED_KINDS | kinds.LABEL_KINDS))
def test_the_rest_api_rides_out_transient_and_label_faults(kind):
    plan_ = FaultPlan.always(kind, times=1, paths=r"^/wp-json/", slow_s=1.0, retry_after=0)
    with MirrorServer(faults=plan_) as server:
        with Fetcher(FetchPolicy(user_agent="statenotes-tests", crawl_delay_s=0.0, backoff_factor_s=0.01,
                                 read_timeout_s=0.3, max_retries=2)) as client:
            found = discover(client.fetch_page, server.base_url, *ALL_TIME, today=TODAY)
    assert plan_.history() and {k for _, k in plan_.history()} == {kind}
    assert (found.mode, len(found.refs), found.failures) == (REST, 22, ())
    assert all(ref.item.note is not None for ref in found.refs)


@pytest.mark.parametrize("kind", sorted(kinds.REFUSED_KINDS))
def test_a_refused_rest_answer_hands_over_to_the_listing(kind):
    plan_ = FaultPlan.always(kind, times=1, paths=r"^/wp-json/", huge_bytes=3_000_000)
    with MirrorServer(faults=plan_) as server:
        with Fetcher(FetchPolicy(user_agent="statenotes-tests", crawl_delay_s=0.0, backoff_factor_s=0.01,
                                 max_page_bytes=2_000_000, max_redirects=3)) as client:
            found = discover(client.fetch_page, server.base_url, *ALL_TIME, today=TODAY)
    assert {k for _, k in plan_.history()} == {kind}
    assert (found.mode, len(found.refs)) == (LISTING, 22) and [m for m, _ in found.failures] == [REST]
