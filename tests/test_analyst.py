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
from statenotes.flows.sql import QueryError, as_json, run_query
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


SANDBOX_ESCAPES = {
    "copy_over_a_lake_file": "copy (select * from notes limit 1) to '{lake_file}' (format parquet)",
    "read_a_system_file": "select * from read_text('/etc/passwd')",
    "list_files": "select * from glob('/etc/*')",
    "attach_a_new_database": "attach '{tmp}/mine.duckdb' as mine",
    "install_an_extension": "install httpfs",
    "load_an_extension": "load httpfs",
    "unlock_then_read": "set enable_external_access = true; select * from read_text('/etc/passwd')",
    "export_the_database": "export database '{tmp}/export'",
}


@pytest.mark.parametrize("case", SANDBOX_ESCAPES)
def test_sql_is_a_sandbox_that_reads_the_warehouse_only(warehouse, tmp_path, case):
    """Issue 15, item 5: COPY ... TO overwrote a lake Parquet file, read_text('/etc/passwd') worked."""
    lake_file = sorted((warehouse / "lake" / "notes").rglob("*.parquet"))[0]
    before = {path: path.read_bytes() for path in [lake_file, warehouse / "statenotes.duckdb"]}
    query = SANDBOX_ESCAPES[case].format(lake_file=lake_file, tmp=tmp_path)
    result = statenotes_in_process("sql", query, data_dir=warehouse)
    assert result.exit_code == 1, result.output
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1 and message.startswith("error:")
    assert "disabled" in message or "locked" in message
    assert "root:" not in result.output
    assert {path: path.read_bytes() for path in before} == before
    assert list(tmp_path.iterdir()) == []


def test_text_from_the_warehouse_prints_as_text_never_as_markup(warehouse):
    """Issue 15, item 5: `[/]` crashed `statenotes sql` with a MarkupError; `[bold]`, `[link=...]` were interpreted."""
    tricky = "[/] [bold]loud[/bold] [link=http://127.0.0.9/]click[/link] [red"
    query = f"select '{tricky}' as \"[italic]column\", title from notes_latest limit 1"
    result = statenotes("sql", query, data_dir=warehouse)
    assert result.returncode == 0, result.stderr
    assert tricky in result.stdout and "[italic]column" in result.stdout
    assert "\x1b]8;" not in result.stdout  # no terminal hyperlink
    shell = statenotes("sql", data_dir=warehouse, stdin=f"{query};\nselect '{tricky}' from nowhere;\n")
    assert shell.returncode == 1 and tricky in shell.stdout and "nowhere" in shell.stdout
    failed = statenotes("sql", f"select * from \"{tricky}\"", data_dir=warehouse)
    assert failed.returncode == 1 and "MarkupError" not in failed.stderr and "[/]" in failed.stderr


def test_the_shell_keeps_duckdbs_hints_and_runs_the_readme_pasted(warehouse):
    script = "select count(*) from notes_lates;\n" + "\n".join(readme_queries())
    result = statenotes("sql", data_dir=warehouse, stdin=script)
    assert result.returncode == 1  # the misspelt view only
    assert 'Did you mean "notes_latest"' in result.stdout
    assert result.stdout.count("error:") == 1 and result.stdout.count("row(s)") == len(readme_queries())


def readme_queries() -> list[str]:
    return SQL_BLOCK.findall((ROOT / "README.md").read_text(encoding="utf-8"))


def test_the_readme_has_example_queries():
    assert len(readme_queries()) >= 6


def statenotes_in_process(*args: str, data_dir: Path, stdin: str | None = None):
    """The same command line through Click's parser, in this process (a subprocess per README query and
    way of passing it would cost seconds each)."""
    from typer.testing import CliRunner

    from statenotes.flows.cli import app

    return CliRunner().invoke(app, list(args), input=stdin, env={"STATENOTES_DATA_DIR": str(data_dir)})


