"""The operator's path, for real: `prefect server start` on a free loopback port, `statenotes serve`
in its own process, the `backfill` deployment triggered with parameters against the mirror, the
warehouse checked, the UI answering; both processes stopped (and their children) whatever happens."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import psutil
import pytest
import requests

from statenotes.mirror.server import MirrorServer
from statenotes.mirror.site import load_sample_notes

log = logging.getLogger(__name__)
pytestmark = pytest.mark.timeout(420)

BIN = Path(sys.executable).parent
SERVER_START_TIMEOUT_S = 120
DEPLOYMENT_TIMEOUT_S = 60
RUN_TIMEOUT_S = 180
STOP_TIMEOUT_S = 20
FINAL_STATES = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
BUSY_STATUSES = {429, 502, 503}
BUSY_RETRIES, BUSY_WAIT_S = 20, 0.5


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(process: subprocess.Popen) -> None:
    """SIGTERM the process group, then SIGKILL whatever of it (and its descendants) is left."""
    try:
        family = [process.pid, *(c.pid for c in psutil.Process(process.pid).children(recursive=True))]
    except psutil.NoSuchProcess:
        family = [process.pid]
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=STOP_TIMEOUT_S)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass
    with_pids = [psutil.Process(pid) for pid in family if psutil.pid_exists(pid)]
    _, alive = psutil.wait_procs(with_pids, timeout=5)
    for proc in alive:
        proc.kill()
    psutil.wait_procs(alive, timeout=5)
    if process.poll() is None:
        process.kill()
        process.wait(timeout=5)


@contextmanager
def running(command: list[str], env: dict[str, str], log_path: Path):
    with open(log_path, "wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        yield process
    finally:
        family = [process.pid]
        try:
            family += [c.pid for c in psutil.Process(process.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            pass
        stop(process)
        leftovers = [pid for pid in family if psutil.pid_exists(pid)
                     and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
        assert leftovers == [], f"processes left running: {leftovers}"


def wait_until(what: str, check, timeout_s: float, process: subprocess.Popen, log_path: Path, every_s=0.5):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{what}: process exited ({process.returncode}):\n{log_path.read_text()[-3000:]}")
        result = check()
        if result:
            return result
        time.sleep(every_s)
    pytest.fail(f"{what}: not within {timeout_s} s:\n{log_path.read_text()[-3000:]}")


def healthy(api: str) -> bool:
    try:
        return requests.get(f"{api}/health", timeout=2).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory):
    home = tmp_path_factory.mktemp("prefect-home")
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_API_URL": api, "PREFECT_LOGGING_LEVEL": "INFO"}
    log_path = home / "server.log"
    started = time.monotonic()
    command = [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    with running(command, env, log_path) as server:
        wait_until("prefect server", lambda: healthy(api), SERVER_START_TIMEOUT_S, server, log_path)
        log.warning("prefect server answered after %.1f s", time.monotonic() - started)
        yield {"api": api, "ui": f"http://127.0.0.1:{port}/", "env": env, "process": server, "log": log_path}


def deployment(api: str, name: str) -> dict | None:
    response = requests.get(f"{api}/deployments/name/{name}/{name}", timeout=5)
    return response.json() if response.status_code == 200 else None


def post(url: str, payload: dict) -> requests.Response:
    """POST, retried while the server is busy: a fresh server's own services keep its SQLite file
    locked now and then, and it answers 503 (Prefect's own client retries those the same way)."""
    for _ in range(BUSY_RETRIES):
        response = requests.post(url, json=payload, timeout=10)
        if response.status_code not in BUSY_STATUSES:
            return response
        time.sleep(BUSY_WAIT_S)
    return response


def run_deployment(api: str, deployment_id: str, parameters: dict, watch: tuple) -> dict:
    created = post(f"{api}/deployments/{deployment_id}/create_flow_run", {"parameters": parameters})
    assert created.status_code == 201, created.text

    def finished():
        response = requests.get(f"{api}/flow_runs/{created.json()['id']}", timeout=5)
        run = response.json() if response.status_code == 200 else {}
        return run if run.get("state") and run["state"]["type"] in FINAL_STATES else None

    return wait_until("flow run", finished, RUN_TIMEOUT_S, *watch)


def artifacts(api: str, flow_run_id: str) -> dict[str, dict]:
    found = post(f"{api}/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [flow_run_id]}}}).json()
    return {a["key"]: a for a in found}


@contextmanager
def webhook_receiver():
    """A webhook endpoint on 127.0.0.1: yields (url, the JSON bodies POSTed to it so far)."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received: list[dict] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


ALERT_TIMEOUT_S = 90


def test_backfill_deployment_runs_on_a_real_prefect_server(prefect_server, tmp_path):
    began = time.monotonic()
    api = prefect_server["api"]
    today = datetime.now(UTC).date()
    env = {**prefect_server["env"], "STATENOTES_DATA_DIR": str(tmp_path / "data"),
           "STATENOTES_CRAWL_DELAY_S": "0", "STATENOTES_REQUESTS_PER_MINUTE": "0",
           "PREFECT_RUNNER_POLL_FREQUENCY": "1", "STATENOTES_REPORT_ADDRESS": f"127.0.0.1:{free_port()}",
           "PREFECT_LOGGING_LEVEL": "INFO"}
    serve_log = tmp_path / "serve.log"
    with (webhook_receiver() as (hook_url, alerts), MirrorServer() as site,
          running([str(BIN / "statenotes"), "serve"], {**env, "STATENOTES_ALERT_WEBHOOK_URL": hook_url},
                  serve_log) as served):
        watch = (served, serve_log)
        backfill = wait_until("backfill deployment", lambda: deployment(api, "backfill"),
                              DEPLOYMENT_TIMEOUT_S, *watch)
        nightly = wait_until("nightly deployment", lambda: deployment(api, "nightly"), DEPLOYMENT_TIMEOUT_S, *watch)
        wait_until("reprocess deployment", lambda: deployment(api, "reprocess"), DEPLOYMENT_TIMEOUT_S, *watch)
        assert [s["schedule"]["cron"] for s in nightly["schedules"]] == ["0 6 * * *"]
        form = backfill["parameter_openapi_schema"]["definitions"]["BackfillRequest"]["properties"]
        assert {"start", "end", "site", "discovery"} <= set(form) and "today" in form["end"]["description"]

        run = run_deployment(api, backfill["id"], {"request": {
            "start": "2000-01-01", "end": today.isoformat(), "site": "custom", "custom_site_url": site.base_url}},
            watch)
        assert run["state"]["type"] == "COMPLETED", (run["state"], serve_log.read_text()[-3000:])
        served = f"http://{env['STATENOTES_REPORT_ADDRESS']}"
        report = requests.get(f"{served}/report.html", timeout=10)  # served by `statenotes serve`, read-only
        assert report.status_code == 200 and report.content == (tmp_path / "data" / "report.html").read_bytes()
        assert requests.get(f"{served}/statenotes.duckdb", timeout=10).status_code == 404
        assert requests.post(f"{served}/report.html", timeout=10).status_code == 405

        bad = run_deployment(api, backfill["id"], {"request": {
            "start": "2000-01-01", "end": (today + timedelta(days=2)).isoformat()}}, watch)
        assert bad["state"]["type"] == "FAILED" and "is in the future" in bad["state"]["message"]
        def logs_of_bad():  # the run's process sends its logs in the background
            logs = post(f"{api}/logs/filter", {"logs": {"flow_run_id": {"any_": [bad["id"]]}}}).json()
            return logs if any("Finished in state" in entry["message"] for entry in logs) else None

        logs = wait_until("the refused run's logs", logs_of_bad, 30, *watch)
        time.sleep(3)  # anything logged after that line (the engine's exit) arrives too
        logs = logs_of_bad()
        assert any(bad["state"]["message"] in entry["message"] for entry in logs), logs
        assert not any("Traceback" in entry["message"] or "Engine execution" in entry["message"]
                       for entry in logs), [entry["message"] for entry in logs]
        # the automation `serve` created fires for the failed run (and not for the completed one)
        wait_until("failure alert", lambda: alerts, ALERT_TIMEOUT_S, *watch)
        assert len(alerts) == 1 and bad["name"] in alerts[0]["text"], alerts
        assert bad["state"]["message"] in alerts[0]["text"] and "Failed" in alerts[0]["subject"]
        serving_s = time.monotonic() - began

    db = tmp_path / "data" / "statenotes.duckdb"
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select count(*) from notes_latest").fetchone()[0] == len(load_sample_notes())
        assert con.execute("select flow, status from runs").fetchall() == [("backfill", "success")]
    found = artifacts(api, run["id"])
    assert {"backfill-run-counts", "backfill-run-summary", "backfill-run-report"} <= set(found)
    assert "Top actors of the run" in found["backfill-run-summary"]["data"]
    assert (tmp_path / "data" / "report.html").exists()
    link = found["backfill-run-report"]["data"]
    assert f"(http://{env['STATENOTES_REPORT_ADDRESS']}/report.html)" in link
    assert "Report: http://" in serve_log.read_text()
    ui = requests.get(prefect_server["ui"], timeout=10)
    assert ui.status_code == 200 and "<html" in ui.text.lower()
    log.warning("serve + backfill through the Prefect server took %.1f s (server start excluded)", serving_s)


REPO = Path(__file__).resolve().parents[1]


def test_prefect_yaml_deploys_to_a_work_pool_and_a_worker_runs_a_backfill(prefect_server, tmp_path):
    """The work-pool path: `prefect work-pool create`, `prefect deploy --all` from prefect.yaml,
    `prefect worker start`, a backfill run to completion by the worker."""
    api = prefect_server["api"]
    today = datetime.now(UTC).date()
    env = {**prefect_server["env"], "STATENOTES_DATA_DIR": str(tmp_path / "data"),
           "STATENOTES_CRAWL_DELAY_S": "0", "STATENOTES_REQUESTS_PER_MINUTE": "0"}
    prefect = str(BIN / "prefect")
    for command in ([prefect, "work-pool", "create", "statenotes", "--type", "process", "--overwrite"],
                    [prefect, "--no-prompt", "deploy", "--all"]):
        done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, (command, done.stdout[-2000:], done.stderr[-2000:])
    backfill = deployment(api, "backfill")
    assert backfill["work_pool_name"] == "statenotes" and backfill["entrypoint"] == "statenotes.flows.pipeline.backfill"
    assert backfill["global_concurrency_limit"]["limit"] == 1
    worker_log = tmp_path / "worker.log"
    worker = [prefect, "worker", "start", "--pool", "statenotes", "--type", "process", "--limit", "1"]
    with MirrorServer() as site, running(worker, {**env, "PREFECT_WORKER_QUERY_SECONDS": "1"}, worker_log) as started:
        run = run_deployment(api, backfill["id"], {"request": {
            "start": "2000-01-01", "end": today.isoformat(), "site": "custom", "custom_site_url": site.base_url}},
            (started, worker_log))
    assert run["state"]["type"] == "COMPLETED", (run["state"], worker_log.read_text()[-3000:])
    with duckdb.connect(str(tmp_path / "data" / "statenotes.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from notes_latest").fetchone()[0] == len(load_sample_notes())
        assert con.execute("select prefect_flow_run_id from runs").fetchall() == [(run["id"],)]
