"""The flows' contracts beyond a clean crawl: the backfill form, a failed run changing nothing,
reprocess without the network, the run's artifacts matching its `runs` row, the deployments, the
lake's layout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError

from statenotes.extractors.errors import ParseError
from statenotes.flows import pages
from statenotes.flows.parameters import BackfillRequest, request_problems
from statenotes.flows.pipeline import backfill, reprocess
from statenotes.flows.settings import load_settings, run_with
from statenotes.flows.stages import STAGES
from statenotes.mirror.server import MirrorServer
from statenotes.mirror.site import load_sample_notes
from statenotes.warehouse.lake import Lake
from statenotes.warehouse.schema import DESCRIPTION_KEY

TODAY = datetime.now(UTC).date()
WINDOW = BackfillRequest(start=date(2000, 1, 1), end=TODAY)
SEED_PATH = "/statement-by-ministers-of-the-global-coalition-to-defeat-isis-daesh/"


def settings_for(site: MirrorServer, data_dir: Path, **changes):
    return load_settings(base_url=site.base_url, data_dir=data_dir, crawl_delay_s=0.0, requests_per_minute=0,
                         **changes)


def files_of(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != "_lock"}


# -- the form ------------------------------------------------------------------------------------

@pytest.mark.parametrize("fields,message", [
    ({"start": "2020-02-01", "end": "2020-01-01"}, "start 2020-02-01 is after end 2020-01-01"),
    ({"start": "2020-01-01", "end": (TODAY + timedelta(days=1)).isoformat()}, "is in the future"),
    ({"start": "2020-01-01", "end": "2020-01-02", "site": "ftp.state.gov"}, "site must be one of www"),
    ({"start": "2020-01-01", "end": "2020-01-02", "discovery": "rss"}, "discovery: Input should be 'listing', 'rest'"),
    ({"start": "January", "end": "2020-01-02"}, "start: Input should be a valid date"),
])
def test_the_backfill_form_refuses_bad_input_clearly(fields, message):
    with pytest.raises(ValidationError) as caught:
        BackfillRequest(**fields)
    assert message in request_problems(caught.value)


def test_the_backfill_form_resolves_sites():
    assert BackfillRequest(start=TODAY, end=TODAY, site="2017-2021").base_url == "https://2017-2021.state.gov"
    assert BackfillRequest(start=TODAY, end=TODAY, site="http://127.0.0.1:9/").base_url == "http://127.0.0.1:9"
    assert BackfillRequest(start=TODAY, end=TODAY, site="  ").base_url is None


def test_the_form_schema_carries_the_descriptions():
    from prefect.utilities.callables import parameter_schema

    schema = parameter_schema(backfill).model_dump()
    fields = schema["definitions"]["BackfillRequest"]["properties"]
    assert schema["required"] == ["request"]
    assert all(fields[name].get("description") for name in ("start", "end", "site", "discovery"))


# -- runs ----------------------------------------------------------------------------------------

@pytest.mark.usefixtures("prefect_harness")
@pytest.mark.parametrize("mode", ["rest", "sitemap"])
def test_every_discovery_mode_of_the_form_loads_the_same_notes(tmp_path, mode):
    with MirrorServer() as site:
        summary = run_with(settings_for(site, tmp_path), backfill,
                           BackfillRequest(start=WINDOW.start, end=WINDOW.end, discovery=mode))
    assert (summary.new, summary.quarantined) == (len(load_sample_notes()), [])
    with duckdb.connect(str(tmp_path / "statenotes.duckdb"), read_only=True) as con:
        titles = {r[0] for r in con.execute("select title from notes_latest").fetchall()}
        parameters = json.loads(con.execute("select parameters from runs").fetchone()[0])
    assert titles == {n["title"] for n in load_sample_notes()}
    assert parameters["discovery"] == mode


@pytest.mark.usefixtures("prefect_harness")
def test_a_run_that_fails_leaves_the_warehouse_as_it_was(tmp_path, monkeypatch):
    from statenotes.flows import tasks

    with MirrorServer() as site:
        run_with(settings_for(site, tmp_path), backfill, WINDOW)
        lake_before, db_before = files_of(tmp_path / "lake"), (tmp_path / "statenotes.duckdb").read_bytes()
        note = next(n for n in site.notes if n["url"].endswith(SEED_PATH))
        note["title"] += " (edited)"
        site.update_note(SEED_PATH, note)

        def no_space(files, db_path):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(tasks, "prepare", no_space)
        with pytest.raises(OSError, match="No space left"):
            run_with(settings_for(site, tmp_path), backfill, WINDOW)
    assert files_of(tmp_path / "lake") == lake_before
    assert (tmp_path / "statenotes.duckdb").read_bytes() == db_before
    # no half-built DuckDB file; the run lock's file stays (like lake/_lock), unlocked
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == [".statenotes.run.lock"]
    assert [r["status"] for r in Lake(tmp_path / "lake").read("runs").to_pylist()] == ["success"]


@pytest.mark.usefixtures("prefect_harness")
def test_reprocess_reparses_the_archive_without_the_network(tmp_path, monkeypatch):
    real_parse = pages.parse_fetched

    def seed_fails(body, url, content_type=None):
        if url.endswith(SEED_PATH):
            raise ParseError("unknown layout: no release title", url)
        return real_parse(body, url, content_type)

    monkeypatch.setattr(pages, "parse_fetched", seed_fails)
    with MirrorServer() as site:
        first = run_with(settings_for(site, tmp_path), backfill, WINDOW)
        settings = settings_for(site, tmp_path)
    assert [stage for _, stage, _ in first.quarantined] == ["parse"]
    fetches_before = Lake(tmp_path / "lake").read("fetches").num_rows

    monkeypatch.setattr(pages, "parse_fetched", real_parse)  # the parser is fixed; the mirror is gone
    fixed = run_with(settings, reprocess)
    assert (fixed.new, fixed.unchanged, fixed.quarantined, fixed.requests) == (1, len(load_sample_notes()) - 1, [], 0)

    def retitled(body, url, content_type=None):
        note = real_parse(body, url, content_type)
        if url.endswith(SEED_PATH):
            note.title = note.title.upper()
        return note

    monkeypatch.setattr(pages, "parse_fetched", retitled)  # a parser change that alters one note
    again = run_with(settings, reprocess)
    assert (again.new, again.updated, again.unchanged) == (0, 1, len(load_sample_notes()) - 1)
    with duckdb.connect(str(tmp_path / "statenotes.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from quarantine").fetchone()[0] == 0
        assert con.execute("select version, title from notes_latest where url like ?",
                           [f"%{SEED_PATH}"]).fetchone() == (2, "STATEMENT BY MINISTERS OF THE GLOBAL COALITION TO DEFEAT ISIS/DAESH")
        assert con.execute("select count(*) from fetches").fetchone()[0] == fetches_before
        assert con.execute("select flow from runs order by started_at").fetchall() == [
            ("backfill",), ("reprocess",), ("reprocess",)]


@pytest.mark.usefixtures("prefect_harness")
def test_the_artifacts_say_what_the_runs_row_says(tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with MirrorServer(bad_pages={SEED_PATH: "soft404"}) as site:
        summary = run_with(settings_for(site, tmp_path, report_base_url="http://reports.example:8765/"), backfill,
                           WINDOW)
    keys = ["backfill-run-counts", "backfill-run-summary", "backfill-run-report"]
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=keys)))
    latest = {}
    for artifact in sorted(found, key=lambda a: a.created):
        latest[artifact.key] = artifact
    table = {row["what"]: row["count"] for row in json.loads(latest["backfill-run-counts"].data)}
    with duckdb.connect(str(tmp_path / "statenotes.duckdb"), read_only=True) as con:
        counts = json.loads(con.execute("select counts from runs where run_id = ?", [summary.run_id]).fetchone()[0])
    assert (table["notes new"], table["pages quarantined"], table["HTTP requests"], table["bytes downloaded"]) == (
        counts["new"], counts["quarantined"], counts["requests"], counts["bytes"]) == (
        len(load_sample_notes()) - 1, 1, summary.requests, summary.bytes)
    # where the time went: every stage in the summary and the artifact; the runs row, written inside
    # the lake's transaction, up to the merge
    assert all(summary.stage_seconds[stage] > 0 for stage in STAGES), summary.stage_seconds
    assert table["seconds in fetch"] == round(summary.stage_seconds["fetch"], 1)
    assert all(counts["stage_seconds"][stage] > 0 for stage in ("discover", "fetch", "parse", "transform", "rows"))
    assert counts["stage_seconds"]["parquet"] > 0 and counts["stage_seconds"]["publish"] == 0
    from markdown_it import MarkdownIt

    markdown = MarkdownIt("commonmark").enable("table").render(latest["backfill-run-summary"].data)  # as shown
    assert "page not found" in markdown and SEED_PATH in markdown
    assert summary.top_actors[0][1] in markdown
    # a link a browser opens from the UI, never file://
    assert "(http://reports.example:8765/report.html)" in latest["backfill-run-report"].data
    assert "file://" not in latest["backfill-run-summary"].data


# -- deployments -------------------------------------------------------------------------------

def test_deployments_take_the_schedule_from_the_settings(monkeypatch):
    from statenotes.flows.deployments import build_deployments

    monkeypatch.setenv("STATENOTES_NIGHTLY_CRON", "30 5 * * 1-5")
    monkeypatch.setenv("STATENOTES_NIGHTLY_TIMEZONE", "America/New_York")
    deployments = {d.name: d for d in build_deployments(load_settings())}
    assert set(deployments) == {"nightly", "backfill", "reprocess"}
    (schedule,) = deployments["nightly"].schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("30 5 * * 1-5", "America/New_York")
    assert not deployments["backfill"].schedules and not deployments["reprocess"].schedules
    assert deployments["backfill"].entrypoint == "statenotes.flows.pipeline.backfill"


@pytest.mark.parametrize("key,value,needle", [
    ("STATENOTES_NIGHTLY_CRON", "0 6 * *", "not a cron line"),
    ("STATENOTES_NIGHTLY_TIMEZONE", "Mars/Olympus", "unknown time zone"),
    ("STATENOTES_TASK_RUNNER", "ray", "task_runner"),
])
def test_bad_operator_settings_say_which_and_why(monkeypatch, key, value, needle):
    from statenotes.extractors.errors import ConfigError

    monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError, match=needle):
        load_settings()


def test_a_cron_line_prefect_refuses_stops_serve_with_a_settings_error(monkeypatch):
    from statenotes.extractors.errors import ConfigError
    from statenotes.flows.deployments import build_deployments

    monkeypatch.setenv("STATENOTES_NIGHTLY_CRON", "61 6 * * *")
    with pytest.raises(ConfigError, match="nightly_cron"):
        build_deployments(load_settings())


def test_serve_without_a_server_says_what_to_do(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    result = subprocess.run([sys.executable, "-c", "from statenotes.flows.cli import app; app()", "serve"],
                            capture_output=True, text=True, timeout=60, env={**env, "PREFECT_HOME": str(tmp_path)})
    assert result.returncode == 1 and "prefect server start" in result.stderr


# -- the lake ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def loaded_lake(tmp_path_factory, prefect_harness) -> Path:
    data_dir = tmp_path_factory.mktemp("lake")
    with MirrorServer() as site:
        run_with(settings_for(site, data_dir), backfill, WINDOW)
    return data_dir / "lake"


def test_parquet_files_are_zstd_one_per_partition_and_self_describing(loaded_lake):
    files = [p for p in loaded_lake.rglob("*.parquet")]
    assert files
    for path in files:
        parquet = pq.ParquetFile(path)
        codecs = {parquet.metadata.row_group(i).column(j).compression
                  for i in range(parquet.metadata.num_row_groups) for j in range(parquet.metadata.num_columns)}
        assert codecs == {"ZSTD"}, path
        assert parquet.metadata.num_row_groups == 1, path  # small tables: one row group, no tiny files
        assert all(field.metadata and field.metadata.get(DESCRIPTION_KEY) for field in parquet.schema_arrow), path
        assert len(list(path.parent.glob("*.parquet"))) == 1, f"more than one file in {path.parent}"
