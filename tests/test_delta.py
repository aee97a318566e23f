"""The lake published as Delta tables on a real S3 server on 127.0.0.1 (moto in server mode, reached
through sockets by delta-rs's own S3 client, credentials from the environment): first publish,
incremental publish rewriting only changed partitions, readers (deltalake, DuckDB through Arrow,
time travel to the previous run), a publish killed midway, two publishers at once, and a failed
publish that leaves the run, the lake and the DuckDB file intact and is done by the next run."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import boto3
import duckdb
import pyarrow as pa
import pytest
from deltalake import DeltaTable

from statenotes.flows.parameters import BackfillRequest
from statenotes.flows.pipeline import backfill
from statenotes.flows.settings import load_settings, run_with
from statenotes.mirror.server import MirrorServer
from statenotes.warehouse import delta
from statenotes.warehouse.lake import Lake
from statenotes.warehouse.schema import PARTITION_NONE, TABLES

ACCESS_KEY, SECRET_KEY = "statenotes-test-key", "statenotes-test-secret-0123456789"
FIRST = BackfillRequest(start=date(2000, 1, 1), end=date(2018, 12, 31))
SECOND = BackfillRequest(start=date(2019, 1, 1), end=date(2019, 12, 31))
THIRD = BackfillRequest(start=date(2020, 1, 1), end=date(2024, 12, 31))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class S3Server:
    """moto's S3 in its own process on a loopback port. (In this process it would deadlock: delta-rs
    holds the GIL while it waits for some answers.) An outage points the environment's endpoint at
    a closed port: the buckets stay, as they would on a real store."""

    def __init__(self):
        self.port = _free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("the S3 server did not start") from None
                time.sleep(0.1)

    def stop(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    @contextlib.contextmanager
    def outage(self) -> Iterator[None]:
        """Every client built meanwhile reaches nothing (the endpoint is a closed loopback port)."""
        os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{_free_port()}"
        try:
            yield
        finally:
            os.environ["AWS_ENDPOINT_URL"] = self.endpoint

    def client(self):
        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)

    def bucket(self, name: str) -> str:
        self.client().create_bucket(Bucket=name)
        return f"s3://{name}/statenotes"

    def commit(self, uri: str, table: str, version: int) -> list[dict]:
        """The actions of one Delta commit, read from the log object itself."""
        bucket, prefix = uri.removeprefix("s3://").split("/", 1)
        body = self.client().get_object(Bucket=bucket, Key=f"{prefix}/{table}/_delta_log/{version:020d}.json")
        return [json.loads(line) for line in body["Body"].read().decode().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def s3():
    with pytest.MonkeyPatch.context() as env:
        server = S3Server()
        # The only place credentials and the endpoint come from: the environment, as in production.
        for name, value in {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                            "AWS_ENDPOINT_URL": server.endpoint, "AWS_ALLOW_HTTP": "true",
                            "AWS_REGION": "us-east-1"}.items():
            env.setenv(name, value)
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_S3_LOCKING_PROVIDER"):
            env.delenv(name, raising=False)
        try:
            yield server
        finally:
            server.stop()


def _settings(site: MirrorServer, data_dir: Path, uri: str):
    return load_settings(base_url=site.base_url, data_dir=data_dir, crawl_delay_s=0.0, requests_per_minute=0,
                         delta_uri=uri)


def _lake_table(root: Path, table: str) -> pa.Table:
    """A lake table as Arrow, its hive partition read back as the `year` column."""
    files = Lake.committed_files(root, table)
    if not files:
        return pa.table({})
    con = duckdb.connect()
    partitioned = TABLES[table].partition is not PARTITION_NONE
    return con.sql(f"select * from read_parquet({[str(f) for f in files]}, hive_partitioning = {partitioned})"
                   ).arrow().read_all()


def _same_rows(delta_table: DeltaTable, lake_root: Path, table: str) -> None:
    keys = list(TABLES[table].sort_keys)
    con = duckdb.connect()
    published = delta_table.to_pyarrow_dataset()  # DuckDB reads it through Arrow, no extension
    local = _lake_table(lake_root, table)
    partition = ["year"] if TABLES[table].partition is not PARTITION_NONE else []
    columns = ", ".join(f'"{c}"' for c in TABLES[table].column_names + partition)
    order = ", ".join(f'"{k}"' for k in keys)
    remote_rows = con.sql(f"select {columns} from published order by {order}").fetchall()
    local_rows = con.sql(f"select {columns} from local order by {order}").fetchall() if local.num_columns else []
    assert remote_rows == local_rows, table


def _partition_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.parquet")
            if not any(part.startswith(".") for part in p.relative_to(root).parts)}


def _partitions_in(actions: list[dict], kind: str) -> set[str]:
    return {json.dumps(a[kind].get("partitionValues", {}), sort_keys=True) for a in actions if kind in a}


@pytest.fixture(scope="module")
def two_runs(s3, prefect_harness, tmp_path_factory):
    """Two backfills publishing to S3: 2000-2018, then 2019. Keeps a copy of the lake after each."""
    work = tmp_path_factory.mktemp("delta")
    uri = s3.bucket("two-runs")
    lakes, summaries = [], []
    with MirrorServer() as site:
        for window in (FIRST, SECOND):
            summaries.append(run_with(_settings(site, work / "data", uri), backfill, window))
            lakes.append(shutil.copytree(work / "data" / "lake", work / f"lake-{len(lakes)}"))
    return {"uri": uri, "lakes": lakes, "run_ids": [s.run_id for s in summaries], "data": work / "data"}


def test_every_lake_table_is_a_delta_table_with_its_partitions_comments_and_run_id(s3, two_runs):
    uri, lake = two_runs["uri"], two_runs["lakes"][-1]
    tables = delta.snapshot(uri)
    assert set(tables) == set(TABLES)
    for name, table_spec in TABLES.items():
        dt = tables[name]
        assert dt.metadata().description == table_spec.description
        assert dt.metadata().partition_columns == ([] if table_spec.partition is PARTITION_NONE else ["year"])
        comments = {f.name: f.metadata.get("comment") for f in dt.schema().fields}
        assert all(comments[c.name] == c.description for c in table_spec.columns), name
        _same_rows(dt, lake, name)
    last = tables["runs"].history(1)[0]
    assert last[delta.RUN_ID_KEY] == two_runs["run_ids"][-1]
    runs = tables["runs"].to_pyarrow_dataset()
    newest = duckdb.connect().sql("select run_id from runs order by started_at desc limit 1").fetchall()[0][0]
    assert newest == two_runs["run_ids"][-1]


def test_the_second_run_rewrites_only_the_partitions_whose_lake_file_changed(s3, two_runs):
    uri, (before, after) = two_runs["uri"], two_runs["lakes"]
    old, new = _partition_files(before), _partition_files(after)
    for table in ("notes", "paragraphs", "mentions", "fetches"):
        changed = {path.split("/")[1].split("=", 1)[1] for path, data in new.items()
                   if path.startswith(f"{table}/") and old.get(path) != data}
        changed = {None if value == "__HIVE_DEFAULT_PARTITION__" else value for value in changed}
        dt = DeltaTable(delta.table_uri(uri, table))
        assert dt.version() == 1, table  # one commit per run
        actions = s3.commit(uri, table, 1)
        commit = next(a["commitInfo"] for a in actions if "commitInfo" in a)
        assert commit[delta.RUN_ID_KEY] == two_runs["run_ids"][1], table
        added = {a["add"]["partitionValues"]["year"] for a in actions if "add" in a}
        removed = {a["remove"]["partitionValues"]["year"] for a in actions if "remove" in a}
        assert added == changed, table
        assert removed <= changed, table  # a new year has nothing to remove
        assert changed and len(changed) < len({p for p in new if p.startswith(f"{table}/")}) + 1, table


def test_a_reader_travels_back_to_the_previous_run(s3, two_runs):
    uri, (before, after) = two_runs["uri"], two_runs["lakes"]
    first, second = two_runs["run_ids"]
    then, now = delta.snapshot(uri, run_id=first), delta.snapshot(uri)
    for name in TABLES:
        _same_rows(then[name], before, name)
        _same_rows(now[name], after, name)
    assert then["notes"].version() == now["notes"].version() - 1
    with pytest.raises(LookupError, match="no publish of run nope"):
        delta.snapshot(uri, run_id="nope")


def test_duckdb_answers_the_readme_query_from_the_delta_tables_as_from_its_file(s3, two_runs):
    tables = delta.snapshot(two_runs["uri"])
    notes, mentions = tables["notes"].to_pyarrow_dataset(), tables["mentions"].to_pyarrow_dataset()
    query = """select n.note_id, max(n.version) from {notes} n join {mentions} m using (note_id, version)
               where m.actor_id = 'IRQ' group by all order by all"""
    remote = duckdb.connect().sql(query.format(notes="notes", mentions="mentions")).fetchall()
    with duckdb.connect(str(two_runs["data"] / "statenotes.duckdb"), read_only=True) as con:
        local = con.sql(query.format(notes="notes", mentions="mentions")).fetchall()
    assert remote == local and remote


def test_a_publish_killed_midway_leaves_readers_on_the_last_run_and_the_next_publish_finishes(
        s3, two_runs, monkeypatch):
    uri = s3.bucket("killed")
    before, after = two_runs["lakes"]
    delta.publish(Lake(before), uri, "run-1")
    real = delta._publish_table

    def dies_at_mentions(uri_, table, *args, **kwargs):
        if table == "mentions":  # the store goes away in the middle of the publish
            with s3.outage():
                return real(uri_, table, *args, **kwargs)
        return real(uri_, table, *args, **kwargs)

    monkeypatch.setattr(delta, "_publish_table", dies_at_mentions)
    with pytest.raises(OSError):
        delta.publish(Lake(after), uri, "run-2")
    monkeypatch.setattr(delta, "_publish_table", real)
    assert DeltaTable(delta.table_uri(uri, "notes")).version() == 1  # committed before the outage
    for name, dt in delta.snapshot(uri).items():  # readers still see run-1 everywhere
        _same_rows(dt, before, name)
    result = delta.publish(Lake(after), uri, "run-3")
    assert "notes" not in result.rewritten and {"mentions", "runs"} <= set(result.rewritten)
    for name, dt in delta.snapshot(uri).items():
        _same_rows(dt, after, name)
    assert delta.publish(Lake(after), uri, "run-4").rewritten == {}  # nothing left to do


def test_two_publishers_at_once_one_commits_the_other_reads_again_and_has_nothing_left(s3, two_runs, monkeypatch):
    uri = s3.bucket("race")
    before, after = two_runs["lakes"]
    delta.publish(Lake(before), uri, "run-1")
    both_read = threading.Barrier(2, timeout=30)
    real_open, waited = delta._open, set()

    def open_together(target, options):
        table = real_open(target, options)
        if target.endswith("/notes") and threading.get_ident() not in waited:
            waited.add(threading.get_ident())
            both_read.wait()  # both have read version 0 of notes before either commits
        return table

    monkeypatch.setattr(delta, "_open", open_together)
    outcomes: list[object] = []

    def publisher(lake: Lake, run_id: str) -> None:
        try:
            outcomes.append(delta.publish(lake, uri, run_id))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            outcomes.append(exc)

    # Opened first: opening takes the lake's exclusive lock, which a running publish's shared one
    # would hold off (on one lake, publishers queue; the race is between two lakes or machines).
    lakes = [Lake(after), Lake(after)]
    threads = [threading.Thread(target=publisher, args=(lake, f"racer-{i}")) for i, lake in enumerate(lakes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(outcomes) == 2 and all(isinstance(o, delta.PublishResult) for o in outcomes), outcomes
    notes = [o.rewritten.get("notes") for o in outcomes]
    assert sorted(notes, key=bool) == [None, notes[0] or notes[1]] and (notes[0] or notes[1])  # one wrote them
    notes_table = DeltaTable(delta.table_uri(uri, "notes"))
    assert notes_table.version() == 1  # the loser's commit failed, it read again and found nothing to do
    for name, dt in delta.snapshot(uri).items():
        _same_rows(dt, after, name)
        assert [c["version"] for c in dt.history()] == list(range(dt.version(), -1, -1)), name


def test_a_failed_publish_keeps_the_run_and_the_next_run_publishes(s3, two_runs, prefect_harness, tmp_path, caplog):
    data = shutil.copytree(two_runs["data"], tmp_path / "data")
    uri = s3.bucket("outage")
    with MirrorServer() as site:
        settings = _settings(site, data, uri)
        with s3.outage(), caplog.at_level(logging.WARNING):
            summary = run_with(settings, backfill, THIRD)
        assert summary.new > 0
        warnings = [r.getMessage() for r in caplog.records if "not published" in r.getMessage()]
        assert warnings and "the next run publishes" in warnings[0]
        with duckdb.connect(str(settings.db_path), read_only=True) as con:
            assert con.execute("select count(*) from runs where run_id = ?", [summary.run_id]).fetchone()[0] == 1
        assert not DeltaTable.is_deltatable(delta.table_uri(uri, "runs"))
        run_with(settings, backfill, THIRD)
    for name, dt in delta.snapshot(uri).items():
        _same_rows(dt, data / "lake", name)
    assert SECRET_KEY not in caplog.text


def test_redacted_drops_passwords_and_query_tokens():
    assert delta.redacted("s3://bucket/statenotes") == "s3://bucket/statenotes"
    assert delta.redacted("https://user:pw@host/x?sig=abc") == "https://host/x"
    assert delta.redacted("az://container/lake?sv=1&sig=secret") == "az://container/lake"


def test_the_old_setting_name_still_works_with_a_warning(monkeypatch):
    monkeypatch.setenv("STATENOTES_LAKE_REPLICA_URI", "s3://bucket/old")
    with pytest.warns(FutureWarning, match="lake_replica_uri .* is deprecated: use delta_uri"):
        assert load_settings().delta_uri == "s3://bucket/old"
    monkeypatch.setenv("STATENOTES_DELTA_URI", "s3://bucket/new")
    assert load_settings().delta_uri == "s3://bucket/new"  # the new name wins


def test_a_local_directory_takes_the_same_publish(two_runs, tmp_path):
    uri = (tmp_path / "shared" / "statenotes").as_uri()
    before, after = two_runs["lakes"]
    first = delta.publish(Lake(before), uri, "run-1")
    assert set(first.rewritten) == set(TABLES)
    DeltaTable(delta.table_uri(uri, "notes")).optimize.compact()  # someone else's commit in between
    second = delta.publish(Lake(after), uri, "run-2")
    assert "runs" in second.rewritten and set(second.rewritten) < set(TABLES)
    changed = {p.split("/")[1].split("=")[1] for p, data in _partition_files(after).items()
               if p.startswith("notes/") and _partition_files(before).get(p) != data}
    assert sorted(second.rewritten["notes"]) == sorted(changed)  # not everything, despite the OPTIMIZE
    for name in TABLES:
        _same_rows(delta.snapshot(uri, run_id="run-1")[name], before, name)
        _same_rows(delta.snapshot(uri)[name], after, name)


def test_a_table_or_partition_gone_from_the_lake_is_gone_from_delta(two_runs, tmp_path):
    uri = (tmp_path / "statenotes").as_uri()
    lake = shutil.copytree(two_runs["lakes"][-1], tmp_path / "lake")
    delta.publish(Lake(lake), uri, "run-1")
    (lake / "actors" / "data.parquet").unlink()  # a table emptied (as quarantine can be)
    oldest = Lake.committed_files(lake, "mentions")[0]
    shutil.rmtree(oldest.parent)  # a partition gone
    done = delta.publish(Lake(lake), uri, "run-2")
    assert done.rewritten["mentions"] == [oldest.parent.name.split("=")[1]]
    tables = delta.snapshot(uri)
    assert tables["actors"].to_pyarrow_dataset().count_rows() == 0
    _same_rows(tables["mentions"], lake, "mentions")


def test_doctor_checks_the_delta_target(two_runs, tmp_path, monkeypatch):
    """`statenotes doctor` with delta_uri set: up to date after the runs, behind after a failed publish,
    nothing published yet, and an unreachable store, each a finding (a warning), never a crash."""
    from statenotes.flows.doctor import DELTA, OK, WARN, _delta_check

    data = two_runs["data"]

    def check(uri: str):
        return _delta_check(load_settings(data_dir=data, delta_uri=uri))

    current = check(two_runs["uri"])
    assert (current.area, current.state) == (DELTA, OK), current
    assert two_runs["run_ids"][-1] in current.finding

    behind = (tmp_path / "behind").as_uri()
    delta.publish(Lake(two_runs["lakes"][0]), behind, two_runs["run_ids"][0])
    stale = check(behind)
    assert stale.state == WARN and "last publish failed" in stale.finding, stale

    empty = check((tmp_path / "empty").as_uri())
    assert empty.state == WARN and "nothing published yet" in empty.finding, empty

    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{_free_port()}")  # nobody listens there
    down = check(two_runs["uri"])
    assert down.state == WARN and "cannot be read" in down.finding and SECRET_KEY not in down.finding, down
