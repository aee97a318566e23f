"""The HTML report as a reader sees it: opened in headless Chromium (Playwright driving the
system's /usr/bin/chromium), over a warehouse built from the mirror with one hostile note title."""

from __future__ import annotations

import copy
import os
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from statenotes.flows.parameters import BackfillRequest
from statenotes.flows.pipeline import backfill
from statenotes.flows.report import month_range, safe_href, write_report
from statenotes.flows.settings import load_settings, run_with
from statenotes.mirror.server import MirrorServer
from statenotes.mirror.site import load_sample_notes

pytestmark = pytest.mark.usefixtures("prefect_harness")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
WINDOW = BackfillRequest(start=date(2000, 1, 1), end=datetime.now(UTC).date())
# A title from the web trying script in text and in an attribute: the page must show it, never run it.
HOSTILE = ('Belize <script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> '
           '"><svg onload="window.__pwned = 3">')


@pytest.fixture(scope="module")
def hostile_warehouse(tmp_path_factory) -> Path:
    notes = copy.deepcopy(load_sample_notes())
    target = next(n for n in notes if "Belize" in n["title"])
    target["title"] = HOSTILE + " " + target["title"]
    data_dir = tmp_path_factory.mktemp("report-browser")
    with MirrorServer(notes=notes) as site:
        settings = load_settings(base_url=site.base_url, data_dir=data_dir, crawl_delay_s=0.0, requests_per_minute=0)
        run_with(settings, backfill, WINDOW)
    return data_dir


@pytest.fixture(scope="module")
def page(hostile_warehouse, tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium: install Debian's chromium (apt-get install chromium) for the browser test")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (dev group) is not installed")
    report = write_report(hostile_warehouse / "statenotes.duckdb", tmp_path_factory.mktemp("report") / "report.html")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page(viewport={"width": 1100, "height": 900})
            tab.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                      else route.abort())  # the page is offline: anything it fetches fails loudly
            tab.goto(report.as_uri())
            shot = os.environ.get("REPORT_SCREENSHOT")
            if shot:
                tab.screenshot(path=shot, full_page=True)
            yield tab
        finally:
            browser.close()


def db(warehouse: Path):
    return duckdb.connect(str(warehouse / "statenotes.duckdb"), read_only=True)


def test_a_hostile_title_is_shown_as_text_and_runs_nothing(page):
    assert page.evaluate("window.__pwned") is None
    assert page.locator("script").count() == 0 and page.locator("img").count() == 0
    assert page.get_by_text("<script>window.__pwned = 1</script>", exact=False).count() >= 1


def test_the_heatmap_has_a_cell_for_every_month_between_first_and_last(page, hostile_warehouse):
    with db(hostile_warehouse) as con:
        first, last = con.execute("select min(published_date), max(published_date) from notes_latest").fetchone()
        busy = {m.strftime("%Y-%m") for (m,) in con.execute(
            "select distinct date_trunc('month', published_date) from notes_latest").fetchall()}
    expected = [m.strftime("%Y-%m") for m in month_range(first, last)]
    assert len(expected) > len(busy)  # the mirror has empty months: they must still be drawn
    rows = page.locator("#actors-heatmap tr:has(td.cell)")
    assert rows.count() > 0
    for i in range(rows.count()):
        months = rows.nth(i).locator("td.cell").evaluate_all("cells => cells.map(c => c.dataset.month)")
        assert months == expected
    width = rows.first.locator("td.cell").evaluate_all("cells => cells.map(c => c.getBoundingClientRect().width)")
    assert min(width) > 0  # rendered, not collapsed away


def test_one_colour_scale_with_a_visible_legend(page):
    legend = page.locator("#heatmap-legend")
    assert legend.is_visible()
    cells = page.locator("#actors-heatmap td.cell").evaluate_all(
        "cells => cells.map(c => [Number(c.dataset.count), getComputedStyle(c).backgroundColor])")
    peak = max(count for count, _ in cells)
    assert str(peak) in legend.inner_text()
    # One scale: equal counts get equal colours in every row, and more notes are never lighter.
    colour_of: dict[int, set[str]] = {}
    for count, colour in cells:
        colour_of.setdefault(count, set()).add(colour)
    assert all(len(c) == 1 for c in colour_of.values()), colour_of
    alpha = {n: float(next(iter(c)).rstrip(")").split(",")[-1]) if "rgba" in next(iter(c)) else
             (0.0 if next(iter(c)) == "rgba(0, 0, 0, 0)" else 1.0) for n, c in colour_of.items()}
    counts = sorted(alpha)
    assert all(alpha[a] < alpha[b] for a, b in zip(counts, counts[1:]))