@pytest.mark.parametrize("how", ["argument", "file", "stdin"])
@pytest.mark.parametrize("index", range(len(readme_queries())))
def test_every_readme_query_runs_as_pasted_and_answers(warehouse, index, how, tmp_path):
    """Each ```sql block of the README, exactly as printed (its `-- comment` first), given to
    `statenotes sql` as the argument, with -f FILE and on stdin ('-')."""
    query = readme_queries()[index]
    with duckdb.connect(str(warehouse / "statenotes.duckdb"), read_only=True) as con:
        expected = json.loads(as_json(run_query(con, query)))
    if how == "argument":
        result = statenotes_in_process("sql", "--json", query, data_dir=warehouse)
    elif how == "file":
        (tmp_path / "query.sql").write_text(query, encoding="utf-8")
        result = statenotes_in_process("sql", "--json", "-f", str(tmp_path / "query.sql"), data_dir=warehouse)
    else:
        result = statenotes_in_process("sql", "--json", "-", data_dir=warehouse, stdin=query)
    assert result.exit_code == 0, f"README query {index} failed {how}:\n{query}\n{result.output}"
    printed = json.loads(result.stdout)
    assert printed == expected and printed, f"README query {index} answered nothing:\n{query}"
    if "humanitarian" in query:
        assert all("humanitarian" in row["text"].lower() for row in printed)
    if "version > 1" in query:
        assert [r["version"] for r in printed] == [1, 2]


OLDER_CLIENT = r"""
import duckdb, json, sys
con = duckdb.connect(sys.argv[1], read_only=True)
answers = [con.execute(query).fetchall() for query in json.loads(sys.stdin.read())]
comments = con.execute("select count(*) from duckdb_columns() where comment is not null").fetchone()[0]
print(json.dumps({"version": duckdb.__version__, "answers": answers, "comments": comments}, default=str))
"""
UNREACHABLE = re.compile(r"(?i)connect|dns|resolve|timed out|network|offline|Failed to fetch")


