"""The candidate spool and the partition-by-partition merge: spooled batches merge to the same bytes
as one in-memory merge, a note in two batches keeps two candidates, spools never outlive their run
or their process, and a transaction stages files on disk rather than tables in memory."""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from statenotes.transforms.records import ActorMention
from statenotes.warehouse import journal, spool as spool_module
from statenotes.warehouse.errors import WarehouseError
from statenotes.warehouse.lake import Lake, Transaction
from statenotes.warehouse.records import RUN_SUCCESS, QuarantineItem, RunRecord
from statenotes.warehouse.rows import note_tables
from statenotes.warehouse.spool import SPOOL_DIRNAME

from test_warehouse import IRAQ, T0, UN, fetch, files, loaded

PYTHON = sys.executable

# Runs exercising every merge case: new notes in three year partitions (one undated), a note
# loaded twice in one run with an edit in between, an unchanged reload whose mentions changed
# (gazetteer), an unchanged reload whose mentions did not, and a new version in another year.
UN_MENTION = ActorMention(0, 9, 11, "UN", "org:united-nations")
RUNS = [
    [loaded(texts=("Iraq and the UN met.",)),
     loaded(path="/second/", texts=("Iraq again.", "More."), published=date(2021, 3, 1),
            fetched_at=T0 + timedelta(minutes=1)),
     loaded(path="/undated/", published=None, actors=(IRAQ, UN), fetched_at=T0 + timedelta(minutes=2)),
     loaded(path="/twice/", texts=("Iraq first text.",), fetched_at=T0 + timedelta(minutes=3)),
     loaded(path="/twice/", texts=("Iraq second text.",), fetched_at=T0 + timedelta(minutes=4)),
     loaded(path="/twice/", texts=("Iraq second text.",), fetched_at=T0 + timedelta(minutes=5))],
    [loaded(texts=("Iraq and the UN met.",), actors=(IRAQ, UN), fetched_at=T0 + timedelta(days=1),
            mentions=(ActorMention(0, 0, 4, "Iraq", "IRQ"), UN_MENTION)),
     loaded(path="/second/", texts=("Iraq again.", "More."), published=date(2021, 3, 1),
            fetched_at=T0 + timedelta(days=1, minutes=1)),
     loaded(path="/second/", texts=("Iraq again.", "More, edited."), published=date(2022, 1, 5),
            fetched_at=T0 + timedelta(days=1, minutes=2)),
     loaded(path="/new/", texts=("Iraq news.",), fetched_at=T0 + timedelta(days=1, minutes=3))],
]


def in_memory_run(lake: Lake, notes, run_id: str):
    with lake.transaction() as tx:
        counts = tx.merge_notes(note_tables(notes, run_id))
        tx.append_fetches([fetch(n.url, n.fetched_at) for n in notes], run_id)
        tx.clear_quarantine(sorted({n.url for n in notes}))
        tx.append_run(RunRecord(run_id, "nightly", T0, RUN_SUCCESS))
    return counts


def spooled_run(lake: Lake, notes, run_id: str, batch_size: int):
    notes = sorted(notes, key=lambda n: n.fetched_at)  # batches in fetch order, as a run makes them
    with lake.spool(run_id) as spool:
        for start in range(0, len(notes), batch_size):
            batch = notes[start:start + batch_size]
            spool.add(note_tables(batch, run_id))
            spool.add_fetches([fetch(n.url, n.fetched_at) for n in batch])
        with lake.transaction() as tx:
            counts = tx.merge_spooled(spool)
            assert tx.append_spooled_fetches(spool, run_id) == len(notes)
            tx.clear_quarantine(spool.urls())
            tx.append_run(RunRecord(run_id, "nightly", T0, RUN_SUCCESS))
    return counts


