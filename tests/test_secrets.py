"""Issue 15, case 3: the site's credentials are used, and never stored or printed. A password given in
STATENOTES_BASE_URL (or STATENOTES_HTTP_USER / STATENOTES_HTTP_PASSWORD) is sent as Basic auth to the
site's origin only, and appears in no file of the data folder, no CLI output, no log line and nothing
Prefect keeps (flow-run parameters, logs, artifacts)."""

from __future__ import annotations

import base64
import gzip
import json
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
import requests

from statenotes.extractors.credentials import SiteCredentials, redact
from statenotes.extractors.errors import ConfigError
from statenotes.extractors.http import Fetcher
from statenotes.flows.parameters import BackfillRequest, request_problems
from statenotes.flows.settings import load_settings
from statenotes.mirror.server import MirrorServer

USER, PASSWORD = "crawler", "Pa55w0rd-only-in-the-env"
SEED_PATH = "/statement-by-ministers-of-the-global-coalition-to-defeat-isis-daesh/"


def with_credentials(url: str, user: str = USER, password: str = PASSWORD) -> str:
    return url.replace("://", f"://{user}:{password}@", 1)


# -- settings and redaction ----------------------------------------------------------------------

def test_credentials_in_base_url_move_out_of_it_at_load(monkeypatch):
    monkeypatch.setenv("STATENOTES_BASE_URL", "https://us%40er:p%40ss:w@rd@site.example:8443/")
    settings = load_settings()
    assert settings.base_url == "https://site.example:8443"
    assert (settings.http_user, settings.http_password.get_secret_value()) == ("us@er", "p@ss:w@rd")
    for shown in (repr(settings), str(settings), settings.model_dump_json(), repr(settings.fetch_policy())):
        assert "p@ss" not in shown and "p%40ss" not in shown
    assert settings.site_credentials() == SiteCredentials("https://site.example:8443", "us@er", "p@ss:w@rd")
    # another site (the backfill form's `site`) does not get them
    elsewhere = settings.model_copy(update={"base_url": "https://2017-2021.state.gov"})
    assert elsewhere.site_credentials().origin == "https://site.example:8443"


def test_credentials_from_the_environment_pair(monkeypatch):
    monkeypatch.setenv("STATENOTES_BASE_URL", "http://127.0.0.1:8000")
    monkeypatch.setenv("STATENOTES_HTTP_USER", USER)
    monkeypatch.setenv("STATENOTES_HTTP_PASSWORD", PASSWORD)
    settings = load_settings()
    assert settings.site_credentials() == SiteCredentials("http://127.0.0.1:8000", USER, PASSWORD)
    assert PASSWORD not in repr(settings) and PASSWORD not in settings.model_dump_json()
    monkeypatch.setenv("STATENOTES_BASE_URL", with_credentials("http://127.0.0.1:8000", "other", "x"))
    with pytest.raises(ConfigError, match="keep one") as raised:
        load_settings()
    assert PASSWORD not in str(raised.value)


def test_no_credentials_no_auth():
    assert load_settings(base_url="http://127.0.0.1:8000").site_credentials() is None


def test_a_bad_base_url_with_credentials_is_refused_without_showing_them():
    with pytest.raises(ConfigError) as raised:
        load_settings(base_url=f"ftp://{USER}:{PASSWORD}@site.example/")
    assert "http:// or https://" in str(raised.value) and PASSWORD not in str(raised.value)
    with pytest.raises(ConfigError) as raised:
        load_settings(wayback_base=with_credentials("https://web.archive.org"))
    assert "user name or password" in str(raised.value) and PASSWORD not in str(raised.value)


def test_the_backfill_form_refuses_credentials_in_site():
    with pytest.raises(ValueError) as raised:
        BackfillRequest(start="2020-01-01", end="2020-01-02", site=with_credentials("https://site.example"))
    message = request_problems(raised.value)
    assert "must not carry a user name or password" in message and PASSWORD not in message


@pytest.mark.parametrize("text,expected", [
    ("http://u:p@h/x", "http://h/x"),
    ("https://u@h:81/a?b=c@d", "https://h:81/a?b=c@d"),
    ("s3://KEY:SECRET@bucket/lake", "s3://bucket/lake"),
    ("fetching http://u:p@ss@h/x failed; see https://h2/y@z", "fetching http://h/x failed; see https://h2/y@z"),
    ("HTTP://U:P@H.example", "HTTP://H.example"),
    ("no url here: user:pass@host", "no url here: user:pass@host"),
    ("http://h/path/with@sign", "http://h/path/with@sign"),
])
def test_redact_removes_the_userinfo_of_every_url(text, expected):
    assert redact(text) == expected


# -- the auth goes to the site's origin only -----------------------------------------------------

class _HeadersHandler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        self.server.seen.append((self.path, self.headers.get("Authorization")))
        body = b"User-agent: *\nAllow: /\n" if self.path == "/robots.txt" else b"<html>page</html>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def header_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HeadersHandler)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_basic_auth_is_sent_to_the_site_and_stored_nowhere(header_server, monkeypatch):
    base, seen = header_server
    monkeypatch.setenv("STATENOTES_HTTP_USER", USER)
    monkeypatch.setenv("STATENOTES_HTTP_PASSWORD", PASSWORD)
    settings = load_settings(base_url=base, crawl_delay_s=0, requests_per_minute=0)
    with Fetcher(settings.fetch_policy()) as fetcher:
        page = fetcher.fetch_page(base + "/page/")
        records = fetcher.take_log()
    expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert seen == [("/robots.txt", expected), ("/page/", expected)]
    assert page.final_url == base + "/page/" and all(r.url.startswith(base) for r in records)
    assert PASSWORD not in repr(records) and PASSWORD not in repr(fetcher.session.auth)


