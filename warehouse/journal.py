"""The lake's commit protocol: all-or-nothing replacement of several files, surviving SIGKILL.

1. Stage: every new file is written complete under a temporary name beside its target, fsynced.
2. Journal: `_commit.json` lists the renames and deletions; written to a temporary name, fsynced,
   then renamed into place. The rename is the commit point.
3. Apply: the renames (os.replace) and deletions; then the journal is deleted.
Recovery (under the lock): a journal present -> apply it again (every step is idempotent); then any
temporary file left without a journal is an uncommitted stage and is deleted.
Writers hold an exclusive flock on `_lock`; readers a shared one, so a reader sees whole commits.
`<root>/.spool/` holds runs' candidate rows (see `spool`), written without the lock by runs still
fetching: no part of this protocol looks inside it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

from .errors import LakeCorruptError, LakeLockedError, LakeUnusableError

log = logging.getLogger(__name__)

JOURNAL_NAME = "_commit.json"
LOCK_NAME = "_lock"
SPOOL_DIRNAME = ".spool"  # outside the commit protocol; removed by `spool.remove_stale_spools`
JOURNAL_FORMAT = 1
# Temporary names start with "." so that DuckDB globs, pyarrow datasets and analysts skip them.
TMP_PREFIX = "."
TMP_SUFFIX = ".tmp"
LOCK_TIMEOUT_S = 120.0
LOCK_POLL_S = 0.05


def tmp_name(final: Path, txid: str) -> Path:
    return final.with_name(f"{TMP_PREFIX}{final.name}.{txid}{TMP_SUFFIX}")


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    # Makes renames and unlinks in `path` durable; some filesystems refuse, which is fine.
    with contextlib.suppress(OSError):
        fsync_file(path)


@contextlib.contextmanager
def locked(root: Path, exclusive: bool, timeout_s: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold the lake's flock (released by the kernel if the process dies)."""
    try:
        fd = os.open(root / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise LakeUnusableError(f"lake {root} cannot be opened for writing: {exc.strerror or exc}") from None
    try:
        mode = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fd, mode)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() > deadline:
                    raise LakeLockedError(f"lake {root} still locked after {timeout_s:.0f}s") from exc
                time.sleep(LOCK_POLL_S)
        yield
    finally:
        os.close(fd)  # closing releases the flock


def _write_journal(root: Path, journal: dict) -> None:
    tmp = root / f"{TMP_PREFIX}{JOURNAL_NAME}{TMP_SUFFIX}"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(journal, fh, indent=1, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, root / JOURNAL_NAME)  # the commit point
    fsync_dir(root)


def _apply(root: Path, journal: dict) -> None:
    touched: set[Path] = set()
    for tmp_rel, final_rel in journal["renames"]:
        tmp, final = root / tmp_rel, root / final_rel
        if tmp.exists():
            os.replace(tmp, final)
        elif not final.exists():
            raise LakeCorruptError(f"journal names {tmp_rel} -> {final_rel}, but neither exists")
        touched.add(final.parent)
    for rel in journal["deletes"]:
        path = root / rel
        path.unlink(missing_ok=True)
        touched.add(path.parent)
        with contextlib.suppress(OSError):
            path.parent.rmdir()  # an emptied partition directory goes too
    for directory in touched:
        if directory.exists():
            fsync_dir(directory)
    (root / JOURNAL_NAME).unlink()
    fsync_dir(root)


def commit(root: Path, renames: dict[Path, Path], deletes: list[Path], txid: str) -> None:
    """Make staged files (tmp -> final, all already written and fsynced) and deletions visible at
    once. Paths are absolute under `root`; the journal stores them relative to it."""
    if not renames and not deletes:
        return
    for directory in {tmp.parent for tmp in renames}:
        fsync_dir(directory)  # the staged names must be durable before the journal points to them
    rel = lambda p: p.relative_to(root).as_posix()  # noqa: E731
    journal = {
        "format": JOURNAL_FORMAT,
        "txid": txid,
        "renames": sorted([rel(tmp), rel(final)] for tmp, final in renames.items()),
        "deletes": sorted(rel(p) for p in deletes),
    }
    _write_journal(root, journal)
    _apply(root, journal)


def _lake_paths(root: Path, pattern: str) -> Iterator[Path]:
    """`root.rglob(pattern)` without the spools, whose files belong to live runs."""
    for child in root.iterdir():
        if child.name == SPOOL_DIRNAME:
            continue
        if child.match(pattern):
            yield child
        if child.is_dir() and not child.is_symlink():
            yield from child.rglob(pattern)


def _orphans(root: Path) -> Iterator[Path]:
    for path in _lake_paths(root, f"{TMP_PREFIX}*{TMP_SUFFIX}"):
        if path.is_file():
            yield path


def recover(root: Path) -> tuple[bool, int]:
    """Finish or undo an interrupted commit; caller holds the exclusive lock.
    Returns (rolled_forward, orphans_removed)."""
    rolled = False
    journal_path = root / JOURNAL_NAME
    if journal_path.exists():
        journal = json.loads(journal_path.read_text(encoding="utf-8"))
        if journal.get("format") != JOURNAL_FORMAT:
            raise LakeCorruptError(f"{journal_path}: unknown journal format {journal.get('format')!r}")
        log.warning("lake %s: rolling forward interrupted commit %s", root, journal["txid"])
        _apply(root, journal)
        rolled = True
    removed = 0
    for orphan in _orphans(root):
        orphan.unlink(missing_ok=True)
        removed += 1
    if removed:
        log.warning("lake %s: removed %d uncommitted temporary file(s)", root, removed)
    # Directories made for a stage that never committed (deepest first, so parents can go too).
    for directory in sorted((d for d in _lake_paths(root, "*") if d.is_dir()), key=lambda d: -len(d.parts)):
        with contextlib.suppress(OSError):
            directory.rmdir()
    return rolled, removed


def needs_recovery(root: Path) -> bool:
    return (root / JOURNAL_NAME).exists()
