"""A progress hook the CLI sets and the tasks advance: flows stay free of terminal code."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class ProgressReporter(Protocol):
    def add_total(self, pages: int) -> None: ...
    def advance(self, pages: int = 1) -> None: ...


class _Silent:
    def add_total(self, pages: int) -> None:
        pass

    def advance(self, pages: int = 1) -> None:
        pass


_current: ProgressReporter = _Silent()


def current() -> ProgressReporter:
    return _current


@contextmanager
def reporting_to(reporter: ProgressReporter) -> Iterator[None]:
    global _current
    previous, _current = _current, reporter
    try:
        yield
    finally:
        _current = previous
