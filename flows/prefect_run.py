"""The Prefect flow run a statenotes run is in: its id for the `runs` table, its name set to the
run id (so the UI and the warehouse name the same run), and its retry policy, opened only for
failures worth retrying."""

from __future__ import annotations

import logging

from statenotes.extractors.errors import FetchError

log = logging.getLogger(__name__)

# Worth a flow retry: the site (or the network to it) was down longer than the HTTP layer's
# retries and the tasks' retries waited. Not a refused form, bad settings, or a site that answers
# with pages this parser cannot read: a retry would end the same way.
TRANSIENT = (FetchError, ConnectionError, TimeoutError)


ENGINE_EXIT_MESSAGE = "Engine execution exited with unexpected exception"


class _NoTracebackForAReturnedFailure(logging.Filter):
    """The process that executes a deployment's run logs every failed run again, with a traceback of
    Prefect's own frames. For a run that *returned* its Failed state (a refused form: its reason is
    the state's message, logged already) that traceback says nothing: drop it. A run that raised
    keeps it (its exception is not a FailedRun)."""

    def filter(self, record: logging.LogRecord) -> bool:
        from prefect.exceptions import FailedRun

        return not (record.getMessage() == ENGINE_EXIT_MESSAGE and record.exc_info is not None
                    and isinstance(record.exc_info[1], FailedRun))


def quiet_returned_failures() -> None:
    logger = logging.getLogger("prefect.flow_runs")
    if not any(isinstance(f, _NoTracebackForAReturnedFailure) for f in logger.filters):
        logger.addFilter(_NoTracebackForAReturnedFailure())


def flow_run_id() -> str | None:
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    return str(context.flow_run.id) if context and context.flow_run else None


def name_after(run_id: str) -> None:
    """Rename the Prefect flow run to the statenotes run id (best effort: a label, not the job)."""
    from prefect.client.orchestration import get_client

    found = flow_run_id()
    if found is None:
        return
    try:
        with get_client(sync_client=True) as client:
            client.update_flow_run(flow_run_id=found, name=run_id)
    except Exception as exc:  # noqa: BLE001 - the run goes on under Prefect's own name
        log.warning("flow run %s not renamed to %s (%s: %s)", found, run_id, type(exc).__name__, exc)


def allow_retries_for(exc: BaseException, retries: int, delay_s: float) -> None:
    """Before a transient failure propagates: let Prefect retry the flow run `retries` times,
    `delay_s` apart (its policy starts at no retries, so other failures end the run)."""
    from prefect.client.orchestration import get_client
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    if not isinstance(exc, TRANSIENT) or not retries or context is None or context.flow_run is None:
        return
    if context.flow_run.deployment_id is None:
        return  # a CLI or test run: its caller sees the failure and decides
    run = context.flow_run
    policy = run.empirical_policy.model_copy(update={"retries": retries, "retry_delay": delay_s})
    try:
        with get_client(sync_client=True) as client:
            client.update_flow_run(flow_run_id=run.id, empirical_policy=policy)
    except Exception as exc_:  # noqa: BLE001 - then the run fails without a retry
        log.warning("flow run %s: retry policy not set (%s: %s)", run.id, type(exc_).__name__, exc_)
