"""One run at a time per data folder, and what a run checks before it starts.

A run holds an exclusive flock on `<data_dir>/.statenotes.run.lock` (the kernel releases it when
the process dies, however it dies) and writes its holder (pid, run id, flow, since) into the file.
A second run on the same folder does not wait: it fails at once with one line naming the holder,
so a cron'd nightly that overlaps a long backfill says so instead of queueing behind it (serving
processes and schedulers retry; waiting would only hide the overlap).

Holding the lock, a run knows every other run on the folder is dead, so what they left is swept:
half-built DuckDB files (`.statenotes.duckdb.<uuid>.tmp`) and half-written raw pages. Then the lake
is opened (a read-only lake fails here, in one line) and every committed Parquet file's footer is
read, so a damaged lake file stops the run before the crawl rather than at the commit."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from statenotes.extractors.archive import RawArchive
from statenotes.extractors.errors import ConfigError, StatenotesError
from statenotes.flows.settings import Settings
from statenotes.warehouse.lake import Lake
from statenotes.warehouse.publish import remove_stale_builds

log = logging.getLogger(__name__)

LOCK_NAME = ".statenotes.run.lock"


class RunLockedError(StatenotesError):
    """Another live run holds this data folder."""


class DataDirError(ConfigError):
    """The data folder cannot be used (not a directory, not writable)."""


def new_run_id() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def _open_lock_file(data_dir: Path) -> int:
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        return os.open(data_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise DataDirError(f"data directory {data_dir} cannot be used: {exc.strerror or exc} "
                           "(set STATENOTES_DATA_DIR or --data-dir to a writable directory)") from None


def _holder(fd: int) -> str:
    try:
        held = json.loads(os.pread(fd, 4096, 0) or b"{}")
        return (f"run {held['run_id']} ({held['flow']}, pid {held['pid']}, since {held['since']})")
    except (OSError, ValueError, KeyError, TypeError):
        return "a run that is starting"


def _try_lock(fd: int, data_dir: Path) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno not in (errno.EAGAIN, errno.EACCES):
            raise DataDirError(f"data directory {data_dir}: cannot lock {LOCK_NAME}: {exc.strerror}") from None
        raise RunLockedError(f"data directory {data_dir} is in use by {_holder(fd)}: wait for it to end "
                             "(one run at a time per data directory)") from None


@contextlib.contextmanager
def run_lock(data_dir: Path, run_id: str, flow: str) -> Iterator[None]:
    """Hold the data folder for this run, or raise `RunLockedError` at once."""
    data_dir = Path(data_dir)
    fd = _open_lock_file(data_dir)
    try:
        _try_lock(fd, data_dir)
        holder = {"pid": os.getpid(), "run_id": run_id, "flow": flow,
                  "since": datetime.now(UTC).isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the flock


def check_free(data_dir: Path) -> None:
    """Raise `RunLockedError` (or `DataDirError`) now if a run could not start on `data_dir`;
    the CLI asks before it starts Prefect. Holds nothing afterwards."""
    fd = _open_lock_file(Path(data_dir))
    try:
        _try_lock(fd, Path(data_dir))
    finally:
        os.close(fd)


def sweep_orphans(settings: Settings) -> list[Path]:
    """Remove what dead runs left beside the warehouse (call with the run lock held)."""
    removed = remove_stale_builds(settings.db_path) + RawArchive(settings.raw_dir).remove_stale_temp_files()
    if removed:
        log.info("removed %d files left by runs that were killed: %s", len(removed),
                 ", ".join(p.name for p in removed[:5]))
    return removed


def check_lake(settings: Settings) -> Lake:
    """Open the lake (recovering a killed commit) and read every committed file's footer."""
    lake = Lake(settings.lake_dir)
    lake.check_files()
    return lake


@contextlib.contextmanager
def start_run(settings: Settings, flow: str) -> Iterator[str]:
    """Hold the data folder, sweep orphans, check the lake; yields the new run's id."""
    run_id = new_run_id()
    with run_lock(settings.data_dir, run_id, flow):
        sweep_orphans(settings)
        check_lake(settings)
        yield run_id


def preflight(settings: Settings) -> None:
    """What `start_run` would refuse, said before Prefect starts (the CLI's one-line errors)."""
    check_free(settings.data_dir)
    check_lake(settings)
