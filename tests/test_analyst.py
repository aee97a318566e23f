"""The analyst's side: `statenotes sql` (table, CSV, JSON, the shell), the README's example queries,
docs/schema.md in step with the comments, the HTML report, and connections held open while a run
publishes (in other processes, as analysts are)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from statenotes.flows.parameters import BackfillRequest
from statenotes.flows.pipeline import backfill
from statenotes.flows.report import write_report
from statenotes.flows.schema_docs import schema_markdown
from statenotes.flows.settings import load_settings, run_with
from statenotes.flows.sql import QueryError, run_query
from statenotes.mirror.notes import page_path
from statenotes.mirror.server import MirrorServer
from statenotes.mirror.site import load_sample_notes

pytestmark = pytest.mark.usefixtures("prefect_harness")

ROOT = Path(__file__).parents[1]
WINDOW = BackfillRequest(start=date(2000, 1, 1), end=datetime.now(UTC).date())
ADDED = "The United States will provide additional humanitarian aid to Belize."
SQL_BLOCK = re.compile(r"```sql\n(.*?)```", re.DOTALL)


def settings_for(site: MirrorServer, data_dir: Path):
    return load_settings(base_url=site.base_url, data_dir=data_dir, crawl_delay_s=0.0, requests_per_minute=0)


def edit_a_note(site: MirrorServer) -> dict:
    note = next(n for n in site.notes if "Belize" in n["title"])
    note["body_lines"].append(ADDED)
    site.update_note(page_path(note), note)
    return note


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    """The mirror loaded, then one note edited and loaded again: the data directory."""
    data_dir = tmp_path_factory.mktemp("analyst")
    with MirrorServer() as site:
        run_with(settings_for(site, data_dir), backfill, WINDOW)
        edit_a_note(site)
        assert run_with(settings_for(site, data_dir), backfill, WINDOW).updated == 1
    return data_dir


def statenotes(*args: str, data_dir: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from statenotes.flows.cli import app; app()", *args],
                          input=stdin, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "STATENOTES_DATA_DIR": str(data_dir), "COLUMNS": "200"})


def test_sql_prints_a_table_csv_and_json(warehouse):
    query = "select title, published_date from notes_latest order by published_date desc, title limit 3"
    with duckdb.connect(str(warehouse / "statenotes.duckdb"), read_only=True) as con:
        expected = con.execute(query).fetchall()
    table = statenotes("sql", query, data_dir=warehouse)
    assert table.returncode == 0, table.stderr
    assert expected[0][0][:30] in table.stdout and "3 row(s)" in table.stdout
    as_csv = statenotes("sql", "--csv", query, data_dir=warehouse)
    assert list(csv.reader(io.StringIO(as_csv.stdout))) == [
        ["title", "published_date"], *([t, d.isoformat()] for t, d in expected)]
    as_json = statenotes("sql", "--json", query, data_dir=warehouse)
    assert json.loads(as_json.stdout) == [{"title": t, "published_date": d.isoformat()} for t, d in expected]


def test_sql_is_read_only_and_says_why_a_query_failed(warehouse):
    before = (warehouse / "statenotes.duckdb").read_bytes()
    result = statenotes("sql", "delete from notes", data_dir=warehouse)
    assert result.returncode == 1 and "read-only" in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2
    assert (warehouse / "statenotes.duckdb").read_bytes() == before
    missing = statenotes("sql", "select 1", data_dir=warehouse / "nowhere")
    assert missing.returncode == 1 and "no warehouse at" in missing.stderr


def test_the_shell_reads_statements_from_stdin(warehouse):
    script = ".tables\nselect count(*)\n  as how_many from notes_latest;\n.schema runs\nselect nope;\n.quit\nselect 1;\n"
    result = statenotes("sql", data_dir=warehouse, stdin=script)
    assert result.returncode == 1  # one statement failed
    assert "notes_by_month" in result.stdout and "co_mentions" in result.stdout  # .tables
    assert "how_many" in result.stdout and str(len(load_sample_notes())) in result.stdout
    assert "counts" in result.stdout and "JSON object of counts" in result.stdout  # .schema runs
    assert "error:" in result.stdout and "nope" in result.stdout


def readme_queries() -> list[str]:
    return SQL_BLOCK.findall((ROOT / "README.md").read_text(encoding="utf-8"))


def test_the_readme_has_example_queries():
    assert len(readme_queries()) >= 6


@pytest.mark.parametrize("index", range(len(readme_queries())))
def test_every_readme_query_runs_and_answers(warehouse, index):
    query = readme_queries()[index]
    with duckdb.connect(str(warehouse / "statenotes.duckdb"), read_only=True) as con:
        result = run_query(con, query)
    assert result.rows, f"README query {index} answered nothing:\n{query}"
    if "humanitarian" in query:
        assert all("humanitarian" in row[-1].lower() for row in result.rows)
    if "version > 1" in query:
        assert [row[1] for row in result.rows] == [1, 2]


SEARCH_TERMS = ["humanitarian", "U.S.", "(ISIS)", "secretary", "JOSÉ", "chargé d’affaires", "the", "1", "zzqx"]


@pytest.mark.parametrize("term", SEARCH_TERMS)
def test_search_paragraphs_answers_what_ilike_answers_on_the_mirror(warehouse, term):
    """docs/schema.md tells analysts to search with search_paragraphs(term): on the whole mirror, edited note
    included, it returns exactly the latest versions' paragraphs that `text ILIKE '%term%'` finds."""
    plain = ("select p.note_id, p.version, p.seq, n.published_date, n.title, n.url, p.label, p.kind, p.text "
             "from paragraphs p join notes_latest n using (note_id, version) where p.text ilike $pattern")
    with duckdb.connect(str(warehouse / "statenotes.duckdb"), read_only=True) as con:
        found = con.execute("select * from search_paragraphs($term)", {"term": term}).fetchall()
        expected = con.execute(plain, {"pattern": f"%{term}%"}).fetchall()
    assert sorted(found, key=repr) == sorted(expected, key=repr)
    assert term == "zzqx" or found
    if term == "humanitarian":  # the edited note's added sentence, in its version 2 only
        assert [r[1] for r in found if ADDED in r[-1]] == [2]


