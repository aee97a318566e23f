"""The offline mirror: state.gov's markup (MARKUP.md) for every note and variant, discovery paths,
HTTP behaviour (conditional GET, charsets, redirects, 404) and injected faults, over real sockets."""

from __future__ import annotations

import ast
import re
import socket
import threading
import time
import urllib.robotparser
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

import pytest
import requests
from bs4 import BeautifulSoup

import statenotes.mirror

from statenotes.mirror.body import DIMENSIONS, VARIANTS
from statenotes.mirror.faults import FAULT_KINDS, RATE_LIMITED, RESET, TRUNCATED, UNAVAILABLE, FaultPlan
from statenotes.mirror.notes import modified_at, page_path
from statenotes.mirror.server import MirrorServer
from statenotes.mirror.site import (
    VARIANT_COUNT,
    load_sample_notes,
    render_note_page,
    render_sitemap,
    variant_for,
)

NOTES = load_sample_notes()
SEED = next(n for n in NOTES if n["published_date"] == "2019-02-07")
SEED_PATH = "/statement-by-ministers-of-the-global-coalition-to-defeat-isis-daesh/"
BASE = "http://127.0.0.1:9"
SM_NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
TITLE_SUFFIX = " - United States Department of State"
RECORDED_STATUS = {RATE_LIMITED: 429, UNAVAILABLE: 503, RESET: 0, TRUNCATED: 200}  # reset: no answer


@pytest.fixture(scope="module")
def site():
    with MirrorServer(crawl_delay=5) as server:
        yield server


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


def norm(text: str) -> str:
    return " ".join(text.split())


def long_date(value: str) -> str:
    d = date.fromisoformat(value)
    return f"{d:%B} {d.day}, {d.year}"


def printed_lines(html: str) -> list[str]:
    """The body as printed, read back from div.entry-content: <br> splits lines, an <ol> gets its
    numbers back, a <ul> its bullets; empty paragraphs, "# # #" and the PDF link are dropped."""
    fragment = html[html.index('<div class="entry-content">'):html.index("<!-- .entry-content -->")]
    content = BeautifulSoup(fragment, "lxml").select_one("div.entry-content")
    lines = []
    for block in content.find_all(["p", "ol", "ul"]):
        if block.name == "ol":
            start = int(block.get("start", 1))
            lines += [f"{start + i}. {norm(li.get_text())}" for i, li in enumerate(block.find_all("li"))]
        elif block.name == "ul":
            lines += [f"• {norm(li.get_text())}" for li in block.find_all("li")]
        elif not block.select_one("a.external-link__pdf"):
            for br in block.find_all("br"):
                br.replace_with("\n")
            lines += [norm(s) for s in block.get_text().split("\n") if norm(s) and norm(s) != "# # #"]
    return [canonical(line) for line in _split_one_line_dateline(lines)]


ONE_LINE_DATELINE = re.compile(r"^(Washington, DC), ([A-Z][a-z]+ \d{1,2}, \d{4})$")
PAREN_NUMBER = re.compile(r"^(\d{1,3})\) ")
MARKER = re.compile(r"^(begin|end) text[:.]?$", re.IGNORECASE)


def _split_one_line_dateline(lines: list[str]) -> list[str]:
    match = ONE_LINE_DATELINE.match(lines[0]) if lines else None
    return [match.group(1), match.group(2), *lines[1:]] if match else lines


def canonical(line: str) -> str:
    """What a printed line says whatever the variant: "1)" numbering as "1.", markers in any case."""
    line = PAREN_NUMBER.sub(r"\1. ", line)
    return line.lower() if MARKER.match(line) else line


def corpus_lines(note: dict) -> list[str]:
    dateline = [note["dateline_place"], long_date(note["dateline_date"])] if note["dateline_place"] else []
    return dateline + [canonical(norm(line)) for line in note["body_lines"]]


