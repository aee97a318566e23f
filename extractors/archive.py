"""The raw archive: every page body exactly as fetched, gzip-compressed, addressed by its sha256.

Written before a page is parsed, so a parser bug never loses a page and `reprocess` can rebuild
everything without the network. Writes are atomic (temp file + rename) and idempotent."""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
from pathlib import Path

from statenotes.extractors.errors import StatenotesError


class RawArchive:
    def __init__(self, root: Path):
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}.html.gz"

    def put(self, body: bytes, sha256: str | None = None) -> str:
        """Store `body` (once per distinct content) and return its sha256."""
        digest = sha256 or hashlib.sha256(body).hexdigest()
        target = self.path_for(digest)
        if target.exists():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".gz")
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
        try:
            body = gzip.decompress(self.path_for(sha256).read_bytes())
        except FileNotFoundError as exc:
            raise StatenotesError(f"raw page {sha256} is not in the archive at {self.root}") from exc
        if hashlib.sha256(body).hexdigest() != sha256:
            raise StatenotesError(f"raw page {sha256} is corrupt (content hash differs)")
        return body

    def __contains__(self, sha256: str) -> bool:
        return self.path_for(sha256).exists()
