"""How fast the crawler may go: a per-site spacing of request starts (robots.txt Crawl-delay) and a
global token bucket on top. Both are shared across threads and only ever sleep the caller; a wait
given a `stop` event ends as soon as it is set (a run being stopped)."""

from __future__ import annotations

import threading
import time


class TokenBucket:
    """At most `rate_per_s` requests a second on average, bursts of `capacity`, across threads."""

    def __init__(self, rate_per_s: float, capacity: int = 1):
        self.rate_per_s = rate_per_s
        self.capacity = max(1, capacity)
        self._tokens = float(self.capacity)
        self._updated = time.monotonic()
        self._lock = threading.Lock()

    def take(self, stop: threading.Event | None = None) -> None:
        if self.rate_per_s <= 0:
            return
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate_per_s)
            self._updated = now
            self._tokens -= 1
            wait = -self._tokens / self.rate_per_s if self._tokens < 0 else 0.0
        if wait:
            _sleep(wait, stop)


class Politeness:
    """Spaces request starts at least `delay_s` apart, across threads."""

    def __init__(self, delay_s: float):
        self.delay_s = delay_s
        self._lock = threading.Lock()
        self._next_at = 0.0

    def wait(self, stop: threading.Event | None = None) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next_at)
            self._next_at = start + self.delay_s
        if start > now:
            _sleep(start - now, stop)


def _sleep(seconds: float, stop: threading.Event | None) -> None:
    if stop is None:
        time.sleep(seconds)
    else:
        stop.wait(seconds)
