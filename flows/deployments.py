"""statenotes and the Prefect server: the deployments `statenotes serve` offers a server (`nightly`
on a cron schedule, `backfill` with its form, `reprocess` on demand), and the embedded server a CLI
run talks to when there is none (`EmbeddedServer`).

Runs execute in processes started by the serving process, with its environment: STATENOTES_*
variables and config/settings.toml configure them, as they do the CLI.

Importing this module is cheap (no Prefect, no httpx): the CLI starts the embedded server with it
before anything heavy is imported."""

from __future__ import annotations

import atexit
import importlib.util
import logging
import os
import socket
import subprocess
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

from statenotes.extractors.errors import ConfigError, StatenotesError

if TYPE_CHECKING:
    from statenotes.flows.settings import Settings

log = logging.getLogger(__name__)

# One run at a time by default: two crawls of one site would halve the crawl delay it asked for.
DEFAULT_CONCURRENT_RUNS = 1
HEALTH_TIMEOUT_S = 5.0
TAGS = ["statenotes"]


class ServeError(StatenotesError):
    """No Prefect server to serve to."""


def _version() -> str:
    try:
        return version("statenotes")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
        return "0+unknown"


def build_deployments(settings: Settings) -> list:
    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Cron

    from statenotes.flows.pipeline import backfill, nightly, reprocess

    try:
        schedule = Cron(settings.nightly_cron, timezone=settings.nightly_timezone)
    except ValueError as exc:
        raise ConfigError(f"invalid settings: nightly_cron: {exc}") from None
    # Module paths, not file paths: the run processes import the installed package from anywhere.
    common = {"tags": TAGS, "version": _version(), "entrypoint_type": EntrypointType.MODULE_PATH}
    return [
        nightly.to_deployment(
            "nightly", schedules=[schedule],
            description=(f"Every {settings.nightly_cron!r} ({settings.nightly_timezone}): notes listed since the "
                         f"last successful nightly run's end minus {settings.overlap_days} days (the first run "
                         f"looks back {settings.lookback_days} days), published to {settings.db_path}."),
            **common),
        backfill.to_deployment(
            "backfill", description="Every note listed in a window of dates; fill in the form.", **common),
        reprocess.to_deployment(
            "reprocess", description="Parse the raw archive again (after a parser or gazetteer change); "
                                     "no network.", **common),
    ]


def api_url() -> str:
    """The Prefect server's API URL (PREFECT_API_URL), checked to answer."""
    import httpx
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    if not url:
        raise ServeError("PREFECT_API_URL is not set: start a server with `prefect server start` and "
                         "`export PREFECT_API_URL=http://127.0.0.1:4200/api` (or `prefect config set ...`)")
    try:
        httpx.get(f"{url.rstrip('/')}/health", timeout=HEALTH_TIMEOUT_S).raise_for_status()
    except httpx.HTTPError as exc:
        raise ServeError(f"no Prefect server answers at {url} ({type(exc).__name__}): is "
                         "`prefect server start` running?") from exc
    return url


def ui_url(api: str) -> str:
    from prefect.settings import get_current_settings

    return get_current_settings().ui_url or api.rstrip("/").removesuffix("/api")


def serve(settings: Settings, limit: int = DEFAULT_CONCURRENT_RUNS, announce=print) -> None:
    """Register the deployments and run their flow runs until interrupted (Ctrl-C / SIGTERM)."""
    from prefect import serve as prefect_serve

    api = api_url()
    deployments = build_deployments(settings)
    announce(f"Serving {', '.join(d.name for d in deployments)} to {api} "
             f"(nightly: {settings.nightly_cron!r} {settings.nightly_timezone}; data in {settings.data_dir}; "
             f"at most {limit} run(s) at once). UI: {ui_url(api)}")
    prefect_serve(*deployments, limit=limit, print_starting_message=False)


# -- the embedded server of a CLI run ------------------------------------------------------------

# How Prefect 3 starts its ephemeral API server (prefect.server.api.server.SubprocessASGIServer:
# `_run_uvicorn_command`, `start`, `stop`); tests/test_startup.py checks these against the
# installed Prefect.
SERVER_APP = "prefect.server.api.server:create_app"
SERVER_FLAGS = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
UVICORN_STARTUP_FAILURE = 3  # uvicorn's exit code when it cannot start (e.g. the port was taken)
PORT_ATTEMPTS = 3
HEALTH_POLL_S = 0.1
SERVER_STOP_TIMEOUT_S = 5
LOOPBACK = "127.0.0.1"
# What Prefect imports at a run's first flow call (its engines; FastAPI's encoder for the flow's
# parameters): imported while the server boots instead of after.
ENGINE_MODULES = ("prefect.flow_engine", "prefect.task_engine", "fastapi.encoders")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def server_command(port: int) -> list[str]:
    """The command Prefect runs for its ephemeral server, without importing Prefect."""
    site_packages = Path(importlib.util.find_spec("prefect").origin).parent.parent
    return [sys.executable, "-m", "uvicorn", "--app-dir", str(site_packages), "--factory", SERVER_APP,
            "--host", LOOPBACK, "--port", str(port), "--log-level", "error", "--lifespan", "on"]