def test_run_query_reports_errors_in_one_line(warehouse):
    with duckdb.connect(str(warehouse / "statenotes.duckdb"), read_only=True) as con, \
            pytest.raises(QueryError, match="nope"):
        run_query(con, "select * from nope")


def test_docs_schema_md_is_generated_from_the_comments():
    committed = (ROOT / "docs" / "schema.md").read_text(encoding="utf-8")
    assert committed == schema_markdown(), "docs/schema.md is stale: run `statenotes docs --output docs/schema.md`"


def test_every_table_view_and_column_is_commented(warehouse):
    with duckdb.connect(str(warehouse / "statenotes.duckdb"), read_only=True) as con:
        bare = con.execute("""
            select table_name from duckdb_tables() where coalesce(comment, '') = ''
            union all select view_name from duckdb_views() where not internal and coalesce(comment, '') = ''
            union all select table_name || '.' || column_name from duckdb_columns()
            where database_name = current_database() and coalesce(comment, '') = ''""").fetchall()
        views = {r[0] for r in con.execute("select view_name from duckdb_views() where not internal").fetchall()}
    assert bare == []
    assert {"notes_latest", "notes_by_month"} <= views


def test_the_report_is_one_offline_page_with_its_three_sections(warehouse, tmp_path):
    path = write_report(warehouse / "statenotes.duckdb", tmp_path / "report.html")
    page = path.read_text(encoding="utf-8")
    assert "<svg" in page and "Notes per month" in page
    assert "Top actors over time" in page and "Strongest co-mentions" in page
    assert "<script" not in page.lower() and not re.search(r"(src|href)=\"https?://", page)
    assert f"{len(load_sample_notes())} notes" in page
    with duckdb.connect(str(warehouse / "statenotes.duckdb"), read_only=True) as con:
        top = con.execute("""select a.name from mentions m join notes_latest n using (note_id, version)
                             join actors a using (actor_id) group by a.name
                             order by count(distinct m.note_id) desc, a.name limit 1""").fetchone()[0]
    assert top in page
    # The run writes the same report beside the warehouse.
    assert (warehouse / "report.html").exists()


ANALYST = r"""
import duckdb, json, sys
con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == "ro")
def look():
    notes, paragraphs, counted, versions = con.execute(
        "select (select count(*) from notes), (select count(*) from paragraphs), "
        "(select sum(paragraph_count) from notes), (select max(version) from notes)").fetchone()
    return {"notes": notes, "paragraphs": paragraphs, "consistent": paragraphs == counted, "versions": versions}
for line in sys.stdin:
    print(json.dumps(look()), flush=True)
"""


@pytest.mark.parametrize("mode", ["ro", "rw"])
def test_an_analyst_holding_a_connection_neither_fails_the_run_nor_sees_half_of_it(tmp_path, mode):
    db = tmp_path / "statenotes.duckdb"
    with MirrorServer() as site:
        run_with(settings_for(site, tmp_path), backfill, WINDOW)
        analyst = subprocess.Popen([sys.executable, "-c", ANALYST, str(db), mode], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, text=True)
        try:
            analyst.stdin.write("look\n")
            analyst.stdin.flush()
            before = json.loads(analyst.stdout.readline())
            edit_a_note(site)
            summary = run_with(settings_for(site, tmp_path), backfill, WINDOW)  # publishes under the analyst
            analyst.stdin.write("look\n")
            analyst.stdin.flush()
            held = json.loads(analyst.stdout.readline())
        finally:
            analyst.stdin.close()
            analyst.wait(timeout=30)
            analyst.stdout.close()
    assert summary.updated == 1 and analyst.returncode == 0
    assert held == before and before["consistent"] and before["versions"] == 1  # its snapshot, whole
    with duckdb.connect(str(db), read_only=True) as con:  # a new connection: the new file, whole
        assert con.execute("select max(version), count(*) from notes").fetchone() == (2, before["notes"] + 1)
        assert con.execute("select count(*) from runs where status = 'success'").fetchone()[0] == 2
