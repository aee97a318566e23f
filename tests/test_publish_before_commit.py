"""A run builds its DuckDB file from the staged lake before committing: a build that fails commits
nothing, and the committed lake and the published file always agree."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from statenotes.warehouse.publish import install, prepare, publish
from statenotes.warehouse.lake import Lake
from statenotes.warehouse.records import RUN_SUCCESS, RunRecord


def run(run_id: str) -> RunRecord:
    return RunRecord(run_id=run_id, flow="test", started_at=datetime(2024, 1, 1, tzinfo=UTC), status=RUN_SUCCESS)


def lake_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_staged_lake_is_published_then_committed(tmp_path):
    lake, db = Lake(tmp_path / "lake"), tmp_path / "statenotes.duckdb"
    prepared = []
    with lake.transaction(before_commit=lambda files: prepared.append(prepare(files, db))) as tx:
        tx.append_run(run("r1"))
    assert not db.exists(), "prepare must not touch the published file"
    install(prepared[0])
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select run_id from runs").fetchall() == [("r1",)]
    assert [r["run_id"] for r in lake.read("runs").to_pylist()] == ["r1"]


def test_a_failing_build_commits_nothing_and_leaves_no_temporary_file(tmp_path):
    lake, db = Lake(tmp_path / "lake"), tmp_path / "statenotes.duckdb"
    lake.append_run(run("r1"))
    publish(lake, db)
    before_lake, before_db = lake_files(lake.root), db.read_bytes()

    def broken_build(files):
        assert any(p.name.startswith(".") for p in files["runs"]), "staged files are offered by their temporary names"
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        with lake.transaction(before_commit=broken_build) as tx:
            tx.append_run(run("r2"))
    assert lake_files(lake.root) == before_lake
    assert db.read_bytes() == before_db
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lake", "statenotes.duckdb"]