@pytest.mark.parametrize("release", ["1.1.3", "1.4.2"])
def test_an_older_duckdb_opens_the_published_file_and_answers_the_readme(warehouse, release):
    """Issue 12: a file written by the newest DuckDB was refused by DuckDB 1.4 LTS and the 1.5 CLI. An
    older release, installed from the package index into a venv of its own, opens it read-only and gives
    the README queries the same answers (comments included)."""
    import shutil
    import tempfile

    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH: cannot build a venv with an older DuckDB")
    queries = readme_queries()
    with duckdb.connect(str(warehouse / "statenotes.duckdb"), read_only=True) as con:
        expected = {"version": release, "answers": [con.execute(q).fetchall() for q in queries],
                    "comments": con.execute("select count(*) from duckdb_columns() "
                                            "where comment is not null").fetchone()[0]}
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    with tempfile.TemporaryDirectory(prefix="statenotes-old-duckdb-") as scratch:
        venv = Path(scratch) / "venv"
        subprocess.run([uv, "venv", "--quiet", str(venv)], check=True, env=env, timeout=120)
        python = venv / "bin" / "python"
        install = subprocess.run([uv, "pip", "install", "--quiet", "--python", str(python),
                                  f"duckdb=={release}", "pytz"],
                                 capture_output=True, text=True, env=env, timeout=300)
        if install.returncode != 0 and UNREACHABLE.search(install.stderr):
            pytest.skip(f"the package index is unreachable: {install.stderr.strip().splitlines()[-1]}")
        assert install.returncode == 0, install.stderr
        run = subprocess.run([str(python), "-c", OLDER_CLIENT, str(warehouse / "statenotes.duckdb")],
                             input=json.dumps(queries), capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    answered, expected = json.loads(run.stdout), json.loads(json.dumps(expected, default=str))
    for query, got, want in zip(queries, answered.pop("answers"), expected.pop("answers"), strict=True):
        assert got == want, query
    assert answered == expected


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


def test_the_views_set_the_publisher_aside_and_answer_with_latest_versions(warehouse):
    """Issue 12: the U.S., its government and the Department dominated every ranking with no way to set
    them aside; 850 of 981 actors were never mentioned; there was no mentions_latest; roles unnormalised."""
    with duckdb.connect(str(warehouse / "statenotes.duckdb"), read_only=True) as con:
        side = dict(con.execute("select actor_id, kind from publishing_side").fetchall())
        tree = dict(con.execute("select actor_id, parent_id from actors").fetchall())
        kinds = dict(con.execute("select actor_id, kind from actors").fetchall())
        under_us = {a for a in tree if kinds[a] != "person" and any(
            step in ("USA", "gov:USA") for step in _ancestry(a, tree))}
        latest = con.execute("select m.note_id, m.seq, m.start_offset, m.actor_id from mentions m "
                             "join notes_latest using (note_id, version) order by all").fetchall()
        view = con.execute("select note_id, seq, start_offset, actor_id from mentions_latest order by all").fetchall()
        mentioned = {r[0] for r in latest}
        listed = con.execute("select actor_id, count_notes, publishing_side from actors_mentioned").fetchall()
        roles = dict(con.execute("select name || ' / ' || role, role_canonical from mentions_latest "
                                 "where role is not null").fetchall())
        flagged_pairs = con.execute("select count(*) from co_mentions where publishing_side_a or "
                                    "publishing_side_b").fetchone()[0]
    assert set(side) == under_us and {"USA", "gov:USA", "gov:USA-department-of-state"} <= set(side)
    assert view == latest
    assert {a for a, _, _ in listed} == {r[3] for r in latest} and mentioned
    assert all(flag == (a in side) and count >= 1 for a, count, flag in listed)
    assert roles and all(v.endswith("of State") for k, v in roles.items() if k.endswith("/ Secretary"))
    assert flagged_pairs > 0


def _ancestry(actor_id, tree):
    seen = []
    while actor_id is not None and actor_id not in seen:
        seen.append(actor_id)
        actor_id = tree.get(actor_id)
    return seen


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
    assert "<script" not in page.lower() and not re.search(r"src=\"https?://", page)  # links, nothing fetched
    assert f"{len(load_sample_notes())} notes" in page
    with duckdb.connect(str(warehouse / "statenotes.duckdb"), read_only=True) as con:
        top = con.execute("""select a.name from mentions m join notes_latest n using (note_id, version)
                             join actors a using (actor_id) group by a.name
                             order by count(distinct m.note_id) desc, a.name limit 1""").fetchone()[0]
    assert top in page
    # The run writes the same report beside the warehouse.
    assert (warehouse / "report.html").exists()


def test_a_lake_written_before_the_offsets_were_renamed_still_loads_and_publishes(tmp_path):
    """`mentions.end` was an SQL keyword: the columns are now start_offset / end_offset. A lake whose
    mention files still have `start` / `end` takes new runs (a rewritten partition gets the new names,
    the others keep theirs) and publishes every row under the new names."""
    import pyarrow.parquet as pq

    old_names = {"start_offset": "start", "end_offset": "end"}
    mention_files = lambda: sorted((tmp_path / "lake" / "mentions").rglob("*.parquet"))  # noqa: E731
    query = "select note_id, version, seq, start_offset, end_offset, actor_id from mentions order by all"
    with MirrorServer() as site:
        run_with(settings_for(site, tmp_path), backfill, WINDOW)
        with duckdb.connect(str(tmp_path / "statenotes.duckdb"), read_only=True) as con:
            before = con.execute(query).fetchall()
        for path in mention_files():
            content = pq.read_table(path)
            pq.write_table(content.rename_columns([old_names.get(n, n) for n in content.column_names]), path)
        note = edit_a_note(site)
        assert run_with(settings_for(site, tmp_path), backfill, WINDOW).updated == 1
    with duckdb.connect(str(tmp_path / "statenotes.duckdb"), read_only=True) as con:
        after = con.execute(query).fetchall()
        edited = con.execute("select note_id from notes where version = 2").fetchone()[0]
    assert set(before) < set(after)
    assert {row[:2] for row in set(after) - set(before)} == {(edited, 2)} and note["title"]
    names = {tuple(pq.read_schema(path).names[3:5]) for path in mention_files()}
    assert names == {("start", "end"), ("start_offset", "end_offset")}  # one partition rewritten


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
