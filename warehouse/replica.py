"""A copy of the committed Parquet lake on any fsspec filesystem (s3://, gs://, abfs://, file://,
memory://...), for readers elsewhere: DuckDB's httpfs, pyarrow, Spark.

The lake itself stays on a local disk: its commit protocol needs atomic renames and flock, which
object stores do not have. After each commit the changed files are uploaded, the vanished ones
deleted, and `_manifest.json` (every file with its sha256) written last. Each file is uploaded
whole, so a reader never sees half a file; during a copy, though, a reader may see some tables
newer than others. The manifest describes the copy once it is complete."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import fsspec

from statenotes.extractors.credentials import redact

from .lake import Lake
from .schema import TABLES

log = logging.getLogger(__name__)

MANIFEST = "_manifest.json"
MANIFEST_FORMAT = 1


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _remote_manifest(fs, root: str) -> dict[str, str]:
    try:
        with fs.open(f"{root}/{MANIFEST}", "rb") as fh:
            return json.load(fh).get("files", {})
    except FileNotFoundError:
        return {}


def replicate(lake: Lake, uri: str) -> int:
    """Bring the copy at `uri` up to the lake's committed state; returns files uploaded or deleted."""
    fs, root = fsspec.core.url_to_fs(uri)
    root = root.rstrip("/")
    with lake.snapshot() as files:  # no commit lands while we copy
        local = {p.relative_to(lake.root).as_posix(): p for table in TABLES for p in files[table]}
        wanted = {rel: _sha256(path) for rel, path in local.items()}
        remote = _remote_manifest(fs, root)
        changed = [rel for rel, sha in sorted(wanted.items()) if remote.get(rel) != sha]
        for rel in changed:
            fs.makedirs(f"{root}/{rel}".rsplit("/", 1)[0], exist_ok=True)
            fs.put_file(str(local[rel]), f"{root}/{rel}")
    gone = sorted(set(remote) - set(wanted))
    for rel in gone:
        if fs.exists(f"{root}/{rel}"):
            fs.rm_file(f"{root}/{rel}")
    with fs.open(f"{root}/{MANIFEST}", "w") as fh:
        json.dump({"format": MANIFEST_FORMAT, "files": wanted}, fh, indent=1, sort_keys=True)
    if changed or gone:
        log.info("lake replica %s: %d uploaded, %d deleted", redact(uri), len(changed), len(gone))
    return len(changed) + len(gone)
