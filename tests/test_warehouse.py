"""The load stage against real Parquet and DuckDB files: versioning, idempotency, crash safety,
quarantine, and publishing under open analyst connections."""

from __future__ import annotations

import hashlib
import pickle
import shutil
import subprocess
import sys
import textwrap
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from statenotes.extractors.records import MediaNote, note_id_for
from statenotes.transforms.records import Actor, ActorFindings, ActorMention, NoteBody, Paragraph
from statenotes.warehouse import journal
from statenotes.warehouse.errors import WarehouseError
from statenotes.warehouse.lake import Lake
from statenotes.warehouse.publish import STORED_VIEWS, describe_schema, publish
from statenotes.warehouse.records import (
    RUN_FAILED, RUN_SUCCESS, FetchLog, LoadedNote, QuarantineItem, RunRecord,
)
from statenotes.warehouse.rows import content_sha256, note_tables
from statenotes.warehouse.schema import REFERENCE_TABLES, TABLES, VIEWS

T0 = datetime(2024, 5, 1, 3, 0, tzinfo=timezone.utc)
IRAQ = Actor("IRQ", "Iraq", "country", "IRQ", None, ("Iraq", "Iraqi"))
UN = Actor("org:united-nations", "United Nations", "organization", None, None, ("United Nations",))
PYTHON = sys.executable


def loaded(path: str = "/iraq-statement/", texts: tuple[str, ...] = ("The United States and Iraq met.",),
           published: date | None = date(2019, 2, 7), fetched_at: datetime = T0,
           host: str = "www.state.gov", raw: str = "raw-1", tags: tuple[str, ...] = ("Iraq", "Diplomacy"),
           actors: tuple[Actor, ...] = (IRAQ,), mentions: tuple[ActorMention, ...] | None = None) -> LoadedNote:
    url = f"https://{host}{path}"
    paragraphs = [Paragraph(i, str(i) if i else None, "numbered" if i else "lead", t) for i, t in enumerate(texts)]
    if mentions is None:
        mentions = (ActorMention(-1, 0, 4, "Iraq", "IRQ"),
                    *(ActorMention(i, t.index("Iraq"), t.index("Iraq") + 4, "Iraq", "IRQ")
                      for i, t in enumerate(texts) if "Iraq" in t))
    note = MediaNote(url=url, layout="www-2019", title="Iraq Strategic Dialogue", release_type="Media Note",
                     office="Office of the Spokesperson", published_date=published, tags=list(tags),
                     canonical_url=url)
    body = NoteBody(paragraphs, dateline_place="Washington, DC", dateline_date=published)
    return LoadedNote(note, body, ActorFindings(list(actors), list(mentions)), url, fetched_at, raw, "p1")


def fetch(url: str, at: datetime = T0, status: int | None = 200) -> FetchLog:
    return FetchLog(url, status, '"e1"', "Thu, 07 Feb 2019 10:00:00 GMT", 1234, "ab" * 32, 87,
                    None if status else "timeout", at)


