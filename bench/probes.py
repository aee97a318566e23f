"""What the end-to-end benchmark watches while the real flows run, beyond what the flows report
themselves (each run's `stage_seconds`, flows/stages.py): the parts of fetching (HTTP exchanges and
raw-archive writes, summed over the fetch threads), and the resident memory of the whole process
tree.

The parts are timed by wrapping `Fetcher.fetch_page` and `RawArchive.put` for the length of the
benchmark only.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import psutil

log = logging.getLogger(__name__)

# Parts of the flows' stages (not added to them): every HTTP GET (discovery's too) and the raw archive.
PARTS = ("http_get", "archive_put")
SAMPLE_EVERY_S = 0.25
# Listing descendants reads every process's /proc entry: done less often than reading their memory.
FIND_CHILDREN_EVERY = 8
MB = 1024 * 1024


class StageTimes:
    """Seconds (and calls) per stage, added to from any thread."""

    def __init__(self):
        self._lock = threading.Lock()
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def add(self, stage: str, seconds: float) -> None:
        with self._lock:
            self.seconds[stage] += seconds
            self.calls[stage] += 1

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            return {part: round(self.seconds.get(part, 0.0), 3) for part in PARTS}

    def reset(self) -> None:
        with self._lock:
            self.seconds.clear()
            self.calls.clear()


def _timed(function: Callable, stage: str, times: StageTimes, subtract: tuple[str, ...] = ()) -> Callable:
    """`function`, adding its wall time to `stage` (less what the `subtract` stages gained meanwhile
    in this call, for a stage that contains another)."""

    def wrapper(*args, **kwargs):
        before = {s: times.seconds.get(s, 0.0) for s in subtract}
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            inner = sum(times.seconds.get(s, 0.0) - before[s] for s in subtract)
            times.add(stage, time.perf_counter() - started - inner)

    wrapper.__wrapped__ = function
    return wrapper


@contextlib.contextmanager
def part_timers(times: StageTimes) -> Iterator[None]:
    """Wrap the functions whose time makes up PARTS; everything is put back on exit."""
    from statenotes.extractors.archive import RawArchive
    from statenotes.extractors.http import Fetcher

    originals = [(Fetcher, "fetch_page", "http_get"), (RawArchive, "put", "archive_put")]
    for owner, name, part in originals:
        setattr(owner, name, _timed(getattr(owner, name), part, times))
    try:
        yield
    finally:
        for owner, name, _ in originals:
            setattr(owner, name, getattr(owner, name).__wrapped__)


@dataclass
class TreeMemory:
    """Peak resident memory (MB) of this process and all its descendants, sampled every
    SAMPLE_EVERY_S in a thread; peaks by phase and by process role."""

    roles: dict[int, str] = field(default_factory=dict)  # pid -> role ("mirror", ...); others: "pipeline"
    report_every: int = 0  # log the tree's memory every this many samples (0: never)
    phase: str = "setup"
    peak_total: float = 0.0
    peak_by_phase: dict[str, float] = field(default_factory=dict)
    peak_by_role: dict[str, float] = field(default_factory=dict)
    peak_without: dict[str, float] = field(default_factory=dict)  # tree peak without one role
    _seen: dict[int, str] = field(default_factory=dict)
    _tree: list[psutil.Process] = field(default_factory=list)
    _samples: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def label(self, pid: int, role: str) -> None:
        """Count `pid` (and its descendants) under `role` from now on, and look for it at once."""
        self.roles[pid] = role
        self._seen.pop(pid, None)
        self._tree = []

    def start(self) -> TreeMemory:
        self._thread = threading.Thread(target=self._run, name="bench-rss", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self.sample()

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY_S):
            self.sample()

    def sample(self) -> None:
        root = psutil.Process()
        if self._samples % FIND_CHILDREN_EVERY == 0 or not self._tree:
            self._tree = [root, *root.children(recursive=True)]
        self._samples += 1
        by_role: dict[str, float] = defaultdict(float)
        for process in self._tree:
            try:
                rss = process.memory_info().rss / MB
            except psutil.Error:  # ended between listing and reading
                continue
            by_role[self._role(process)] += rss
        total = sum(by_role.values())
        if self.report_every and self._samples % self.report_every == 0:
            log.info("rss %s: %.0f MB in all (%s)", self.phase, total,
                     ", ".join(f"{role} {rss:.0f}" for role, rss in sorted(by_role.items())))
        self.peak_total = max(self.peak_total, total)
        self.peak_by_phase[self.phase] = max(self.peak_by_phase.get(self.phase, 0.0), total)
        for role, rss in by_role.items():
            self.peak_by_role[role] = max(self.peak_by_role.get(role, 0.0), rss)
            self.peak_without[role] = max(self.peak_without.get(role, 0.0), total - rss)

    def _role(self, process: psutil.Process) -> str:
        """The role given to the process or an ancestor (`roles`); else "prefect-server" for
        Prefect's ephemeral API server (a subprocess Prefect starts), else "pipeline"."""
        if process.pid in self._seen:
            return self._seen[process.pid]
        role = next((self.roles[p.pid] for p in [process, *_parents(process)] if p.pid in self.roles), None)
        if role is None:
            try:
                command = " ".join(process.cmdline())
            except psutil.Error:
                command = ""
            role = "prefect-server" if "prefect" in command and ("uvicorn" in command or "server" in command) \
                else "pipeline"
        self._seen[process.pid] = role
        return role


def _parents(process: psutil.Process) -> list[psutil.Process]:
    try:
        return process.parents()
    except psutil.Error:
        return []
