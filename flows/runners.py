"""Where parsing runs: threads in the flow's process, or a Dask cluster (prefect-dask).

Only parsing goes to the runner. Every request stays in the flow's process with one Fetcher, so
the crawl delay holds however many workers parse; what crosses to a worker is plain values
(`RawPage`s in, `BatchOutcome`s out)."""

from __future__ import annotations

from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from statenotes.flows.settings import Settings

PARSE_THREADS = 2  # parsing overlaps the next batch's fetching; more threads only contend for the GIL
DASK_LOCAL_WORKERS = 2  # a LocalCluster's worker processes when no dask_address is set
LOOPBACK = "127.0.0.1"


def local_cluster_kwargs(n_workers: int = DASK_LOCAL_WORKERS, api_url: str | None = None) -> dict:
    # Processes (parsing holds the GIL), one thread each, on loopback, no dashboard port.
    kwargs = {"n_workers": n_workers, "threads_per_worker": 1, "processes": True, "host": LOOPBACK,
              "dashboard_address": None}
    if api_url:
        # Without it, each worker of an embedded (serverless) run starts a Prefect server of its own.
        kwargs["env"] = {"PREFECT_API_URL": api_url}
    return kwargs


def current_api_url() -> str | None:
    """The API the running flow talks to (the embedded server's, when there is no other)."""
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    return str(context.client.api_url) if context and context.client else None


def parse_runner(settings: Settings) -> TaskRunner:
    """A fresh (not started) task runner for the run's parse tasks, as `settings` ask. Workers of a
    cluster at `dask_address` need PREFECT_API_URL in their own environment."""
    if settings.task_runner == "dask":
        from prefect_dask import DaskTaskRunner

        if settings.dask_address:
            return DaskTaskRunner(address=settings.dask_address)
        return DaskTaskRunner(cluster_kwargs=local_cluster_kwargs(api_url=current_api_url()))
    return ThreadPoolTaskRunner(max_workers=PARSE_THREADS)
