"""The HTML report over HTTP, read-only: `statenotes serve` answers GET /report.html (and /) with
the data folder's report.html, read anew for each request, and nothing else, so the runs' artifact
links work from any machine that reaches the address (a `file://` link works from none: browsers
refuse it from a web page)."""

from __future__ import annotations

import logging
import socket
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from statenotes.extractors.errors import ConfigError

log = logging.getLogger(__name__)

REPORT_PATHS = frozenset({"/", "/report.html"})


def parse_address(address: str) -> tuple[str, int]:
    """"host:port" (e.g. 127.0.0.1:8765, 0.0.0.0:8765) -> (host, port)."""
    host, sep, port = address.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"invalid settings: report_address: expected host:port (e.g. 127.0.0.1:8765), "
                          f"got {address!r}")
    return host.strip("[]"), int(port)


class ReportServer:
    """A thread serving `report` on `address` until stopped."""

    def __init__(self, report: Path, address: str):
        host, port = parse_address(address)
        handler = type("ReportHandler", (_ReportHandler,), {"report": report})
        try:
            self._server = ThreadingHTTPServer((host, port), handler)
        except OSError as exc:
            raise ConfigError(f"cannot serve the report on {address} ({exc.strerror or exc}): set report_address "
                              "(STATENOTES_REPORT_ADDRESS) to a free host:port, or empty not to serve it") from None
        self._thread = threading.Thread(target=self._server.serve_forever, name="report-server", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        if host in ("0.0.0.0", "::"):  # every interface: name the machine, not "any address"
            host = socket.gethostname()
        return f"http://{'[' + host + ']' if ':' in host else host}:{port}/"

    def __enter__(self) -> ReportServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class _ReportHandler(BaseHTTPRequestHandler):
    report: Path
    server_version = "statenotes-report"
    sys_version = ""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self._answer(send_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(send_body=False)

    def _answer(self, send_body: bool) -> None:
        if self.path.split("?", 1)[0] not in REPORT_PATHS:
            self.send_error(HTTPStatus.NOT_FOUND, "only /report.html is served here")
            return
        try:
            body = self.report.read_bytes()
        except FileNotFoundError:
            self.send_error(HTTPStatus.NOT_FOUND, "no report yet: it is written after the first run")
            return
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802 - read-only
        self.send_error(HTTPStatus.METHOD_NOT_ALLOWED)

    do_PUT = do_DELETE = do_PATCH = do_POST

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's name
        log.debug("report server: " + format, *args)
