"""Discovery from the listing pages of the real mirror."""

from __future__ import annotations

from datetime import date

import pytest

from statenotes.extractors.discover import discover_from_listing, parse_listing
from statenotes.extractors.errors import ParseError
from statenotes.extractors.http import Fetcher, FetchPolicy
from statenotes.mirror.server import MirrorServer
from statenotes.mirror.site import load_sample_notes, page_url

POLICY = FetchPolicy(user_agent="statenotes-tests", crawl_delay_s=0.0, backoff_factor_s=0.01)


def listing_requests(site: MirrorServer) -> list[str]:
    return [path for _, path, _ in site.requests if path.startswith("/press-releases/")]


def test_whole_range_finds_every_note_once_newest_first(mirror):
    notes = load_sample_notes()
    with Fetcher(POLICY) as fetcher:
        refs = list(discover_from_listing(lambda u: fetcher.fetch_page(u).body, mirror.base_url,
                                          date(2000, 1, 1), date(2030, 1, 1), frozenset({"Media Note"})))
    assert [r.url for r in refs] == [page_url(n, mirror.base_url) for n in notes]
    assert [r.listed_date.isoformat() for r in refs] == [n["published_date"] for n in notes]
    assert all(r.release_type == "Media Note" and r.title for r in refs)


def test_paging_stops_once_items_are_older_than_the_start(mirror):
    with Fetcher(POLICY) as fetcher:
        refs = list(discover_from_listing(lambda u: fetcher.fetch_page(u).body, mirror.base_url,
                                          date(2019, 1, 1), date(2019, 12, 31)))
    assert sorted(r.listed_date.isoformat() for r in refs) == sorted(
        n["published_date"] for n in load_sample_notes() if n["published_date"].startswith("2019"))
    # 22 notes, 10 a page: the 2019 notes end on page 1 or 2, so page 3 is never asked for.
    assert "/press-releases/page/3/" not in listing_requests(mirror)


def test_release_types_filter(mirror):
    with Fetcher(POLICY) as fetcher:
        refs = list(discover_from_listing(lambda u: fetcher.fetch_page(u).body, mirror.base_url,
                                          date(2000, 1, 1), date(2030, 1, 1), frozenset({"Press Statement"})))
    assert refs == []


def test_listing_markup_is_parsed_exactly():
    html = """<html><body><div class="collection-info__total"><span class="collection-info__number">1,234</span></div>
    <ul id="col_json_result" class="collection-results">
      <li class="collection-result"><p class="collection-result__date">Media Note</p>
        <a class="collection-result__link" href="https://www.state.gov/a-note/"> A  note </a>
        <div class="collection-result-meta"><span dir="ltr">Office of the Spokesperson</span>
        <span dir="ltr">June 4, 2026</span></div></li>
      <li class="collection-result"><p class="collection-result__date">Readout</p>
        <a class="collection-result__link" href="/relative/">Relative</a>
        <div class="collection-result-meta"><span dir="ltr">no date here</span></div></li>
    </ul></body></html>"""
    page = parse_listing(html.encode(), "https://www.state.gov")
    assert page.total == 1234
    first, second = page.refs
    assert (first.url, first.title, first.release_type, first.listed_date) == (
        "https://www.state.gov/a-note/", "A note", "Media Note", date(2026, 6, 4))
    assert (second.url, second.listed_date) == ("https://www.state.gov/relative/", None)


def test_a_page_that_is_not_a_listing_is_an_error():
    with pytest.raises(ParseError, match="not a press-release listing"):
        parse_listing(b"<html><body><h1>Technical Difficulties</h1></body></html>", "https://www.state.gov")
