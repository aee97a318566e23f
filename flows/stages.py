"""Where a run's time went: seconds per stage, kept by the flows and reported in the run's summary
(the `runs` row's counts, the artifacts, `bench/run.py`).

Stages overlap (batches are parsed while the next one downloads), so their sum can exceed the
run's wall time. parse and transform are summed over the workers that did them."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Mapping

# discover: listing pages fetched and read; fetch: pages downloaded and archived (wall time of the
# fetch batches); parse / transform: parse_fetched / normalise_body + find_actors; rows: loaded
# notes made candidate rows and spooled to disk; parquet: the lake's merge and writes;
# publish: the DuckDB file built and swapped in; finish: report, Delta tables, artifacts.
STAGES = ("discover", "fetch", "parse", "transform", "rows", "parquet", "publish", "finish")


class StageClock:
    """Seconds per stage, added to from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seconds = dict.fromkeys(STAGES, 0.0)

    def add(self, stage: str, seconds: float) -> None:
        if stage not in self._seconds:
            raise ValueError(f"unknown stage {stage!r}; stages are {', '.join(STAGES)}")
        with self._lock:
            self._seconds[stage] += seconds

    def add_all(self, seconds: Mapping[str, float]) -> None:
        for stage, value in seconds.items():
            self.add(stage, value)

    @contextlib.contextmanager
    def timing(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(stage, time.perf_counter() - started)

    def seconds(self) -> dict[str, float]:
        with self._lock:
            return {stage: round(value, 3) for stage, value in self._seconds.items()}
