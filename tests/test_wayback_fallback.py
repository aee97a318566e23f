"""The Wayback Machine fallback: off by default; when on, a page the site blocks (403, or the bot
wall with 200) is fetched from `/web/<timestamp>id_/<url>`, here the mirror imitating the archive."""

from __future__ import annotations

import pytest
import requests

from statenotes.extractors.errors import FetchError
from statenotes.extractors.http import Fetcher, FetchPolicy
from statenotes.extractors.parse import is_bot_wall, parse_note
from statenotes.mirror import faults as kinds
from statenotes.mirror.faults import FaultPlan
from statenotes.mirror.server import MirrorServer

SEED_PATH = "/statement-by-ministers-of-the-global-coalition-to-defeat-isis-daesh/"


def policy(site: MirrorServer, **changes) -> FetchPolicy:
    return FetchPolicy(user_agent="statenotes-tests", crawl_delay_s=0.0, backoff_factor_s=0.01,
                       wayback_base=site.base_url, **changes)


@pytest.mark.parametrize("block", [kinds.FORBIDDEN, kinds.BOT_WALL])
def test_a_blocked_page_comes_from_the_wayback_machine(block):
    with MirrorServer(faults=FaultPlan.always(block, times=50)) as site:
        with Fetcher(policy(site, wayback_fallback=True)) as fetcher:
            url = site.base_url + SEED_PATH
            page = fetcher.fetch_page(url)
        site.faults = FaultPlan.none()
        direct = requests.get(url).content
    assert page.via == "wayback" and page.url == url and page.status == 200
    assert page.final_url.startswith(f"{site.base_url}/web/20190207") and page.final_url.endswith("id_/" + url)
    assert page.body == direct and not is_bot_wall(page.body)
    assert parse_note(page.body, page.url, page.content_type).title.startswith("Statement by Ministers")
    rows = [("wayback" if "/web/" in r.url else "site", r.status) for r in fetcher.log if "robots" not in r.url]
    assert rows == [("site", 403 if block == kinds.FORBIDDEN else 200), ("wayback", 200)]


@pytest.mark.parametrize("block", [kinds.FORBIDDEN, kinds.BOT_WALL])
def test_the_fallback_is_off_by_default(block):
    with MirrorServer(faults=FaultPlan.always(block, times=50)) as site, Fetcher(policy(site)) as fetcher:
        if block == kinds.FORBIDDEN:
            with pytest.raises(FetchError, match="HTTP 403"):
                fetcher.fetch_page(site.base_url + SEED_PATH)
        else:
            assert is_bot_wall(fetcher.fetch_page(site.base_url + SEED_PATH).body)
        assert not [p for _, p, _ in site.requests if p.startswith("/web/")]


def test_a_page_the_archive_never_captured_fails_with_both_reasons():
    with MirrorServer(faults=FaultPlan.always(kinds.FORBIDDEN, times=50)) as site:
        with Fetcher(policy(site, wayback_fallback=True)) as fetcher:
            with pytest.raises(FetchError, match=r"blocked \(HTTP 403\); Wayback Machine copy unavailable: HTTP 404"):
                fetcher.fetch_page(site.base_url + "/never-published/")


def test_the_archive_redirects_to_its_capture_and_maps_state_gov_urls():
    with MirrorServer() as site, requests.Session() as http:
        asked = f"{site.base_url}/web/2026id_/https://www.state.gov{SEED_PATH}"
        hop = http.get(asked, allow_redirects=False)
        assert hop.status_code == 302 and hop.headers["Location"].startswith("/web/20190207")
        assert hop.headers["Location"].endswith(f"id_/https://www.state.gov{SEED_PATH}")
        copy = http.get(asked)
        assert copy.content == http.get(site.base_url + SEED_PATH).content
        assert copy.headers["Memento-Datetime"].endswith("2019 15:25:05 GMT")
        assert http.get(f"{site.base_url}/web/2026id_/https://example.org/").status_code == 404
