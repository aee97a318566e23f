"""Every fault the mirror injects, seen on the wire, and what the Fetcher and the parser make of it:
retried and recovered, refused with a clear reason, or read correctly whatever the label says."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
import tracemalloc

import pytest
import requests

from statenotes.extractors.errors import FetchError, ParseError
from statenotes.extractors.http import Fetcher, FetchPolicy
from statenotes.extractors.parse import choose_encoding, is_bot_wall, parse_note
from statenotes.mirror import faults as kinds
from statenotes.mirror.bad_pages import render_bot_wall
from statenotes.mirror.fault_answers import huge_chunks, relabelled
from statenotes.mirror.faults import FaultPlan
from statenotes.mirror.pages import Page
from statenotes.mirror.server import MirrorServer

SEED_PATH = "/statement-by-ministers-of-the-global-coalition-to-defeat-isis-daesh/"
CURLY_PATH = "/zeya-travel-jamaica-belize/"  # "Under Secretary Zeya’s Travel ...": non-ASCII in the title
MB = 1_000_000


def policy(**changes) -> FetchPolicy:
    values = dict(user_agent="statenotes-tests/1.0", crawl_delay_s=0.0, connect_timeout_s=2.0,
                  read_timeout_s=5.0, max_retries=2, backoff_factor_s=0.02, max_retry_after_s=1.0)
    values.update(changes)
    return FetchPolicy(**values)


def served(site: MirrorServer, path: str, expected: int = 0) -> list[int]:
    """Statuses the mirror logged for `path` (any query), once it has logged `expected` of them: a
    bodiless answer (a redirect) is logged just after its headers went out, and the client may be quicker."""
    deadline = time.monotonic() + 2
    while True:
        found = [status for _, p, status in site.requests if p.split("?")[0] == path]
        if len(found) >= expected or time.monotonic() > deadline:
            return found
        time.sleep(0.01)


def said(page_body: bytes, url: str, content_type: str | None) -> tuple:
    note = parse_note(page_body, url, content_type)
    return note.title, note.published_date, note.blocks


@pytest.fixture(scope="module")
def clean():
    """The seed and the curly-quoted page as a fault-free mirror serves them, parsed."""
    with MirrorServer() as site, Fetcher(policy()) as fetcher:
        pages = {path: fetcher.fetch_page(site.base_url + path) for path in (SEED_PATH, CURLY_PATH)}
    return {path: said(p.body, path, p.content_type) for path, p in pages.items()}


# -- retried within one fetch -------------------------------------------------------------------

def test_slow_answer_is_abandoned_at_the_read_timeout_and_retried():
    plan = FaultPlan.always(kinds.SLOW, times=1, slow_s=3.0)
    with MirrorServer(faults=plan) as site, Fetcher(policy(read_timeout_s=0.3)) as fetcher:
        started = time.monotonic()
        page = fetcher.fetch_page(site.base_url + SEED_PATH)
        elapsed = time.monotonic() - started
    assert page.status == 200 and b"</html>" in page.body
    assert plan.history() == [(SEED_PATH, kinds.SLOW)]
    assert elapsed < 2.0  # did not wait for the slow answer


def test_an_answer_that_is_always_slow_fails_with_a_timeout_reason():
    plan = FaultPlan.always(kinds.SLOW, times=50, slow_s=2.0)
    with MirrorServer(faults=plan) as site, Fetcher(policy(read_timeout_s=0.2, max_retries=1)) as fetcher:
        with pytest.raises(FetchError, match=r"timed out: no answer within 0.2 s, 2 tries"):
            fetcher.fetch_page(site.base_url + SEED_PATH)
        assert fetcher.log[-1].status is None and fetcher.log[-1].error.startswith("timed out")
    assert [kind for _, kind in plan.history()] == [kinds.SLOW] * 2


# -- refused: the fetch fails with its reason, the next one gets the page -------------------------

def test_a_gzip_bomb_is_refused_without_inflating_it():
    plan = FaultPlan.always(kinds.GZIP_BOMB, times=1, bomb_bytes=50 * MB)
    with MirrorServer(faults=plan) as site, Fetcher(policy(max_page_bytes=1 * MB)) as fetcher:
        url = site.base_url + SEED_PATH
        tracemalloc.start()
        try:
            with pytest.raises(FetchError, match="larger than 1000000 bytes after gzip decompression"):
                fetcher.fetch_page(url)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 10 * MB  # the 50 MB never existed in memory
        assert fetcher.fetch_page(url).status == 200  # refused once, then the page
    assert kinds_of(plan) == [kinds.GZIP_BOMB]


def kinds_of(plan: FaultPlan) -> list[str]:
    return [kind for _, kind in plan.history()]


def test_the_bomb_on_the_wire_is_small_and_inflates_past_the_cap():
    plan = FaultPlan.always(kinds.GZIP_BOMB, times=1, bomb_bytes=50 * MB)
    with MirrorServer(faults=plan) as site:
        answer = requests.get(site.base_url + SEED_PATH, stream=True)
        wire = answer.raw.read(decode_content=False)
        answer.close()
    assert answer.headers["Content-Encoding"] == "gzip" and len(wire) < 100_000
    assert len(gzip.decompress(wire)) == 50 * MB


def test_a_bomb_in_a_redirect_body_is_never_inflated(routes_site):
    base, routes, _ = routes_site
    bomb = gzip.compress(b"\0" * (50 * MB), compresslevel=9)
    routes["/moved/"] = (302, {"Location": "/here/", "Content-Encoding": "gzip"}, bomb)
    routes["/here/"] = (200, {}, b"<html>here</html>")
    with Fetcher(policy(max_page_bytes=1 * MB)) as fetcher:
        fetcher.fetch_page(base + "/here/")  # robots.txt and a connection, before counting
        tracemalloc.start()
        try:
            page = fetcher.fetch_page(base + "/moved/")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert page.body == b"<html>here</html>" and page.final_url == base + "/here/"
    assert peak < 10 * MB


def test_a_redirect_loop_stops_at_the_redirect_limit():
    plan = FaultPlan.always(kinds.REDIRECT_LOOP, times=1)
    with MirrorServer(faults=plan) as site, Fetcher(policy(max_redirects=4)) as fetcher:
        url = site.base_url + SEED_PATH
        with pytest.raises(FetchError, match=r"redirect loop \(more than 4 redirects\)"):
            fetcher.fetch_page(url)
        assert served(site, SEED_PATH, 1 + 4) == [302] * (1 + 4)
        hops = [p for _, p, _ in site.requests if p.startswith(SEED_PATH)]
        assert hops[0] == SEED_PATH and len(hops) == 1 + 4
        assert {p.split("?")[1] for p in hops[1:]} == {"redirect-loop=1", "redirect-loop=2"}
        assert fetcher.log[-1].error.startswith("redirect loop")
        assert fetcher.fetch_page(url).status == 200


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


def test_an_offhost_redirect_is_refused_before_the_other_host_is_contacted(listener):
    port, connections = listener
    # "localhost" is another host name than 127.0.0.1: followed, it would reach the listener.
    plan = FaultPlan.always(kinds.OFFHOST_REDIRECT, times=1, offhost_url=f"http://localhost:{port}")
    with MirrorServer(faults=plan) as site, Fetcher(policy()) as fetcher:
        url = site.base_url + SEED_PATH
        with pytest.raises(FetchError, match=f"redirect to another host refused: http://localhost:{port}{SEED_PATH}"):
            fetcher.fetch_page(url)
        assert fetcher.fetch_page(url).status == 200
    assert connections() == 0
    assert served(site, SEED_PATH, 2) == [302, 200]


def test_the_default_offhost_target_is_refused_too():
    with MirrorServer(faults=FaultPlan.always(kinds.OFFHOST_REDIRECT)) as site, Fetcher(policy()) as fetcher:
        with pytest.raises(FetchError, match=r"refused: http://127\.0\.0\.2:9/"):
            fetcher.fetch_page(site.base_url + SEED_PATH)


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_a_huge_page_is_refused_at_the_cap(chunked):
    plan = FaultPlan.always(kinds.HUGE, times=1, huge_bytes=3 * MB, huge_chunked=chunked)
    with MirrorServer(faults=plan) as site, Fetcher(policy(max_page_bytes=1 * MB)) as fetcher:
        reason = "Content-Length" if not chunked else "larger than 1000000 bytes$"
        with pytest.raises(FetchError, match=reason):
            fetcher.fetch_page(site.base_url + SEED_PATH)
    assert kinds_of(plan) == [kinds.HUGE]


def test_a_huge_page_under_a_larger_cap_is_the_same_release(clean):
    plan = FaultPlan.always(kinds.HUGE, times=1, huge_bytes=3 * MB)
    with MirrorServer(faults=plan) as site, Fetcher(policy(max_page_bytes=4 * MB)) as fetcher:
        page = fetcher.fetch_page(site.base_url + SEED_PATH)
    assert 3 * MB <= len(page.body) < 4 * MB
    assert said(page.body, SEED_PATH, page.content_type) == clean[SEED_PATH]


def test_a_403_is_not_retried_and_says_so():
    plan = FaultPlan.always(kinds.FORBIDDEN, times=5)
    with MirrorServer(faults=plan) as site, Fetcher(policy()) as fetcher:
        with pytest.raises(FetchError, match="HTTP 403"):
            fetcher.fetch_page(site.base_url + SEED_PATH)
        assert served(site, SEED_PATH) == [403]
        assert fetcher.log[-1].status == 403


def test_the_bot_wall_comes_back_as_a_page_the_parser_refuses():
    plan = FaultPlan.always(kinds.BOT_WALL, times=1)
    with MirrorServer(faults=plan) as site, Fetcher(policy()) as fetcher:
        page = fetcher.fetch_page(site.base_url + SEED_PATH)
    assert page.status == 200 and is_bot_wall(page.body, page.content_type)
    with pytest.raises(ParseError, match="bot wall: 'Technical Difficulties' page"):
        parse_note(page.body, SEED_PATH, page.content_type)


# -- labels: the page is read right whatever its charset label says -----------------------------

def test_a_wrong_charset_label_does_not_corrupt_the_text(clean):
    plan = FaultPlan.always(kinds.WRONG_CHARSET, times=1)
    with MirrorServer(faults=plan) as site, Fetcher(policy()) as fetcher:
        page = fetcher.fetch_page(site.base_url + CURLY_PATH)
    assert page.content_type == "text/html; charset=iso-8859-1"
    assert b'<meta charset="utf-8">' in page.body and "’".encode() in page.body
    title, *_ = got = said(page.body, CURLY_PATH, page.content_type)
    assert got == clean[CURLY_PATH] and "Zeya’s Travel" in title


def test_a_missing_charset_everywhere_is_read_as_utf8(clean):
    plan = FaultPlan.always(kinds.NO_CHARSET, times=1)
    with MirrorServer(faults=plan) as site, Fetcher(policy()) as fetcher:
        page = fetcher.fetch_page(site.base_url + CURLY_PATH)
    assert page.content_type == "text/html" and b"charset" not in page.body.lower()
    assert said(page.body, CURLY_PATH, page.content_type) == clean[CURLY_PATH]


UTF8_PAGE = '<html><head><meta charset="utf-8"><title>t</title></head><body><p>Zeya’s — “x”</p></body></html>'


@pytest.mark.parametrize(("body", "content_type", "expected"), [
    (UTF8_PAGE.encode(), "text/html; charset=iso-8859-1", "utf-8"),  # mislabelled: the bytes are UTF-8
    (UTF8_PAGE.encode(), "text/html; charset=windows-1252", "utf-8"),
    (UTF8_PAGE.replace('<meta charset="utf-8">', "").encode(), "text/html; charset=latin-1", "utf-8"),
    (UTF8_PAGE.replace("utf-8", "windows-1252").encode("cp1252"), "text/html; charset=iso-8859-1", "windows-1252"),
    # Both the header and the page say windows-1252: their word stands, even on UTF-8 bytes.
    (UTF8_PAGE.replace("utf-8", "windows-1252").encode(), "text/html; charset=iso-8859-1", "windows-1252"),
    (UTF8_PAGE.encode("ascii", "replace"), "text/html; charset=iso-8859-1", "windows-1252"),
    (UTF8_PAGE.encode(), "text/html; charset=utf-16", "utf-16"),  # other labels are not second-guessed
])
def test_choose_encoding_distrusts_a_latin1_label_on_utf8_bytes(body, content_type, expected):
    assert choose_encoding(body, content_type) == expected


def test_real_windows_1252_under_a_latin1_label_keeps_its_quotes():
    body = UTF8_PAGE.replace('<meta charset="utf-8">', "").encode("cp1252")
    note_text = body.decode(choose_encoding(body, "text/html; charset=iso-8859-1"))
    assert "Zeya’s — “x”" in note_text


# -- the bot-wall check ---------------------------------------------------------------------------

def test_is_bot_wall_tells_walls_from_releases_and_other_answers(clean):
    with MirrorServer() as site:
        release = requests.get(site.base_url + SEED_PATH).content
        listing = requests.get(site.base_url + "/press-releases/").content
        missing = requests.get(site.base_url + "/no-such-page/").content
        api = requests.get(site.base_url + "/wp-json/wp/v2/state_press_release").content
        sitemap = requests.get(site.base_url + "/sitemap_index.xml").content
    assert is_bot_wall(render_bot_wall("/x/").encode())
    assert is_bot_wall(b"<html><head><title>Access Denied</title></head><body>nope</body></html>")
    assert not any(is_bot_wall(body) for body in (release, listing, missing, api, sitemap))
    # A release is a release whatever its headline says.
    walled_headline = release.replace(b"Statement by Ministers", b"Technical Difficulties: Statement by Ministers")
    assert not is_bot_wall(walled_headline)


# -- the plan ---------------------------------------------------------------------------------------

def test_every_kind_is_known_validated_and_seeded():
    assert set(kinds.ALL_FAULT_KINDS) == kinds.RETRIED_KINDS | kinds.REFUSED_KINDS | kinds.LABEL_KINDS | kinds.STALL_KINDS
    with pytest.raises(ValueError, match="unknown fault kinds"):
        FaultPlan(rates={"teapot": 0.1})
    with pytest.raises(ValueError, match="sum to at most 1"):
        FaultPlan(rate_429=0.5, rates={kinds.SLOW: 0.6})
    spread = FaultPlan.spread(0.3, seed=4, max_faults_per_path=1)
    paths = [f"/note-{i}/" for i in range(2000)]
    rolled = [spread.decide(p) for p in paths]
    assert rolled == [FaultPlan.spread(0.3, seed=4, max_faults_per_path=1).decide(p) for p in paths]
    assert set(rolled) - {None} == set(kinds.ALL_FAULT_KINDS)
    assert 0.25 < sum(r is not None for r in rolled) / len(rolled) < 0.35


def test_labels_change_only_the_charset_of_other_answers():
    api = Page(b"[]", "application/json; charset=UTF-8")
    assert relabelled(api, wrong=True).content_type == "application/json; charset=iso-8859-1"
    assert relabelled(api, wrong=False) == Page(b"[]", "application/json")
    padded = b"".join(huge_chunks(api, 200_000))
    assert len(padded) >= 200_000 and json.loads(padded) == []  # still the same JSON
