"""The offline mirror of state.gov as a local HTTP server, for the demo and end-to-end tests.

Serves robots.txt, the press-release listing pages, the sitemaps, every note page and the REST
API of each host the notes live on (an archive host under its `/<host>/` path prefix, see
`mirror.hosts`), and the 2009-2017 archive's index pages, rendered when first asked for and kept
in a small cache (see `mirror.pages`; a changed note starts a new cache), with conditional GET;
fails on purpose as its `FaultPlan` says and serves the `bad_pages` it is given. Runs in a daemon thread; `stop()` closes every connection and
joins every thread it started.
"""

from __future__ import annotations

import copy
import logging
import socket
import struct
import threading
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from statenotes.mirror import fault_answers as answers
from statenotes.mirror import faults as fault_kinds
from statenotes.mirror import site
from statenotes.mirror.bad_pages import check_bad_pages
from statenotes.mirror.fault_handler import FaultResponses
from statenotes.mirror.faults import FaultPlan
from statenotes.mirror.notes import modified_at, page_path
from statenotes.mirror.redesign import check_redesign
from statenotes.mirror.pages import DEFAULT_CACHE_PAGES, HTML_WITH_CHARSET, Page, Pages
from statenotes.mirror.sources import MemoryNotes, NoteSource

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
IDLE_CONNECTION_TIMEOUT_S = 30
JOIN_TIMEOUT_S = 5


class _Handler(FaultResponses, BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a crawler's session reuses its connection
    timeout = IDLE_CONNECTION_TIMEOUT_S
    disable_nagle_algorithm = True  # else headers and body in two writes wait for a delayed ACK
    server: _HTTPServer

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def version_string(self) -> str:
        return "Apache"

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        logger.debug("%s %s", self.address_string(), format % args)

    def _serve(self, send_body: bool) -> None:
        mirror = self.server.mirror
        if self._serve_outside_the_site(send_body):  # the Wayback Machine, a redirect loop
            return
        path = urlsplit(self.path).path
        plan = mirror.faults
        if path == "/robots.txt" and plan.robots:
            self._send_robots_fault(plan, send_body)
            return
        fault = plan.decide(path)
        if fault is not None and self._refuse(fault, plan, send_body):
            return
        if fault == fault_kinds.SLOW:
            mirror._stopping.wait(plan.slow_s)  # the answer starts after the client's read timeout
        page, location = mirror._lookup(self.path)
        if page.status == 404 and plan.listing_loop:
            page = self._listing_loop_page(page, path)
        if location:
            self._send(Page(b"", HTML_WITH_CHARSET, 301), send_body, {"Location": location})
            return
        if page.status == 200 and self._not_modified(page):
            self.send_response(304)
            self._validators(page)
            self.end_headers()
            mirror._record(self.command, self.path, 304)
            return
        if fault in (fault_kinds.WRONG_CHARSET, fault_kinds.NO_CHARSET):
            page = answers.relabelled(page, wrong=fault == fault_kinds.WRONG_CHARSET)
        if fault == fault_kinds.HUGE:
            self._send_huge(page, plan, send_body)
            return
        if plan.listing_links and path == site.LISTING_PATH:
            page = self._with_listing_links(page, plan)
        if fault in fault_kinds.STALL_KINDS:
            self._send_stalled(page, fault, plan, send_body)
            return
        cut = plan.truncate_at(path, len(page.body)) if fault == fault_kinds.TRUNCATED else None
        self._send(page, send_body, cut=cut)

    def _send(self, page: Page, send_body: bool, headers: dict[str, str] | None = None, cut: int | None = None):
        self.send_response(page.status)
        self.send_header("Content-Type", page.content_type)
        self.send_header("Content-Length", str(len(page.body)))
        self._validators(page)
        for name, value in (*page.headers, *(headers or {}).items()):
            self.send_header(name, value)
        self.end_headers()
        self.server.mirror._record(self.command, self.path, page.status)
        if send_body:
            self.wfile.write(page.body if cut is None else page.body[:cut])
        if cut is not None and send_body:
            self.close_connection = True  # the rest of the body never comes

    def _validators(self, page: Page) -> None:
        if page.etag:
            self.send_header("ETag", page.etag)
        if page.last_modified:
            self.send_header("Last-Modified", format_datetime(page.last_modified, usegmt=True))

    def _not_modified(self, page: Page) -> bool:
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:  # takes precedence over If-Modified-Since (RFC 9110)
            tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
            return "*" in tags or page.etag in tags
        since = self.headers.get("If-Modified-Since")
        if not since or page.last_modified is None:
            return False
        try:
            when = parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
        when = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
        return page.last_modified <= when

    def _reset(self) -> None:
        """Drop the connection without answering: SO_LINGER 0 makes the close send a TCP RST.
        The socket really closes when `finish()` releases the reader that holds it."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.connection.close()


class _HTTPServer(ThreadingHTTPServer):
    """A threading server that tracks its connection threads, so that stop can close and join them."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], mirror: MirrorServer):
        self.mirror = mirror
        self._connections: dict[threading.Thread, socket.socket] = {}
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request, client_address) -> None:
        thread = threading.Thread(target=self._run_connection, args=(request, client_address),
                                  name="statenotes-mirror-connection", daemon=True)
        with self._connections_lock:
            self._connections[thread] = request
        thread.start()

    def _run_connection(self, request, client_address) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._connections_lock:
                self._connections.pop(threading.current_thread(), None)

    def handle_error(self, request, client_address) -> None:
        # Clients that hang up mid-answer are normal for a test server: no traceback on stderr.
        logger.debug("connection from %s ended with an error", client_address, exc_info=True)

    def close_connections(self) -> None:
        with self._connections_lock:
            open_connections = dict(self._connections)
        for sock in open_connections.values():
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes a thread waiting for a keep-alive request
            except OSError:
                pass
        for thread in open_connections:
            thread.join(JOIN_TIMEOUT_S)


