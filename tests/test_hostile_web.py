"""A hostile web against the crawler (issue 15), through real sockets: a server that trickles, links
and redirects to other origins, a robots.txt that cannot be read, a listing that loops, sitemaps
listed many times or nested, and settings no run could honour. Each test names its issue case."""

from __future__ import annotations

import gzip
import logging
import socket
import threading
import time
from datetime import UTC, date, datetime

import pytest

from statenotes.extractors import discover as listing
from statenotes.extractors.discover_modes import discover
from statenotes.extractors.discover_sitemap import discover_from_sitemaps
from statenotes.extractors.errors import ConfigError, FetchError
from statenotes.extractors.http import MAX_ROBOTS_BYTES, Fetcher, FetchPolicy
from statenotes.extractors.url_policy import UrlPolicy
from statenotes.flows.settings import load_settings
from statenotes.mirror import faults as kinds
from statenotes.mirror.faults import FaultPlan
from statenotes.mirror.server import MirrorServer
from statenotes.mirror.site import load_sample_notes

SEED_PATH = "/statement-by-ministers-of-the-global-coalition-to-defeat-isis-daesh/"
TODAY = datetime.now(UTC).date()
DEADLINE_S = 1.0
TRICKLE_S = 0.1  # well under the read timeout: only a total deadline can end the answer


def policy(base_url: str = "", **changes) -> FetchPolicy:
    values = dict(user_agent="statenotes-tests/1.0", crawl_delay_s=0.0, connect_timeout_s=2.0, read_timeout_s=2.0,
                  max_retries=2, backoff_factor_s=0.01, max_retry_after_s=1.0, response_deadline_s=DEADLINE_S,
                  base_url=base_url)
    values.update(changes)
    return FetchPolicy(**values)


def asked(site: MirrorServer, path: str) -> int:
    return sum(1 for _, p, _ in site.requests if p.split("?")[0] == path)