def files(root: Path) -> dict[str, str]:
    """Every file of the lake (but the lock) by relative path, with the sha256 of its bytes."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p.name != journal.LOCK_NAME}


def contents(lake: Lake) -> dict[str, list[dict]]:
    return {t: lake.read(t).to_pylist() for t in TABLES}


def db_rows(db_path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake(tmp_path / "lake")


# -- rows --------------------------------------------------------------------------------------

def test_note_tables_builds_rows_and_hashes_normalised_content():
    a = loaded(texts=("Lead about Iraq.", "Second paragraph."))
    tables = note_tables([a], "run-1")
    note = tables["notes"].to_pylist()[0]
    assert note["note_id"] == note_id_for(a.url) and note["site"] == "www" and note["version"] == 1
    assert note["body_text"] == "Lead about Iraq.\n\nSecond paragraph."
    assert note["paragraph_count"] == 2 and note["run_id"] == "run-1"
    assert note["first_seen_at"] == note["fetched_at"] == T0
    assert [(p["seq"], p["label"], p["kind"]) for p in tables["paragraphs"].to_pylist()] == [
        (0, None, "lead"), (1, "1", "numbered")]
    assert [m["seq"] for m in tables["mentions"].to_pylist()] == [-1, 0]  # title mention kept as -1

    # Raw bytes, host, tag order do not change the content hash; the text does.
    same = loaded(texts=("Lead about Iraq.", "Second paragraph."), raw="other-raw",
                  host="2017-2021.state.gov", tags=("Diplomacy", "Iraq"))
    assert content_sha256(same) == note["content_sha256"]
    assert note_tables([same], "r")["notes"].column("site").to_pylist() == ["2017-2021"]
    assert content_sha256(loaded(texts=("Lead about Iraq!", "Second paragraph."))) != note["content_sha256"]


def test_actor_rows_are_deduplicated_with_alias_union():
    a = loaded(path="/a/", actors=(IRAQ, UN))
    b = loaded(path="/b/", actors=(Actor("IRQ", "Iraq", "country", "IRQ", None, ("Republic of Iraq",)),))
    actors = note_tables([a, b], "r")["actors"].to_pylist()
    assert [x["actor_id"] for x in actors] == ["IRQ", "org:united-nations"]
    assert actors[0]["aliases"] == ["Iraq", "Iraqi", "Republic of Iraq"]


# -- merge -------------------------------------------------------------------------------------

def test_merge_new_unchanged_then_edited_keeps_history(lake: Lake, tmp_path: Path):
    v1 = loaded(texts=("Iraq and the United States met.", "They agreed."))
    counts = lake.merge_notes(note_tables([v1], "r1"))
    assert (counts.new, counts.updated, counts.unchanged) == (1, 0, 0)
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in lake.root.rglob("*.parquet")}

    later = loaded(texts=("Iraq and the United States met.", "They agreed."),
                   fetched_at=T0 + timedelta(days=1), raw="raw-chrome-changed")
    counts = lake.merge_notes(note_tables([later], "r2"))
    assert (counts.new, counts.updated, counts.unchanged) == (0, 0, 1)
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in lake.root.rglob("*.parquet")} == before

    edited = loaded(texts=("Iraq and the United States met.", "They agreed on three points."),
                    fetched_at=T0 + timedelta(days=2), raw="raw-3")
    counts = lake.merge_notes(note_tables([edited], "r3"))
    assert (counts.new, counts.updated, counts.unchanged) == (0, 1, 0)

    notes = lake.read("notes").to_pylist()
    assert [(n["version"], n["run_id"], n["fetched_at"]) for n in notes] == [
        (1, "r1", T0), (2, "r3", T0 + timedelta(days=2))]
    assert notes[1]["first_seen_at"] == T0  # kept from version 1
    paragraphs = lake.read("paragraphs").to_pylist()
    assert [(p["version"], p["text"]) for p in paragraphs if p["seq"] == 1] == [
        (1, "They agreed."), (2, "They agreed on three points.")]
    assert {m["version"] for m in lake.read("mentions").to_pylist()} == {1, 2}

    db = tmp_path / "statenotes.duckdb"
    publish(lake, db)
    assert db_rows(db, "SELECT version, paragraph_count FROM notes_latest") == [(2, 2)]
    assert db_rows(db, "SELECT count(*) FROM notes") == [(2,)]


def test_one_batch_with_the_same_note_twice(lake: Lake):
    a = loaded(texts=("Iraq first text.",))
    b = loaded(texts=("Iraq second text.",), fetched_at=T0 + timedelta(hours=1))
    dup = loaded(texts=("Iraq second text.",), fetched_at=T0 + timedelta(hours=2))
    counts = lake.merge_notes(note_tables([dup, b, a], "r1"))  # input order does not matter
    assert (counts.new, counts.updated, counts.unchanged) == (1, 1, 1)
    assert [(n["version"], n["body_text"]) for n in lake.read("notes").to_pylist()] == [
        (1, "Iraq first text."), (2, "Iraq second text.")]
    assert [(m["version"], m["seq"]) for m in lake.read("mentions").to_pylist()] == [
        (1, -1), (1, 0), (2, -1), (2, 0)]


def test_new_version_in_another_year_goes_to_its_partition(lake: Lake):
    lake.merge_notes(note_tables([loaded(published=date(2019, 12, 31))], "r1"))
    lake.merge_notes(note_tables([loaded(published=date(2020, 1, 2), fetched_at=T0 + timedelta(1))], "r2"))
    lake.merge_notes(note_tables([loaded(path="/undated/", published=None)], "r3"))
    parts = sorted(p.relative_to(lake.root).as_posix() for p in lake.root.glob("notes/*/*.parquet"))
    assert parts == ["notes/year=2019/part-0.parquet", "notes/year=2020/part-0.parquet",
                     "notes/year=__HIVE_DEFAULT_PARTITION__/part-0.parquet"]
    assert len(list(lake.root.glob("paragraphs/*/*.parquet"))) == 3
    hive = ds.dataset(lake.root / "notes", partitioning="hive").to_table()
    assert sorted(hive.column("year").to_pylist(), key=str) == [2019, 2020, None]
    assert pq.ParquetFile(lake.root / parts[0]).metadata.row_group(0).column(0).compression == "ZSTD"


def test_unchanged_note_gets_refreshed_mentions_when_the_gazetteer_changes(lake: Lake):
    lake.merge_notes(note_tables([loaded(texts=("Iraq and the UN met.",))], "r1"))
    un = ActorMention(0, 9, 11, "UN", "org:united-nations")
    again = loaded(texts=("Iraq and the UN met.",), actors=(IRAQ, UN),
                   mentions=(ActorMention(0, 0, 4, "Iraq", "IRQ"), un))
    counts = lake.merge_notes(note_tables([again], "r2"))
    assert (counts.unchanged, counts.mentions_refreshed) == (1, 1)
    assert [m["actor_id"] for m in lake.read("mentions").to_pylist()] == ["IRQ", "org:united-nations"]
    assert len(lake.read("notes")) == 1
    assert lake.merge_notes(note_tables([again], "r3")).mentions_refreshed == 0


def test_actors_upsert_unions_aliases_and_takes_new_attributes(lake: Lake):
    lake.merge_notes(note_tables([loaded(actors=(IRAQ,))], "r1"))
    renamed = Actor("IRQ", "Republic of Iraq", "country", "IRQ", None, ("Republic of Iraq",))
    lake.merge_notes(note_tables([loaded(path="/other/", actors=(renamed,))], "r2"))
    assert lake.read("actors").to_pylist() == [{
        "actor_id": "IRQ", "name": "Republic of Iraq", "kind": "country", "iso3": "IRQ",
        "parent_id": None, "aliases": ["Iraq", "Iraqi", "Republic of Iraq"]}]


def test_duplicate_keys_are_refused_and_nothing_is_written(lake: Lake):
    bad = loaded()
    bad.body.paragraphs.append(Paragraph(0, None, "body", "same seq twice"))
    with pytest.raises(WarehouseError, match="duplicate key"):
        lake.merge_notes(note_tables([bad], "r1"))
    assert files(lake.root) == {}


# -- quarantine and runs -----------------------------------------------------------------------

def test_quarantine_upsert_counts_attempts_and_clears(lake: Lake):
    first = QuarantineItem("https://www.state.gov/x/", "parse", "no title", "s1", T0)
    assert lake.upsert_quarantine([first]) == 1
    assert lake.upsert_quarantine([first]) == 0  # a replay of the same attempt
    second = QuarantineItem("https://www.state.gov/x/", "parse", "no body", "s2", T0 + timedelta(1))
    other = QuarantineItem("https://www.state.gov/y/", "fetch", "HTTP 500", None, T0)
    assert lake.upsert_quarantine([second, other]) == 2
    rows = {(r["url"], r["stage"]): r for r in lake.read("quarantine").to_pylist()}
    x = rows[("https://www.state.gov/x/", "parse")]
    assert (x["attempts"], x["first_seen_at"], x["last_seen_at"], x["reason"], x["raw_sha256"]) == (
        2, T0, T0 + timedelta(1), "no body", "s2")
    assert rows[("https://www.state.gov/y/", "fetch")]["attempts"] == 1

    assert lake.clear_quarantine(["https://www.state.gov/x/"]) == 1
    assert [r["url"] for r in lake.read("quarantine").to_pylist()] == ["https://www.state.gov/y/"]
    assert lake.clear_quarantine(["https://www.state.gov/y/"]) == 1
    assert lake.read("quarantine").num_rows == 0 and not (lake.root / "quarantine/data.parquet").exists()


def test_runs_watermark_and_fetches_partitioned_by_fetch_year(lake: Lake):
    assert lake.last_successful_run() is None
    with lake.transaction() as tx:
        tx.append_run(RunRecord("r1", "nightly", T0, RUN_SUCCESS, T0 + timedelta(minutes=5),
                                {"lookback_days": 3}, {"new": 2}))
        tx.append_run(RunRecord("r2", "nightly", T0 + timedelta(1), RUN_FAILED, T0 + timedelta(1, 60)))
        tx.append_run(RunRecord("r3", "backfill", T0 + timedelta(2), "running"))
        tx.append_fetches([fetch("https://www.state.gov/a/"),
                           fetch("https://www.state.gov/b/", datetime(2023, 12, 31, 23, tzinfo=timezone.utc),
                                 status=None)], "r1")
    with lake.transaction() as tx:  # r3 finishes: the same run_id is updated in place
        tx.append_run(RunRecord("r3", "backfill", T0 + timedelta(2), RUN_SUCCESS, T0 + timedelta(2, 9)))
    assert lake.last_successful_run().run_id == "r3"
    last = lake.last_successful_run("nightly")
    assert (last.run_id, last.parameters, last.counts) == ("r1", {"lookback_days": 3}, {"new": 2})
    assert len(lake.read("runs")) == 3
    assert sorted(p.parent.name for p in lake.root.glob("fetches/*/*.parquet")) == ["year=2023", "year=2024"]
    assert [f["error"] for f in lake.read("fetches").to_pylist()] == ["timeout", None]


# -- idempotency -------------------------------------------------------------------------------

def one_run(lake: Lake, notes: list[LoadedNote], run_id: str = "run-1") -> None:
    """What a flow does: one transaction with everything of the run."""
    with lake.transaction() as tx:
        tx.merge_notes(note_tables(notes, run_id))
        tx.append_fetches([fetch(n.url, n.fetched_at) for n in notes], run_id)
        tx.upsert_quarantine([QuarantineItem("https://www.state.gov/bad/", "parse", "empty", "s", T0)])
        tx.clear_quarantine([n.url for n in notes])
        tx.append_run(RunRecord(run_id, "nightly", T0, RUN_SUCCESS, T0 + timedelta(minutes=1)))


BATCH = [loaded(), loaded(path="/second/", texts=("Iraq again.", "More."), published=date(2021, 3, 1)),
         loaded(path="/third/", published=None, actors=(IRAQ, UN))]


def test_same_input_twice_leaves_identical_files_and_tables(tmp_path: Path):
    lake = Lake(tmp_path / "a" / "lake")
    one_run(lake, BATCH)
    first = files(lake.root)
    one_run(lake, BATCH)
    assert files(lake.root) == first  # byte-identical
    # The same input in another lake gives the same bytes too: no hidden clock or randomness.
    other = Lake(tmp_path / "b" / "lake")
    one_run(other, list(reversed(BATCH)))
    assert files(other.root) == first

    db = tmp_path / "statenotes.duckdb"
    publish(lake, db)
    tables = {t: db_rows(db, f'SELECT * FROM "{t}"') for t in TABLES}
    publish(lake, db)
    assert {t: db_rows(db, f'SELECT * FROM "{t}"') for t in TABLES} == tables
    assert tables["notes"] and tables["fetches"] and tables["quarantine"] and tables["runs"]


# -- atomicity ---------------------------------------------------------------------------------

def test_exception_inside_transaction_changes_nothing(lake: Lake):
    one_run(lake, BATCH[:1])
    before = files(lake.root)
    with pytest.raises(RuntimeError):
        with lake.transaction() as tx:
            tx.merge_notes(note_tables(BATCH[1:], "r2"))
            tx.append_run(RunRecord("r2", "nightly", T0, RUN_SUCCESS))
            raise RuntimeError("flow failed after staging")
    assert files(lake.root) == before
    with lake.transaction():  # reading around the transaction would wait for itself: refused
        with pytest.raises(WarehouseError, match="open transaction"):
            lake.read("notes")


def test_opening_the_lake_drops_uncommitted_temporary_files(lake: Lake):
    one_run(lake, BATCH[:1])
    before = files(lake.root)
    orphans = [journal.tmp_name(lake.root / "runs" / "data.parquet", "dead0"),
               journal.tmp_name(lake.root / "notes" / "year=2030" / "part-0.parquet", "dead0"),
               lake.root / f".{journal.JOURNAL_NAME}.tmp"]
    for orphan in orphans:
        orphan.parent.mkdir(parents=True, exist_ok=True)
        orphan.write_bytes(b"half a file")
    assert Lake(lake.root).read("notes").num_rows == 1
    assert files(lake.root) == before and not (lake.root / "notes" / "year=2030").exists()


CRASH_SCRIPT = textwrap.dedent("""
    import os, pathlib, pickle, signal, sys
    import pyarrow.parquet as pq
    from statenotes.warehouse.lake import Lake
    from statenotes.warehouse.rows import note_tables
    root, mode, k, data = sys.argv[1], sys.argv[2], int(sys.argv[3]), pickle.load(open(sys.argv[4], "rb"))
    calls = [0]
    def die():
        os.kill(os.getpid(), signal.SIGKILL)
    def hit():
        calls[0] += 1
        return calls[0] == k
    real_write, real_replace, real_unlink = pq.write_table, os.replace, pathlib.Path.unlink
    def write_table(table, where, **kw):
        real_write(table, where, **kw)
        if hit():  # a torn temporary file
            os.truncate(where, os.path.getsize(where) // 2)
            die()
    def replace(src, dst):
        if mode == "replace-before" and hit():
            die()
        real_replace(src, dst)
        if mode == "replace-after" and hit():
            die()
    def unlink(self, missing_ok=False):
        if self.name == "_commit.json" and hit():
            die()
        real_unlink(self, missing_ok=missing_ok)
    if mode == "write":
        pq.write_table = write_table
    elif mode.startswith("replace"):
        os.replace = replace
    else:
        pathlib.Path.unlink = unlink
    lake = Lake(pathlib.Path(root))
    with lake.transaction() as tx:
        tx.merge_notes(note_tables(data["notes"], "run-2"))
        tx.append_fetches(data["fetches"], "run-2")
        tx.upsert_quarantine(data["quarantine"])
        tx.clear_quarantine(data["clear"])
        tx.append_run(data["run"])
""")


def test_sigkill_at_any_point_of_a_commit_leaves_before_or_after(tmp_path: Path):
    base = Lake(tmp_path / "base")
    one_run(base, BATCH[:2], "run-1")
    base.upsert_quarantine([QuarantineItem(BATCH[2].url, "fetch", "HTTP 503", None, T0)])
    edited = loaded(texts=("Iraq and the United States met again.",), fetched_at=T0 + timedelta(1))
    data = {"notes": [edited, BATCH[2]], "fetches": [fetch(edited.url, T0 + timedelta(1))],
            "quarantine": [QuarantineItem("https://www.state.gov/new-bad/", "parse", "x", None, T0)],
            "clear": [BATCH[2].url, "https://www.state.gov/bad/", "https://www.state.gov/new-bad/"],
            "run": RunRecord("run-2", "nightly", T0 + timedelta(1), RUN_SUCCESS)}
    (tmp_path / "input.pkl").write_bytes(pickle.dumps(data))
    (tmp_path / "crash.py").write_text(CRASH_SCRIPT)
    before = files(base.root)

    def run(mode: str, k: int) -> tuple[int, Path]:
        work = tmp_path / f"{mode}-{k}"
        shutil.copytree(base.root, work)
        proc = subprocess.run([PYTHON, str(tmp_path / "crash.py"), str(work), mode, str(k),
                               str(tmp_path / "input.pkl")], capture_output=True, text=True, timeout=60)
        assert proc.returncode in (0, -9), proc.stderr
        return proc.returncode, work

    rc, reference = run("none", 0)
    after = files(reference)
    assert rc == 0 and after != before and "runs/data.parquet" in after
    # Every quarantined url loaded or was cleared: the commit deletes a file as well.
    assert "quarantine/data.parquet" in before and "quarantine/data.parquet" not in after

    outcomes: dict[str, list[str]] = {}
    for mode in ("write", "replace-before", "replace-after", "unlink"):
        for k in range(1, 40):
            rc, work = run(mode, k)
            if rc == 0:
                break  # the kill point lies beyond the commit's last step
            Lake(work)  # recovery
            state = files(work)
            assert state in (before, after), (mode, k)
            assert not list(work.rglob("*.tmp")) and not (work / journal.JOURNAL_NAME).exists()
            outcomes.setdefault(mode, []).append("before" if state == before else "after")
            shutil.rmtree(work)
    assert set(outcomes["write"]) == {"before"}
    # replace #1 is the journal's rename, the commit point; everything after rolls forward.
    assert outcomes["replace-before"][0] == "before" and set(outcomes["replace-before"][1:]) == {"after"}
    assert len(outcomes["replace-before"]) >= 8  # several tables and partitions in one commit
    assert set(outcomes["replace-after"]) == {"after"} and outcomes["unlink"] == ["after"]


# -- publish -----------------------------------------------------------------------------------

def test_publish_documents_every_table_view_and_column(lake: Lake, tmp_path: Path):
    one_run(lake, BATCH)
    db = tmp_path / "statenotes.duckdb"
    result = publish(lake, db)
    assert result.row_counts["notes"] == 3 and result.row_counts["actors"] == 2
    assert set(result.views) == set(VIEWS) >= {"notes_latest", "notes_by_month", "actor_mentions_by_month", "co_mentions"}
    tables = dict(db_rows(db, "SELECT table_name, comment FROM duckdb_tables()"))
    views = dict(db_rows(db, "SELECT view_name, comment FROM duckdb_views() WHERE NOT internal"))
    # Besides the lake's tables: reference tables (places) and views stored as tables (travels).
    assert set(tables) == set(TABLES) | set(REFERENCE_TABLES) | STORED_VIEWS
    assert set(views) == set(VIEWS) - STORED_VIEWS
    assert all(c and c.strip() for c in [*tables.values(), *views.values()])
    assert tables["notes"].startswith("One row per note version")
    columns = db_rows(db, "SELECT table_name, column_name, comment FROM duckdb_columns() WHERE NOT internal")
    assert {(t, c) for t, c, _ in columns if t in TABLES} == {
        (t, c) for t, s in TABLES.items() for c in s.column_names}
    assert [(t, c) for t, c, comment in columns if not (comment and comment.strip())] == []

    assert db_rows(db, 'SELECT "month", count_notes FROM notes_by_month ORDER BY 1 NULLS LAST') == [
        (date(2019, 2, 1), 1), (date(2021, 3, 1), 1), (None, 1)]
    for name, table_spec in TABLES.items():  # keys are not null and unique
        keys = ", ".join(f'"{k}"' for k in table_spec.keys)
        assert db_rows(db, f'SELECT count(*) - count(DISTINCT ({keys})) FROM "{name}"') == [(0,)]
        nulls = " OR ".join(f'"{k}" IS NULL' for k in table_spec.keys)
        assert db_rows(db, f'SELECT count(*) FROM "{name}" WHERE {nulls}') == [(0,)]

    doc = describe_schema(db)
    assert "### `notes`" in doc and "### `notes_latest`" in doc and "| `quoted_end_seq` | INTEGER |" in doc
    assert doc.index("## Tables") < doc.index("### `runs`") < doc.index("## Views")


def test_publish_empty_lake_creates_typed_empty_tables(lake: Lake, tmp_path: Path):
    db = tmp_path / "statenotes.duckdb"
    assert publish(lake, db).row_counts == {t: 0 for t in TABLES}
    types = dict(db_rows(db, "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'notes'"))
    assert (types["tags"], types["published_date"], types["fetched_at"]) == (
        "VARCHAR[]", "DATE", "TIMESTAMP WITH TIME ZONE")
    assert db_rows(db, "SELECT count(*) FROM notes_latest") == [(0,)]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


HOLDER_SCRIPT = textwrap.dedent("""
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == "ro")
    count = lambda: con.execute("SELECT count(*) FROM notes").fetchone()[0]
    print(count(), flush=True)
    sys.stdin.readline()  # the parent publishes meanwhile
    print(count(), flush=True)
    con.close()
