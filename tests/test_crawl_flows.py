"""The crawler's promises at the level of the flows, against the mirror: the Wayback fallback,
conditional GET on a second run, REST bodies used as they come, quarantine retried, a quiet nightly."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from urllib.parse import urlsplit

import duckdb
import pytest

from statenotes.flows.parameters import BackfillRequest
from statenotes.flows.pipeline import backfill
from statenotes.flows.settings import load_settings
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
        summary = backfill(EVERYTHING, settings=settings)
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
        first = backfill(EVERYTHING, settings=settings)
        before = table_contents(settings.db_path)
        site.clear_requests()
        second = backfill(EVERYTHING, settings=settings)
        served = site.requests
    paths = note_paths(settings.db_path)
    asked = [(path, status) for _, path, status in served if path in paths]
    assert len(paths) == len(load_sample_notes()) == first.new
    assert sorted(p for p, _ in asked) == sorted(paths) and {s for _, s in asked} == {304}
    assert (second.new, second.updated, second.unchanged, second.quarantined) == (0, 0, first.new, [])
    assert table_contents(settings.db_path) == before
