"""Whole runs against a hostile site (issue 15): a backfill with one trickling note page and listing
links to other origins finishes, quarantines that page and loads the rest; SIGTERM stops a real
`statenotes backfill` process cleanly, committing nothing."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
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

SEED_PATH = "/statement-by-ministers-of-the-global-coalition-to-defeat-isis-daesh/"
TODAY = datetime.now(UTC).date()
DEADLINE_S = 1.5


def trickling_seed(**options) -> FaultPlan:
    return FaultPlan.always(kinds.TRICKLE, times=1000, paths=f"^{re.escape(SEED_PATH)}$", trickle_interval_s=0.2,
                            **options)


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return probe.getsockname()[1]


@pytest.fixture
def listener():
    """A socket on 127.0.0.1 that counts the connections it is offered; yields (port, count())."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    accepted, stop = [], threading.Event()

    def accept():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except (TimeoutError, OSError):
                continue
            accepted.append(1)
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], lambda: len(accepted)
    finally:
        stop.set()
        thread.join()
        server.close()


@pytest.mark.usefixtures("prefect_harness")
@pytest.mark.timeout(300)
def test_done_when_a_backfill_with_one_trickling_page_quarantines_it_and_loads_the_rest(tmp_path, listener):
    """Issue 15, "done when" (cases 1 and 2): the trickling page ends at the response deadline and
    is quarantined; links to other origins are refused, counted and never contacted."""
    port, connections = listener
    mirror_port = free_port()
    injected = (f"http://127.0.0.1:{port}/another-port/", f"http://user:secret@127.0.0.1:{mirror_port}{SEED_PATH}",
                f"http://127.0.0.2:{port}/latest/meta-data/")
    with MirrorServer(port=mirror_port, faults=trickling_seed(listing_links=injected)) as site:
        settings = load_settings(base_url=site.base_url, data_dir=tmp_path, crawl_delay_s=0.0, requests_per_minute=0,
                                 backoff_factor_s=0.01, response_deadline_s=DEADLINE_S)
        started = time.monotonic()
        summary = run_with(settings, backfill, BackfillRequest(start=date(2000, 1, 1), end=TODAY))
        took = time.monotonic() - started
    notes = load_sample_notes()
    seed_url = site.base_url + SEED_PATH
    reason = f"response exceeded {DEADLINE_S:g} s deadline"
    assert summary.quarantined == [(seed_url, "fetch", reason)]
    assert summary.new == len(notes) - 1 and summary.refused_urls == 3
    assert connections() == 0
    with duckdb.connect(str(settings.db_path), read_only=True) as con:
        assert con.execute("select count(*) from notes_latest").fetchone()[0] == len(notes) - 1
        assert con.execute("select url, reason from quarantine").fetchall() == [(seed_url, reason)]
        counts = con.execute("select counts from runs").fetchone()[0]
        stored = " ".join(str(row) for t in ("fetches", "quarantine", "runs", "notes")
                          for row in con.execute(f"select * from {t}").fetchall())
    assert (json.loads(counts) if isinstance(counts, str) else counts)["refused_urls"] == 3
    assert "secret" not in stored and "127.0.0.2" not in stored and f":{port}/" not in stored
    assert took < 120


def statenotes_process(*args: str, env: dict) -> subprocess.Popen:
    command = [sys.executable, "-c", "from statenotes.flows.cli import app; app()", *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**{k: v for k, v in os.environ.items() if not k.startswith("STATENOTES_")}, **env})


@pytest.mark.timeout(400)
def test_case1_sigterm_stops_a_backfill_cleanly_commits_nothing_and_says_so(tmp_path):
    with MirrorServer(faults=trickling_seed()) as site:
        process = statenotes_process(
            "backfill", "--start", "2000-01-01", "--end", TODAY.isoformat(),
            env={"STATENOTES_BASE_URL": site.base_url, "STATENOTES_DATA_DIR": str(tmp_path),
                 "STATENOTES_CRAWL_DELAY_S": "0", "STATENOTES_REQUESTS_PER_MINUTE": "0",
                 "STATENOTES_RESPONSE_DEADLINE_S": "600"})
        try:
            waited = time.monotonic()
            while not any(p == SEED_PATH for _, p, _ in site.requests):  # the trickle has begun
                assert process.poll() is None, process.communicate()
                assert time.monotonic() - waited < 300, "the backfill never reached the trickling page"
                time.sleep(0.1)
            time.sleep(0.5)
            process.send_signal(signal.SIGTERM)
            stopping = time.monotonic()
            out, err = process.communicate(timeout=30)
            took = time.monotonic() - stopping
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert process.returncode == 128 + signal.SIGTERM, err
    assert took < 10
    lines = [line for line in err.splitlines() if line.startswith("stopped by")]
    assert lines == ["stopped by SIGTERM before the run committed: nothing was committed, the warehouse is as it "
                     "was; run it again"]
    assert not (tmp_path / "statenotes.duckdb").exists()
    assert not list(tmp_path.glob("lake/**/*.parquet"))
