"""The run's stage clock, and the spooled load's bound on batches in flight (with fakes: the real
runner and spool are exercised by the flow tests)."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from pathlib import Path

import pytest

from statenotes.flows.loading import MAX_PENDING_BATCHES, SpooledLoad
from statenotes.flows.pages import BatchOutcome, RawPage, parse_pages
from statenotes.flows.stages import STAGES, StageClock

SEED_PAGE = Path(__file__).parent / "pages" / "seed.html"
SEED_URL = "https://www.state.gov/statement-by-ministers-of-the-global-coalition-to-defeat-isis-daesh/"


def test_the_clock_adds_from_threads_and_refuses_unknown_stages():
    clock = StageClock()
    threads = [threading.Thread(target=lambda: [clock.add("fetch", 0.001) for _ in range(1000)]) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with clock.timing("parse"):
        pass
    seconds = clock.seconds()
    assert list(seconds) == list(STAGES) and seconds["fetch"] == pytest.approx(4.0)
    assert seconds["parse"] >= 0 and seconds["discover"] == 0
    with pytest.raises(ValueError, match="unknown stage 'fetching'"):
        clock.add("fetching", 1.0)


def test_parsing_reports_parse_and_transform_time_per_batch():
    page = RawPage(url=SEED_URL, raw_sha256="x", fetched_at=None, content_type="text/html; charset=UTF-8",
                   body=SEED_PAGE.read_bytes())
    broken = RawPage(url=SEED_URL + "x/", raw_sha256="y", fetched_at=None, content_type="text/html", body=b"<p>")
    outcome = parse_pages([page, broken])
    assert len(outcome.loaded) == 1 and len(outcome.quarantined) == 1
    assert outcome.seconds["parse"] > 0 and outcome.seconds["transform"] > 0
    both = BatchOutcome()
    both.extend(outcome)
    both.extend(outcome)
    assert both.seconds["parse"] == pytest.approx(2 * outcome.seconds["parse"])


class HeldFuture:
    """A parse that finishes only when its result is asked for."""

    def __init__(self, pages):
        self.wrapped_future, self.pages = Future(), pages

    def result(self):
        return BatchOutcome(quarantined=[f"q{len(self.pages)}"] * len(self.pages))


class HeldRunner:
    def __init__(self):
        self.submitted = []

    def submit(self, task, parameters):
        future = HeldFuture(parameters["pages"])
        self.submitted.append(future)
        return future


def test_fetching_waits_for_the_oldest_batch_beyond_the_bound():
    runner = HeldRunner()
    parsed = []
    load = SpooledLoad(runner, spool=None, run_id="r", metadata=None, clock=StageClock(),
                       on_parsed=parsed.append)
    for size in range(1, MAX_PENDING_BATCHES + 4):
        load.parse([object()] * size)
    # the oldest three batches beyond the bound were collected, in order; the rest are in flight
    assert parsed == [1, 2, 3] and load.quarantined == ["q1", "q2", "q2", "q3", "q3", "q3"]
    runner.submitted[3].wrapped_future.set_result(None)  # done: collected at the next call
    load.parse([])
    assert parsed == [1, 2, 3, 4]
    load.finish()
    assert parsed == list(range(1, MAX_PENDING_BATCHES + 4))