""")


@pytest.mark.parametrize("access", ["ro", "rw"])
def test_publish_while_an_analyst_holds_the_old_file(lake: Lake, tmp_path: Path, access: str):
    db = tmp_path / "statenotes.duckdb"
    one_run(lake, BATCH[:1])
    publish(lake, db)
    script = tmp_path / "holder.py"
    script.write_text(HOLDER_SCRIPT)
    holder = subprocess.Popen([PYTHON, str(script), str(db), access], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "1"
        lake.merge_notes(note_tables(BATCH[1:], "r2"))
        publish(lake, db)  # not blocked by the open connection, even a read-write one
        assert db_rows(db, "SELECT count(*) FROM notes") == [(3,)]
        out, err = holder.communicate("go\n", timeout=30)
        assert out.strip() == "1", err  # the analyst keeps the snapshot they opened
        assert holder.returncode == 0
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
    assert db_rows(db, "SELECT count(*) FROM notes_latest") == [(3,)]


STALE_WAL_SCRIPT = textwrap.dedent("""
    import os, signal, sys, duckdb
    con = duckdb.connect(sys.argv[1])
    con.execute("CREATE TABLE scratch AS SELECT 42 AS x")  # lands in the WAL
    os.kill(os.getpid(), signal.SIGKILL)  # no checkpoint: the WAL stays behind
""")


def test_publish_removes_a_stale_wal(lake: Lake, tmp_path: Path):
    db = tmp_path / "statenotes.duckdb"
    one_run(lake, BATCH)
    publish(lake, db)
    script = tmp_path / "stale.py"
    script.write_text(STALE_WAL_SCRIPT)
    assert subprocess.run([PYTHON, str(script), str(db)], timeout=60).returncode == -9
    wal = db.with_name(db.name + ".wal")
    assert wal.exists()
    publish(lake, db)
    assert not wal.exists()
    assert db_rows(db, "SELECT count(*) FROM notes_latest") == [(3,)]