def test_bars_show_their_number_beside_them(page):
    rows = page.locator("#co-mentions tr:has(td)")
    assert rows.count() > 0
    for i in range(rows.count()):
        cell = rows.nth(i).locator("td:has(.hbar)")
        bar, number = cell.locator(".hbar").bounding_box(), cell.locator(".count").bounding_box()
        assert bar["x"] + bar["width"] <= number["x"] + 1 and abs(bar["y"] - number["y"]) < 12
        assert int(cell.locator(".count").inner_text()) > 0
    assert page.locator("#co-mentions th").all_inner_texts().count("notes together") == 1
    labels = page.locator("#notes-per-month text.value").all_text_contents()  # SVG text
    peak = max(int(c) for c in page.locator("#notes-per-month rect.bar").evaluate_all(
        "bars => bars.map(b => b.dataset.count)"))
    assert str(peak) in labels


def test_the_publishing_side_is_set_aside_by_default(page, hostile_warehouse):
    with db(hostile_warehouse) as con:
        side = {r[0] for r in con.execute("select name from publishing_side").fetchall()}
        top_side = con.execute("select name from mentions_latest where publishing_side group by name "
                               "order by count(distinct note_id) desc limit 1").fetchone()[0]
    names = set(page.locator("#actors-heatmap td.name").all_inner_texts())
    assert names and not names & side
    aside = page.locator("#set-aside")
    assert aside.is_visible() and top_side in aside.inner_text()


def test_each_heatmap_row_links_to_its_notes(page, hostile_warehouse):
    rows = page.locator("#actors-heatmap td.name a")
    with db(hostile_warehouse) as con:
        for i in range(rows.count()):
            link = rows.nth(i)
            anchor = link.get_attribute("href")
            target = page.locator(anchor)
            assert target.count() == 1 and target.inner_text().startswith(link.inner_text())
            hrefs = target.locator("xpath=following-sibling::ul[1]/li/a").evaluate_all("as => as.map(a => a.href)")
            urls = {r[0] for r in con.execute(
                "select distinct url from mentions_latest where name = ?", [link.inner_text()]).fetchall()}
            assert hrefs and set(hrefs) <= urls


def test_trips_and_run_health_sections(page, hostile_warehouse):
    with db(hostile_warehouse) as con:
        travels = con.execute("select count(*) from (select distinct note_id, traveller_id, destination_iso3 "
                              "from travels)").fetchone()[0]
        runs = con.execute("select count(*), sum(json_extract(counts, '$.quarantined')::int) from runs").fetchone()
    trips = page.locator("#trips tr:has(td)")
    assert trips.count() == min(travels, 200) > 0
    dates = trips.locator("td:first-child").all_inner_texts()
    assert dates == sorted(dates)
    health = page.locator("#run-health tr:has(td)")
    assert health.count() == runs[0]
    assert sum(int(t) for t in health.locator("td.quarantined").all_inner_texts()) == runs[1]
    assert "wordpress" in health.first.inner_text()


@pytest.mark.parametrize("url, expected", [
    ("https://www.state.gov/a/", "https://www.state.gov/a/"),
    ("http://127.0.0.1:1/x?a=1&b=\"2\"", "http://127.0.0.1:1/x?a=1&amp;b=&quot;2&quot;"),
    ("javascript:alert(1)", None), (" JavaScript:alert(1)", None), ("data:text/html,<b>", None),
    ("//evil.example/x", None), ("/relative", None), ("http://", None), (None, None),
])
def test_only_http_links_are_made_and_they_are_escaped(url, expected):
    assert safe_href(url) == expected
