"""Shared fixtures. Every service a test needs runs on 127.0.0.1 and is stopped afterwards;
Prefect keeps its state in a temporary PREFECT_HOME that is removed at the end of the session."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import os
import shutil
import tempfile
from pathlib import Path

import pytest

_PREFECT_HOME = tempfile.mkdtemp(prefix="statenotes-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
# Embedded Prefect starts a server per process; on a busy 2-core machine 20 s is not always enough.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.pop("PREFECT_API_URL", None)
# Dask's workers keep locks and spill files in <tmp>/dask-scratch-space by default: under PREFECT_HOME,
# removed with it.
os.environ["DASK_TEMPORARY_DIRECTORY"] = os.path.join(_PREFECT_HOME, "dask")
for _name in list(os.environ):
    if _name.startswith("STATENOTES_"):
        del os.environ[_name]

GOLD_DIR = Path(__file__).parent / "gold"
SEED_SLUG = "2019-02-07-statement-by-ministers-of-the-global-coalition-to-defeat-isis-daesh"


_BASETEMP: str | None = None


def pytest_configure(config):
    # A private temp root: pytest's shared /tmp/pytest-of-<user> numbering collides when two
    # sessions run at once, and this one is removed at the end, leaving nothing behind.
    global _BASETEMP
    if config.option.basetemp is None and not hasattr(config, "workerinput"):
        _BASETEMP = tempfile.mkdtemp(prefix="statenotes-pytest-")
        config.option.basetemp = _BASETEMP


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_PREFECT_HOME, ignore_errors=True)
    if _BASETEMP:
        shutil.rmtree(_BASETEMP, ignore_errors=True)


@pytest.fixture(scope="session")
def seed_gold() -> dict:
    return json.loads((GOLD_DIR / f"{SEED_SLUG}.gold.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def prefect_harness():
    """A real Prefect API (a temporary local server) for the flows under test."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def mirror():
    from statenotes.mirror.server import MirrorServer

    with MirrorServer() as site:
        yield site


class _RoutesHandler(BaseHTTPRequestHandler):
    """Answers from `server.routes`: path -> (status, headers, body)."""

    def do_GET(self):  # noqa: N802 - http.server's name
        self.server.paths.append(self.path)
        status, headers, body = self.server.routes.get(self.path, (404, {}, b"not here"))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def routes_site():
    """A bare HTTP server on 127.0.0.1 answering canned routes; yields (base_url, routes, paths)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RoutesHandler)
    server.routes, server.paths = {"/robots.txt": (200, {}, b"User-agent: *\nDisallow: /private/\n")}, []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.routes, server.paths
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
