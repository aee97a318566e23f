"""What an operator sees in Prefect: the backfill form's schema (what the UI renders and the server
enforces), and a bad range ending the run Failed with its one reason and no traceback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from statenotes.flows.deployments import build_deployments
from statenotes.flows.parameters import BackfillRequest
from statenotes.flows.pipeline import backfill
from statenotes.flows.settings import load_settings

TODAY = datetime.now(UTC).date()


def backfill_schema() -> dict:
    deployment = next(d for d in build_deployments(load_settings()) if d.name == "backfill")
    return deployment._parameter_openapi_schema.model_dump(exclude_unset=True)


def schema_errors(request: dict) -> list[str]:
    from prefect.utilities.schema_tools.validation import validate

    return [error.message for error in validate({"request": request}, backfill_schema())]


def test_the_form_has_only_the_window_the_site_and_discovery():
    schema = backfill_schema()
    form = schema["definitions"]["BackfillRequest"]
    assert list(schema["properties"]) == ["request"]
    assert list(form["properties"]) == ["start", "end", "site", "custom_site_url", "discovery"]
    assert form["required"] == ["start", "end"] and form["additionalProperties"] is False
    for name, field in form["properties"].items():
        assert field.get("title") and field.get("description"), name
    assert form["properties"]["start"]["format"] == form["properties"]["end"]["format"] == "date"
    assert "YYYY" not in form["properties"]["start"]["description"]  # the UI's picker has its own format
    assert schema["definitions"]["Site"]["enum"] == ["configured", "www", "2017-2021", "2021-2025", "custom"]
    assert form["properties"]["site"]["default"] == "configured"
    assert form["properties"]["discovery"]["default"] == "listing"
    # no nullable field: Prefect's UI renders `anyOf [..., null]` as a type toggle
    assert "anyOf" not in str(form)


def test_the_form_schema_enforces_formats_choices_and_required_fields():
    good = {"start": "2020-01-01", "end": "2020-01-31", "site": "custom",
            "custom_site_url": "http://127.0.0.1:8000", "discovery": "rest"}
    assert schema_errors(good) == []
    assert schema_errors({"start": "2020-01-01", "end": "2020-01-31"}) == []
    assert schema_errors({**good, "site": "ftp"})  # not a choice
    assert schema_errors({**good, "discovery": "rss"})
    assert schema_errors({**good, "start": "01/31/2020"})  # not a date
    assert schema_errors({**good, "custom_site_url": "http://user:secret@127.0.0.1:8000"})
    assert schema_errors({**good, "custom_site_url": "127.0.0.1:8000"})
    assert schema_errors({"start": "2020-01-01"})  # end is required
    assert schema_errors({**good, "settings": {}})  # nothing else


def test_a_url_as_site_is_the_custom_site():
    request = BackfillRequest(start=TODAY, end=TODAY, site="http://127.0.0.1:9/")
    assert (request.site.value, request.custom_site_url, request.base_url) == (
        "custom", "http://127.0.0.1:9/", "http://127.0.0.1:9")
    assert BackfillRequest(start=TODAY, end=TODAY, site="www").base_url == "https://www.state.gov"
    with pytest.raises(ValueError, match="custom_site_url is empty"):
        BackfillRequest(start=TODAY, end=TODAY, site="custom")


@pytest.mark.usefixtures("prefect_harness")
@pytest.mark.parametrize("window,reason", [
    ({"start": "2020-02-01", "end": "2020-01-01"}, "start 2020-02-01 is after end 2020-01-01"),
    ({"start": "2020-01-01", "end": (TODAY + timedelta(days=30)).isoformat()},
     f"end {TODAY + timedelta(days=30)} is in the future (today is {TODAY} UTC): nothing can be listed after today"),
])
def test_a_bad_range_fails_the_run_at_once_with_its_reason_and_no_traceback(window, reason):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    from prefect.logging.handlers import APILogWorker

    state = backfill(request=window, return_state=True)
    APILogWorker.drain_all(timeout=10)  # the run's logs reach the API in the background
    assert state.is_failed()
    assert state.message == reason
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(state.state_details.flow_run_id)
        logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id])))
    assert run.state.type.value == "FAILED" and run.state.message == reason
    assert run.run_count == 1  # refused, not retried
    text = "\n".join(entry.message for entry in logs)
    assert reason in text and "Traceback" not in text, text


def test_each_deployment_runs_one_at_a_time_in_prefect():
    deployments = build_deployments(load_settings())
    assert [(d.name, d.concurrency_limit) for d in deployments] == [("nightly", 1), ("backfill", 1), ("reprocess", 1)]


@pytest.mark.usefixtures("prefect_harness")
def test_the_runs_table_and_prefect_name_the_same_run(tmp_path, mirror):
    import duckdb
    from prefect.client.orchestration import get_client

    from statenotes.flows.settings import run_with

    settings = load_settings(base_url=mirror.base_url, data_dir=tmp_path, crawl_delay_s=0.0, requests_per_minute=0)
    state = run_with(settings, backfill, BackfillRequest(start="2000-01-01", end=TODAY), return_state=True)
    summary = state.result()
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(state.state_details.flow_run_id)
    with duckdb.connect(str(tmp_path / "statenotes.duckdb"), read_only=True) as con:
        rows = con.execute("select run_id, prefect_flow_run_id from runs").fetchall()
    assert rows == [(summary.run_id, str(run.id))]
    assert run.name == summary.run_id


def test_runs_written_before_the_flow_run_id_was_kept_read_as_null(tmp_path):
    import pyarrow.parquet as pq

    from statenotes.warehouse.lake import Lake
    from statenotes.warehouse.records import RunRecord

    lake = Lake(tmp_path / "lake")
    lake.append_run(RunRecord(run_id="old", flow="backfill", started_at=datetime(2020, 1, 1, tzinfo=UTC)))
    [path] = [p for p in (tmp_path / "lake").rglob("*.parquet") if "runs" in p.parts]
    pq.write_table(pq.read_table(path).drop_columns(["prefect_flow_run_id"]), path)  # an older lake's file
    lake.append_run(RunRecord(run_id="new", flow="backfill", started_at=datetime(2020, 1, 2, tzinfo=UTC),
                              prefect_flow_run_id="0f8a"))
    rows = lake.read("runs").select(["run_id", "prefect_flow_run_id"]).to_pylist()
    assert rows == [{"run_id": "old", "prefect_flow_run_id": None}, {"run_id": "new", "prefect_flow_run_id": "0f8a"}]


@pytest.mark.usefixtures("prefect_harness")
@pytest.mark.parametrize("error,runs", [
    ("network", 2),  # the site unreachable: retried once (settings flow_retries = 1)
    ("parser", 1),  # anything else: ends the run
])
def test_a_deployment_run_is_retried_only_for_network_failures(error, runs):
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.flow_engine import run_flow

    from statenotes.extractors.errors import FetchError, ParseError
    from statenotes.flows.prefect_run import allow_retries_for

    @flow(name="flaky")
    def flaky():
        try:
            raise FetchError("http://127.0.0.1:9/", "connection refused") if error == "network" else ParseError("no title")
        except Exception as exc:
            allow_retries_for(exc, retries=1, delay_s=0)
            raise

    with get_client(sync_client=True) as client:
        deployment_id = client.create_deployment(flow_id=client.create_flow(flaky), name="flaky",
                                                 entrypoint="tests/test_operators.py:flaky")
        created = client.create_flow_run_from_deployment(deployment_id)
        state = run_flow(flaky, flow_run=created, return_type="state")
        run = client.read_flow_run(created.id)
    assert state.is_failed() and run.run_count == runs


def closed_loopback_port() -> int:
    import socket

    with socket.socket() as sock:  # bound, never listening, closed: connections to it are refused
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_host_costs_one_round_of_retries_with_backoff():
    import time

    from statenotes.extractors.errors import FetchError
    from statenotes.extractors.http import FetchPolicy, Fetcher

    retries, backoff = 3, 0.5
    budget = sum(backoff * 2 ** n for n in range(1, retries)) * 1.25  # urllib3: 0, 1, 2 s (+ jitter)
    url = f"http://127.0.0.1:{closed_loopback_port()}/x"
    policy = FetchPolicy(user_agent="test", crawl_delay_s=0, connect_timeout_s=2, max_retries=retries,
                         backoff_factor_s=backoff)
    started = time.monotonic()
    with Fetcher(policy) as fetcher, pytest.raises(FetchError) as caught:
        fetcher.fetch_page(url)  # robots.txt first, then the page: one round of retries for both
    elapsed = time.monotonic() - started
    assert elapsed < budget + 1.0, elapsed  # two rounds (robots.txt, then the page) took twice that
    assert "Connection refused" in str(caught.value) and "\n" not in str(caught.value)


def test_a_host_unreachable_through_every_retry_is_not_tried_again_at_once():
    import time

    import requests

    from statenotes.extractors.transport import HostUnreachable, make_session
    from statenotes.extractors.url_policy import UrlPolicy

    url = f"http://127.0.0.1:{closed_loopback_port()}/"
    with make_session(user_agent="test", urls=UrlPolicy.for_site(url),
                      max_retries=2, backoff_factor_s=0.2, max_retry_after_s=1, max_redirects=1) as session:
        with pytest.raises(requests.ConnectionError):
            session.get(url + "a", timeout=2)
        started = time.monotonic()
        with pytest.raises(HostUnreachable, match=r"unreachable: \[Errno 111\] Connection refused \(after 3 tries"):
            session.get(url + "b", timeout=2)
        assert time.monotonic() - started < 0.1


def test_prefect_does_not_retry_a_fetch_failure_the_http_layer_retried():
    from prefect.states import Failed

    from statenotes.extractors.errors import FetchError
    from statenotes.flows.tasks import _not_a_fetch_failure

    assert not _not_a_fetch_failure(None, None, Failed(data=FetchError("http://x/", "refused")))
    assert _not_a_fetch_failure(None, None, Failed(data=OSError("disk full")))


def test_the_report_server_serves_the_report_and_nothing_else(tmp_path):
    import requests

    from statenotes.extractors.errors import ConfigError
    from statenotes.flows.report_server import ReportServer

    report = tmp_path / "report.html"
    (tmp_path / "statenotes.duckdb").write_bytes(b"not for the web")
    with ReportServer(report, f"127.0.0.1:{closed_loopback_port()}") as server:
        assert requests.get(server.base_url + "report.html", timeout=5).status_code == 404  # not written yet
        report.write_text("<html>v1</html>")
        first = requests.get(server.base_url + "report.html", timeout=5)
        report.write_text("<html>v2</html>")  # each run rewrites it: read anew
        second = requests.get(server.base_url, timeout=5)
        assert (first.text, second.text) == ("<html>v1</html>", "<html>v2</html>")
        assert first.headers["Content-Type"] == "text/html; charset=utf-8"
        for path in ("statenotes.duckdb", "../statenotes.duckdb", "%2e%2e/statenotes.duckdb"):
            assert requests.get(server.base_url + path, timeout=5).status_code == 404, path
        assert requests.put(server.base_url + "report.html", data=b"x", timeout=5).status_code == 405
        with pytest.raises(ConfigError, match="cannot serve the report on"):
            ReportServer(report, server.base_url.removeprefix("http://").rstrip("/"))  # that port is taken
    with pytest.raises(ConfigError, match="host:port"):
        ReportServer(report, "8765")


def test_report_base_url_must_be_http():
    from statenotes.extractors.errors import ConfigError

    with pytest.raises(ConfigError, match="report_base_url"):
        load_settings(report_base_url="file:///srv/statenotes/")
    assert load_settings(report_base_url="http://reports.example:8765").report_base_url == "http://reports.example:8765/"


def test_prefect_yaml_deploys_what_serve_serves():
    from pathlib import Path

    import yaml

    served = {d.name: d for d in build_deployments(load_settings())}
    declared = yaml.safe_load((Path(__file__).parents[1] / "prefect.yaml").read_text())["deployments"]
    assert [d["name"] for d in declared] == list(served)
    for entry in declared:
        deployment = served[entry["name"]]
        assert entry["entrypoint"] == deployment.entrypoint
        assert entry["tags"] == deployment.tags and entry["concurrency_limit"] == deployment.concurrency_limit
        assert entry["work_pool"]["name"] == "statenotes"
    assert declared[0]["schedules"] == [{"cron": load_settings().nightly_cron, "timezone": "UTC"}]
