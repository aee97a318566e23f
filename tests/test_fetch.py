"""The Fetcher against the real mirror on 127.0.0.1, with faults injected by the server."""

from __future__ import annotations

import gzip
import time

import pytest

from statenotes.extractors.errors import FetchError
from statenotes.extractors.http import Fetcher, FetchPolicy
from statenotes.mirror.faults import RATE_LIMITED, RESET, TRUNCATED, UNAVAILABLE, FaultPlan
from statenotes.mirror.server import MirrorServer
from statenotes.mirror.site import load_sample_notes, page_url

SEED_PATH = "/statement-by-ministers-of-the-global-coalition-to-defeat-isis-daesh/"


def policy(**changes) -> FetchPolicy:
    values = dict(user_agent="statenotes-tests/1.0", crawl_delay_s=0.0, connect_timeout_s=2.0,
                  read_timeout_s=5.0, max_retries=3, backoff_factor_s=0.05, max_retry_after_s=5.0)
    values.update(changes)
    return FetchPolicy(**values)


def page_requests(site: MirrorServer, path: str) -> list[int]:
    return [status for method, p, status in site.requests if p == path]


@pytest.mark.parametrize("kind", [RATE_LIMITED, UNAVAILABLE, RESET, TRUNCATED])
def test_transient_faults_are_retried_until_the_page_arrives(kind):
    with MirrorServer(faults=FaultPlan.always(kind, times=2)) as site, Fetcher(policy()) as fetcher:
        page = fetcher.fetch_page(site.base_url + SEED_PATH)
        assert page.status == 200
        assert b"</html>" in page.body and b"Alhakim" in page.body
        assert len(page_requests(site, SEED_PATH)) == 3  # two faults, then the page
        assert [r.status for r in fetcher.log if r.url.endswith(SEED_PATH)] == [200]


def test_retry_after_is_honoured():
    with MirrorServer(faults=FaultPlan.always(RATE_LIMITED, times=1, retry_after=1)) as site:
        with Fetcher(policy(backoff_factor_s=0.0)) as fetcher:
            started = time.monotonic()
            fetcher.fetch_page(site.base_url + SEED_PATH)
            assert time.monotonic() - started >= 0.95


def test_retry_after_is_capped_by_the_policy():
    with MirrorServer(faults=FaultPlan.always(RATE_LIMITED, times=1, retry_after=60)) as site:
        with Fetcher(policy(backoff_factor_s=0.0, max_retry_after_s=0.2)) as fetcher:
            started = time.monotonic()
            fetcher.fetch_page(site.base_url + SEED_PATH)
            assert time.monotonic() - started < 10


def test_persistent_failure_raises_fetch_error_and_is_logged():
    with MirrorServer(faults=FaultPlan.always(UNAVAILABLE, times=50)) as site:
        with Fetcher(policy(max_retries=2)) as fetcher:
            with pytest.raises(FetchError, match="HTTP 503"):
                fetcher.fetch_page(site.base_url + SEED_PATH)
            assert fetcher.log[-1].status == 503 and fetcher.log[-1].error == "HTTP 503"
            assert len(page_requests(site, SEED_PATH)) == 3  # the first try and two retries


def test_truncated_body_that_never_completes_is_a_failed_fetch():
    with MirrorServer(faults=FaultPlan.always(TRUNCATED, times=50)) as site:
        with Fetcher(policy(max_retries=2)) as fetcher:
            with pytest.raises(FetchError, match="body incomplete"):
                fetcher.fetch_page(site.base_url + SEED_PATH)
            assert fetcher.log[-1].status is None and "incomplete" in fetcher.log[-1].error


def test_not_found_is_not_retried():
    with MirrorServer() as site, Fetcher(policy()) as fetcher:
        with pytest.raises(FetchError, match="HTTP 404"):
            fetcher.fetch_page(site.base_url + "/no-such-note/")
        assert len(page_requests(site, "/no-such-note/")) == 1


