"""A run's pages on their way to the lake: submitted for parsing batch by batch, and each parsed
batch made candidate rows and staged in the run's spool as soon as it is back, so that a run of
any size holds a few batches in memory, never the corpus. The lake commits the spool once, at the
end (`tasks.commit_and_publish`)."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable

from prefect.futures import PrefectFuture
from prefect.task_runners import TaskRunner

from statenotes.flows.known import StoredMetadata
from statenotes.flows.pages import RawPage
from statenotes.flows.stages import StageClock
from statenotes.flows.summary import ActorTally
from statenotes.flows.tasks import parse_batch
from statenotes.warehouse.records import LoadedNote, QuarantineItem
from statenotes.warehouse.rows import note_tables
from statenotes.warehouse.spool import CandidateSpool

# Parse batches submitted and not yet collected. Fetching waits for the oldest beyond this, so
# pages do not pile up in memory when parsing is the slower side.
MAX_PENDING_BATCHES = 4


class SpooledLoad:
    """Submits pages to the run's parse runner and spools what comes back."""

    def __init__(self, runner: TaskRunner, spool: CandidateSpool, run_id: str, metadata: StoredMetadata,
                 clock: StageClock, on_parsed: Callable[[int], None] = lambda pages: None):
        self.spool = spool
        self.quarantined: list[QuarantineItem] = []
        self.actors = ActorTally()
        self.loaded = 0
        self.layouts: Counter[str] = Counter()  # notes loaded by each layout (MediaNote.layout)
        self.sources: Counter[str] = Counter()  # and from each content source (page / rest / wayback)
        self._runner, self._run_id, self._metadata, self._clock = runner, run_id, metadata, clock
        self._on_parsed = on_parsed
        self._pending: deque[PrefectFuture] = deque()

    def parse(self, pages: list[RawPage]) -> None:
        if pages:
            # Not quoted: Dask takes Prefect's quote (a tuple) apart; a batch of pages is cheap to walk.
            self._pending.append(self._runner.submit(parse_batch, {"pages": pages}))
        while self._pending and (len(self._pending) > MAX_PENDING_BATCHES or self._pending[0].wrapped_future.done()):
            self._collect(self._pending.popleft())

    def finish(self) -> None:
        """Wait for every batch still parsing, and spool it."""
        while self._pending:
            self._collect(self._pending.popleft())

    def recover(self, pages: list[RawPage]) -> set[str]:
        """Parse second-chance pages of URLs already quarantined (their REST items) now, spool what
        loads, and return its URLs; a page that fails again adds no quarantine entry (its URL keeps
        the first reason)."""
        if not pages:
            return set()
        self.finish()
        outcome = self._runner.submit(parse_batch, {"pages": pages}).result()
        self._clock.add_all(outcome.seconds)
        self._spool(outcome.loaded)
        return {item.url for item in outcome.loaded}

    def _collect(self, future: PrefectFuture) -> None:
        outcome = future.result()
        self._clock.add_all(outcome.seconds)
        self.quarantined.extend(outcome.quarantined)
        self._on_parsed(len(outcome.loaded) + len(outcome.quarantined))
        self._spool(outcome.loaded)

    def _spool(self, loaded: list[LoadedNote]) -> None:
        if not loaded:
            return
        with self._clock.timing("rows"):
            loaded = self._metadata.fill(loaded)
            self.spool.add(note_tables(loaded, self._run_id))
        self.loaded += len(loaded)
        self.layouts.update(item.note.layout for item in loaded)
        self.sources.update(item.content_source for item in loaded)
        self.actors.add(loaded)
