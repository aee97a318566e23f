"""Issue 15 items 9 and 10: one run per data folder, the DuckDB file published under the lake lock,
what a killed run leaves swept by the next, and the embedded Prefect server gone with its CLI."""

from __future__ import annotations

import errno
import fcntl
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime

import psutil
import pytest

from statenotes.flows import tasks
from statenotes.flows.parameters import BackfillRequest
from statenotes.flows.pipeline import backfill
from statenotes.flows.runlock import RunLockedError, run_lock
from statenotes.flows.settings import load_settings, run_with
from statenotes.mirror.server import MirrorServer
from statenotes.warehouse import journal

pytestmark = pytest.mark.usefixtures("prefect_harness")

TODAY = datetime.now(UTC).date()
EVERYTHING = BackfillRequest(start=date(2000, 1, 1), end=TODAY)
SERVER_GONE_WITHIN_S = 20  # the watchdog's 5 s grace, plus uvicorn's shutdown, on a loaded machine


def settings_for(site, data_dir):
    return load_settings(base_url=site.base_url, data_dir=data_dir, crawl_delay_s=0.0, requests_per_minute=0)


def cli(*args, embedded_prefect: bool = False, **popen) -> subprocess.Popen:
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "STATENOTES_REQUESTS_PER_MINUTE": "0", "COLUMNS": "200"}
    if embedded_prefect:
        env.pop("PREFECT_API_URL", None)
    else:
        env["PREFECT_API_URL"] = PREFECT_API_URL.value()
    return subprocess.Popen([sys.executable, "-c", "from statenotes.flows.cli import app; app()", *args],
                            env=env, text=True, **popen)


def test_a_second_run_on_the_same_data_folder_stops_at_once_naming_the_holder(tmp_path):
    with MirrorServer() as site, run_lock(tmp_path, "20260101T000000Z-holder00", "backfill"):
        started = time.monotonic()
        second = cli("backfill", "--start", "2000-01-01", "--end", TODAY.isoformat(), "--base-url",
                     site.base_url, "--data-dir", str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        _, stderr = second.communicate(timeout=60)
        elapsed = time.monotonic() - started
        with pytest.raises(RunLockedError, match=f"in use by run 20260101T000000Z-holder00 .backfill, pid {os.getpid()}"):
            run_with(settings_for(site, tmp_path), backfill, EVERYTHING)  # a flow run (e.g. a deployment's)
        requests = site.request_count
    assert second.returncode == 1
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    assert f"in use by run 20260101T000000Z-holder00 (backfill, pid {os.getpid()}, since " in lines[0]
    assert elapsed < 30 and requests == 0  # before Prefect started and before any request
    assert not (tmp_path / "statenotes.duckdb").exists()


def lake_lock_is_held(lake_dir) -> bool:
    fd = os.open(lake_dir / journal.LOCK_NAME, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as exc:
        assert exc.errno in (errno.EAGAIN, errno.EACCES)
        return True
    finally:
        os.close(fd)
    return False


def test_the_duckdb_file_is_swapped_in_under_the_lake_lock(tmp_path, monkeypatch):
    """So runs publish in the order they commit: the newest commit is the file analysts get."""
    held_during_install = []
    real_install = tasks.install

    def watched_install(prepared):
        held_during_install.append(lake_lock_is_held(tmp_path / "lake"))
        return real_install(prepared)

    monkeypatch.setattr(tasks, "install", watched_install)
    with MirrorServer() as site:
        run_with(settings_for(site, tmp_path), backfill, EVERYTHING)
    assert held_during_install == [True]


def test_a_killed_backfill_leaves_no_server_and_the_next_run_sweeps_its_files(tmp_path):
    with MirrorServer(crawl_delay=0.0) as site:
        process = cli("backfill", "--start", "2000-01-01", "--end", TODAY.isoformat(), "--base-url",
                      site.base_url, "--data-dir", str(tmp_path), "--crawl-delay", "0.05",
                      embedded_prefect=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 240
            building = []
            while not building and process.poll() is None and time.monotonic() < deadline:
                building = list(tmp_path.glob(".statenotes.duckdb.*.tmp"))
                time.sleep(0.002)
            assert building, "the backfill ended (or hung) before building its DuckDB file"
            descendants = psutil.Process(process.pid).children(recursive=True)
            servers = [p for p in descendants if "uvicorn" in p.cmdline()]
            assert len(servers) == 1  # Prefect's embedded server, started by this run
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        killed_at = time.monotonic()
        _, alive = psutil.wait_procs(descendants, timeout=SERVER_GONE_WITHIN_S)
        for survivor in alive:  # leave nothing behind, even when failing
            survivor.kill()
        assert alive == [], f"still running {SERVER_GONE_WITHIN_S} s after the kill: {alive}"
        assert time.monotonic() - killed_at < SERVER_GONE_WITHIN_S
        assert all(path.exists() for path in building)  # left by the killed run
        stray_put = tmp_path / "raw" / "ab" / ".tmp-killed.gz"  # as a put killed before its rename leaves
        stray_put.parent.mkdir(parents=True, exist_ok=True)
        stray_put.write_bytes(b"half a page")

        summary = run_with(settings_for(site, tmp_path), backfill, EVERYTHING)
    assert summary.new > 0
    assert list(tmp_path.glob(".statenotes.duckdb.*")) == [] and not stray_put.exists()
