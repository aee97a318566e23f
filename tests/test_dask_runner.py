"""Parsing on a Dask LocalCluster of two worker processes (prefect-dask), fetching still in the flow's
process: the warehouse is the one the thread runner builds, and the crawl delay holds."""

from __future__ import annotations

from datetime import UTC, date, datetime

import duckdb
import pytest
from distributed import get_task_stream

from statenotes.flows.parameters import BackfillRequest
from statenotes.flows.pipeline import backfill
from statenotes.flows.runners import local_cluster_kwargs
from statenotes.flows.settings import load_settings, run_with
from statenotes.mirror.server import MirrorServer
from statenotes.mirror.site import load_sample_notes

pytestmark = pytest.mark.usefixtures("prefect_harness")

CRAWL_DELAY_S = 0.05
WINDOW = BackfillRequest(start=date(2000, 1, 1), end=datetime.now(UTC).date())


@pytest.fixture(scope="module")
def cluster():
    from distributed import Client, LocalCluster

    with LocalCluster(**local_cluster_kwargs(n_workers=2)) as local, Client(local) as client:
        yield local, client


def contents(db_path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return {t: con.execute(f"select * exclude (run_id, first_seen_at, fetched_at) from {t} order by all" if t == "notes" else
                               f"select * from {t} order by all").fetchall()
                for t in ("notes", "paragraphs", "mentions", "quarantine")}


def test_dask_workers_parse_and_the_warehouse_is_the_same(cluster, tmp_path):
    local, client = cluster
    assert len(local.workers) == 2 and all(a.startswith("tcp://127.0.0.1:") for a in client.scheduler_info()["workers"])
    with MirrorServer(crawl_delay=CRAWL_DELAY_S) as site:
        common = {"base_url": site.base_url, "crawl_delay_s": CRAWL_DELAY_S, "requests_per_minute": 0, "batch_size": 5}
        on_dask = load_settings(data_dir=tmp_path / "dask", task_runner="dask", dask_address=local.scheduler_address,
                                **common)
        with get_task_stream(client) as stream:
            summary = run_with(on_dask, backfill, WINDOW)
        starts = [t for t, _, path, _ in site.timed_requests if path != "/robots.txt"]
        on_threads = load_settings(data_dir=tmp_path / "threads", **common)
        run_with(on_threads, backfill, WINDOW)
    assert summary.new == len(load_sample_notes()) and summary.quarantined == []
    ran = [(task["key"], task["worker"]) for task in stream.data]
    assert len(ran) == -(-len(load_sample_notes()) // 5), ran  # one task per batch of 5 pages
    assert {worker for _, worker in ran} <= set(client.scheduler_info()["workers"])
    assert contents(tmp_path / "dask" / "statenotes.duckdb") == contents(tmp_path / "threads" / "statenotes.duckdb")
    # The server stamps a request when its thread gets to it, a little (on a busy machine, a lot)
    # after the client started it: single gaps are noisy, the typical gap and the whole crawl's
    # pace are not.
    gaps = sorted(b - a for a, b in zip(starts, starts[1:]))
    assert gaps[len(gaps) // 2] >= CRAWL_DELAY_S * 0.9, "requests came faster than the crawl delay"
    assert starts[-1] - starts[0] >= (len(starts) - 1) * CRAWL_DELAY_S * 0.95
