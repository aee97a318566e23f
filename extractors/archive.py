"""The raw archive: every page body exactly as fetched, gzip-compressed, addressed by its sha256.

Written before a page is parsed, so a parser bug never loses a page and `reprocess` can rebuild
everything without the network. Writes are atomic (temp file + rename) and idempotent. Reads check
what they read (a whole gzip stream whose content hashes to the file's name): a damaged file (a
disk error, a truncated copy, someone's edit) raises `ArchiveDamagedError`, which callers treat like
a missing file, and the next `put` of the same content replaces it."""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from statenotes.extractors.errors import ArchiveDamagedError, ArchiveError, ArchiveMissingError

SUFFIX = ".html.gz"
DAMAGED_DIRNAME = ".damaged"  # where `verify(repair=True)` moves damaged files (never read back)
HEX_DIGITS = frozenset("0123456789abcdef")
TMP_PREFIX = ".tmp-"


@dataclass(frozen=True, slots=True)
class DamagedEntry:
    path: Path
    problem: str  # one line
    moved_to: Path | None = None  # set when repaired


class RawArchive:
    def __init__(self, root: Path):
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}.html.gz"

    def put(self, body: bytes, sha256: str | None = None) -> str:
        """Store `body` (once per distinct content) and return its sha256."""
        digest = sha256 or hashlib.sha256(body).hexdigest()
        target = self.path_for(digest)
        if target.exists() and self._intact(digest):
            return digest  # a damaged copy is replaced below
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=TMP_PREFIX, suffix=".gz")
        try:
            with os.fdopen(fd, "wb") as raw:
                # mtime=0 keeps the archive byte-identical across runs.
                with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as gz:
                    gz.write(body)
                raw.flush()
                os.fsync(raw.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def get(self, sha256: str) -> bytes:
        """The page's bytes; raises `ArchiveMissingError` or `ArchiveDamagedError` (never an
        EOFError or a gzip error: those say which file, and why, in one line)."""
        path = self.path_for(sha256)
        try:
            compressed = path.read_bytes()
        except FileNotFoundError as exc:
            raise ArchiveMissingError(sha256, f"raw page {sha256} is not in the archive at {self.root}") from exc
        except OSError as exc:
            raise ArchiveError(sha256, f"raw page {path} cannot be read: {exc.strerror or exc}") from exc
        try:
            body = gzip.decompress(compressed)
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            # EOFError: cut short; BadGzipFile: not gzip (or a bad trailer); zlib.error: bad data
            raise ArchiveDamagedError(sha256, f"raw page {path} is damaged ({_gzip_problem(exc)})") from exc
        if hashlib.sha256(body).hexdigest() != sha256:
            raise ArchiveDamagedError(sha256, f"raw page {path} is damaged (its content hash differs from its name)")
        return body

    def _intact(self, sha256: str) -> bool:
        try:
            self.get(sha256)
        except ArchiveError:
            return False
        return True

    def __contains__(self, sha256: str) -> bool:
        return self.path_for(sha256).exists()

    def entries(self) -> Iterator[Path]:
        """Every archived file, in name order (temporary files and moved-aside ones excluded)."""
        for directory in sorted(self.root.glob("??")):
            if directory.is_dir() and set(directory.name) <= HEX_DIGITS:
                yield from sorted(directory.glob(f"*{SUFFIX}"))

    def verify(self, repair: bool = False) -> Iterator[DamagedEntry]:
        """Read every entry back; yield each damaged one. With `repair`, move it under
        `<root>/.damaged/` so that the next run that needs the page fetches it again."""
        for path in self.entries():
            sha256 = path.name.removesuffix(SUFFIX)
            try:
                if self.path_for(sha256) != path:
                    raise ArchiveDamagedError(sha256, f"raw page {path} is misnamed (not a sha256 in its folder)")
                self.get(sha256)
            except ArchiveError as exc:
                moved = self._move_aside(path) if repair else None
                yield DamagedEntry(path=path, problem=str(exc), moved_to=moved)

    def remove_stale_temp_files(self) -> list[Path]:
        """Delete `put`'s temporary files (a put killed before its rename). Only safe when no other
        process writes to this archive: the caller holds the data folder's run lock."""
        stale = [path for directory in self.root.glob("??") for path in directory.glob(f"{TMP_PREFIX}*")]
        for path in stale:
            path.unlink(missing_ok=True)
        return stale

    def _move_aside(self, path: Path) -> Path:
        aside = self.root / DAMAGED_DIRNAME
        aside.mkdir(exist_ok=True)
        target = aside / f"{path.name}.{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}"
        os.replace(path, target)
        return target


def _gzip_problem(exc: Exception) -> str:
    if isinstance(exc, EOFError):
        return "truncated gzip stream"
    return f"not a valid gzip stream: {exc}"
