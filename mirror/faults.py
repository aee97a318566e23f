"""Failures the mirror injects so the fetcher's retries can be tested against real sockets.

A `FaultPlan` decides, per request, whether to answer 429 (with Retry-After), 503, drop the
connection without answering (a TCP reset), send a truncated body, or (kind "botwall", by
`always()` or `rate_botwall`) answer 200 with the "Technical Difficulties" page instead. Decisions depend only on the
seed, the path and how many times that path was asked for, so a run is reproducible however
requests interleave; and a path faults at most `max_faults_per_path` times, so every URL is
eventually served.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass, field

RATE_LIMITED = "429"
UNAVAILABLE = "503"
RESET = "reset"
TRUNCATED = "truncate"
FAULT_KINDS = (RATE_LIMITED, UNAVAILABLE, RESET, TRUNCATED)  # transport faults
BOT_WALL = "botwall"  # a content fault: a 200 page that is not the one asked for
ALL_FAULT_KINDS = FAULT_KINDS + (BOT_WALL,)
# Release pages and listing pages (and unknown HTML paths), not robots.txt nor the sitemaps.
DEFAULT_FAULT_PATHS = r"^/(?!robots\.txt$)(?![^/]*sitemap[^/]*\.xml$)"
# A truncated body stops somewhere in this fraction of its length.
TRUNCATE_BETWEEN = (0.3, 0.7)


@dataclass
class FaultPlan:
    """Per-request fault probabilities (each in [0, 1], summing to at most 1).

    `paths` is a regex searched in the request path (query string excluded). `first_kind`, set by
    `always()`, replaces the dice: the first `max_faults_per_path` requests of every path fail so.
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
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)
    _seen: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)
    _faulted: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)
    _history: list[tuple[str, str]] = field(default_factory=list, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        rates = self._rates()
        if any(not 0.0 <= r <= 1.0 for _, r in rates) or sum(r for _, r in rates) > 1.0 + 1e-9:
            raise ValueError(f"fault rates must be in [0, 1] and sum to at most 1: {rates}")
        if self.first_kind is not None and self.first_kind not in ALL_FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.first_kind!r}; expected one of {ALL_FAULT_KINDS}")
        if self.max_faults_per_path < 0 or self.retry_after < 0:
            raise ValueError("max_faults_per_path and retry_after must be >= 0")
        self._paths_re = re.compile(self.paths)

    @classmethod
    def none(cls) -> FaultPlan:
        """No faults at all."""
        return cls(max_faults_per_path=0)

    @classmethod
    def always(cls, kind: str, times: int = 1, **options) -> FaultPlan:
        """The first `times` requests of every matching path fail with `kind`; later ones succeed."""
        return cls(first_kind=kind, max_faults_per_path=times, **options)

    def _rates(self) -> list[tuple[str, float]]:
        return [(RATE_LIMITED, self.rate_429), (UNAVAILABLE, self.rate_503),
                (RESET, self.rate_reset), (TRUNCATED, self.rate_truncate), (BOT_WALL, self.rate_botwall)]

    def applies_to(self, path: str) -> bool:
        return self._paths_re.search(path) is not None

    def decide(self, path: str) -> str | None:
        """The fault for this request of `path` (one of FAULT_KINDS), or None to answer normally.
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
