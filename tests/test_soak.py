"""Soak: backfill the whole mirror with 30% of requests faulted (every kind the crawler retries, a
slow answer abandoned at a short read timeout) and end with the warehouse of a fault-free run."""

from __future__ import annotations

from datetime import UTC, date, datetime

import duckdb
import pytest

from statenotes.flows.parameters import BackfillRequest
from statenotes.flows.pipeline import backfill
from statenotes.flows.settings import load_settings, run_with
from statenotes.mirror import faults as kinds
from statenotes.mirror.faults import FaultPlan
from statenotes.mirror.server import MirrorServer
from statenotes.mirror.site import load_sample_notes

pytestmark = pytest.mark.usefixtures("prefect_harness")

EVERYTHING = BackfillRequest(start=date(2000, 1, 1), end=datetime.now(UTC).date())
FAULT_RATE = 0.3
SOAK_KINDS = tuple(sorted(kinds.RETRIED_KINDS | kinds.LABEL_KINDS))
READ_TIMEOUT_S, SLOW_S = 0.3, 1.0
SEEDS = (7, 8, 9)


def settings_for(site: MirrorServer, data_dir):
    return load_settings(base_url=site.base_url, data_dir=data_dir, crawl_delay_s=0.0, requests_per_minute=0,
                         backoff_factor_s=0.01, max_retry_after_s=1.0, read_timeout_s=READ_TIMEOUT_S,
                         task_retry_delay_s=0.1)


def contents(db_path) -> dict[str, list[tuple]]:
    """The warehouse's content: `raw_sha256` aside, since a charset fault serves other bytes
    (re-encoded) of the same page; `content_sha256` and everything parsed are compared."""
    with duckdb.connect(str(db_path), read_only=True) as con:
        return {
            "notes": con.execute("select * exclude (run_id, first_seen_at, fetched_at, raw_sha256) from notes "
                                 "order by all").fetchall(),
            "paragraphs": con.execute("select * from paragraphs order by all").fetchall(),
            "mentions": con.execute("select * from mentions order by all").fetchall(),
            "quarantine": con.execute("select * from quarantine order by all").fetchall(),
        }


def test_a_backfill_under_30_percent_faults_equals_a_fault_free_one(tmp_path):
    injected: list[str] = []
    with MirrorServer() as site:
        clean = run_with(settings_for(site, tmp_path / "clean"), backfill, EVERYTHING)
        expected = contents(tmp_path / "clean" / "statenotes.duckdb")
        for seed in SEEDS:  # the mirror is small: a few seeded runs give every kind its turn
            plan = FaultPlan.spread(FAULT_RATE, SOAK_KINDS, seed=seed, slow_s=SLOW_S, retry_after=0)
            site.faults = plan
            data_dir = tmp_path / f"faulted-{seed}"
            faulted = run_with(settings_for(site, data_dir), backfill, EVERYTHING)
            injected += [kind for _, kind in plan.history()]
            assert len(plan.history()) >= 0.15 * faulted.requests, plan.history()
            assert (faulted.new, faulted.quarantined) == (clean.new, []) and clean.new == len(load_sample_notes())
            assert contents(data_dir / "statenotes.duckdb") == expected, seed
    assert set(injected) == set(SOAK_KINDS)
