"""What a command loads and starts before it does its work: `--help` and the commands that need
no flow never import Prefect or the data libraries; the flow commands start Prefect's own ephemeral
server (the same command Prefect runs) before importing Prefect, record the run in PREFECT_HOME's
database as before, and leave no server behind. Speed itself is measured in bench/, not here."""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import subprocess
import sys

import pytest

HEAVY = ["prefect", "duckdb", "pyarrow", "httpx", "bs4", "lxml", "requests"]  # typer itself needs pydantic
# Run the CLI in a new process and report, at exit, which of HEAVY it had imported.
REPORT_MODULES = f"""
import atexit, json, subprocess, sys
atexit.register(lambda: print("MODULES " + json.dumps(sorted(
    m for m in {HEAVY!r} + ["prefect.server.api.server"] if m in sys.modules)), file=sys.stderr))
popen = subprocess.Popen
def reporting_popen(args, *rest, **kwargs):
    if "uvicorn" in args:
        print("SERVER STARTED, prefect imported: " + str("prefect" in sys.modules), file=sys.stderr)
    return popen(args, *rest, **kwargs)
subprocess.Popen = reporting_popen
from statenotes.flows.cli import app
sys.argv[0] = "statenotes"
app()
"""


def statenotes(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", REPORT_MODULES, *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def imported(result: subprocess.CompletedProcess) -> list[str]:
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("MODULES ")]
    return json.loads(line.removeprefix("MODULES "))


@pytest.mark.parametrize("args", [["--help"], ["run", "--help"], ["backfill", "--help"], ["sql", "--help"]])
def test_help_imports_neither_prefect_nor_the_data_libraries(args):
    result = statenotes(*args)
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout
    assert imported(result) == []


def test_sql_without_a_warehouse_needs_no_prefect(tmp_path):
    result = statenotes("sql", "select 1", "--data-dir", str(tmp_path))
    assert result.returncode == 1
    assert "prefect" not in imported(result)


def test_the_embedded_server_module_is_cheap_to_import():
    code = ("import sys, statenotes.flows.deployments; "
            f"print([m for m in {HEAVY!r} if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_embedded_server_is_started_as_prefect_starts_its_ephemeral_server(monkeypatch):
    """The command and the flags are Prefect's own (SubprocessASGIServer), for the installed Prefect."""
    import uvicorn.config
    from prefect.server.api import server as prefect_server

    from statenotes.flows.deployments import SERVER_FLAGS, UVICORN_STARTUP_FAILURE, server_command

    seen = {}

    def popen(args, env):
        seen.update(args=args, env=env)

    monkeypatch.setattr(prefect_server.subprocess, "Popen", popen)
    ephemeral = prefect_server.SubprocessASGIServer(port=8765)
    try:
        ephemeral._run_uvicorn_command()
    finally:
        prefect_server.SubprocessASGIServer._instances.pop(8765, None)
    assert seen["args"] == server_command(8765)
    assert {name: seen["env"][name] for name in SERVER_FLAGS} == SERVER_FLAGS
    assert UVICORN_STARTUP_FAILURE == uvicorn.config.STARTUP_FAILURE


def test_no_server_is_started_when_prefect_api_url_names_one(monkeypatch):
    from statenotes.flows.deployments import EmbeddedServer

    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    assert EmbeddedServer.start() is None


@pytest.mark.parametrize("profile", [
    'PREFECT_API_URL = "http://127.0.0.1:9/api"',  # a server configured in the active profile
    'PREFECT_SERVER_EPHEMERAL_ENABLED = "false"',  # no embedded server wanted
])
def test_a_server_started_early_gives_way_to_prefect_settings(tmp_path, profile):
    """Started before Prefect's settings can be read, the server is stopped when they say otherwise,
    and Prefect is left to do as it always did."""
    profiles = tmp_path / "profiles.toml"
    profiles.write_text(f'active = "ops"\n\n[profiles.ops]\n{profile}\n', encoding="utf-8")
    code = ("import os\nfrom statenotes.flows.deployments import EmbeddedServer\n"
            "server = EmbeddedServer.start()\nstarted = server is not None and server.process is not None\n"
            "print(started, server.use(), server.process is None, 'PREFECT_API_URL' in os.environ)")
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "PREFECT_SERVER_EPHEMERAL_ENABLED")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            env={**env, "PREFECT_PROFILES_PATH": str(profiles), "PREFECT_HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False", "True", "False"]


def _port_answers(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_a_run_without_a_server_records_itself_in_prefect_home_and_leaves_nothing_running(tmp_path, mirror):
    home, data = tmp_path / "prefect-home", tmp_path / "data"
    env = {"PREFECT_HOME": str(home), "STATENOTES_BASE_URL": mirror.base_url, "STATENOTES_DATA_DIR": str(data),
           "STATENOTES_CRAWL_DELAY_S": "0", "STATENOTES_REQUESTS_PER_MINUTE": "0"}
    env_without_api = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    result = subprocess.run([sys.executable, "-c", REPORT_MODULES, "run", "--verbose"], capture_output=True,
                            text=True, timeout=420, env={**env_without_api, **env})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "nightly" in result.stdout and (data / "statenotes.duckdb").exists()
    # One server, started before Prefect was imported (it boots while the command imports Prefect
    # and the pipeline); the run talked to it, and this process never loaded Prefect's server app.
    assert re.findall(r"SERVER STARTED, prefect imported: \w+", result.stderr) == [
        "SERVER STARTED, prefect imported: False"]
    assert "prefect.server.api.server" not in imported(result)
    ports = [int(p) for p in re.findall(r"Starting temporary Prefect server on http://127\.0\.0\.1:(\d+)",
                                        result.stderr)]  # more than one if a port was taken meanwhile
    assert f"Stopping temporary Prefect server on http://127.0.0.1:{ports[-1]}" in result.stderr
    assert not any(_port_answers(port) for port in ports)
    assert "View at" not in result.stderr  # the server has no UI and is gone: no link to it

    with sqlite3.connect(f"file:{home / 'prefect.db'}?mode=ro", uri=True) as con:
        (run_id, state), = con.execute(
            "select fr.id, fr.state_type from flow_run fr join flow f on f.id = fr.flow_id "
            "where f.name = 'nightly'").fetchall()
        task_runs, logs, artifacts = (
            con.execute(f"select count(*) from {table} where flow_run_id = ?", (run_id,)).fetchone()[0]
            for table in ("task_run", "log", "artifact"))
    assert state == "COMPLETED"
    assert task_runs >= 1 and logs >= 1 and artifacts >= 1