def test_robots_crawl_delay_spaces_requests():
    with MirrorServer(crawl_delay=1) as site, Fetcher(policy()) as fetcher:
        urls = [page_url(note, site.base_url) for note in load_sample_notes()[:3]]
        for url in urls:
            fetcher.fetch_page(url)
        assert fetcher.crawl_delay_for(site.base_url) == 1.0
        stamps = [t for t, method, path, status in site.timed_requests if path != "/robots.txt"]
        assert len(stamps) == 3
        assert all(b - a >= 0.95 for a, b in zip(stamps, stamps[1:]))


def test_user_agent_and_size_cap():
    with MirrorServer() as site:
        with Fetcher(policy(user_agent="statenotes-ua-check", max_page_bytes=10_000)) as fetcher:
            with pytest.raises(FetchError, match="larger than 10000 bytes"):
                fetcher.fetch_page(site.base_url + SEED_PATH)
        assert fetcher.session.headers["User-Agent"] == "statenotes-ua-check"


def test_robots_disallow_is_honoured(routes_site):
    base, routes, paths = routes_site
    routes["/public/"] = (200, {}, b"<html></html>")
    with Fetcher(policy()) as fetcher:
        with pytest.raises(FetchError, match="disallowed by robots.txt"):
            fetcher.fetch_page(base + "/private/page/")
        assert fetcher.fetch_page(base + "/public/").status == 200
    assert paths == ["/robots.txt", "/public/"]


def test_redirects_to_other_hosts_are_refused(routes_site):
    base, routes, paths = routes_site
    routes["/moved/"] = (301, {"Location": "http://127.0.0.2:9/elsewhere/"}, b"")
    routes["/same/"] = (301, {"Location": "/public/"}, b"")
    routes["/public/"] = (200, {}, b"<html>here</html>")
    with Fetcher(policy()) as fetcher:
        with pytest.raises(FetchError, match="redirect to another host refused"):
            fetcher.fetch_page(base + "/moved/")
        page = fetcher.fetch_page(base + "/same/")
    assert page.final_url == base + "/public/" and page.body == b"<html>here</html>"
    assert "/elsewhere/" not in paths


def test_redirect_loops_stop(routes_site):
    base, routes, paths = routes_site
    routes["/a/"] = (302, {"Location": "/b/"}, b"")
    routes["/b/"] = (302, {"Location": "/a/"}, b"")
    with Fetcher(policy(max_redirects=4)) as fetcher:
        with pytest.raises(FetchError, match="redirect loop"):
            fetcher.fetch_page(base + "/a/")
    assert len(paths) <= 1 + 5  # robots.txt, the first request and four redirects


def test_a_gzip_bomb_is_refused_without_inflating_it(routes_site):
    base, routes, _ = routes_site
    bomb = gzip.compress(b"\0" * 50_000_000, compresslevel=9)
    assert len(bomb) < 100_000
    routes["/bomb/"] = (200, {"Content-Encoding": "gzip", "Content-Type": "text/html"}, bomb)
    with Fetcher(policy(max_page_bytes=1_000_000)) as fetcher:
        with pytest.raises(FetchError, match="larger than 1000000 bytes"):
            fetcher.fetch_page(base + "/bomb/")


def test_token_bucket_caps_the_request_rate(routes_site):
    base, routes, _ = routes_site
    routes["/public/"] = (200, {}, b"ok")
    with Fetcher(policy(requests_per_minute=600, burst=1)) as fetcher:  # 10 a second
        fetcher.fetch_page(base + "/public/")
        started = time.monotonic()
        for _ in range(5):
            fetcher.fetch_page(base + "/public/")
        assert time.monotonic() - started >= 0.45


def test_the_log_is_handed_over_in_parts_and_the_request_count_keeps_counting():
    with MirrorServer() as site, Fetcher(policy()) as fetcher:
        fetcher.fetch_page(site.base_url + SEED_PATH)
        first = fetcher.take_log()
        fetcher.fetch_page(site.base_url + SEED_PATH)
        second = fetcher.take_log()
        assert [r.url for r in first if r.url.endswith(SEED_PATH)] == [site.base_url + SEED_PATH]
        assert [r.url for r in second] == [site.base_url + SEED_PATH]  # robots.txt was asked once, before
        assert fetcher.log == [] and fetcher.take_log() == []
        assert fetcher.request_count == len(first) + len(second)
