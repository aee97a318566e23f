"""A run either loads correct notes or fails loudly with the reason (issue 11): behind a bot wall (a
200 "Technical Difficulties" page, or 403) a backfill exits non-zero with one line, loads nothing,
its Prefect run is Failed with that line, and the nightly watermark stays; a half-broken site
commits the good pages and completes; a page whose markup is broken is read from its REST item;
a jump in fallback layouts is flagged. End to end: the mirror on 127.0.0.1, embedded Prefect,
Parquet and DuckDB."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from urllib.parse import parse_qs, urlsplit

import duckdb
import pytest
from typer.testing import CliRunner

from statenotes.flows.cli import app
from statenotes.flows.health import RunFailed, fallback_jump, quarantine_failure
from statenotes.flows.parameters import BackfillRequest
from statenotes.flows.pipeline import backfill, nightly, nightly_window
from statenotes.flows.settings import load_settings, run_with
from statenotes.mirror import faults as kinds
from statenotes.mirror.faults import FOREVER, FaultPlan, exactly
from statenotes.mirror.server import MirrorServer
from statenotes.mirror.site import load_sample_notes
from statenotes.warehouse.lake import Lake
from statenotes.warehouse.records import RUN_FAILED, RUN_SUCCESS

TODAY = datetime.now(UTC).date()
EVERYTHING = BackfillRequest(start=date(2000, 1, 1), end=TODAY)
SEED_PATH = "/statement-by-ministers-of-the-global-coalition-to-defeat-isis-daesh/"
NOTES = len(load_sample_notes())
LINE = {kinds.BOT_WALL: f"{NOTES} of {NOTES} pages quarantined (bot wall: 'Technical Difficulties' page): "
                        "see `statenotes quarantine`",
        kinds.FORBIDDEN: f"{NOTES} of {NOTES} pages quarantined (bot wall: HTTP 403 Forbidden): "
                         "see `statenotes quarantine`"}


def settings_for(site: MirrorServer, data_dir, **changes):
    return load_settings(base_url=site.base_url, data_dir=data_dir, crawl_delay_s=0.0, requests_per_minute=0,
                         backoff_factor_s=0.01, max_retries=0, **changes)


def walled(site: MirrorServer, kind: str) -> FaultPlan:
    return FaultPlan.always(kind, times=FOREVER, paths=exactly(site.note_paths))


def query(db_path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def latest_flow_run(name: str):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName
    from prefect.client.schemas.sorting import FlowRunSort

    with get_client(sync_client=True) as client:
        return client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=[name])),
                                     sort=FlowRunSort.EXPECTED_START_TIME_DESC, limit=1)[0]


@pytest.fixture
def cli_env(monkeypatch, tmp_path):
    monkeypatch.setenv("STATENOTES_REQUESTS_PER_MINUTE", "0")
    monkeypatch.setenv("STATENOTES_MAX_RETRIES", "0")
    monkeypatch.setenv("STATENOTES_DATA_DIR", str(tmp_path))
    return tmp_path


@pytest.mark.usefixtures("prefect_harness")
@pytest.mark.parametrize("kind", [kinds.BOT_WALL, kinds.FORBIDDEN])
def test_a_bot_wall_fails_the_backfill_with_one_line_loads_nothing_and_the_nightly_retries(cli_env, kind):
    data_dir = cli_env
    with MirrorServer() as site:
        site.faults = walled(site, kind)
        result = CliRunner().invoke(app, ["backfill", "--start", "2000-01-01", "--end", TODAY.isoformat(),
                                          "--base-url", site.base_url, "--crawl-delay", "0"])
        flow_run = latest_flow_run("backfill")
        settings = settings_for(site, data_dir)
        # the nightly fails the same way (it retries the 22 quarantined pages), and moves nothing
        still_walled = CliRunner().invoke(app, ["run", "--base-url", site.base_url, "--crawl-delay", "0"])
        site.faults = FaultPlan.none()
        site.clear_requests()
        retried = run_with(settings, nightly)
        asked = {path for _, path, status in site.requests if status == 200}

    assert result.exit_code == 1, result.output
    assert f"error: {LINE[kind]}" in result.output.splitlines()  # one line, however narrow the terminal
    assert "Traceback" not in result.output
    assert flow_run.state.is_failed() and flow_run.state.message == LINE[kind]
    assert still_walled.exit_code == 1 and f"error: {LINE[kind]}" in still_walled.output.splitlines()
    # the failed runs are recorded as such; neither moved the nightly watermark
    runs = query(data_dir / "statenotes.duckdb", "select flow, status, counts from runs order by started_at")
    assert [(flow, status) for flow, status, _ in runs] == [
        ("backfill", RUN_FAILED), ("nightly", RUN_FAILED), ("nightly", RUN_SUCCESS)]
    assert json.loads(runs[0][2])["failure"] == LINE[kind] and json.loads(runs[0][2])["new"] == 0
    # the next nightly (its window lists none of the old notes) retried every quarantined page
    assert set(site.note_paths) <= asked
    assert (retried.new, retried.quarantined) == (NOTES, [])
    assert query(data_dir / "statenotes.duckdb", "select count(*) from quarantine") == [(0,)]


@pytest.mark.usefixtures("prefect_harness")
def test_a_failed_backfill_loads_nothing_and_leaves_the_quarantine_to_show(tmp_path):
    with MirrorServer() as site:
        site.faults = walled(site, kinds.BOT_WALL)
        settings = settings_for(site, tmp_path)
        with pytest.raises(RunFailed) as failed:
            run_with(settings, backfill, EVERYTHING)
        state = run_with(settings, backfill, EVERYTHING, return_state=True)
    summary = failed.value.summary
    assert (summary.new, summary.updated, len(summary.quarantined)) == (0, 0, NOTES)
    assert state.is_failed() and state.message == LINE[kinds.BOT_WALL] and "\n" not in state.message
    assert query(settings.db_path, "select count(*) from notes") == [(0,)]
    reasons = query(settings.db_path, "select distinct stage, reason from quarantine")
    assert reasons == [("parse", "bot wall: 'Technical Difficulties' page")]
    lake = Lake(settings.lake_dir)
    assert lake.last_successful_run() is None
    assert nightly_window(lake, TODAY, settings.lookback_days, settings.overlap_days)[0] < TODAY


@pytest.mark.usefixtures("prefect_harness")
def test_a_half_broken_site_commits_the_good_pages_and_completes(tmp_path):
    broken = {urlsplit(note["url"]).path: kind for note, kind in
              zip(load_sample_notes()[:5], ["no_body", "empty_body", "soft404", "botwall", "unknown_layout"])}
    with MirrorServer(bad_pages=broken) as site:
        settings = settings_for(site, tmp_path, rest_fallback=False)
        summary = run_with(settings, backfill, EVERYTHING)
    assert summary.new == NOTES - len(broken) and not summary.failure
    assert sorted(urlsplit(url).path for url, _, _ in summary.quarantined) == sorted(broken)
    assert summary.layouts == {"wordpress": NOTES - len(broken)} and summary.sources == {"page": NOTES - len(broken)}
    runs = query(settings.db_path, "select status, counts from runs")
    assert [status for status, _ in runs] == [RUN_SUCCESS]
    assert json.loads(runs[0][1])["layouts"] == {"wordpress": NOTES - len(broken)}
    from_pages = query(settings.db_path, "select count(*) from notes where content_source = 'page'")
    assert from_pages == [(NOTES - len(broken),)]


@pytest.mark.usefixtures("prefect_harness")
@pytest.mark.parametrize("rest_fallback", [True, False])
def test_the_rest_fallback_recovers_a_page_whose_markup_is_broken(tmp_path, seed_gold, rest_fallback):
    from statenotes.flows.pipeline import reprocess

    with MirrorServer(bad_pages={SEED_PATH: "no_body"}) as site:
        settings = settings_for(site, tmp_path, rest_fallback=rest_fallback)
        summary = run_with(settings, backfill, EVERYTHING)
        rest_asks = [path for _, path, _ in site.requests if path.startswith("/wp-json/")]
        site.clear_requests()
        again = run_with(settings, reprocess)
        assert site.requests == []
    seed = query(settings.db_path, f"""select n.layout, n.content_source, list(p.text order by p.seq)
                                       from notes n join paragraphs p using (note_id, version)
                                       where n.url like '%{SEED_PATH}' group by all""")
    if not rest_fallback:
        assert seed == [] and rest_asks == []
        assert [(urlsplit(u).path, r) for u, _, r in summary.quarantined] == [
            (SEED_PATH, "no release body (div.entry-content missing)")]
        return
    assert (summary.new, summary.quarantined) == (NOTES, [])
    assert summary.sources == {"page": NOTES - 1, "rest": 1} and summary.layouts["wp-json"] == 1
    [(layout, source, paragraphs)] = seed
    assert (layout, source) == ("wp-json", "rest")
    assert paragraphs == [p["text"] for p in seed_gold["paragraphs"]]
    # one request, to the configured site's API, for the page's slug
    assert len(rest_asks) == 1 and parse_qs(urlsplit(rest_asks[0]).query)["slug"] == [SEED_PATH.strip("/")]
    # reprocess reads the archived REST item back: nothing changes, nothing is quarantined
    assert (again.new, again.updated, again.quarantined) == (0, 0, [])


@pytest.mark.usefixtures("prefect_harness")
def test_a_jump_in_fallback_layouts_is_flagged_in_the_artifact_and_the_runs_row(tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from statenotes.flows.markup import escape_markdown

    with MirrorServer() as site:
        first = run_with(settings_for(site, tmp_path), backfill, EVERYTHING)
    with MirrorServer(redesign="semantic") as site:  # the same notes, in a markup only the generic fallback reads
        settings = settings_for(site, tmp_path)
        second = run_with(settings, backfill, EVERYTHING)
    generic = sum(n for layout, n in second.layouts.items() if layout.startswith("generic"))
    assert first.fallback_warning == "" and first.layouts == {"wordpress": NOTES}
    assert generic > NOTES / 2 and second.fallback_warning.startswith(f"{generic / NOTES:.0%} of the run's notes")
    counts = json.loads(query(settings.db_path, "select counts from runs order by started_at desc limit 1")[0][0])
    assert counts["fallback_warning"] == second.fallback_warning
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["backfill-run-summary"])))
    assert any(escape_markdown(second.fallback_warning) in (artifact.data or "") for artifact in found)


# -- the rules, as pure functions ------------------------------------------------------------------

def quarantined(n: int, reason: str = "bot wall: 'Technical Difficulties' page") -> list[tuple[str, str, str]]:
    return [(f"https://www.state.gov/n{i}/", "parse", reason) for i in range(n)]


@pytest.mark.parametrize("attempted,count,fails", [(22, 11, False), (22, 12, True), (4, 4, False), (5, 5, True),
                                                   (0, 0, False)])
def test_a_run_fails_past_the_share_once_it_attempted_enough_pages(attempted, count, fails):
    assert (quarantine_failure(attempted, quarantined(count), 0.5, 5) is not None) == fails


def test_the_message_names_the_dominant_reason_and_the_rest():
    mixed = quarantined(7) + quarantined(2, "HTTP 503") + [("https://www.state.gov/x/", "fetch", "HTTP 403")] * 3
    assert quarantine_failure(12, mixed, 0.5, 5) == (
        "12 of 12 pages quarantined (7 bot wall: 'Technical Difficulties' page; 5 other): see `statenotes quarantine`")
    assert quarantine_failure(6, [("u", "fetch", "HTTP 403")] * 6, 0.5, 5) == (
        "6 of 6 pages quarantined (bot wall: HTTP 403 Forbidden): see `statenotes quarantine`")


def test_a_fallback_share_is_flagged_only_when_it_jumps():
    assert fallback_jump({"wordpress": 20}, [], 0.25, 5) is None
    assert fallback_jump({"generic": 3}, [], 0.25, 5) is None  # too few notes to judge
    assert fallback_jump({"generic": 6, "wordpress": 14}, [{"wordpress": 30}], 0.25, 5) is not None
    assert fallback_jump({"generic": 6, "wordpress": 14}, [{"generic": 10, "wordpress": 30}], 0.25, 5) is None
    assert fallback_jump({"wp-json": 20}, [{"wordpress": 30}], 0.25, 5) is None  # the REST API is a known layout


# -- the REST item of a page: asked of the configured site only ------------------------------------

@pytest.mark.parametrize("page_url,expected_slug", [
    ("https://www.state.gov/us-rok-economic-talks/", "us-rok-economic-talks"),
    ("https://www.state.gov/us-rok-economic-talks", "us-rok-economic-talks"),
    ("https://evil.example/us-rok-economic-talks/", None),  # another host: never asked
    ("http://www.state.gov/us-rok-economic-talks/", None),  # another scheme
    ("https://www.state.gov/releases/office/2025/01/some-note/", None),  # not a page directly on the site
    ("https://www.state.gov/a-note/?p=1", None),
    ("https://www.state.gov/", None),
])
def test_the_rest_item_query_is_built_from_the_configured_site(page_url, expected_slug):
    from statenotes.extractors.rest import item_query_for_page

    query = item_query_for_page("https://www.state.gov", page_url)
    if expected_slug is None:
        assert query is None
        return
    parts = urlsplit(query)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "www.state.gov", "/wp-json/wp/v2/state_press_release")
    assert parse_qs(parts.query)["slug"] == [expected_slug]


def test_only_the_item_linking_to_the_page_is_taken():
    from statenotes.extractors.rest import item_for_page

    page = "https://www.state.gov/a-note/"
    ours = {"link": "https://www.state.gov/a-note/", "id": 1}
    assert item_for_page([{"link": "https://www.state.gov/another-note/"}, ours], page) == ours
    assert item_for_page([{"link": "https://www.state.gov/another-note/"}], page) is None
    assert item_for_page([ours, {**ours, "id": 2}], page) is None  # ambiguous: no guess


@pytest.mark.usefixtures("prefect_harness")
def test_notes_files_written_before_content_source_still_load(tmp_path):
    import pyarrow.parquet as pq

    with MirrorServer() as site:
        settings = settings_for(site, tmp_path)
        run_with(settings, backfill, EVERYTHING)
        for old in (settings.lake_dir / "notes").rglob("*.parquet"):  # as an older version wrote them
            pq.write_table(pq.read_table(old).drop_columns(["content_source"]), old)
        seed = next(n for n in site.notes if n["url"].endswith(SEED_PATH))
        site.update_note(SEED_PATH, {**seed, "title": seed["title"] + " (edited)"})  # its partition is rewritten
        again = run_with(settings, backfill, EVERYTHING)
    assert (again.new, again.updated, again.unchanged) == (0, 1, NOTES - 1)
    rows = query(settings.db_path, "select url, version, content_source from notes order by url, version")
    assert len(rows) == NOTES + 1
    assert [(version, source) for url, version, source in rows if url.endswith(SEED_PATH)] == [(1, None), (2, "page")]
    assert {source for url, _, source in rows if not url.endswith(SEED_PATH)} == {None}


@pytest.mark.parametrize("stage,reason,kind,from_rest", [
    ("parse", "bot wall: 'Technical Difficulties' page", "bot wall", False),
    ("fetch", "HTTP 403", "bot wall", False),
    ("fetch", "blocked (HTTP 403); Wayback Machine copy unavailable: HTTP 404", "bot wall", False),
    ("parse", "page not found (404 page served with 200)", "not found", False),
    ("fetch", "HTTP 404", "not found", False),
    ("fetch", "HTTP 503", "fetch", False),
    ("fetch", "timed out: no answer within 30 s, 6 tries", "fetch", False),
    ("parse", "unknown layout: no release title", "markup", True),
    ("parse", "no release body (div.entry-content missing)", "markup", True),
    ("parse", "truncated page (no </html>)", "markup", True),
])
def test_quarantine_reasons_say_whether_another_source_may_hold_the_release(stage, reason, kind, from_rest):
    from statenotes.extractors.reasons import content_may_come_from_elsewhere, reason_class

    assert reason_class(reason, stage) == kind
    assert content_may_come_from_elsewhere(reason, stage) == from_rest
