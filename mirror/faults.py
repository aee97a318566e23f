"""Failures the mirror injects so the fetcher's retries and refusals can be tested against real sockets.

A `FaultPlan` decides, per request, whether to answer normally or with one fault:
- transport faults, which a client retries: 429 (with Retry-After), 503, a dropped connection
  (TCP reset), a truncated body, and a slow answer that starts after the client's read timeout;
- refusals, which a client must stop at: a gzip bomb (a small gzip body that inflates past any
  sane cap), a redirect loop, a redirect to another host (never to be contacted), a huge page,
  and a block (403, or the "Technical Difficulties" bot-wall page with status 200);
- labels: a wrong charset (the header says iso-8859-1, the UTF-8 body says utf-8 in its meta) or
  none at all (no charset in the header nor in the page);
- stalls, which only a total deadline per response ends: a trickle (the headers at once, then the
  body a byte every `trickle_interval_s`) and slow headers (the status line and headers that way).

And, outside the dice, shapes of a hostile site: `listing_links` adds links (to other origins, with
credentials) to the first listing page; `listing_loop` answers every listing page past the last
with the last page again, linking to itself; `robots` makes robots.txt answer 503, a body of
`robots_bytes` (over the page cap, its rules inside the first 500 KiB) or a gzip bomb.

Decisions depend only on the seed, the path and how many times that path was asked for, so a run
is reproducible however requests interleave; and a path faults at most `max_faults_per_path`
times, so every URL is eventually served.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

RATE_LIMITED = "429"
UNAVAILABLE = "503"
RESET = "reset"
TRUNCATED = "truncate"
FAULT_KINDS = (RATE_LIMITED, UNAVAILABLE, RESET, TRUNCATED)  # transport faults with rate_ fields
BOT_WALL = "botwall"  # a content fault: a 200 page that is not the one asked for
SLOW = "slow"
GZIP_BOMB = "gzip_bomb"
REDIRECT_LOOP = "redirect_loop"
OFFHOST_REDIRECT = "offhost_redirect"
HUGE = "huge"
WRONG_CHARSET = "wrong_charset"
NO_CHARSET = "no_charset"
FORBIDDEN = "forbidden"
TRICKLE = "trickle"
SLOW_HEADERS = "slow_headers"
# Kinds given a rate in `FaultPlan.rates` (the first five have fields of their own).
MORE_FAULT_KINDS = (SLOW, GZIP_BOMB, REDIRECT_LOOP, OFFHOST_REDIRECT, HUGE, WRONG_CHARSET, NO_CHARSET, FORBIDDEN,
                    TRICKLE, SLOW_HEADERS)
ALL_FAULT_KINDS = FAULT_KINDS + (BOT_WALL,) + MORE_FAULT_KINDS
# What a client should do about each: retry within the fetch, refuse (fail the fetch; a later
# run tries again), or read the page correctly whatever its label says.
RETRIED_KINDS = frozenset({RATE_LIMITED, UNAVAILABLE, RESET, TRUNCATED, SLOW})
REFUSED_KINDS = frozenset({BOT_WALL, GZIP_BOMB, REDIRECT_LOOP, OFFHOST_REDIRECT, HUGE, FORBIDDEN})
LABEL_KINDS = frozenset({WRONG_CHARSET, NO_CHARSET})
STALL_KINDS = frozenset({TRICKLE, SLOW_HEADERS})  # only a deadline per response ends them
# What robots.txt can be made to answer (`FaultPlan.robots`).
ROBOTS_UNAVAILABLE = "503"
ROBOTS_HUGE = "huge"
ROBOTS_BOMB = "gzip_bomb"
ROBOTS_FAULTS = (ROBOTS_UNAVAILABLE, ROBOTS_HUGE, ROBOTS_BOMB)
DEFAULT_ROBOTS_BYTES = 6_000_000  # over the default 5 MB page cap
DEFAULT_TRICKLE_S = 1.0
# Release pages, listing pages, the REST API (and unknown paths), not robots.txt nor the sitemaps.
DEFAULT_FAULT_PATHS = r"^/(?!robots\.txt$)(?![^/]*sitemap[^/]*\.xml$)"
# A truncated body stops somewhere in this fraction of its length.
TRUNCATE_BETWEEN = (0.3, 0.7)
DEFAULT_SLOW_S = 3.0  # longer than the tests' read timeouts, far shorter than the production 30 s
DEFAULT_BOMB_BYTES = 50_000_000  # what the gzip bomb inflates to (about 50 kB on the wire)
DEFAULT_HUGE_BYTES = 8_000_000  # over the default 5 MB page cap
# Another host: an address nothing listens on. A client that follows the redirect is wrong
# whether or not it connects; one that refuses never gets that far.
DEFAULT_OFFHOST_URL = "http://127.0.0.2:9"


@dataclass
class FaultPlan:
    """Per-request fault probabilities (each in [0, 1], summing to at most 1).

    `rate_429` ... `rate_botwall` and `rates` ({kind: rate} for MORE_FAULT_KINDS) give the dice;
    `first_kind`, set by `always()`, replaces them: the first `max_faults_per_path` requests of
    every path fail so. `paths` is a regex searched in the request path (query string excluded).
    The remaining fields shape the faults: how long a slow answer waits, what a gzip bomb inflates
    to, how big a huge page is (sent chunked, without Content-Length, unless `huge_chunked` is
    False), and where an off-host redirect points.
    """

    rate_429: float = 0.0
    rate_503: float = 0.0
    rate_reset: float = 0.0
    rate_truncate: float = 0.0
    rate_botwall: float = 0.0
    retry_after: int = 1
    max_faults_per_path: int = 2
    paths: str = DEFAULT_FAULT_PATHS
    seed: int = 0
    first_kind: str | None = None
    rates: Mapping[str, float] = field(default_factory=dict)
    slow_s: float = DEFAULT_SLOW_S
    bomb_bytes: int = DEFAULT_BOMB_BYTES
    huge_bytes: int = DEFAULT_HUGE_BYTES
    huge_chunked: bool = True
    offhost_url: str = DEFAULT_OFFHOST_URL
    trickle_interval_s: float = DEFAULT_TRICKLE_S
    listing_links: tuple[str, ...] = ()
    listing_loop: bool = False
    robots: str | None = None
    robots_bytes: int = DEFAULT_ROBOTS_BYTES
    robots_disallow: str = "/private/"
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)
    _seen: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)
    _faulted: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)
    _history: list[tuple[str, str]] = field(default_factory=list, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        unknown = set(self.rates) - set(MORE_FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds in rates: {sorted(unknown)}; expected some of {MORE_FAULT_KINDS}")
        rates = self._rates()
        if any(not 0.0 <= r <= 1.0 for _, r in rates) or sum(r for _, r in rates) > 1.0 + 1e-9:
            raise ValueError(f"fault rates must be in [0, 1] and sum to at most 1: {rates}")
        if self.first_kind is not None and self.first_kind not in ALL_FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.first_kind!r}; expected one of {ALL_FAULT_KINDS}")
        if self.max_faults_per_path < 0 or self.retry_after < 0 or self.slow_s < 0:
            raise ValueError("max_faults_per_path, retry_after and slow_s must be >= 0")
        if self.bomb_bytes < 1 or self.huge_bytes < 1 or self.robots_bytes < 1:
            raise ValueError("bomb_bytes, huge_bytes and robots_bytes must be positive")
        if not 0 < self.trickle_interval_s < float("inf"):
            raise ValueError("trickle_interval_s must be a positive number of seconds")
        if self.robots is not None and self.robots not in ROBOTS_FAULTS:
            raise ValueError(f"unknown robots fault {self.robots!r}; expected one of {ROBOTS_FAULTS}")
        self._paths_re = re.compile(self.paths)

    @classmethod
    def none(cls) -> FaultPlan:
        """No faults at all."""
        return cls(max_faults_per_path=0)

    @classmethod
    def always(cls, kind: str, times: int = 1, **options) -> FaultPlan:
        """The first `times` requests of every matching path fail with `kind`; later ones succeed."""
        return cls(first_kind=kind, max_faults_per_path=times, **options)

    @classmethod
    def spread(cls, total: float, kinds: tuple[str, ...] = ALL_FAULT_KINDS, **options) -> FaultPlan:
        """`total` probability of a fault per request, shared equally by `kinds`."""
        share = total / len(kinds)
        named = {RATE_LIMITED: "rate_429", UNAVAILABLE: "rate_503", RESET: "rate_reset",
                 TRUNCATED: "rate_truncate", BOT_WALL: "rate_botwall"}
        fields_ = {named[k]: share for k in kinds if k in named}
        return cls(**fields_, rates={k: share for k in kinds if k not in named}, **options)

    def _rates(self) -> list[tuple[str, float]]:
        # The first five keep their order, so that a seed gives the same faults it always gave.
        return [(RATE_LIMITED, self.rate_429), (UNAVAILABLE, self.rate_503), (RESET, self.rate_reset),
                (TRUNCATED, self.rate_truncate), (BOT_WALL, self.rate_botwall),
                *((kind, float(self.rates.get(kind, 0.0))) for kind in MORE_FAULT_KINDS)]

    def applies_to(self, path: str) -> bool:
        return self._paths_re.search(path) is not None

    def decide(self, path: str) -> str | None:
        """The fault for this request of `path` (one of ALL_FAULT_KINDS), or None to answer normally.
        Counts the request: call it once per request."""
        if not self.applies_to(path):
            return None
        with self._lock:
            nth = self._seen.get(path, 0)
            self._seen[path] = nth + 1
            if self._faulted.get(path, 0) >= self.max_faults_per_path:
                return None
            kind = self.first_kind or self._roll(path, nth)
            if kind is not None:
                self._faulted[path] = self._faulted.get(path, 0) + 1
                self._history.append((path, kind))
            return kind

    def _roll(self, path: str, nth: int) -> str | None:
        roll = random.Random(f"{self.seed}:{path}:{nth}").random()
        threshold = 0.0
        for kind, rate in self._rates():
            threshold += rate
            if roll < threshold:
                return kind
        return None

    def truncate_at(self, path: str, length: int) -> int:
        """How many bytes of a `length`-byte body a truncated answer sends (0 < n < length)."""
        low, high = TRUNCATE_BETWEEN
        cut = int(length * random.Random(f"{self.seed}:{path}:cut").uniform(low, high))
        return min(max(cut, 1), max(length - 1, 0))

    def faults_served(self) -> dict[str, int]:
        """How many faults each path has had so far."""
        with self._lock:
            return dict(self._faulted)

    def history(self) -> list[tuple[str, str]]:
        """(path, kind) of every fault injected so far, in order."""
        with self._lock:
            return list(self._history)

    def clear(self) -> None:
        """Forget all counts: every path may fault again from its next request."""
        with self._lock:
            self._seen.clear()
            self._faulted.clear()
            self._history.clear()
