import gzip
import hashlib

import pytest

from statenotes.extractors.archive import RawArchive
from statenotes.extractors.errors import StatenotesError


def test_put_is_content_addressed_compressed_and_idempotent(tmp_path):
    archive = RawArchive(tmp_path)
    body = b"<html>" + "Caf\u00e9 ".encode() * 1000 + b"</html>"
    sha = archive.put(body)
    assert sha == hashlib.sha256(body).hexdigest()
    stored = archive.path_for(sha)
    assert stored.stat().st_size < len(body) / 5
    assert gzip.decompress(stored.read_bytes()) == body
    first = stored.read_bytes()
    assert archive.put(body) == sha
    assert stored.read_bytes() == first
    assert archive.get(sha) == body and sha in archive
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [stored.name]  # no temp files left


def test_corrupt_or_missing_pages_are_reported(tmp_path):
    archive = RawArchive(tmp_path)
    sha = archive.put(b"one")
    archive.path_for(sha).write_bytes(gzip.compress(b"two"))
    with pytest.raises(StatenotesError, match="corrupt"):
        archive.get(sha)
    with pytest.raises(StatenotesError, match="not in the archive"):
        archive.get("0" * 64)
