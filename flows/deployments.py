"""The Prefect deployments `statenotes serve` offers a Prefect server: `nightly` on a cron schedule,
`backfill` with its form, `reprocess` on demand.

Runs execute in processes started by the serving process, with its environment: STATENOTES_*
variables and config/settings.toml configure them, as they do the CLI."""

from __future__ import annotations

import contextlib
import logging
import os
from importlib.metadata import PackageNotFoundError, version

import httpx

from statenotes.extractors.errors import ConfigError, StatenotesError
from statenotes.flows.settings import Settings

log = logging.getLogger(__name__)

# One run at a time by default: two crawls of one site would halve the crawl delay it asked for.
DEFAULT_CONCURRENT_RUNS = 1
DEPLOYMENT_CONCURRENCY_LIMIT = 1
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
    # One run of each deployment at a time, enforced and shown by Prefect ("Concurrency Limit: 1"):
    # a second one waits in the queue. `serve --limit` keeps nightly and backfill from overlapping.
    common = {"tags": TAGS, "version": _version(), "entrypoint_type": EntrypointType.MODULE_PATH,
              "concurrency_limit": DEPLOYMENT_CONCURRENCY_LIMIT}
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

    from statenotes.flows.pipeline import REPORT_FILENAME
    from statenotes.flows.report_server import ReportServer

    api = api_url()
    deployments = build_deployments(settings)
    with contextlib.ExitStack() as stack:
        if settings.report_address:
            reports = stack.enter_context(ReportServer(settings.data_dir / REPORT_FILENAME, settings.report_address))
            if not settings.report_base_url:  # the runs (processes started from here) link to it
                os.environ["STATENOTES_REPORT_BASE_URL"] = reports.base_url
            announce(f"Report: {reports.base_url}{REPORT_FILENAME} (read-only; the runs link to "
                     f"{(settings.report_base_url or reports.base_url) + REPORT_FILENAME})")
        if settings.alert_webhook_url.get_secret_value():
            from statenotes.flows.alerts import AUTOMATION_NAME, ensure_failure_alert

            ensure_failure_alert(settings.alert_webhook_url.get_secret_value())
            announce(f"Alert: automation {AUTOMATION_NAME!r} notifies the webhook block statenotes-alerts "
                     "when a statenotes run fails")
        announce(f"Serving {', '.join(d.name for d in deployments)} to {api} "
                 f"(nightly: {settings.nightly_cron!r} {settings.nightly_timezone}; data in {settings.data_dir}; "
                 f"at most {limit} run(s) at once). UI: {ui_url(api)}")
        prefect_serve(*deployments, limit=limit, print_starting_message=False)