def test_mirror_imports_no_other_stage():
    for module in Path(statenotes.mirror.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert not name.startswith("statenotes.") or name.startswith("statenotes.mirror"), (module, name)


# -- rendering ------------------------------------------------------------------------------------

def test_sample_is_every_note_newest_first_and_copied():
    assert len(NOTES) == 22
    keys = [(n["published_date"], n["url"]) for n in NOTES]
    assert keys == sorted(keys, reverse=True)
    fresh = load_sample_notes()
    fresh[0]["title"] = "changed"
    assert load_sample_notes()[0]["title"] == NOTES[0]["title"]


def test_variants_cover_every_pair_of_choices():
    names = list(DIMENSIONS)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            seen = {(getattr(v, a), getattr(v, b)) for v in VARIANTS}
            assert seen == {(x, y) for x in DIMENSIONS[a] for y in DIMENSIONS[b]}, (a, b)
    assert VARIANT_COUNT == len(VARIANTS) < 30


@pytest.mark.parametrize("note", NOTES, ids=[page_path(n).strip("/")[:40] for n in NOTES])
def test_every_variant_prints_the_corpus_text(note):
    for variant in range(VARIANT_COUNT):
        html = render_note_page(note, BASE, variant)
        assert printed_lines(html) == corpus_lines(note), variant
        assert html == render_note_page(note, BASE, variant)  # deterministic
    assert render_note_page(note, BASE) == render_note_page(note, BASE, variant_for(note["url"]))


def test_variants_differ_in_the_markup_they_use():
    pages = [render_note_page(SEED, BASE, v) for v in range(VARIANT_COUNT)]
    body = [p[p.index('<div class="entry-content">'):p.index("<!-- .entry-content -->")] for p in pages]
    for needle in ('<div class="wp-block-paragraph">', "<ol", "&nbsp;", "<p></p>", "<p>&nbsp;</p>", "# # #",
                   'class="external-link__pdf"', "<strong>Begin Text:</strong>", "<em>Begin Text:</em>",
                   "<p>Begin Text:</p>", "<p>Washington, DC<br>February 6, 2019</p>",
                   "<p>Washington, DC</p>", "<p><strong>Washington, DC</strong><br>", "<p>1. We, the Ministers",
                   "<p>Washington, DC, February 6, 2019</p>", "<p>1) We, the Ministers", "<b>BEGIN TEXT:</b>",
                   "<blockquote>"):
        assert any(needle in b for b in body), needle
        assert not all(needle in b for b in body), needle
    bullets = next(n for n in NOTES if any(line.startswith("•") for line in n["body_lines"]))
    both = {("<ul>" in render_note_page(bullets, BASE, v)) for v in range(VARIANT_COUNT)}
    assert both == {True, False}
    with pytest.raises(ValueError):
        render_note_page(SEED, BASE, VARIANT_COUNT)


def test_ol_restarts_where_numbering_jumps_and_titles_are_escaped():
    note = dict(SEED, title="U.S. & Canada <Talks>", dateline_place=None, dateline_date=None,
                body_lines=["Intro.", "3. Third.", "4. Fourth.", "Aside.", "5. Fifth.", "7. Seventh."])
    ol = next(v for v, variant in enumerate(VARIANTS) if variant.numbered == "ol")
    html = render_note_page(note, BASE, ol)
    assert '<ol start="3">' in html and '<ol start="5">' in html and '<ol start="7">' in html
    assert printed_lines(html) == note["body_lines"]
    soup = BeautifulSoup(html, "lxml")
    assert "U.S. &amp; Canada &lt;Talks&gt;" in html
    assert soup.select_one("h1.featured-content__headline").get_text() == note["title"]
    assert soup.find("meta", property="og:title")["content"] == note["title"] + TITLE_SUFFIX


def test_sitemap_split_and_bounds():
    first, second = render_sitemap(NOTES, 1, BASE), render_sitemap(NOTES, 2, BASE)
    assert first.count("<url>") == 15 and second.count("<url>") == 7
    with pytest.raises(ValueError):
        render_sitemap(NOTES, 3, BASE)


# -- the server -----------------------------------------------------------------------------------

def test_robots(site, http):
    response = http.get(site.base_url + "/robots.txt")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/plain")
    assert response.text.splitlines()[:3] == ["User-agent: *", "Crawl-delay: 5", "Disallow:"]
    parser = urllib.robotparser.RobotFileParser()
    parser.parse(response.text.splitlines())
    assert parser.crawl_delay("statenotes") == 5
    assert parser.can_fetch("statenotes", site.base_url + SEED_PATH)
    assert parser.site_maps() == [site.base_url + "/sitemap_index.xml"]


def listing(http, url: str) -> BeautifulSoup:
    response = http.get(url)
    assert response.status_code == 200
    return BeautifulSoup(response.content, "lxml")


def test_listing_pages_newest_first_with_pagination(site, http):
    url, pages, items = site.base_url + "/press-releases/", 0, []
    while url:
        soup = listing(http, url)
        pages += 1
        assert soup.select_one("div.collection-info__total span.collection-info__number").get_text() == "22"
        page_items = soup.select("ul#col_json_result.collection-results > li.collection-result")
        assert len(page_items) == (10 if pages < 3 else 2)
        items += page_items
        nxt = soup.select_one("nav.pagination a.next")
        url = nxt["href"] if nxt else None
        assert (url is not None) == (pages < 3)
    dates = []
    for item in items:
        assert item.select_one("p.collection-result__date").get_text() == "Media Note"
        assert item.select_one("a.collection-result__link")["href"].startswith(site.base_url + "/")
        spans = item.select("div.collection-result-meta > span[dir=ltr]")
        dates.append(datetime.strptime(spans[-1].get_text(), "%B %d, %Y").date())
    assert dates == sorted(dates, reverse=True)
    assert {len(i.select("div.collection-result-meta > span")) for i in items} == {1, 2}  # some have a byline
    assert [i.select_one("a.collection-result__link").get_text() for i in items] == [n["title"] for n in NOTES]
    assert http.get(site.base_url + "/press-releases/page/4/").status_code == 404
    assert http.get(site.base_url + "/press-releases/?page=2").url == site.base_url + "/press-releases/?page=2"
    assert listing(http, site.base_url + "/press-releases/?page=2").select("li.collection-result")[0] == items[0]
    redirected = http.get(site.base_url + "/press-releases/page/1/")
    assert redirected.history[0].status_code == 301 and redirected.url == site.base_url + "/press-releases/"


def test_seed_page_has_the_markup_of_markup_md(site, http):
    response = http.get(site.base_url + SEED_PATH)
    assert response.status_code == 200 and len(response.content) > 30_000
    assert b'<meta charset="utf-8">' in response.content
    soup = BeautifulSoup(response.content, "lxml")
    assert "An official website of the United States government" in soup.select_one("section.usa-banner").get_text()
    assert soup.select_one("header nav#site-navigation") and soup.select_one("form[role=search] input[name=s]")
    assert soup.find("meta", property="og:title")["content"] == SEED["title"] + TITLE_SUFFIX
    assert soup.select_one("link[rel=canonical]")["href"] == site.base_url + SEED_PATH
    modified = soup.find("meta", property="article:modified_time")["content"]
    assert modified == soup.find("meta", property="og:updated_time")["content"] == modified_at(SEED).isoformat()
    article = soup.select_one("main article")
    assert article.select_one("div.featured-content__copy > h1.featured-content__headline.stars-above") \
        .get_text() == SEED["title"]
    meta = article.select_one("section div.article-meta")
    assert meta.select_one("p.article-meta.doctype-meta").get_text() == "Media Note"
    assert meta.select_one("p.article-meta__author-bureau > a").get_text() == "Office of the Spokesperson"
    assert meta.select_one("p.article-meta__publish-date").get_text() == "February 7, 2019"
    assert "</div><!-- .entry-content -->" in response.text
    text = norm(soup.select_one("main article div.entry-content").get_text(" "))
    assert "Washington, DC" in text and "February 6, 2019" in text
    for line in SEED["body_lines"][2:-1]:  # numbered paragraphs: the number may be an <ol>'s
        assert norm(line).split(" ", 1)[1] in text
    pills = {a.get_text(): a["href"] for a in soup.select("div.related-tags > div.related-tags__pills > a")}
    assert pills["Iraq"] == site.base_url + "/countries-areas/iraq/"
    assert "/bureaus-offices/" in pills["Office of the Spokesperson"]
    related = soup.select_one("section.related-content")
    assert "Related Articles" in related.get_text() and len(related.select("a")) == 3
    assert SEED["title"] not in related.get_text()
    assert soup.select_one("footer.usa-footer") and soup.select(".article-share a")


def test_every_note_reachable_from_listings_and_sitemaps(site, http):
    expected = {site.base_url + page_path(n): modified_at(n) for n in NOTES}
    listed, url = set(), site.base_url + "/press-releases/"
    while url:
        soup = listing(http, url)
        listed |= {a["href"] for a in soup.select("a.collection-result__link")}
        url = (soup.select_one("nav.pagination a.next") or {}).get("href")
    assert listed == set(expected)

    index = ET.fromstring(http.get(site.base_url + "/sitemap_index.xml").content)
    children = [loc.text for loc in index.findall("sm:sitemap/sm:loc", SM_NS)]
    assert children == [site.base_url + "/state_press_release-sitemap.xml",
                        site.base_url + "/state_press_release-sitemap2.xml"]
    lastmods = {}
    for child in children:
        for entry in ET.fromstring(http.get(child).content).findall("sm:url", SM_NS):
            lastmods[entry.find("sm:loc", SM_NS).text] = datetime.fromisoformat(entry.find("sm:lastmod", SM_NS).text)
    assert lastmods == expected
    for url, when in expected.items():
        response = http.get(url)
        assert response.status_code == 200
        assert parsedate_to_datetime(response.headers["Last-Modified"]) == when


def test_content_type_with_and_without_charset(site, http):
    paths = [page_path(n) for n in NOTES] + ["/press-releases/", "/press-releases/page/2/"]
    types = {http.get(site.base_url + p).headers["Content-Type"] for p in paths}
    assert types == {"text/html; charset=UTF-8", "text/html"}
    bare = next(p for p in paths if http.get(site.base_url + p).headers["Content-Type"] == "text/html")
    assert b'<meta charset="utf-8">' in http.get(site.base_url + bare).content


def test_conditional_get(site, http):
    url = site.base_url + SEED_PATH
    first = http.get(url)
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    for headers in ({"If-None-Match": etag}, {"If-None-Match": f'"other", W/{etag}'},
                    {"If-Modified-Since": last_modified}):
        again = http.get(url, headers=headers)
        assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == etag
    earlier = format_datetime(parsedate_to_datetime(last_modified) - timedelta(seconds=1), usegmt=True)
    assert http.get(url, headers={"If-Modified-Since": earlier}).status_code == 200
    assert http.get(url, headers={"If-None-Match": '"stale"', "If-Modified-Since": last_modified}).status_code == 200
    assert (("GET", SEED_PATH, 304) in site.requests) and site.requests.count(("GET", SEED_PATH, 200)) >= 3


def test_unknown_paths_get_the_404_page(site, http):
    response = http.get(site.base_url + "/no-such-release/")
    assert response.status_code == 404
    soup = BeautifulSoup(response.content, "lxml")
    assert soup.select_one("section.usa-banner") and not soup.select_one("div.entry-content")
    assert "Page Not Found" in soup.select_one("h1").get_text()
    moved = http.get(site.base_url + SEED_PATH.rstrip("/"))
    assert moved.history[0].status_code == 301 and moved.url == site.base_url + SEED_PATH


def test_serves_hundreds_of_requests_a_second_concurrently(site):
    urls = [site.base_url + page_path(n) for n in NOTES] * 10

    def fetch(chunk):
        with requests.Session() as session:
            return [session.get(u).status_code for u in chunk]

    started = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        statuses = [s for chunk in pool.map(fetch, [urls[i::4] for i in range(4)]) for s in chunk]
    assert statuses == [200] * len(urls)
    assert time.monotonic() - started < 2.0  # 220 pages


# -- faults ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_each_fault_kind_then_success(kind, http):
    with MirrorServer(faults=FaultPlan.always(kind, times=2, retry_after=3)) as server:
        url = server.base_url + SEED_PATH
        for _ in range(2):
            if kind == RESET:
                with pytest.raises(requests.ConnectionError):
                    http.get(url)
            elif kind == TRUNCATED:
                with pytest.raises(requests.exceptions.ChunkedEncodingError):
                    http.get(url)
            else:
                response = http.get(url)
                assert response.status_code == int(kind)
                assert response.headers.get("Retry-After") == ("3" if kind == RATE_LIMITED else None)
        good = http.get(url)
        assert good.status_code == 200 and SEED["body_lines"][0] in good.text
        assert http.get(server.base_url + "/robots.txt").status_code == 200  # not a faulted path
        assert http.get(server.base_url + "/sitemap_index.xml").status_code == 200
        statuses = [s for _, p, s in server.requests if p == SEED_PATH]
        assert statuses == [RECORDED_STATUS[kind]] * 2 + [200]
        assert server.faults.faults_served() == {SEED_PATH: 2}


def test_random_faults_stop_after_max_per_path(http):
    plan = FaultPlan(rate_429=0.25, rate_503=0.25, rate_reset=0.25, rate_truncate=0.25, retry_after=0,
                     max_faults_per_path=2, seed=7)
    with MirrorServer(faults=plan) as server:
        for note in NOTES:
            url, attempts = server.base_url + page_path(note), 0
            while True:
                attempts += 1
                try:
                    if http.get(url).status_code == 200:
                        break
                except requests.RequestException:
                    pass
            assert attempts == 3  # every request faults (rates sum to 1) until the cap
        served = plan.faults_served()
        assert set(served.values()) == {2} and len(served) == len(NOTES)
        assert {kind for _, kind in plan.history()} == set(FAULT_KINDS)
        assert {0, 429, 503} <= {s for _, _, s in server.requests}


def test_fault_plan_is_deterministic_and_validated():
    def decisions(plan):
        return [plan.decide(page_path(n)) for n in NOTES for _ in range(3)]

    make = lambda seed: FaultPlan(rate_429=0.2, rate_503=0.2, rate_reset=0.1, rate_truncate=0.1, seed=seed)  # noqa: E731
    assert decisions(make(1)) == decisions(make(1)) != decisions(make(2))
    assert set(decisions(make(1))) == {None, RATE_LIMITED, UNAVAILABLE, RESET, TRUNCATED}
    assert all(FaultPlan.none().decide(page_path(n)) is None for n in NOTES)
    listing_only = FaultPlan.always(UNAVAILABLE, paths=r"^/press-releases/")
    assert listing_only.decide(SEED_PATH) is None and listing_only.decide("/press-releases/page/2/") == UNAVAILABLE
    assert 0 < FaultPlan().truncate_at(SEED_PATH, 1000) < 1000
    for bad in (dict(rate_429=0.7, rate_503=0.7), dict(rate_reset=-0.1), dict(first_kind="teapot")):
        with pytest.raises(ValueError):
            FaultPlan(**bad)


# -- edits and lifecycle --------------------------------------------------------------------------

def test_update_note_changes_the_served_page(http):
    with MirrorServer() as server:
        url = server.base_url + SEED_PATH
        before = http.get(url)
        edited = dict(SEED, body_lines=SEED["body_lines"] + ["A correction was added."])
        server.update_note(SEED_PATH, edited)
        after = http.get(url, headers={"If-None-Match": before.headers["ETag"]})
        assert after.status_code == 200 and "A correction was added." in after.text
        assert parsedate_to_datetime(after.headers["Last-Modified"]) > parsedate_to_datetime(before.headers["Last-Modified"])
        stamp = next(n for n in server.notes if page_path(n) == SEED_PATH)["modified_at"]
        assert datetime.fromisoformat(stamp) > datetime.now(timezone.utc) - timedelta(minutes=1)
        assert stamp in http.get(server.base_url + "/state_press_release-sitemap2.xml").text

        new = dict(SEED, url="https://www.state.gov/a-brand-new-note/", title="A Brand New Note",
                   published_date=date.today().isoformat())
        server.update_note("/a-brand-new-note/", new)
        soup = listing(http, server.base_url + "/press-releases/")
        assert soup.select_one("span.collection-info__number").get_text() == "23"
        assert soup.select_one("a.collection-result__link").get_text() == "A Brand New Note"
        with pytest.raises(ValueError):
            server.update_note("/elsewhere/", new)


def test_stop_releases_the_port_and_leaves_no_thread():
    before = set(threading.enumerate())
    server = MirrorServer().start()
    port = server.port
    session = requests.Session()  # keeps its connection open: stop must close it
    assert session.get(server.base_url + SEED_PATH).status_code == 200
    server.stop()
    server.stop()  # idempotent
    session.close()
    started = [t for t in set(threading.enumerate()) - before if t.name.startswith("statenotes-mirror")]
    assert started == []
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/robots.txt", timeout=2)
