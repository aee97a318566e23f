"""Issue 15 item 4: the raw archive checks what it reads. A truncated, non-gzip or wrongly hashed
file raises a specific error, is treated like a missing one (a 304 is fetched again in full and the
file replaced; reprocess skips and names it), and `statenotes verify-archive` finds it."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from datetime import UTC, date, datetime

import duckdb
import pytest

from statenotes.extractors.archive import RawArchive
from statenotes.extractors.errors import ArchiveDamagedError, ArchiveMissingError
from statenotes.flows.parameters import BackfillRequest
from statenotes.flows.pipeline import backfill, reprocess
from statenotes.flows.settings import load_settings, run_with
from statenotes.mirror.server import MirrorServer

EVERYTHING = BackfillRequest(start=date(2000, 1, 1), end=datetime.now(UTC).date())
SEED_PATH = "/statement-by-ministers-of-the-global-coalition-to-defeat-isis-daesh/"
BODY = b"<html><head><title>t</title></head><body>" + "Caf\u00e9 ".encode() * 500 + b"</body></html>"


def truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def not_gzip(path):
    path.write_bytes(b"<html>plain bytes, never compressed</html>")


def other_content(path):
    path.write_bytes(gzip.compress(b"<html>someone else's page</html>"))


DAMAGES = {"truncated": truncate, "not gzip": not_gzip, "hash differs": other_content}


@pytest.mark.parametrize("damage", DAMAGES.values(), ids=DAMAGES.keys())
def test_a_damaged_entry_raises_a_specific_error_and_the_next_put_replaces_it(tmp_path, damage):
    archive = RawArchive(tmp_path)
    sha = archive.put(BODY)
    damage(archive.path_for(sha))
    with pytest.raises(ArchiveDamagedError, match="damaged") as raised:
        archive.get(sha)
    assert raised.value.sha256 == sha and str(archive.path_for(sha)) in str(raised.value)
    assert [entry.path for entry in archive.verify()] == [archive.path_for(sha)]
    assert archive.put(BODY) == sha  # the same content again: the damaged copy is rewritten
    assert archive.get(sha) == BODY and list(archive.verify()) == []


def test_a_missing_entry_is_its_own_error(tmp_path):
    with pytest.raises(ArchiveMissingError, match="not in the archive"):
        RawArchive(tmp_path).get("0" * 64)


def settings_for(site, data_dir):
    return load_settings(base_url=site.base_url, data_dir=data_dir, crawl_delay_s=0.0, requests_per_minute=0)


def seed_sha(db_path) -> str:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute("select raw_sha256 from notes_latest where url like ?", [f"%{SEED_PATH}"]).fetchone()[0]


def notes(db_path) -> list[tuple]:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute("select note_id, version, content_sha256 from notes order by all").fetchall()


@pytest.mark.usefixtures("prefect_harness")
def test_a_304_for_a_damaged_copy_fetches_the_page_again_and_reprocess_skips_it(tmp_path):
    with MirrorServer() as site:
        settings = settings_for(site, tmp_path)
        first = run_with(settings, backfill, EVERYTHING)
        loaded = notes(settings.db_path)
        archive, sha = RawArchive(settings.raw_dir), seed_sha(settings.db_path)
        truncate(archive.path_for(sha))
        site.clear_requests()
        second = run_with(settings, backfill, EVERYTHING)
        asked = [status for _, path, status in site.requests if path == SEED_PATH]
    assert (second.new, second.updated, second.unchanged, second.quarantined) == (0, 0, first.new, [])
    assert sorted(asked) == [200, 304]  # conditional, then in full: the archived copy was not trusted
    assert archive.get(sha) and list(archive.verify()) == []  # the full body replaced the damaged file
    assert notes(settings.db_path) == loaded

    not_gzip(archive.path_for(sha))
    summary = run_with(settings, reprocess)
    assert len(summary.unreadable) == 1 and summary.unreadable[0].endswith("(not a valid gzip stream: "
                                                                            "Not a gzipped file (b'<h'))")
    assert SEED_PATH in summary.unreadable[0] and summary.unchanged == first.new - 1
    assert notes(settings.db_path) == loaded  # the seed keeps its loaded version


def verify_archive(data_dir, *flags) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", "from statenotes.flows.cli import app; app()", "verify-archive",
               "--data-dir", str(data_dir), *flags]
    return subprocess.run(command, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "COLUMNS": "200"})


def test_verify_archive_lists_damaged_entries_and_repair_moves_them_aside(tmp_path):
    archive = RawArchive(tmp_path / "raw")
    shas = [archive.put(BODY + bytes([i])) for i in range(4)]
    truncate(archive.path_for(shas[0]))
    other_content(archive.path_for(shas[2]))

    found = verify_archive(tmp_path)
    assert found.returncode == 1, found.stderr
    assert shas[0] in found.stdout and shas[2] in found.stdout and shas[1] not in found.stdout
    assert "truncated gzip stream" in found.stdout and "content hash differs" in found.stdout
    assert "2 damaged raw pages" in found.stderr and "--repair" in found.stderr
    assert "Traceback" not in found.stderr

    repaired = verify_archive(tmp_path, "--repair")
    assert repaired.returncode == 1 and "moved aside" in repaired.stderr
    assert not archive.path_for(shas[0]).exists() and len(list((archive.root / ".damaged").iterdir())) == 2
    clean = verify_archive(tmp_path)
    assert clean.returncode == 0 and "2 raw pages checked" in clean.stdout and "all intact" in clean.stdout