@pytest.mark.parametrize("batch_size", [1, 2, 4])
def test_spooled_batches_give_the_same_bytes_as_one_merge(tmp_path: Path, batch_size: int):
    memory, spooled = Lake(tmp_path / "memory"), Lake(tmp_path / "spooled")
    for quarantined in (memory, spooled):
        quarantined.upsert_quarantine([QuarantineItem(RUNS[0][1].url, "fetch", "HTTP 503", None, T0)])
    expected = [in_memory_run(memory, notes, f"run-{i}") for i, notes in enumerate(RUNS)]
    assert [(c.new, c.updated, c.unchanged, c.mentions_refreshed) for c in expected] == [
        (4, 1, 1, 0), (1, 1, 2, 1)]
    assert [spooled_run(spooled, notes, f"run-{i}", batch_size) for i, notes in enumerate(RUNS)] == expected
    assert files(spooled.root) == files(memory.root)
    assert not (spooled.root / SPOOL_DIRNAME).exists() and not (memory.root / SPOOL_DIRNAME).exists()
    # Re-running the last run's final states changes no file.
    before = files(spooled.root)
    again = spooled_run(spooled, [RUNS[1][0], *RUNS[1][2:]], "run-1", batch_size)
    assert (again.new, again.updated, again.unchanged, again.mentions_refreshed) == (0, 0, 3, 0)
    assert files(spooled.root) == before


def test_a_note_in_two_batches_keeps_two_candidates(tmp_path: Path):
    lake = Lake(tmp_path / "lake")
    first = loaded(texts=("Iraq first text.",))
    edited = loaded(texts=("Iraq second text.",), fetched_at=T0 + timedelta(hours=1))
    reloaded = loaded(texts=("Iraq second text.",), fetched_at=T0 + timedelta(hours=2))
    with lake.spool("run-1") as spool:
        for batch in ([first], [edited, loaded(path="/other/")], [reloaded]):
            spool.add(note_tables(batch, "run-1"))
        assert len(spool) == 4
        candidates = spool.light().sort_by([("note_id", "ascending"), ("version", "ascending")]).to_pylist()
        assert [(c["note_id"] == candidates[0]["note_id"], c["version"]) for c in candidates] == [
            (True, 1), (True, 2), (True, 3), (False, 1)]
        assert [m["version"] for m in spool.read("mentions", 2019).to_pylist()
                if m["note_id"] == candidates[0]["note_id"]] == [1, 1, 2, 2, 3, 3]
        with lake.transaction() as tx:
            counts = tx.merge_spooled(spool)
    assert (counts.new, counts.updated, counts.unchanged) == (2, 1, 1)
    stored = [(n["version"], n["body_text"], n["fetched_at"], n["first_seen_at"])
              for n in lake.read("notes").to_pylist() if n["url"] == first.url]
    assert stored == [(1, "Iraq first text.", T0, T0), (2, "Iraq second text.", T0 + timedelta(hours=1), T0)]
    assert sorted({(m["version"], m["seq"]) for m in lake.read("mentions").to_pylist()
                   if m["note_id"] == candidates[0]["note_id"]}) == [(1, -1), (1, 0), (2, -1), (2, 0)]


def test_a_spool_pickles_small_and_reads_the_same(tmp_path: Path):
    lake = Lake(tmp_path / "lake")
    with lake.spool("run-1") as spool:
        for i in range(20):
            spool.add(note_tables([loaded(path=f"/n{i}/", texts=("Iraq " + "words " * 2000,))], "run-1"))
        copy = pickle.loads(pickle.dumps(spool))
        assert len(pickle.dumps(spool)) < 20_000  # a path and indexes, not rows
        assert copy.read("paragraphs", 2019).equals(spool.read("paragraphs", 2019))
        assert copy.urls() == spool.urls() and len(copy) == 20


