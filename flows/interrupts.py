"""Stopping a run from outside (SIGTERM, Ctrl-C): a clean stop that commits nothing and says so.

While a CLI run is in progress SIGTERM raises `RunInterrupted` in the main thread, as Ctrl-C raises
KeyboardInterrupt. Prefect's flow engine puts its own SIGTERM handler in front of ours for the
length of the flow run; it marks the run crashed and then hands the signal on to ours. The
exception unwinds the flow: requests in flight are cancelled (flows/pages.py), the run's spool is
removed, and the lake transaction, never reached or never committed, leaves the warehouse as it
was. `committed()` tells the CLI whether the stop came after the commit point."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

_committed = threading.Event()


class RunInterrupted(BaseException):
    """The process was asked to stop (SIGTERM). A BaseException, like KeyboardInterrupt, so that
    no `except Exception` (task retries included) swallows it."""

    def __init__(self, signal_name: str):
        super().__init__(signal_name)
        self.signal_name = signal_name


def mark_committed() -> None:
    _committed.set()


def committed() -> bool:
    return _committed.is_set()


@contextlib.contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """SIGTERM raises RunInterrupted in the main thread until the block ends."""
    _committed.clear()

    def interrupt(signum: int, frame: object) -> None:
        raise RunInterrupted(signal.Signals(signum).name)

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: signals cannot be caught here
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
