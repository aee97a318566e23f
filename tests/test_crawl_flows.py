"""The crawler's promises at the level of the flows, against the mirror: the Wayback fallback,
conditional GET on a second run, REST bodies used as they come, quarantine retried, a quiet nightly."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, date, datetime
from urllib.parse import urlsplit

import duckdb
import pytest

from statenotes.flows.parameters import BackfillRequest
from statenotes.flows.pipeline import backfill, nightly
from statenotes.flows.settings import load_settings, run_with
from statenotes.mirror import faults as kinds
from statenotes.mirror.faults import FaultPlan
from statenotes.mirror.server import MirrorServer
from statenotes.mirror.site import load_sample_notes

pytestmark = pytest.mark.usefixtures("prefect_harness")

EVERYTHING = BackfillRequest(start=date(2000, 1, 1), end=datetime.now(UTC).date())
SEED_PATH = "/statement-by-ministers-of-the-global-coalition-to-defeat-isis-daesh/"
CONTENT_TABLES = ("notes", "paragraphs", "mentions", "actors", "quarantine")


def settings_for(site: MirrorServer, data_dir, **changes):
    return load_settings(base_url=site.base_url, data_dir=data_dir, crawl_delay_s=0.0, requests_per_minute=0,
                         backoff_factor_s=0.01, max_retry_after_s=1.0, **changes)


def table_contents(db_path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return {t: con.execute(f"select * exclude (run_id) from {t} order by all").fetchall()
                if t == "notes" else con.execute(f"select * from {t} order by all").fetchall()
                for t in CONTENT_TABLES}


def seed_title(db_path) -> list[tuple]:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute("select title, raw_sha256 from notes_latest where url like ?",
                           [f"%{SEED_PATH}"]).fetchall()


@pytest.mark.parametrize("fallback", [False, True])
def test_a_backfill_with_the_wayback_fallback_loads_a_bot_walled_note(tmp_path, fallback):
    walled = FaultPlan.always(kinds.BOT_WALL, times=1000, paths=f"^{re.escape(SEED_PATH)}$")
    with MirrorServer(faults=walled) as site:
        settings = settings_for(site, tmp_path, wayback_fallback=fallback, wayback_base=site.base_url)
        summary = run_with(settings, backfill, EVERYTHING)
        archive_asks = [p for _, p, _ in site.requests if p.startswith("/web/")]
    loaded = seed_title(settings.db_path)
    if fallback:
        assert [title for title, _ in loaded] == ["Statement by Ministers of the Global Coalition To Defeat ISIS/DAESH"]
        assert summary.new == len(load_sample_notes()) and summary.quarantined == []
        assert len(archive_asks) >= 1 and all(SEED_PATH in p for p in archive_asks)
    else:
        assert loaded == [] and archive_asks == []
        assert [(url.endswith(SEED_PATH), stage) for url, stage, _ in summary.quarantined] == [(True, "parse")]


def note_paths(db_path) -> set[str]:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return {urlsplit(url).path for (url,) in con.execute("select distinct url from notes").fetchall()}


def test_a_second_backfill_gets_304s_and_changes_nothing(tmp_path):
    with MirrorServer() as site:
        settings = settings_for(site, tmp_path)
        first = run_with(settings, backfill, EVERYTHING)
        before = table_contents(settings.db_path)
        site.clear_requests()
        second = run_with(settings, backfill, EVERYTHING)
        served = site.requests
    paths = note_paths(settings.db_path)
    asked = [(path, status) for _, path, status in served if path in paths]
    assert len(paths) == len(load_sample_notes()) == first.new
    assert sorted(p for p, _ in asked) == sorted(paths) and {s for _, s in asked} == {304}
    assert (second.new, second.updated, second.unchanged, second.quarantined) == (0, 0, first.new, [])
    assert table_contents(settings.db_path) == before


def paragraphs_by_url(db_path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(db_path), read_only=True) as con:
        rows = con.execute("""select n.url, p.seq, p.label, p.kind, p.text from notes_latest n
                              join paragraphs p using (note_id, version) order by n.url, p.seq""").fetchall()
    found: dict[str, list[tuple]] = {}
    for url, *paragraph in rows:
        found.setdefault(urlsplit(url).path, []).append(tuple(paragraph))
    return found


def test_a_rest_backfill_uses_the_items_and_loads_what_the_listing_loads(tmp_path):
    with MirrorServer() as site:
        by_listing = run_with(settings_for(site, tmp_path / "listing"), backfill, EVERYTHING)
        site.clear_requests()
        rest = settings_for(site, tmp_path / "rest")
        by_rest = run_with(rest, backfill,
                           BackfillRequest(start=EVERYTHING.start, end=EVERYTHING.end, discovery="rest"))
        served = site.requests
    notes = len(load_sample_notes())
    assert (by_rest.new, by_rest.quarantined) == (notes, []) and by_listing.new == notes
    # robots.txt, one REST page, and the listing pages walked for the release types (20 a page):
    # about 0.1 a note at scale, here 6 / 22.
    assert by_rest.requests == len(served) and by_rest.requests / notes <= 0.3
    assert len([p for _, p, _ in served if p.startswith("/wp-json/")]) == 1
    assert not [p for _, p, _ in served if p in note_paths(rest.db_path)]  # no note page fetched
    assert paragraphs_by_url(rest.db_path) == paragraphs_by_url(tmp_path / "listing" / "statenotes.duckdb")


def test_a_note_read_by_rest_after_its_page_is_not_a_new_version(tmp_path):
    with MirrorServer() as site:
        settings = settings_for(site, tmp_path)
        run_with(settings, backfill, EVERYTHING)
        before = table_contents(settings.db_path)
        again = run_with(settings, backfill,
                         BackfillRequest(start=EVERYTHING.start, end=EVERYTHING.end, discovery="rest"))
    assert (again.new, again.updated, again.unchanged) == (0, 0, len(load_sample_notes()))
    assert table_contents(settings.db_path) == before


def test_reprocess_rereads_rest_items_and_quarantines_a_bad_one(tmp_path, monkeypatch):
    from statenotes.flows import pages
    from statenotes.flows.pipeline import reprocess

    with MirrorServer() as site:
        settings = settings_for(site, tmp_path)
        run_with(settings, backfill, BackfillRequest(start=EVERYTHING.start, end=EVERYTHING.end, discovery="rest"))
        before = table_contents(settings.db_path)
        site.clear_requests()
        real = pages.parse_fetched

        def seed_fails(body, url, content_type=None):
            if url.endswith(SEED_PATH):
                raise pages.ParseError("no body", url)
            return real(body, url, content_type)

        monkeypatch.setattr(pages, "parse_fetched", seed_fails)
        broken = run_with(settings, reprocess)
        monkeypatch.setattr(pages, "parse_fetched", real)
        fixed = run_with(settings, reprocess)
        assert site.requests == []
    assert broken.discovered == len(load_sample_notes())
    assert [(url.endswith(SEED_PATH), stage) for url, stage, _ in broken.quarantined] == [(True, "parse")]
    assert fixed.quarantined == [] and table_contents(settings.db_path) == before


def quarantine_cli(data_dir) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from statenotes.flows.cli import app; app()", "quarantine",
                           "--json", "--data-dir", str(data_dir)], capture_output=True, text=True, timeout=120)


def test_quarantined_pages_are_listed_and_retried_by_the_next_nightly(tmp_path):
    blocked = FaultPlan.always(kinds.FORBIDDEN, times=1000, paths=f"^{re.escape(SEED_PATH)}$")
    with MirrorServer(faults=blocked) as site:
        settings = settings_for(site, tmp_path, max_retries=0)
        run_with(settings, backfill, EVERYTHING)
        listed = quarantine_cli(tmp_path)
        site.faults = FaultPlan.none()
        site.clear_requests()
        retried = run_with(settings, nightly)  # its window (the last 14 days) lists none of the notes
        asked = [(p, s) for _, p, s in site.requests if p == SEED_PATH]
        after = quarantine_cli(tmp_path)
    rows = json.loads(listed.stdout)
    assert [(r["url"].endswith(SEED_PATH), r["stage"], r["reason"], r["attempts"]) for r in rows] == [
        (True, "fetch", "HTTP 403", 1)] and rows[0]["last_seen"]
    assert asked == [(SEED_PATH, 200)] and (retried.new, retried.quarantined) == (1, [])
    assert len(seed_title(settings.db_path)) == 1
    assert after.returncode == 0 and json.loads(after.stdout) == []


def lake_files(lake_dir, tables=("notes", "paragraphs", "mentions", "actors", "quarantine")) -> dict:
    return {str(p.relative_to(lake_dir)): (p.stat().st_mtime_ns, p.read_bytes())
            for table in tables for p in sorted((lake_dir / table).rglob("*.parquet"))}


def test_a_nightly_that_finds_nothing_new_asks_little_and_rewrites_nothing(tmp_path):
    with MirrorServer() as site:
        settings = settings_for(site, tmp_path)
        run_with(settings, backfill, EVERYTHING)
        before, contents = lake_files(settings.lake_dir), table_contents(settings.db_path)
        site.clear_requests()
        quiet = run_with(settings, nightly)
        served = site.requests
    assert len(served) == quiet.requests <= 5, served
    assert (quiet.new, quiet.updated, quiet.quarantined) == (0, 0, [])
    assert before and lake_files(settings.lake_dir) == before
    assert table_contents(settings.db_path) == contents
    with duckdb.connect(str(settings.db_path), read_only=True) as con:  # republished: the run is recorded
        assert con.execute("select flow from runs order by started_at").fetchall() == [("backfill",), ("nightly",)]