def test_spool_is_removed_on_exit_and_on_exception(tmp_path: Path):
    lake = Lake(tmp_path / "lake")
    with lake.spool("run-1") as spool:
        spool.add(note_tables([loaded()], "run-1"))
        spool.add_fetches([fetch(loaded().url)])
        assert spool.directory.parent == lake.root / SPOOL_DIRNAME
        assert sorted(p.relative_to(spool.directory).as_posix() for p in spool.directory.rglob("*.parquet")) == [
            "fetches/000000.parquet", "mentions/000000.parquet", "notes/000000.parquet",
            "paragraphs/000000.parquet"]
        assert spool.urls() == [loaded().url] and lake.read("notes").num_rows == 0  # not lake data
    assert not spool.directory.exists() and not (lake.root / SPOOL_DIRNAME).exists()

    with pytest.raises(RuntimeError):
        with lake.spool("run-2") as spool:
            spool.add(note_tables([loaded()], "run-2"))
            raise RuntimeError("the run failed while fetching")
    assert not spool.directory.exists()
    assert files(lake.root) == {}


OWNER_SCRIPT = textwrap.dedent("""
    import os, signal, sys
    from statenotes.warehouse.lake import Lake, Transaction
    spool = Lake(sys.argv[1]).spool(sys.argv[2])
    print(spool.directory, flush=True)
    if sys.argv[3] == "die":
        os.kill(os.getpid(), signal.SIGKILL)  # no cleanup: the spool stays behind
    sys.stdin.readline()
""")