class MirrorServer:
    """The mirror on `host:port` (port 0: any free port). Use as a context manager, or start()/stop().

    `notes` (default: the bundled sample, on www) are served on the host their url names (see
    `mirror.hosts`: an archive host under its path prefix): a list of note dicts, or a
    `sources.NoteSource` such as `NotesFile` (a large corpus, read on demand). Pages are rendered
    when first asked for and the latest `cache_pages` kept. `bad_pages` ({path: kind}, kinds in
    `mirror.bad_pages.BAD_PAGE_KINDS`) answer 200 with a page that is not a release.
    `log_requests=False` keeps no request log (a long benchmark's requests would fill memory).
    `redesign` (one of `mirror.redesign.REDESIGNS`) serves every WordPress release page in that
    redesigned markup, as a site that changed under the parser would.
    """

    def __init__(self, notes: list[dict] | NoteSource | None = None, host: str = DEFAULT_HOST, port: int = 0,
                 crawl_delay: float = 0.0, faults: FaultPlan | None = None,
                 bad_pages: dict[str, str] | None = None, cache_pages: int = DEFAULT_CACHE_PAGES,
                 log_requests: bool = True, redesign: str | None = None):
        if isinstance(notes, NoteSource):
            self._notes = notes
        else:
            self._notes = MemoryNotes(site.load_sample_notes() if notes is None else notes)
        self.host, self.port, self.crawl_delay = host, port, crawl_delay
        self.faults = faults if faults is not None else FaultPlan.none()
        self.bad_pages = check_bad_pages(bad_pages or {}, self._notes)
        self.cache_pages, self.log_requests = cache_pages, log_requests
        self.redesign = check_redesign(redesign)
        self._lock = threading.Lock()
        self._stopping = threading.Event()  # ends the wait of slow answers when the server stops
        self._log: list[tuple[float, str, str, int]] = []
        self._served = 0
        self._pages: Pages | None = None
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._base_url: str | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> MirrorServer:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        self._httpd = _HTTPServer((self.host, self.port), self)
        host, port = self._httpd.server_address[:2]
        shown = DEFAULT_HOST if host in ("0.0.0.0", "") else host
        self.port, self._base_url = port, f"http://{shown}:{port}"
        self._rebuild()
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="statenotes-mirror", daemon=True)
        self._thread.start()
        logger.debug("mirror serving %d notes at %s", len(self._notes), self._base_url)
        return self

    def stop(self) -> None:
        """Stop serving, close the listening socket and every open connection, join all threads."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.server_close()
        httpd.close_connections()
        if self._thread is not None:
            self._thread.join(JOIN_TIMEOUT_S)
            self._thread = None

    def __enter__(self) -> MirrorServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("the mirror has not been started")
        return self._base_url

    # -- content -----------------------------------------------------------------------------

    @property
    def notes(self) -> list[dict]:
        """Copies of the notes served, newest first."""
        with self._lock:
            return site.sort_newest_first([self._notes[path] for path in self._notes])

    def update_note(self, url_path: str, note: dict) -> None:
        """Serve `note` at `url_path` from now on (a new note, or an edit of an existing one).

        Without its own `modified_at`, the note is stamped with the current time (and always later
        than the page's previous stamp), so sitemaps and Last-Modified show the change.
        """
        if page_path(note) != url_path:
            raise ValueError(f"note url {note.get('url')!r} does not have the path {url_path!r}")
        note = copy.deepcopy(note)
        with self._lock:
            if not note.get("modified_at"):
                stamp = datetime.now(timezone.utc).replace(microsecond=0)
                if url_path in self._notes:
                    stamp = max(stamp, modified_at(self._notes[url_path]) + timedelta(seconds=1))
                note["modified_at"] = stamp.isoformat()
            self._notes.replace(url_path, note)
            if self._base_url is not None:
                self._rebuild_locked()

    def _rebuild(self) -> None:
        with self._lock:
            self._rebuild_locked()

    def _rebuild_locked(self) -> None:
        self._pages = Pages(self._notes, self.base_url, self.crawl_delay, self.bad_pages, self.cache_pages,
                            redesign=self.redesign)

    def _lookup(self, raw_path: str) -> tuple[Page, str | None]:
        """The page for a request path, or a redirect location (see `Pages.lookup`)."""
        return self._pages.lookup(raw_path)

    # -- what was served ---------------------------------------------------------------------

    def _record(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self._served += 1
            if self.log_requests:
                self._log.append((time.monotonic(), method, path, status))

    @property
    def requests(self) -> list[tuple[str, str, int]]:
        """(method, path as requested, status) of every answer, in order; status 0 = connection reset."""
        with self._lock:
            return [(m, p, s) for _, m, p, s in self._log]

    @property
    def request_count(self) -> int:
        """Answers given so far (counted even when `log_requests` is off)."""
        with self._lock:
            return self._served

    @property
    def timed_requests(self) -> list[tuple[float, str, str, int]]:
        """As `requests`, each with its time.monotonic() first (to check a client's crawl delay)."""
        with self._lock:
            return list(self._log)

    def clear_requests(self) -> None:
        with self._lock:
            self._log.clear()
