"""Polite HTTP for state.gov: one requests Session with urllib3 retries (honouring Retry-After),
explicit timeouts, robots.txt rules and Crawl-delay plus a token bucket, a body size cap (also after
decompression), redirects kept to the configured hosts, and truncated bodies retried."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib import robotparser
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter
from urllib3.util.retry import Retry

from statenotes.extractors.errors import FetchError
from statenotes.extractors.records import FetchedPage, FetchRecord

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    user_agent: str
    crawl_delay_s: float = 5.0
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 30.0
    max_retries: int = 5
    backoff_factor_s: float = 1.0
    max_retry_after_s: float = 120.0
    max_page_bytes: int = 5_000_000
    # Hosts a redirect may lead to besides the host being fetched (e.g. the archive hosts).
    allowed_hosts: frozenset[str] = frozenset()
    max_redirects: int = 5
    # A global cap on top of each site's crawl delay; 0 disables it.
    requests_per_minute: float = 0.0
    burst: int = 1


class OffHostRedirect(requests.RequestException):
    """A redirect pointed outside the configured hosts; it is not followed."""


class _GuardedSession(requests.Session):
    """A Session that refuses redirects to hosts the crawl was not configured for."""

    def __init__(self, allowed_hosts: frozenset[str]):
        super().__init__()
        self.allowed_hosts = frozenset(h.lower() for h in allowed_hosts)

    def get_redirect_target(self, resp):  # noqa: ANN001 - requests' signature
        target = super().get_redirect_target(resp)
        if target:
            here = (urlsplit(resp.url).hostname or "").lower()
            there = (urlsplit(urljoin(resp.url, target)).hostname or "").lower()
            if there != here and there not in self.allowed_hosts:
                raise OffHostRedirect(f"redirect to another host refused: {urljoin(resp.url, target)}")
        return target


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


class _IncompleteBody(Exception):
    """The connection ended before the body did (a body shorter than its Content-Length)."""


def make_session(policy: FetchPolicy) -> requests.Session:
    retries = CappedRetry(
        total=policy.max_retries,
        backoff_factor=policy.backoff_factor_s,
        backoff_jitter=policy.backoff_factor_s / 2,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET", "HEAD"}),
        respect_retry_after_header=True,
        raise_on_status=False,
        retry_after_cap=policy.max_retry_after_s,
    )
    session = _GuardedSession(policy.allowed_hosts)
    session.max_redirects = policy.max_redirects
    adapter = HTTPAdapter(max_retries=retries, pool_connections=4, pool_maxsize=8)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = policy.user_agent
    return session


class TokenBucket:
    """At most `rate_per_s` requests a second on average, bursts of `capacity`, across threads."""

    def __init__(self, rate_per_s: float, capacity: int = 1):
        self.rate_per_s = rate_per_s
        self.capacity = max(1, capacity)
        self._tokens = float(self.capacity)
        self._updated = time.monotonic()
        self._lock = threading.Lock()

    def take(self) -> None:
        if self.rate_per_s <= 0:
            return
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate_per_s)
            self._updated = now
            self._tokens -= 1
            wait = -self._tokens / self.rate_per_s if self._tokens < 0 else 0.0
        if wait:
            time.sleep(wait)


class Politeness:
    """Spaces request starts at least `delay_s` apart, across threads."""

    def __init__(self, delay_s: float):
        self.delay_s = delay_s
        self._lock = threading.Lock()
        self._next_at = 0.0

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next_at)
            self._next_at = start + self.delay_s
        if start > now:
            time.sleep(start - now)


class Fetcher:
    """Fetches pages from one site, politely; keeps a log of every exchange for the `fetches` table."""

    def __init__(self, policy: FetchPolicy, session: requests.Session | None = None):
        self.policy = policy
        self.session = session or make_session(policy)
        self.log: list[FetchRecord] = []
        self._log_lock = threading.Lock()
        self._robots: dict[str, robotparser.RobotFileParser] = {}
        self._politeness: dict[str, Politeness] = {}
        self._robots_lock = threading.Lock()
        self._bucket = TokenBucket(policy.requests_per_minute / 60.0, policy.burst)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def request_count(self) -> int:
        return len(self.log)

    def fetch_page(self, url: str, headers: dict[str, str] | None = None) -> FetchedPage:
        """GET `url`; a 2xx or 304 answer as a FetchedPage, anything else raises FetchError."""
        origin = self._origin(url)
        rules = self._robots_for(origin)
        if not rules.can_fetch(self.policy.user_agent, url):
            raise FetchError(url, "disallowed by robots.txt")
        try:
            page = self._get_with_body_retries(url, headers or {}, self._politeness[origin])
        except FetchError as exc:
            self._record(FetchRecord(url, None, _now(), 0, error=exc.reason))
            raise
        self._record(
            FetchRecord(
                url=url, status=page.status, fetched_at=page.fetched_at, elapsed_ms=page.elapsed_ms,
                bytes=len(page.body), sha256=page.sha256, etag=page.headers.get("etag"),
                last_modified=page.headers.get("last-modified"),
                error=None if page.status < 400 else f"HTTP {page.status}",
            )
        )
        if page.status >= 400:
            raise FetchError(url, f"HTTP {page.status}")
        return page

    def _get_with_body_retries(self, url: str, headers: dict[str, str], pace: Politeness) -> FetchedPage:
        # urllib3 retries statuses and failed connections; a body cut short happens after that,
        # while requests streams it, so it gets its own retries here.
        @retry(
            retry=retry_if_exception_type((_IncompleteBody, requests.Timeout)),
            stop=stop_after_attempt(self.policy.max_retries + 1),
            wait=wait_exponential_jitter(initial=self.policy.backoff_factor_s, max=30),
            reraise=True,
        )
        def attempt() -> FetchedPage:
            pace.wait()
            self._bucket.take()
            return self._get_once(url, headers)

        try:
            return attempt()
        except _IncompleteBody as exc:
            raise FetchError(url, f"body incomplete after {self.policy.max_retries + 1} tries: {exc}") from exc
        except requests.Timeout as exc:
            raise FetchError(url, f"timed out: {exc.__class__.__name__}") from exc
        except OffHostRedirect as exc:
            log.warning("%s: %s", url, exc)
            raise FetchError(url, str(exc)) from exc
        except requests.TooManyRedirects as exc:
            raise FetchError(url, f"redirect loop (more than {self.policy.max_redirects} redirects)") from exc
        except requests.RequestException as exc:
            raise FetchError(url, f"{exc.__class__.__name__}: {exc}") from exc

    def _get_once(self, url: str, headers: dict[str, str]) -> FetchedPage:
        started = time.monotonic()
        timeout = (self.policy.connect_timeout_s, self.policy.read_timeout_s)
        with self.session.get(url, headers=headers, timeout=timeout, stream=True) as response:
            body = self._read_body(url, response)
            return FetchedPage(
                url=url,
                final_url=response.url,
                status=response.status_code,
                headers={k.lower(): v for k, v in response.headers.items()},
                body=body,
                sha256=hashlib.sha256(body).hexdigest(),
                fetched_at=_now(),
                elapsed_ms=int((time.monotonic() - started) * 1000),
            )

    def _read_body(self, url: str, response: requests.Response) -> bytes:
        chunks: list[bytes] = []
        size = 0
        try:
            # iter_content decompresses, so the cap also bounds what a gzip bomb can inflate to.
            for chunk in response.iter_content(CHUNK_BYTES):
                size += len(chunk)
                if size > self.policy.max_page_bytes:
                    raise FetchError(url, f"body larger than {self.policy.max_page_bytes} bytes")
                chunks.append(chunk)
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError) as exc:
            raise _IncompleteBody(str(exc)) from exc
        return b"".join(chunks)

    def _origin(self, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise FetchError(url, "not an http(s) URL")
        return f"{parts.scheme}://{parts.netloc}"

    def _robots_for(self, origin: str) -> robotparser.RobotFileParser:
        with self._robots_lock:
            if origin in self._robots:
                return self._robots[origin]
            rules = robotparser.RobotFileParser(origin + "/robots.txt")
            try:
                page = self._get_with_body_retries(origin + "/robots.txt", {}, Politeness(0))
                self._record(FetchRecord(page.url, page.status, page.fetched_at, page.elapsed_ms,
                                         len(page.body), page.sha256))
                if page.status >= 400:
                    rules.parse([])  # no robots.txt: everything allowed
                else:
                    rules.parse(page.body.decode("utf-8", "replace").splitlines())
            except FetchError as exc:
                log.warning("robots.txt unreadable at %s (%s); crawling with the configured delay", origin, exc.reason)
                rules.parse([])
            delay = max(self.policy.crawl_delay_s, float(rules.crawl_delay(self.policy.user_agent) or 0))
            log.info("%s: crawl delay %.1f s", origin, delay)
            self._robots[origin] = rules
            self._politeness[origin] = Politeness(delay)
            return rules

    def crawl_delay_for(self, origin: str) -> float:
        self._robots_for(origin)
        return self._politeness[origin].delay_s

    def _record(self, record: FetchRecord) -> None:
        with self._log_lock:
            self.log.append(record)


def _now() -> datetime:
    return datetime.now(UTC)
