"""The requests Session the Fetcher uses: urllib3 retries that honour a capped Retry-After,
redirects kept to the allowed origins (a refused target is never contacted), and a watchdog that
bounds the total time of one response.

Why a watchdog: urllib3's read timeout applies to each read of the socket, so a server that sends
one byte a second (in the headers or in the body) never trips it. Each response gets a
`ResponseWatch` instead: a timer that, at the deadline, shuts the connection's socket down
(`shutdown(SHUT_RDWR)` wakes a thread blocked in `recv` at once, on plain and TLS sockets alike).
The connection classes below hand their socket to the watch of the thread that uses them just
before the headers are read, so the watch covers the headers, the body and urllib3's own retries;
the read that was blocked then fails, and the Fetcher, seeing its watch expired, reports the
deadline instead of a broken connection. The same mechanism cancels every response in flight when
the run is stopped (SIGTERM, Ctrl-C)."""

from __future__ import annotations

import socket
import threading
from urllib.parse import urljoin

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import MaxRetryError
from urllib3.util.retry import Retry

from statenotes.extractors.url_policy import UrlPolicy

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
POOL_CONNECTIONS, POOL_MAXSIZE = 4, 8
# A redirect's body is read (to keep its connection) only when it declares at most this, unencoded.
REDIRECT_BODY_BYTES = 64 * 1024


class OffHostRedirect(requests.RequestException):
    """A redirect pointed outside the allowed origins; it is not followed."""


class ResponseWatch:
    """The deadline of one response (see the module's docstring). `expire(reason)` ends it early."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.reason: str | None = None  # set once expired
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._ended = threading.Event()
        self._closed = False
        self._timer = threading.Timer(seconds, self.expire, args=(f"response exceeded {seconds:g} s deadline",))
        self._timer.daemon = True
        self._timer.start()

    @property
    def expired(self) -> bool:
        return self.reason is not None

    def attach(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            self._sockets.append(sock)
            expired = self.expired
        if expired:
            _shut(sock)

    def expire(self, reason: str) -> None:
        with self._lock:
            if self._closed:  # the response is complete: its connection may be back in the pool
                return
            if self.reason is None:
                self.reason = reason
            sockets = list(self._sockets)
        self._ended.set()
        for sock in sockets:
            _shut(sock)

    def pause(self, seconds: float) -> None:
        """Sleep `seconds`, or less when the watch expires meanwhile."""
        self._ended.wait(max(0.0, seconds))

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._timer.cancel()


def _shut(sock: socket.socket) -> None:
    try:
        # socket.socket's own shutdown, also for a TLS socket: SSLSocket.shutdown would drop its
        # SSL object under the thread that is reading it.
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


_watching = threading.local()


class watching:  # noqa: N801 - used as a context manager, like a function
    """Attach the connections this thread uses to `watch` until the block ends."""

    def __init__(self, watch: ResponseWatch):
        self.watch = watch

    def __enter__(self) -> ResponseWatch:
        _watching.watch = self.watch
        return self.watch

    def __exit__(self, *exc: object) -> None:
        _watching.watch = None
        self.watch.close()


def current_watch() -> ResponseWatch | None:
    return getattr(_watching, "watch", None)


class _WatchedHTTPConnection(HTTPConnection):
    def getresponse(self):  # noqa: ANN201 - urllib3's signature
        watch = current_watch()
        if watch is not None:
            watch.attach(self.sock)
        return super().getresponse()


class _WatchedHTTPSConnection(HTTPSConnection):
    def getresponse(self):  # noqa: ANN201
        watch = current_watch()
        if watch is not None:
            watch.attach(self.sock)
        return super().getresponse()


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class WatchedAdapter(HTTPAdapter):
    """An HTTPAdapter whose connections report to the thread's ResponseWatch."""

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class GuardedSession(requests.Session):
    """A Session that follows a redirect only when the URL policy admits it."""

    def __init__(self, urls: UrlPolicy):
        super().__init__()
        self.urls = urls

    def get_redirect_target(self, resp):  # noqa: ANN001 - requests' signature
        # requests asks for the target before it connects to it, so raising here means the other
        # origin is never contacted.
        target = super().get_redirect_target(resp)
        if target:
            refused = self.urls.redirect_refusal(resp.url, urljoin(resp.url, target))
            if refused:
                raise OffHostRedirect(refused)
            _skip_unbounded_body(resp)
        return target


def _skip_unbounded_body(resp: requests.Response) -> None:
    """requests reads a redirect's whole body, decompressed, before it follows the redirect; a
    bomb there would fill memory past any cap. Such a body is left unread (its connection is
    closed instead of reused): nobody needs a redirect's body."""
    declared = resp.headers.get("Content-Length", "")
    encoded = resp.headers.get("Content-Encoding", "identity").strip().lower() not in ("", "identity")
    if declared.isdigit() and int(declared) <= REDIRECT_BODY_BYTES and not encoded:
        return
    resp._content, resp._content_consumed = b"", True  # what `resp.content` then returns


class CappedRetry(Retry):
    """urllib3 Retry that honours Retry-After but never sleeps longer than `retry_after_cap`."""

    def __init__(self, *args, retry_after_cap: float = 120.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.retry_after_cap = retry_after_cap

    def new(self, **kwargs) -> CappedRetry:
        # urllib3 makes a new Retry after every attempt; carry the cap over.
        renewed = super().new(**kwargs)
        renewed.retry_after_cap = self.retry_after_cap
        return renewed

    def get_retry_after(self, response):  # noqa: ANN001 - urllib3's signature
        seconds = super().get_retry_after(response)
        return None if seconds is None else min(seconds, self.retry_after_cap)

    def increment(self, *args, **kwargs) -> CappedRetry:
        # A response past its deadline (or cancelled) is not tried again.
        watch = current_watch()
        if watch is not None and watch.expired:
            raise MaxRetryError(kwargs.get("_pool"), kwargs.get("url"), kwargs.get("error"))
        return super().increment(*args, **kwargs)

    def sleep(self, response=None) -> None:  # noqa: ANN001
        watch = current_watch()
        if watch is None:
            super().sleep(response)
            return
        # The wait between tries counts against the deadline and ends with it.
        after = self.get_retry_after(response) if self.respect_retry_after_header and response else None
        watch.pause(after if after is not None else self.get_backoff_time())


def make_session(*, user_agent: str, urls: UrlPolicy, max_retries: int, backoff_factor_s: float,
                 max_retry_after_s: float, max_redirects: int) -> requests.Session:
    retries = CappedRetry(
        total=max_retries,
        backoff_factor=backoff_factor_s,
        backoff_jitter=backoff_factor_s / 2,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET", "HEAD"}),
        respect_retry_after_header=True,
        raise_on_status=False,
        retry_after_cap=max_retry_after_s,
    )
    session = GuardedSession(urls)
    session.max_redirects = max_redirects
    adapter = WatchedAdapter(max_retries=retries, pool_connections=POOL_CONNECTIONS, pool_maxsize=POOL_MAXSIZE)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = user_agent
    return session
