"""Polite HTTP for state.gov: one requests Session with urllib3 retries (honouring Retry-After),
explicit timeouts and a total deadline per response, robots.txt rules (RFC 9309) and Crawl-delay
plus a token bucket, a body size cap (also after decompression), every URL and redirect checked by
one URL policy (extractors/url_policy.py), truncated bodies retried, conditional GET, and
(optional) the Wayback Machine's copy of a page the site blocks. `cancel()` (or `cancel_all()`)
ends every request in flight at once, for a run that is being stopped."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib import robotparser
from urllib.parse import urlsplit

import requests
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter
from urllib3.exceptions import MaxRetryError, ReadTimeoutError

from statenotes.extractors.credentials import SiteCredentials
from statenotes.extractors.errors import FetchError
from statenotes.extractors.pacing import Politeness, TokenBucket
from statenotes.extractors.parse import is_bot_wall
from statenotes.extractors.records import FetchedPage, FetchRecord, Validators
from statenotes.extractors.transport import OffHostRedirect, ResponseWatch, make_session, watching
from statenotes.extractors.url_policy import UrlPolicy, redact

log = logging.getLogger(__name__)

CHUNK_BYTES = 64 * 1024
NOT_MODIFIED = 304
TOO_MANY_REQUESTS = 429
BLOCKED = 403  # what state.gov answers non-browser clients it blocks (corpus MARKUP.md)
WAYBACK_BASE = "https://web.archive.org"
WAYBACK_STAMP = "%Y%m%d%H%M%S"  # the Wayback Machine redirects to the capture nearest this time
VIA_WAYBACK = "wayback"
# RFC 9309 2.5: a crawler must parse at least 500 KiB of robots.txt; what follows is not read.
MAX_ROBOTS_BYTES = 512 * 1024


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
    # From sending the request to the last byte of the body, whatever the server's pace.
    response_deadline_s: float = 60.0
    # The site: with it, only its origin, the allowed hosts' and the Wayback Machine's (when the
    # fallback is on) are requested; without it (`extract URL`), any http(s) URL without credentials.
    base_url: str = ""
    # Hosts (or full origins) besides the site's that URLs and redirects may lead to (the archive hosts).
    allowed_hosts: frozenset[str] = frozenset()
    max_redirects: int = 5
    # A global cap on top of each site's crawl delay; 0 disables it.
    requests_per_minute: float = 0.0
    burst: int = 1
    # When the site blocks a page (403, or the bot-wall page with 200), fetch the Wayback
    # Machine's copy `{wayback_base}/web/<now>id_/<url>` instead. Off by default.
    wayback_fallback: bool = False
    wayback_base: str = WAYBACK_BASE
    # Basic auth for the crawled site's origin only (no other host ever receives it).
    credentials: SiteCredentials | None = None


class _IncompleteBody(Exception):
    """The connection ended before the body did (a body shorter than its Content-Length)."""


class _Stopped(Exception):
    """The response's watch ended it: past the deadline, or the fetcher was cancelled. Not retried."""


_LIVE: weakref.WeakSet[Fetcher] = weakref.WeakSet()


def cancel_all(reason: str) -> None:
    """Cancel every open Fetcher of this process (a signal handler's way to stop a run's requests)."""
    for fetcher in list(_LIVE):
        fetcher.cancel(reason)


def url_policy(policy: FetchPolicy) -> UrlPolicy:
    if not policy.base_url:
        return UrlPolicy.open_to_any(policy.allowed_hosts)
    extra = (policy.wayback_base,) if policy.wayback_fallback else ()
    return UrlPolicy.for_site(policy.base_url, policy.allowed_hosts, extra)