@pytest.mark.parametrize("url,sent", [
    ("http://127.0.0.1:8000/x", True),
    ("HTTP://127.0.0.1:8000/robots.txt", True),
    ("http://127.0.0.1:8001/x", False),  # another port
    ("https://127.0.0.1:8000/x", False),  # another scheme
    ("http://127.0.0.2:8000/x", False),  # another host
    ("https://web.archive.org/web/2020id_/http://127.0.0.1:8000/x", False),
])
def test_basic_auth_is_added_for_the_credentials_origin_only(url, sent):
    auth = SiteCredentials("http://127.0.0.1:8000", USER, PASSWORD).auth()
    prepared = auth(requests.Request("GET", url).prepare())
    assert ("Authorization" in prepared.headers) is sent


# -- settings are not a Prefect parameter --------------------------------------------------------

def test_flows_take_only_their_real_parameters():
    from statenotes.flows.pipeline import backfill, nightly, reprocess

    assert set(backfill.parameters.properties) == {"request"}
    assert nightly.parameters.properties == {} and reprocess.parameters.properties == {}


# -- end to end: a backfill whose base_url carries user:password ---------------------------------

def _files_holding(root: Path, secret: str) -> list[str]:
    """Every file under `root` whose content (decompressed, decoded) holds `secret`."""
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        texts = [data.decode("utf-8", "replace")]
        if path.suffix == ".parquet":
            texts.append(repr(pq.read_table(path).to_pylist()))
        elif path.suffix == ".gz" or data[:2] == b"\x1f\x8b":
            texts.append(gzip.decompress(data).decode("utf-8", "replace"))
        elif path.suffix == ".duckdb":
            with duckdb.connect(str(path), read_only=True) as con:
                tables = [r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()]
                texts += [repr(con.execute(f'select * from "{t}"').fetchall()) for t in tables]
        if any(secret in text for text in texts):
            found.append(str(path.relative_to(root)))
    return found


@pytest.mark.usefixtures("prefect_harness")
def test_a_backfill_with_credentials_in_base_url_leaks_them_nowhere(tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, LogFilter, LogFilterFlowRunId
    from prefect.settings import PREFECT_API_URL

    data_dir = tmp_path / "data"
    today = datetime.now(UTC).date().isoformat()
    with MirrorServer(bad_pages={SEED_PATH: "soft404"}) as site:
        env = {**os.environ, "STATENOTES_BASE_URL": with_credentials(site.base_url),
               "STATENOTES_REQUESTS_PER_MINUTE": "0", "STATENOTES_BACKOFF_FACTOR_S": "0.01",
               "PREFECT_API_URL": PREFECT_API_URL.value(), "PREFECT_LOGGING_LEVEL": "INFO", "COLUMNS": "300"}
        command = [sys.executable, "-c", "from statenotes.flows.cli import app; app()", "backfill",
                   "--start", "2000-01-01", "--end", today, "--data-dir", str(data_dir), "--crawl-delay", "0",
                   "--verbose"]
        result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert PASSWORD not in output
    assert site.base_url in result.stdout and "quarantined" in result.stdout  # the summary was printed
    assert "INFO" in result.stderr  # the INFO logs were printed, and checked

    assert (data_dir / "statenotes.duckdb").exists() and (data_dir / "report.html").exists()
    assert _files_holding(data_dir, PASSWORD) == []
    assert _files_holding(data_dir, site.base_url) != []  # the search does find what is there

    with get_client(sync_client=True) as client:
        report_link = (data_dir / "report.html").resolve().as_uri()
        run_ids = {a.flow_run_id for a in client.read_artifacts() if report_link in json.dumps(a.data)}
        assert len(run_ids) == 1, "the run's artifacts were not found"
        ours = [a for a in client.read_artifacts() if a.flow_run_id in run_ids]
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=list(run_ids))))
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=list(run_ids))))
        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=list(run_ids))))
    assert [r.parameters["request"]["start"] for r in runs] == ["2000-01-01"]
    assert logs and any(site.base_url in log.message for log in logs) and tasks
    kept = json.dumps([[r.model_dump(mode="json") for r in runs + tasks], [a.model_dump(mode="json") for a in ours],
                       [log.model_dump(mode="json") for log in logs]])
    assert PASSWORD not in kept


def test_a_netrc_file_is_an_alternative(header_server, monkeypatch, tmp_path):
    """Without http_user/http_password, requests reads the netrc file (NETRC, else ~/.netrc)."""
    base, seen = header_server
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login {USER} password {PASSWORD}\n", encoding="utf-8")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    settings = load_settings(base_url=base, crawl_delay_s=0, requests_per_minute=0)
    assert settings.site_credentials() is None
    with Fetcher(settings.fetch_policy()) as fetcher:
        fetcher.fetch_page(base + "/page/")
    assert seen[-1] == ("/page/", "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode())



def test_extract_a_url_with_credentials_prints_none(mirror):
    from statenotes.mirror.site import load_sample_notes, page_url

    note_url = page_url(load_sample_notes()[0], mirror.base_url)
    command = [sys.executable, "-c", "from statenotes.flows.cli import app; app()", "extract",
               with_credentials(note_url), "--json"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "STATENOTES_CRAWL_DELAY_S": "0"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout)["note"]["url"] == note_url
    assert PASSWORD not in result.stdout + result.stderr
