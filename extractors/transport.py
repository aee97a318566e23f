"""The requests Session the Fetcher uses: urllib3 retries that honour a capped Retry-After, and
redirects kept to the configured hosts (an off-host target is refused before it is contacted)."""

from __future__ import annotations

import threading
import time
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError
from urllib3.util.retry import Retry

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
POOL_CONNECTIONS, POOL_MAXSIZE = 4, 8
# A redirect's body is read (to keep its connection) only when it declares at most this, unencoded.
REDIRECT_BODY_BYTES = 64 * 1024
# After a host could not be connected to through all of urllib3's retries, requests to it fail at
# once for this long: one unreachable host costs one round of retries, not one per request.
UNREACHABLE_FOR_S = 60.0


class HostUnreachable(requests.ConnectionError):
    """A host that could not be connected to a moment ago; not tried again yet."""


class RetryingAdapter(HTTPAdapter):
    """urllib3's retries (the one layer for connection failures, read timeouts and busy answers),
    and a memory of the hosts that stayed unreachable through them (see UNREACHABLE_FOR_S)."""

    def __init__(self, *args, unreachable_for_s: float = UNREACHABLE_FOR_S, **kwargs):
        super().__init__(*args, **kwargs)
        self.unreachable_for_s = unreachable_for_s
        self._unreachable: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def send(self, request, **kwargs):  # noqa: ANN001, ANN201 - requests' signature
        parts = urlsplit(request.url)
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._lock:
            failed = self._unreachable.get(origin)
        if failed is not None and time.monotonic() - failed[0] < self.unreachable_for_s:
            raise HostUnreachable(f"{origin} unreachable: {failed[1]} (after {self.max_retries.total + 1} tries, "
                                  f"the last {time.monotonic() - failed[0]:.0f} s ago)", request=request)
        try:
            response = super().send(request, **kwargs)
        except requests.ConnectionError as exc:
            reason = _connect_failure(exc)
            if reason is not None:
                with self._lock:
                    self._unreachable[origin] = (time.monotonic(), reason)
            raise
        with self._lock:
            self._unreachable.pop(origin, None)
        return response


def _connect_failure(exc: requests.ConnectionError) -> str | None:
    """The one-line reason when no connection could be made at all (refused, no such host,
    connect timeout), after urllib3's retries; None for failures after connecting."""
    cause = exc.args[0] if exc.args else None
    reason = cause.reason if isinstance(cause, MaxRetryError) else cause
    if isinstance(reason, (NewConnectionError, ConnectTimeoutError)):
        return str(reason).rsplit(": ", 1)[-1] or type(reason).__name__
    return None


class OffHostRedirect(requests.RequestException):
    """A redirect pointed outside the configured hosts; it is not followed."""


class GuardedSession(requests.Session):
    """A Session that refuses redirects to hosts the crawl was not configured for."""

    def __init__(self, allowed_hosts: frozenset[str]):
        super().__init__()
        self.allowed_hosts = frozenset(h.lower() for h in allowed_hosts)

    def get_redirect_target(self, resp):  # noqa: ANN001 - requests' signature
        # requests asks for the target before it connects to it, so raising here means the other
        # host is never contacted.
        target = super().get_redirect_target(resp)
        if target:
            here = (urlsplit(resp.url).hostname or "").lower()
            there = (urlsplit(urljoin(resp.url, target)).hostname or "").lower()
            if there != here and there not in self.allowed_hosts:
                raise OffHostRedirect(f"redirect to another host refused: {urljoin(resp.url, target)}")
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


def make_session(*, user_agent: str, allowed_hosts: frozenset[str], max_retries: int, backoff_factor_s: float,
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
    session = GuardedSession(allowed_hosts)
    session.max_redirects = max_redirects
    adapter = RetryingAdapter(max_retries=retries, pool_connections=POOL_CONNECTIONS, pool_maxsize=POOL_MAXSIZE)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = user_agent
    return session