class Fetcher:
    """Fetches pages from one site, politely; keeps a log of every exchange for the `fetches` table."""

    def __init__(self, policy: FetchPolicy, session: requests.Session | None = None):
        self.policy = policy
        self.urls = url_policy(policy)
        self.session = session or make_session(
            user_agent=policy.user_agent, urls=self.urls, max_retries=policy.max_retries,
            backoff_factor_s=policy.backoff_factor_s, max_retry_after_s=policy.max_retry_after_s,
            max_redirects=policy.max_redirects)
        if policy.credentials is not None:
            self.session.auth = policy.credentials.auth()
        self.log: list[FetchRecord] = []  # since the last `take_log`
        self._requests = 0
        self.refused = 0  # URLs (and redirects) the URL policy refused
        self._cancelled = threading.Event()
        self._cancel_reason = ""
        self._watches: set[ResponseWatch] = set()
        self._watches_lock = threading.Lock()
        self._blocked: dict[str, str] = {}  # origin -> why robots.txt forbids it all this run
        self._log_lock = threading.Lock()
        self._robots: dict[str, robotparser.RobotFileParser] = {}
        self._politeness: dict[str, Politeness] = {}
        self._robots_lock = threading.Lock()
        self._bucket = TokenBucket(policy.requests_per_minute / 60.0, policy.burst)

    def close(self) -> None:
        _LIVE.discard(self)
        self.session.close()

    def __enter__(self) -> Fetcher:
        _LIVE.add(self)
        return self

    def cancel(self, reason: str = "the run is stopping") -> None:
        """End every request in flight now and refuse new ones (each fails with `reason`)."""
        self._cancel_reason = reason
        self._cancelled.set()
        with self._watches_lock:
            watches = list(self._watches)
        for watch in watches:
            watch.expire(f"cancelled: {reason}")

    def admit(self, url: str) -> bool:
        """Whether the URL policy lets `url` be requested; a refusal is logged (redacted) and counted."""
        refused = self.urls.refusal(url)
        if refused is None:
            return True
        log.warning("%s", refused)
        with self._log_lock:
            self.refused += 1
        return False

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def request_count(self) -> int:
        """Exchanges since the fetcher was made (`take_log` does not reset it)."""
        return self._requests

    def take_log(self) -> list[FetchRecord]:
        """The exchanges logged since the last call, handed over and forgotten: a long crawl
        stores its log batch by batch instead of holding every record until the end."""
        with self._log_lock:
            taken, self.log = self.log, []
        return taken

    def fetch_page(self, url: str, headers: dict[str, str] | None = None,
                   validators: Validators | None = None) -> FetchedPage:
        """GET `url`; a 2xx answer as a FetchedPage, anything else raises FetchError.

        With `validators` (from the last fetch of `url`) the request is conditional: an unchanged
        page answers 304, returned as a FetchedPage with status 304, an empty body and `sha256`
        = `validators.sha256`, so that the caller reuses its archived copy. With the policy's
        `wayback_fallback`, a blocked page (403 or the bot wall) is fetched from the Wayback Machine.
        """
        sent = {**(validators.headers() if validators else {}), **(headers or {})}
        try:
            page = self._exchange(url, sent, validators)
        except FetchError as exc:
            if self.policy.wayback_fallback and exc.reason == f"HTTP {BLOCKED}":
                return self._from_wayback(url, exc.reason)
            raise
        if self.policy.wayback_fallback and page.status == 200 and is_bot_wall(page.body, page.content_type):
            return self._from_wayback(url, "bot wall page")
        return page

    def _exchange(self, url: str, headers: dict[str, str], validators: Validators | None = None) -> FetchedPage:
        """One logical request (robots.txt, pacing, retries), logged; raises FetchError unless 2xx/304."""
        refused = self.urls.refusal(url)
        if refused is not None:
            self.admit(url)  # logs and counts it
            raise FetchError(redact(url), refused)
        origin = self._origin(url)
        rules = self._robots_for(origin)
        if origin in self._blocked:
            raise FetchError(url, self._blocked[origin])
        if not rules.can_fetch(self.policy.user_agent, url):
            raise FetchError(url, "disallowed by robots.txt")
        try:
            page = self._get_with_body_retries(url, headers, self._politeness[origin])
        except FetchError as exc:
            self._record(FetchRecord(url, None, _now(), 0, error=exc.reason))
            raise
        if page.status == NOT_MODIFIED:
            page = _not_modified(page, validators or Validators())
        self._record(
            FetchRecord(
                url=url, status=page.status, fetched_at=page.fetched_at, elapsed_ms=page.elapsed_ms,
                bytes=len(page.body), sha256=page.sha256 or None,
                etag=page.headers.get("etag") or (validators.etag if validators else None),
                last_modified=page.headers.get("last-modified") or (validators.last_modified if validators else None),
                error=None if page.status < 400 else f"HTTP {page.status}",
            )
        )
        if page.status >= 400:
            raise FetchError(url, f"HTTP {page.status}")
        return page

    def _from_wayback(self, url: str, blocked: str) -> FetchedPage:
        """The Wayback Machine's copy of `url` (raw bytes: the `id_` form), as a page of `url`."""
        copy_url = f"{self.policy.wayback_base.rstrip('/')}/web/{_now().strftime(WAYBACK_STAMP)}id_/{url}"
        log.warning("%s: %s; trying the Wayback Machine's copy", url, blocked)
        try:
            page = self._exchange(copy_url, {})
        except FetchError as exc:
            raise FetchError(url, f"blocked ({blocked}); Wayback Machine copy unavailable: {exc.reason}") from exc
        if is_bot_wall(page.body, page.content_type):
            raise FetchError(url, f"blocked ({blocked}); the Wayback Machine's copy is a bot wall too")
        return FetchedPage(url=url, final_url=page.final_url, status=page.status, headers=page.headers,
                           body=page.body, sha256=page.sha256, fetched_at=page.fetched_at,
                           elapsed_ms=page.elapsed_ms, via=VIA_WAYBACK)

    def _get_with_body_retries(self, url: str, headers: dict[str, str], pace: Politeness,
                               max_bytes: int | None = None) -> FetchedPage:
        # urllib3 retries statuses, failed connections and read timeouts; a body cut short happens
        # after that, while requests streams it, so it gets its own retries here.
        @retry(
            retry=retry_if_exception_type((_IncompleteBody, requests.Timeout)),
            stop=stop_after_attempt(self.policy.max_retries + 1),
            wait=wait_exponential_jitter(initial=self.policy.backoff_factor_s, max=30),
            sleep=self._cancelled.wait,  # a cancelled fetcher stops waiting at once
            reraise=True,
        )
        def attempt() -> FetchedPage:
            pace.wait(self._cancelled)
            self._bucket.take(self._cancelled)
            if self._cancelled.is_set():
                raise _Stopped(f"cancelled: {self._cancel_reason}")
            return self._get_once(url, headers, max_bytes)

        tries = self.policy.max_retries + 1
        try:
            return attempt()
        except _Stopped as exc:
            raise FetchError(url, str(exc)) from None
        except _IncompleteBody as exc:
            raise FetchError(url, f"body incomplete after {tries} tries: {exc}") from exc
        except requests.Timeout as exc:
            raise FetchError(url, f"timed out: {exc.__class__.__name__}") from exc
        except OffHostRedirect as exc:
            log.warning("%s: %s", redact(url), exc)
            with self._log_lock:
                self.refused += 1
            raise FetchError(url, str(exc)) from exc
        except requests.TooManyRedirects as exc:
            raise FetchError(url, f"redirect loop (more than {self.policy.max_redirects} redirects)") from exc
        except requests.RequestException as exc:
            if _read_timed_out(exc):
                raise FetchError(url, f"timed out: no answer within {self.policy.read_timeout_s:g} s, "
                                      f"{tries} tries") from exc
            raise FetchError(url, f"{exc.__class__.__name__}: {exc}") from exc

    def _get_once(self, url: str, headers: dict[str, str], max_bytes: int | None = None) -> FetchedPage:
        started = time.monotonic()
        timeout = (self.policy.connect_timeout_s, self.policy.read_timeout_s)
        watch = ResponseWatch(self.policy.response_deadline_s)
        with self._watches_lock:
            self._watches.add(watch)
        if self._cancelled.is_set():
            watch.expire(f"cancelled: {self._cancel_reason}")
        try:
            with watching(watch), self.session.get(url, headers=headers, timeout=timeout, stream=True) as response:
                body = self._read_body(url, response, max_bytes)
                if watch.expired:  # a body without a length ends "cleanly" when its socket is shut
                    raise _Stopped(watch.reason)
        except (requests.RequestException, _IncompleteBody, FetchError) as exc:
            if watch.expired:
                raise _Stopped(watch.reason) from exc
            raise
        finally:
            with self._watches_lock:
                self._watches.discard(watch)
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

    def _read_body(self, url: str, response: requests.Response, max_bytes: int | None = None) -> bytes:
        """The body, decompressed, at most the page cap (FetchError beyond it); with `max_bytes`,
        its first `max_bytes` bytes, the rest left unread (robots.txt)."""
        cap = self.policy.max_page_bytes
        declared = response.headers.get("Content-Length", "")
        if max_bytes is not None:
            return self._read_prefix(response, max_bytes)
        if declared.isdigit() and int(declared) > cap:
            # Refused before reading: the connection is dropped with the body unread.
            raise FetchError(url, f"body larger than {cap} bytes (Content-Length {declared})")
        encoding = response.headers.get("Content-Encoding", "").strip().lower()
        chunks: list[bytes] = []
        size = 0
        try:
            # iter_content decompresses at most CHUNK_BYTES at a time (urllib3 >= 2.6), so the cap
            # bounds what a gzip bomb can inflate to in memory.
            for chunk in response.iter_content(CHUNK_BYTES):
                size += len(chunk)
                if size > cap:
                    after = f" after {encoding} decompression" if encoding and encoding != "identity" else ""
                    raise FetchError(url, f"body larger than {cap} bytes{after}")
                chunks.append(chunk)
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError) as exc:
            raise _IncompleteBody(str(exc)) from exc
        return b"".join(chunks)

    @staticmethod
    def _read_prefix(response: requests.Response, max_bytes: int) -> bytes:
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(CHUNK_BYTES):
                chunks.append(chunk[:max_bytes - size])
                size += len(chunks[-1])
                if size >= max_bytes:
                    break
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError) as exc:
            raise _IncompleteBody(str(exc)) from exc
        return b"".join(chunks)

    def _origin(self, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise FetchError(url, "not an http(s) URL")
        return f"{parts.scheme}://{parts.netloc}"

    def _robots_for(self, origin: str) -> robotparser.RobotFileParser:
        """The origin's robots.txt rules, read once per fetcher (so once per run), per RFC 9309:
        a 4xx means no rules (allow all); a 5xx (or a 429 that outlasts the retries) or no answer at all (connection failed, timed out,
        past the deadline) means disallow all: every URL of the origin fails with that reason this
        run, and the next run asks again. At most MAX_ROBOTS_BYTES are read and parsed."""
        with self._robots_lock:
            if origin in self._robots:
                return self._robots[origin]
            rules = robotparser.RobotFileParser(origin + "/robots.txt")
            rules.parse([])
            try:
                page = self._get_with_body_retries(origin + "/robots.txt", {}, Politeness(0), MAX_ROBOTS_BYTES)
                self._record(FetchRecord(page.url, page.status, page.fetched_at, page.elapsed_ms,
                                         len(page.body), page.sha256))
                if page.status >= 500 or page.status == TOO_MANY_REQUESTS:  # 429 still, after the retries:
                    self._block(origin, f"HTTP {page.status}")  # the site asks us to go away, not "no rules"
                elif page.status < 400:
                    rules.parse(_robots_lines(page.body))
                # 4xx: robots.txt is unavailable, so there are no rules
            except FetchError as exc:
                if exc.reason.startswith(("redirect", "URL ")):
                    log.warning("robots.txt at %s not followed (%s): no rules", origin, exc.reason)
                else:
                    self._record(FetchRecord(origin + "/robots.txt", None, _now(), 0, error=exc.reason))
                    self._block(origin, exc.reason)
            delay = max(self.policy.crawl_delay_s, float(rules.crawl_delay(self.policy.user_agent) or 0))
            log.info("%s: crawl delay %.1f s", origin, delay)
            self._robots[origin] = rules
            self._politeness[origin] = Politeness(delay)
            return rules

    def _block(self, origin: str, why: str) -> None:
        self._blocked[origin] = (f"robots.txt unavailable at {origin} ({why}): the site is treated as "
                                 "disallowing everything this run (RFC 9309); the next run asks again")
        log.warning("%s", self._blocked[origin])

    def crawl_delay_for(self, origin: str) -> float:
        self._robots_for(origin)
        return self._politeness[origin].delay_s

    def _record(self, record: FetchRecord) -> None:
        with self._log_lock:
            self.log.append(record)
            self._requests += 1


def _robots_lines(body: bytes) -> list[str]:
    """The lines of a robots.txt body; a line cut by the size cap is dropped."""
    if len(body) >= MAX_ROBOTS_BYTES:
        body = body[:body.rfind(b"\n") + 1]
    return body.decode("utf-8", "replace").splitlines()


def _not_modified(page: FetchedPage, validators: Validators) -> FetchedPage:
    """A 304: no body; `sha256` names the archived body it confirms (empty when unknown)."""
    log.info("%s: not modified (304), the archived copy %s stands", page.url, validators.sha256 or "(unknown)")
    return FetchedPage(url=page.url, final_url=page.final_url, status=NOT_MODIFIED, headers=page.headers,
                       body=b"", sha256=validators.sha256 or "", fetched_at=page.fetched_at,
                       elapsed_ms=page.elapsed_ms)


def _read_timed_out(exc: requests.RequestException) -> bool:
    """urllib3 retried read timeouts until it gave up: requests reports a ConnectionError then."""
    cause = exc.args[0] if exc.args else None
    return isinstance(cause, MaxRetryError) and isinstance(cause.reason, ReadTimeoutError)


def _now() -> datetime:
    return datetime.now(UTC)