@pytest.fixture
def listener():
    """A socket on 127.0.0.1 that counts the connections it is offered; yields (port, count())."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    accepted, stop = [], threading.Event()

    def accept():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except (TimeoutError, OSError):
                continue
            accepted.append(1)
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], lambda: len(accepted)
    finally:
        stop.set()
        thread.join()
        server.close()


# -- case 1: no wait on the web is unbounded ------------------------------------------------------

@pytest.mark.timeout(30)
@pytest.mark.parametrize("kind", [kinds.TRICKLE, kinds.SLOW_HEADERS])
def test_case1_a_trickling_answer_ends_at_the_response_deadline(kind):
    plan = FaultPlan.always(kind, times=100, trickle_interval_s=TRICKLE_S)
    with MirrorServer(faults=plan) as site, Fetcher(policy(site.base_url)) as fetcher:
        started = time.monotonic()
        with pytest.raises(FetchError, match=f"response exceeded {DEADLINE_S:g} s deadline"):
            fetcher.fetch_page(site.base_url + SEED_PATH)
        took = time.monotonic() - started
        assert DEADLINE_S <= took < DEADLINE_S + 1.5
        assert asked(site, SEED_PATH) == 1  # a response past its deadline is not tried again
        assert fetcher.log[-1].error == f"response exceeded {DEADLINE_S:g} s deadline"


@pytest.mark.timeout(30)
def test_case1_cancel_ends_a_response_in_flight_at_once():
    plan = FaultPlan.always(kinds.TRICKLE, times=100, trickle_interval_s=TRICKLE_S)
    with MirrorServer(faults=plan) as site, Fetcher(policy(site.base_url, response_deadline_s=60.0)) as fetcher:
        fetcher.crawl_delay_for(site.base_url)  # robots.txt read before the clock starts
        threading.Timer(0.5, fetcher.cancel, args=("test stop",)).start()
        started = time.monotonic()
        with pytest.raises(FetchError, match="cancelled: test stop"):
            fetcher.fetch_page(site.base_url + SEED_PATH)
        assert time.monotonic() - started < 2.0
        with pytest.raises(FetchError, match="cancelled"):  # and nothing new starts
            fetcher.fetch_page(site.base_url + "/press-releases/")


# -- case 2: one URL policy for every URL --------------------------------------------------------

def test_case2_the_policy_compares_scheme_host_and_port_and_refuses_credentials():
    site = UrlPolicy.for_site("http://127.0.0.1:8000", hosts=["2017-2021.state.gov", "http://127.0.0.1:8001"])
    assert site.admits("http://127.0.0.1:8000/press-releases/")
    assert site.admits("HTTP://127.0.0.1:8000/x/")
    assert site.admits("http://127.0.0.1:8001/x/")  # an allowed origin written out in full
    assert site.admits("http://2017-2021.state.gov/x/")  # a bare host: the site's scheme, default port
    for refused in ("http://127.0.0.1:8002/x/", "https://127.0.0.1:8000/x/", "http://127.0.0.2:8000/x/",
                    "http://user:secret@127.0.0.1:8000/x/", "http://2017-2021.state.gov:8080/x/",
                    "ftp://127.0.0.1:8000/x", "http://127.0.0.1:99999/x/", "/relative/"):
        reason = site.refusal(refused)
        assert reason is not None and "secret" not in reason, refused
    real = UrlPolicy.for_site("https://www.state.gov", hosts=["2021-2025.state.gov"])
    assert real.admits("https://www.state.gov:443/a/") and real.admits("https://2021-2025.state.gov/a/")
    assert not real.admits("http://www.state.gov/a/")  # another scheme is another origin
    assert "secret" not in site.refusal("http://user:secret@127.0.0.1:8000/x/")


@pytest.mark.timeout(60)
def test_case2_listing_links_to_other_origins_are_refused_counted_and_never_contacted(listener):
    port, connections = listener
    with MirrorServer() as probe:  # the address the mirror will get is not known before it starts
        mirror_port = probe.port
    injected = (f"http://127.0.0.1:{port}/another-port/", f"http://user:secret@127.0.0.1:{mirror_port}{SEED_PATH}",
                f"http://127.0.0.2:{port}/latest/meta-data/")
    with MirrorServer(port=mirror_port, faults=FaultPlan(listing_links=injected, max_faults_per_path=0)) as site, \
            Fetcher(policy(site.base_url)) as fetcher:
        found = discover(fetcher.fetch_page, site.base_url, date(2000, 1, 1), TODAY, "listing", admit=fetcher.admit)
        urls = {ref.url for ref in found.refs}
        assert not urls & set(injected)
        assert len(urls) == len(load_sample_notes())
        assert fetcher.refused == 3
        for url in injected:  # asked directly (a quarantined URL of an older run, say): refused too
            with pytest.raises(FetchError, match="refused") as refused:
                fetcher.fetch_page(url)
            assert "secret" not in str(refused.value)
        assert fetcher.refused == 6
    assert connections() == 0


@pytest.mark.timeout(60)
def test_case2_a_redirect_to_the_same_host_on_another_port_is_refused_before_contact(listener):
    port, connections = listener
    plan = FaultPlan.always(kinds.OFFHOST_REDIRECT, times=1, offhost_url=f"http://127.0.0.1:{port}")
    with MirrorServer(faults=plan) as site, Fetcher(policy()) as fetcher:
        with pytest.raises(FetchError, match="redirect to another port or scheme refused"):
            fetcher.fetch_page(site.base_url + SEED_PATH)
        assert fetcher.refused == 1
    assert connections() == 0


# -- case 6: robots.txt per RFC 9309 -------------------------------------------------------------

@pytest.mark.timeout(60)
def test_case6_robots_503_means_disallow_all_for_the_run_with_a_clear_reason():
    with MirrorServer(faults=FaultPlan(robots=kinds.ROBOTS_UNAVAILABLE, max_faults_per_path=0)) as site, \
            Fetcher(policy(site.base_url)) as fetcher:
        for path in (SEED_PATH, "/press-releases/"):
            with pytest.raises(FetchError, match=r"robots.txt unavailable at .* \(HTTP 503\).*next run asks again"):
                fetcher.fetch_page(site.base_url + path)
        assert asked(site, SEED_PATH) == 0 and asked(site, "/press-releases/") == 0
    with MirrorServer() as site, Fetcher(policy(site.base_url)) as fetcher:  # the next run asks again
        assert fetcher.fetch_page(site.base_url + SEED_PATH).status == 200


@pytest.mark.timeout(60)
def test_case6_robots_unreachable_means_disallow_all(listener):
    port, _ = listener  # accepts and hangs up at once: no answer at all
    with Fetcher(policy(f"http://127.0.0.1:{port}", max_retries=0)) as fetcher:
        with pytest.raises(FetchError, match="robots.txt unavailable"):
            fetcher.fetch_page(f"http://127.0.0.1:{port}/press-releases/")


def test_case6_robots_404_means_allow_all(routes_site):
    base, routes, paths = routes_site
    routes.pop("/robots.txt")
    routes["/page/"] = (200, {}, b"<html>here</html>")
    with Fetcher(policy(base)) as fetcher:
        assert fetcher.fetch_page(base + "/page/").status == 200


@pytest.mark.timeout(60)
def test_case6_a_robots_txt_over_the_page_cap_is_read_to_512_kib_and_honoured():
    plan = FaultPlan(robots=kinds.ROBOTS_HUGE, robots_disallow=SEED_PATH, max_faults_per_path=0)
    with MirrorServer(faults=plan) as site, Fetcher(policy(site.base_url)) as fetcher:
        with pytest.raises(FetchError, match="disallowed by robots.txt"):
            fetcher.fetch_page(site.base_url + SEED_PATH)
        robots = [r for r in fetcher.log if r.url.endswith("/robots.txt")]
        assert robots[0].status == 200 and robots[0].bytes == MAX_ROBOTS_BYTES
        assert fetcher.fetch_page(site.base_url + "/press-releases/").status == 200
    assert plan.robots_bytes > 5_000_000  # over the page cap, which used to mean "unreadable: allow all"


@pytest.mark.timeout(60)
def test_case6_a_gzip_bomb_robots_txt_is_inflated_only_to_the_cap():
    plan = FaultPlan(robots=kinds.ROBOTS_BOMB, max_faults_per_path=0)
    with MirrorServer(faults=plan) as site, Fetcher(policy(site.base_url)) as fetcher:
        assert fetcher.fetch_page(site.base_url + SEED_PATH).status == 200
        assert fetcher.log[0].bytes == MAX_ROBOTS_BYTES


# -- case 7: listing paging makes progress or stops ---------------------------------------------

@pytest.mark.timeout(60)
def test_case7_a_listing_that_answers_every_page_number_stops_at_the_first_repeat(monkeypatch, caplog):
    monkeypatch.setattr(listing, "MAX_LISTING_PAGES", 40)
    notes = load_sample_notes()
    last = -(-len(notes) // 10)
    with MirrorServer(faults=FaultPlan(listing_loop=True, max_faults_per_path=0)) as site, \
            Fetcher(policy(site.base_url)) as fetcher, caplog.at_level(logging.WARNING):
        refs = list(listing.discover_from_listing(lambda url: fetcher.fetch_page(url).body, site.base_url,
                                                  date(2000, 1, 1), TODAY))
        pages = [p for _, p, _ in site.requests if p.startswith("/press-releases/")]
    assert len({ref.url for ref in refs}) == len(notes)
    assert len(pages) == last + 1
    assert f"listing paging stopped at page {last + 1}" in caplog.text


def test_case7_a_next_link_back_to_a_page_already_read_stops_paging(routes_site, caplog):
    base, routes, paths = routes_site
    notes = load_sample_notes()

    def page(number: int, next_number: int) -> bytes:
        from statenotes.mirror.site import listing_page_html
        html = listing_page_html(notes[number * 3:number * 3 + 3], 1, 3, base)
        html = html.replace(f'href="{base}/', f'href="{base}/p{number}-')  # new notes on every page
        return html.replace("</head>", f'<link rel="next" href="{base}{listing.listing_url("", next_number)}"></head>').encode()

    routes["/press-releases/"] = (200, {}, page(1, 2))
    for n in range(2, 40):  # an endless chain whose next link leads back to page 1
        routes[f"/press-releases/page/{n}/"] = (200, {}, page(n, 1 if n == 2 else n + 1))
    with Fetcher(policy(base)) as fetcher, caplog.at_level(logging.WARNING):
        refs = list(listing.discover_from_listing(lambda url: fetcher.fetch_page(url).body, base,
                                                  date(2000, 1, 1), TODAY))
    assert [p for p in paths if p.startswith("/press-releases/")] == ["/press-releases/", "/press-releases/page/2/"]
    assert len(refs) == 6
    assert "next link leads back to a page already read" in caplog.text


# -- case 11: sitemaps and settings ---------------------------------------------------------------

def _index(*locs: str) -> bytes:
    items = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs)
    return f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</sitemapindex>'.encode()


def _urlset(*urls: str) -> bytes:
    items = "".join(f"<url><loc>{u}</loc><lastmod>{TODAY.isoformat()}</lastmod></url>" for u in urls)
    return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</urlset>'.encode()


def test_case11_a_sub_sitemap_listed_51_times_is_fetched_once(routes_site):
    base, routes, paths = routes_site
    routes["/sitemap_index.xml"] = (200, {}, _index(*[f"{base}/state_press_release-sitemap.xml"] * 51))
    routes["/state_press_release-sitemap.xml"] = (200, {}, _urlset(f"{base}/a/", f"{base}/b/"))
    with Fetcher(policy(base)) as fetcher:
        refs = list(discover_from_sitemaps(fetcher.fetch_page, base, TODAY, TODAY))
    assert [r.url for r in refs] == [f"{base}/a/", f"{base}/b/"]
    assert paths.count("/state_press_release-sitemap.xml") == 1


def test_case11_a_nested_sitemap_index_is_followed_and_a_bad_sub_sitemap_skipped(routes_site, caplog):
    base, routes, paths = routes_site
    routes["/sitemap_index.xml"] = (200, {}, _index(f"{base}/state_press_release-sitemap.xml",
                                                    f"{base}/state_press_release-sitemap9.xml"))
    routes["/state_press_release-sitemap.xml"] = (200, {}, _index(f"{base}/sub-1.xml", f"{base}/sub-2.xml",
                                                                  f"{base}/sub-broken.xml"))
    routes["/sub-1.xml"] = (200, {}, _urlset(f"{base}/a/"))
    routes["/sub-2.xml"] = (200, {}, gzip.compress(b"not even xml"))
    routes["/sub-broken.xml"] = (500, {}, b"oops")
    routes["/state_press_release-sitemap9.xml"] = (200, {}, _urlset(f"{base}/b/", f"{base}/a/"))
    with Fetcher(policy(base, max_retries=0)) as fetcher, caplog.at_level(logging.WARNING):
        refs = list(discover_from_sitemaps(fetcher.fetch_page, base, TODAY, TODAY))
    assert sorted(r.url for r in refs) == [f"{base}/a/", f"{base}/b/"]
    assert "sub-2.xml skipped" in caplog.text and "sub-broken.xml skipped" in caplog.text


@pytest.mark.parametrize("name, value", [("crawl_delay_s", "inf"), ("crawl_delay_s", "nan"),
                                         ("read_timeout_s", "1e400"), ("response_deadline_s", "0"),
                                         ("crawl_delay_s", "100000"), ("max_retry_after_s", "-inf")])
def test_case11_time_settings_must_be_finite_and_sane(monkeypatch, name, value):
    monkeypatch.setenv(f"STATENOTES_{name.upper()}", value)
    with pytest.raises(ConfigError) as error:
        load_settings()
    message = str(error.value)
    assert "\n" not in message and message.startswith("invalid settings:") and name in message


def test_case11_sane_time_settings_are_accepted(monkeypatch):
    monkeypatch.setenv("STATENOTES_CRAWL_DELAY_S", "5")
    monkeypatch.setenv("STATENOTES_RESPONSE_DEADLINE_S", "90")
    settings = load_settings()
    assert settings.crawl_delay_s == 5.0 and settings.fetch_policy().response_deadline_s == 90.0


def test_case6_robots_429_after_the_retries_means_disallow_all(routes_site):
    base, routes, paths = routes_site
    routes["/robots.txt"] = (429, {"Retry-After": "0"}, b"slow down")
    routes["/page/"] = (200, {}, b"<html>here</html>")
    with Fetcher(policy(base, max_retries=1)) as fetcher:
        with pytest.raises(FetchError, match=r"robots.txt unavailable at .* \(HTTP 429\)"):
            fetcher.fetch_page(base + "/page/")
    assert "/page/" not in paths