class EmbeddedServer:
    """The Prefect API server of one CLI run when no server is configured: Prefect's own ephemeral
    server (same command, same environment, same database under PREFECT_HOME, no UI, the services
    Prefect runs in an ephemeral server), started *before* Prefect is imported.

    Left to Prefect, the run's process first imports the whole server application only to start it
    (`SubprocessASGIServer`, 4 to 7 s of CPU on a small machine), then starts the server and waits
    for it to boot (as long again). Started here, the server boots in its own process while this one
    imports Prefect and the pipeline, and the run talks to it through PREFECT_API_URL like to any
    server: its flow run, task runs, logs and artifacts are recorded exactly as before.

    `start()` spawns; `use()`, once Prefect's settings can be read, waits for the server's health and
    points Prefect at it, or stops it and leaves Prefect to do as it always did (a server configured
    in a profile or prefect.toml, ephemeral mode off, a server that did not start). The server stops
    when the process exits, after Prefect has flushed its logs and events (Prefect's exit handlers,
    registered later, run first)."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.port: int | None = None
        self.environment: dict[str, str] = {}  # what use() set in os.environ, undone by stop()

    @property
    def api_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/api"

    @classmethod
    def start(cls) -> EmbeddedServer | None:
        """A server booting, or None when PREFECT_API_URL names one (or Prefect is not installed)."""
        if os.environ.get("PREFECT_API_URL") or importlib.util.find_spec("prefect") is None:
            return None
        server = cls()
        server._spawn()
        atexit.register(server.stop)
        return server

    def _spawn(self) -> None:
        self.port = _free_port()
        log.info("Starting temporary Prefect server on %s", self.api_url.removesuffix("/api"))
        self.process = subprocess.Popen(server_command(self.port), env={**os.environ, **SERVER_FLAGS})

    def use(self) -> bool:
        """Point this process's Prefect at the server once it answers; False: Prefect does as usual."""
        from prefect.settings import get_current_settings

        if self.process is None:
            return False
        settings = get_current_settings()
        if settings.api.url or not settings.server.ephemeral.enabled:  # configured elsewhere, or no server
            self.stop()
            return False
        _import_quietly(ENGINE_MODULES)  # while the server boots
        if not self._wait_healthy(settings.server.ephemeral.startup_timeout_seconds):
            self.stop()  # Prefect starts one itself, and says why when it cannot
            return False
        self.environment = {"PREFECT_API_URL": self.api_url}
        if settings.ui_url is None and "PREFECT_UI_URL" not in os.environ:
            self.environment["PREFECT_UI_URL"] = ""  # as in ephemeral mode: no "View at" link to a server without UI
        os.environ.update(self.environment)
        _refresh_prefect_settings()
        return True

    def _wait_healthy(self, timeout_s: float) -> bool:
        import httpx

        deadline = time.monotonic() + timeout_s
        attempts = 1
        with httpx.Client() as client:
            while time.monotonic() < deadline:
                code = self.process.poll()
                if code == UVICORN_STARTUP_FAILURE and attempts < PORT_ATTEMPTS:  # the port was taken meanwhile
                    attempts += 1
                    self._spawn()
                    continue
                if code is not None:
                    log.debug("the embedded Prefect server exited with %s", code)
                    return False
                try:
                    if client.get(f"{self.api_url}/health").status_code == httpx.codes.OK:
                        return True
                except httpx.HTTPError:
                    pass
                time.sleep(HEALTH_POLL_S)
        log.debug("the embedded Prefect server did not answer within %s s", timeout_s)
        return False

    def stop(self) -> None:
        """Terminate the server (then kill it after 5 s); safe to call more than once."""
        process, self.process = self.process, None
        if process is None:
            return
        log.info("Stopping temporary Prefect server on %s", self.api_url.removesuffix("/api"))
        process.terminate()
        try:
            process.wait(timeout=SERVER_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if self.environment:
            for name, value in self.environment.items():
                if os.environ.get(name) == value:
                    del os.environ[name]
            self.environment = {}
            _refresh_prefect_settings()


def _import_quietly(modules: tuple[str, ...]) -> None:
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:  # another Prefect version: it imports what it needs when it needs it
            log.debug("%s not importable", name)


def _refresh_prefect_settings() -> None:
    """Prefect reads PREFECT_* variables once, at import, into the settings that threads without a
    settings context of their own (its log and event workers, the run's heartbeat) use: read again."""
    from prefect.context import refresh_global_settings_context

    refresh_global_settings_context()
