"""The whole pipeline through real sockets, real Prefect, real Parquet files and a real DuckDB file."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import duckdb
import pytest

from statenotes.flows.parameters import BackfillRequest
from statenotes.flows.pipeline import backfill
from statenotes.flows.settings import load_settings, run_with
from statenotes.mirror.faults import FaultPlan
from statenotes.mirror.server import MirrorServer
from statenotes.mirror.site import load_sample_notes

pytestmark = pytest.mark.usefixtures("prefect_harness")

MARKER = re.compile(r"^(begin|end)\s+text\s*[:.]?$", re.IGNORECASE)
EVERYTHING = BackfillRequest(start=date(2000, 1, 1), end=datetime.now(UTC).date())
# Tables whose content depends only on what was crawled (fetches and runs grow with every run).
CONTENT_TABLES = ("notes", "paragraphs", "mentions", "actors", "quarantine")


def settings_for(site: MirrorServer, data_dir):
    return load_settings(base_url=site.base_url, data_dir=data_dir, crawl_delay_s=0.0, requests_per_minute=0,
                         backoff_factor_s=0.01, max_retry_after_s=1.0)


def expected_paragraph_count(note: dict) -> int:
    return sum(1 for line in note["body_lines"] if not MARKER.match(line.strip()))


def table_contents(db_path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return {t: con.execute(f"select * exclude (run_id) from {t} order by all").fetchall()
                if t in ("notes",) else con.execute(f"select * from {t} order by all").fetchall()
                for t in CONTENT_TABLES}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """One backfill of the whole mirror; yields (summary, db_path)."""
    data_dir = tmp_path_factory.mktemp("warehouse")
    with MirrorServer() as site:
        summary = run_with(settings_for(site, data_dir), backfill, EVERYTHING)
        yield site, summary, data_dir


def test_every_corpus_note_is_loaded_once_with_its_paragraphs(loaded):
    site, summary, data_dir = loaded
    notes = load_sample_notes()
    assert (summary.discovered, summary.new, summary.updated, summary.quarantined) == (len(notes), len(notes), 0, [])
    with duckdb.connect(str(data_dir / "statenotes.duckdb"), read_only=True) as con:
        rows = con.execute("select url, title, paragraph_count, version from notes order by url").fetchall()
        assert len(rows) == len(notes) and all(version == 1 for *_, version in rows)
        by_title = {title: count for _, title, count, _ in rows}
        assert con.execute("select count(*) from notes_latest").fetchone()[0] == len(notes)
        assert con.execute("select count(*) from paragraphs").fetchone()[0] == sum(by_title.values())
    for note in notes:
        assert by_title[note["title"]] == expected_paragraph_count(note), note["title"]


def test_the_seed_note_is_exact(loaded, seed_gold):
    _, _, data_dir = loaded
    with duckdb.connect(str(data_dir / "statenotes.duckdb"), read_only=True) as con:
        note = con.execute("""select note_id, title, release_type, office, published_date, dateline_place,
                                 dateline_date, layout, site, has_quoted_text
                          from notes_latest where title like 'Statement by Ministers%'""").fetchone()
        paragraphs = con.execute("select label, text from paragraphs where note_id = ? order by seq",
                             [note[0]]).fetchall()
        actor_ids = {r[0] for r in con.execute("select distinct actor_id from mentions where note_id = ?",
                                             [note[0]]).fetchall()}
    assert note[1:] == ("Statement by Ministers of the Global Coalition To Defeat ISIS/DAESH", "Media Note",
                        "Office of the Spokesperson", date(2019, 2, 7), "Washington, DC", date(2019, 2, 6),
                        "wordpress", "www", True)
    assert paragraphs == [(p["label"], p["text"]) for p in seed_gold["paragraphs"]]
    assert [label for label, _ in paragraphs[1:]] == [str(n) for n in range(1, 11)]
    assert {"IRQ", "SYR", "group:isis"} <= actor_ids


def test_the_warehouse_documents_itself(loaded):
    _, _, data_dir = loaded
    with duckdb.connect(str(data_dir / "statenotes.duckdb"), read_only=True) as con:
        uncommented = con.execute("""select table_name, column_name from duckdb_columns()
                                 where database_name = current_database() and (comment is null or comment = '')""").fetchall()
        tables = {r[0] for r in con.execute("select table_name from duckdb_tables() where comment <> ''").fetchall()}
    assert uncommented == []
    assert {"notes", "paragraphs", "actors", "mentions", "fetches", "quarantine", "runs"} <= tables


def test_a_second_backfill_changes_nothing(loaded):
    site, _, data_dir = loaded
    before = table_contents(data_dir / "statenotes.duckdb")
    summary = run_with(settings_for(site, data_dir), backfill, EVERYTHING)
    assert (summary.new, summary.updated, summary.unchanged) == (0, 0, len(load_sample_notes()))
    assert table_contents(data_dir / "statenotes.duckdb") == before
    with duckdb.connect(str(data_dir / "statenotes.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from runs where status = 'success'").fetchone()[0] == 2


def test_faults_lose_nothing_and_duplicate_nothing(loaded, tmp_path):
    _, _, clean_dir = loaded
    faults = FaultPlan(rate_429=0.1, rate_503=0.1, rate_reset=0.1, rate_truncate=0.1, retry_after=1,
                       max_faults_per_path=2, seed=7)
    with MirrorServer(faults=faults) as site:
        summary = run_with(settings_for(site, tmp_path), backfill, EVERYTHING)
        assert faults.history(), "the plan injected no fault: the test would prove nothing"
    assert summary.quarantined == [] and summary.new == len(load_sample_notes())
    faulty, clean = table_contents(tmp_path / "statenotes.duckdb"), table_contents(clean_dir / "statenotes.duckdb")
    for table in ("paragraphs", "mentions", "actors"):
        assert faulty[table] == clean[table], table


def test_nightly_starts_from_the_lookback_then_from_the_watermark(tmp_path):
    from statenotes.flows.pipeline import nightly

    with MirrorServer() as site:
        settings = settings_for(site, tmp_path).model_copy(update={"lookback_days": 365 * 30})
        first = run_with(settings, nightly)
        assert first.new == len(load_sample_notes())
        assert (date.today() - first.start).days == 365 * 30 and first.end == date.today()
        site.clear_requests()
        second = run_with(settings, nightly)
    # The window now opens at the last run's end minus the overlap: nothing in the sample is that new,
    # so the run reads robots.txt and the first listing page and stops.
    assert (second.end - second.start).days == settings.overlap_days
    assert (second.discovered, second.new, second.updated) == (0, 0, 0)
    assert len(site.requests) <= 2