def test_opening_the_lake_removes_dead_processes_spools_only(tmp_path: Path):
    root = tmp_path / "lake"
    script = tmp_path / "owner.py"
    script.write_text(OWNER_SCRIPT)
    dead = subprocess.run([PYTHON, str(script), str(root), "dead-run", "die"], capture_output=True, text=True,
                          timeout=60)
    assert dead.returncode == -signal.SIGKILL, dead.stderr
    dead_dir = Path(dead.stdout.strip())
    assert (dead_dir / spool_module.OWNER_FILE).exists()
    live = subprocess.Popen([PYTHON, str(script), str(root), "live-run", "wait"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        live_dir = Path(live.stdout.readline().strip())
        lake = Lake(root)
        mine = lake.spool("my-run")
        # A pid reused by another process: its start time differs.
        reused = root / SPOOL_DIRNAME / "reused-pid"
        reused.mkdir()
        (reused / spool_module.OWNER_FILE).write_text(json.dumps(
            {**spool_module._owner(), "started": "1"}))
        Lake(root)
        assert not dead_dir.exists() and not reused.exists()
        assert live_dir.is_dir() and mine.directory.is_dir()
        assert {p.name for p in live_dir.iterdir()} >= {"notes", "fetches"}  # empty dirs kept too
        with pytest.raises(WarehouseError, match="in use"):
            lake.spool("live-run")
        live.communicate("done\n", timeout=30)
        Lake(root)  # the live one has ended without removing its spool
        assert not live_dir.exists() and mine.directory.is_dir()
        mine.remove()
    finally:
        if live.poll() is None:
            live.kill()
            live.wait()


def test_unverifiable_spools_are_removed_after_a_day(tmp_path: Path):
    lake = Lake(tmp_path / "lake")
    elsewhere = lake.root / SPOOL_DIRNAME / "other-host"
    elsewhere.mkdir(parents=True)
    owner = elsewhere / spool_module.OWNER_FILE
    owner.write_text(json.dumps({"pid": 1, "started": None, "host": "another-host"}))
    Lake(lake.root)
    assert elsewhere.is_dir()  # cannot tell whether it is in use: kept while recently active
    day_ago = time.time() - spool_module.STALE_AFTER_S - 60
    os.utime(owner, (day_ago, day_ago))
    Lake(lake.root)
    assert not elsewhere.exists()


def test_exception_after_merge_spooled_leaves_the_lake_as_it_was(tmp_path: Path):
    lake = Lake(tmp_path / "lake")
    in_memory_run(lake, RUNS[0], "run-0")
    before = files(lake.root)
    dirs_before = sorted(p for p in lake.root.rglob("*") if p.is_dir())
    with pytest.raises(RuntimeError):
        with lake.spool("run-1") as spool:
            spool.add(note_tables(RUNS[1], "run-1"))
            spool.add_fetches([fetch(n.url, n.fetched_at) for n in RUNS[1]])
            with lake.transaction() as tx:
                tx.merge_spooled(spool)
                tx.append_spooled_fetches(spool, "run-1")
                assert any(staged is not None and staged.exists() for staged in tx._pending.values())
                raise RuntimeError("the flow failed after staging")
    assert files(lake.root) == before
    assert not list(lake.root.rglob("*.tmp"))
    assert sorted(p for p in lake.root.rglob("*") if p.is_dir()) == dirs_before  # year=2022 went too


def test_put_stages_a_file_not_a_table(tmp_path: Path):
    lake = Lake(tmp_path / "lake")
    lake.merge_notes(note_tables([loaded()], "r1"))
    committed = lake.read("notes")
    path = lake.root / "notes" / "year=2019" / "part-0.parquet"
    edited = note_tables([loaded(texts=("Iraq, edited.",))], "r2")["notes"]
    with lake.transaction() as tx:
        version_2 = edited.set_column(1, edited.schema.field("version"), pa.array([2], pa.int32()))
        assert tx.put(path, "notes", pa.concat_tables([committed, version_2]))
        staged = tx._pending[path]
        assert isinstance(staged, Path) and staged == journal.tmp_name(path, tx.txid) and staged.exists()
        assert [n["version"] for n in tx.load(path, "notes").to_pylist()] == [1, 2]
        assert tx.load(path, "notes", columns=["version"]).column("version").to_pylist() == [1, 2]
        assert tx.put(path, "notes", committed.slice(0, 0))  # then emptied: a deletion, staged file gone
        assert tx._pending[path] is None and not staged.exists() and tx.load(path, "notes").num_rows == 0
        assert tx.put(path, "notes", edited)  # staged again, replacing the deletion
        assert not tx.put(path, "notes", committed)  # back to what is committed: nothing staged
        assert path not in tx._pending and not staged.exists()
        assert all(isinstance(v, Path) or v is None for v in tx._pending.values())
    assert lake.read("notes").equals(committed)
    assert not list(lake.root.rglob("*.tmp"))


def test_recovery_leaves_a_live_spool_alone(tmp_path: Path):
    lake = Lake(tmp_path / "lake")
    with lake.spool("run-1") as spool:
        spool.add(note_tables([loaded()], "run-1"))  # fetches/ stays empty
        (spool.directory / "notes" / ".looks-like-a-stage.tmp").write_bytes(b"not the lake's")
        with lake.transaction() as tx:
            counts = tx.merge_spooled(spool)
        Lake(lake.root)  # recovery, and stale spool removal
        assert (spool.directory / "fetches").is_dir()
        assert (spool.directory / "notes" / ".looks-like-a-stage.tmp").exists()
        assert spool.read("notes", 2019).num_rows == 1
    assert counts.new == 1 and lake.read("notes").num_rows == 1


def test_batches_mixing_years_are_compacted_and_read_back_in_add_order(tmp_path: Path, monkeypatch):
    lake = Lake(tmp_path / "lake")
    notes = [loaded(path=f"/n{i}/", published=date(2019 + i % 3, 1, 1), fetched_at=T0 + timedelta(minutes=i))
             for i in range(18)]
    monkeypatch.setattr(spool_module, "SEGMENT_BATCHES", 3)
    with lake.spool("run-1") as spool:
        for i in range(0, 18, 3):  # every batch spans the three years: compacted by three
            spool.add(note_tables(notes[i:i + 3], "r"))
            # The same fetch keys in every batch: the last rows (their status) must win after compaction too.
            spool.add_fetches([fetch(notes[0].url, T0, status=200 + i),
                               fetch(notes[1].url, T0 - timedelta(days=400), status=300 + i)])
        for i in range(18):  # one year per batch: settled as they are
            spool.add(note_tables([loaded(path=f"/m{i}/", published=date(2018, 1, 1))], "r"))
        files = spool._files["notes"]
        assert [(f.by_year, sorted(f.row_groups)) for f in files[:2]] == [(True, [2019, 2020, 2021])] * 2
        assert all(len(groups) == 1 for f in files[:2] for groups in f.row_groups.values())  # row group per year
        assert [(f.by_year, list(f.row_groups)) for f in files[2:]] == [(False, [2018])] * 18
        assert sorted(p.name for p in (spool.directory / "notes").iterdir()) == sorted(f.name[6:] for f in files)
        assert spool.years("notes") == [2018, 2019, 2020, 2021]
        assert [n["url"] for n in spool.read("notes", 2020).to_pylist()] == [notes[i].url for i in range(1, 18, 3)]
        assert spool.read("notes", 2018).num_rows == 18 and spool.read("notes", 2022).num_rows == 0
        assert [f.by_year for f in spool._files["fetches"]] == [True, True]
        assert len(spool) == 36 and spool.fetch_count == 12
        with lake.transaction() as tx:
            assert tx.merge_spooled(spool).new == 36
            tx.append_spooled_fetches(spool, "run-1")
    assert [f["status"] for f in lake.read("fetches").to_pylist()] == [315, 215]
    assert len(lake.read("notes")) == 36 and len(lake.read("paragraphs")) == 36


def test_merge_goes_one_year_partition_at_a_time(tmp_path: Path, monkeypatch):
    lake = Lake(tmp_path / "lake")
    notes = [loaded(path=f"/n{i}/", published=date(2019 + i % 3, 1, 1) if i % 4 else None,
                    fetched_at=T0 + timedelta(minutes=i)) for i in range(12)]
    events: list[tuple[str, str, object]] = []
    real_read, real_put = spool_module.CandidateSpool.read, Transaction.put

    def read(self, kind, year):
        events.append(("read", kind, year))
        return real_read(self, kind, year)

    def put(self, path, table, content):
        events.append(("put", table, path.parent.name))
        return real_put(self, path, table, content)

    monkeypatch.setattr(spool_module.CandidateSpool, "read", read)
    monkeypatch.setattr(Transaction, "put", put)
    with lake.spool("run-1") as spool:
        for i in range(0, 12, 4):
            spool.add(note_tables(notes[i:i + 4], "run-1"))
        with lake.transaction() as tx:
            tx.merge_spooled(spool)
    # Each year's rows are read, merged and staged before the next year's are read.
    expected = []
    for year in (2019, 2020, 2021, None):
        partition = f"year={year if year else '__HIVE_DEFAULT_PARTITION__'}"
        for table in ("notes", "paragraphs", "mentions"):
            expected += [("read", table, year), ("put", table, partition)]
    assert events == [*expected, ("put", "actors", "actors")]


def test_put_refuses_duplicate_keys_whatever_the_file_order(tmp_path: Path):
    lake = Lake(tmp_path / "lake")
    run = RunRecord("r1", "nightly", T0, RUN_SUCCESS)
    lake.append_run(run)
    runs = lake.read("runs")  # sorted by started_at, run_id; keyed by run_id alone
    later = runs.set_column(3, runs.schema.field("started_at"), pa.array([T0 + timedelta(1)], runs.schema.field("started_at").type))
    candidates = note_tables([loaded()], "r")  # sorted by their keys
    with lake.transaction() as tx:
        with pytest.raises(WarehouseError, match="duplicate key"):
            tx.put(tx.path_for("runs"), "runs", pa.concat_tables([runs, later]))
        with pytest.raises(WarehouseError, match="duplicate key"):
            tx.put(tx.path_for("mentions", 2019), "mentions",
                   pa.concat_tables([candidates["mentions"], candidates["mentions"].slice(1)]))
        assert tx.put(tx.path_for("runs"), "runs", later) and tx.load(tx.path_for("runs"), "runs").equals(later)
