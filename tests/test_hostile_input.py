"""Issue 15 item 11 (the parser's and the data folder's part): pages nested 100,000 deep, UTF-16
pages and utf-16 labels on UTF-8 bytes, a read-only lake, a data directory that is a file and a
damaged lake file: each gives one clear reason, never a traceback, and a damaged lake file stops
the run before the crawl."""

from __future__ import annotations

import codecs
import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from statenotes.extractors.errors import ParseError
from statenotes.extractors.parse import parse_note
from statenotes.flows.pages import RawPage, parse_pages

PAGES = Path(__file__).parent / "pages"
TODAY = datetime.now(UTC).date()
URL = "https://www.state.gov/a-note/"
BODY_START = re.compile(rb'<div class="(?:entry-content|field field-name-body)">')  # the release's body


def nested(page: str, tag: bytes, depth: int = 100_000) -> bytes:
    """`page` with `depth` nested `tag` elements at the start of its body."""
    html = (PAGES / page).read_bytes()
    at = BODY_START.search(html).end()
    return html[:at] + (b"<" + tag + b">") * depth + b"deep" + (b"</" + tag + b">") * depth + html[at:]


@pytest.mark.parametrize("page, tag", [("seed.html", b"div"), ("seed.html", b"section"),
                                       ("drupal.html", b"div"), ("wordpress_template.html", b"blockquote")])
def test_a_page_nested_100000_deep_is_quarantined_with_one_reason(page, tag):
    html = nested(page, tag)
    with pytest.raises(ParseError, match="nested too deeply"):
        parse_note(html, URL)
    outcome = parse_pages([RawPage(url=URL, raw_sha256="0" * 64, fetched_at=datetime.now(UTC),
                                   content_type="text/html; charset=utf-8", body=html)])
    assert [(q.stage, q.reason) for q in outcome.quarantined] == [
        ("parse", "elements nested too deeply to read (thousands of levels)")]


def test_statenotes_extract_says_so_in_one_line(tmp_path):
    page = tmp_path / "deep.html"
    page.write_bytes(nested("seed.html", b"div"))
    done = subprocess.run([sys.executable, "-c", "from statenotes.flows.cli import app; app()", "extract", str(page)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [f"statenotes extract: {page.as_uri()}: elements nested too "
                                                 "deeply to read (thousands of levels)"]


def fields(note) -> tuple:
    return (note.title, note.published_date, note.office, note.blocks)


def utf16(html: bytes, codec: str) -> bytes:
    bom = codecs.BOM_UTF16_LE if codec == "utf-16-le" else codecs.BOM_UTF16_BE
    return bom + html.decode("utf-8").encode(codec)


def meta_charset(html: bytes, label: bytes) -> bytes:
    """`html` with its `<meta charset>` (or http-equiv Content-Type's charset) saying `label`."""
    changed, count = re.subn(rb'(<meta[^>]*charset=["\']?)[\w-]+', rb"\g<1>" + label, html, count=1, flags=re.I)
    assert count == 1
    return changed


@pytest.mark.parametrize("page", ["seed.html", "drupal.html"])
@pytest.mark.parametrize("variant, content_type", [
    ("utf-16-le BOM", None),
    ("utf-16-be BOM", None),
    ("utf-16-le BOM, header says latin-1", "text/html; charset=iso-8859-1"),
    ("utf-8, meta says utf-16", None),
    ("utf-8, header says utf-16", "text/html; charset=utf-16"),
])
def test_utf16_pages_and_false_utf16_labels_parse_like_the_utf8_page(page, variant, content_type):
    html = (PAGES / page).read_bytes()
    expected = parse_note(html, URL, "text/html; charset=utf-8")
    if "BOM" in variant:
        given = utf16(html, variant[:9])
    else:
        given = meta_charset(html, b"utf-16") if "meta" in variant else html
    assert fields(parse_note(given, URL, content_type)) == fields(expected)


# --- The data folder: one-line errors before anything is fetched -----------------------------------------

def cli(*args, data_dir, env=None, prefix=()) -> subprocess.CompletedProcess:
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value() or "", "COLUMNS": "120", **(env or {})}
    command = [*prefix, sys.executable, "-c", "from statenotes.flows.cli import app; app()", *args]
    if data_dir is not None:
        command += ["--data-dir", str(data_dir)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)


def backfill_args(site) -> tuple[str, ...]:
    return ("backfill", "--start", "2000-01-01", "--end", TODAY.isoformat(), "--base-url", site.base_url,
            "--crawl-delay", "0")


def one_line_error(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    return lines[0]


@pytest.mark.usefixtures("prefect_harness")
def test_a_data_directory_that_is_a_file_is_one_line(tmp_path, mirror):
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("x")
    for args in (backfill_args(mirror), ("reprocess",), ("run", "--base-url", mirror.base_url)):
        line = one_line_error(cli(*args, data_dir=None, env={"STATENOTES_DATA_DIR": str(a_file)}))
        assert line == f"error: data directory {a_file} cannot be used: File exists (set STATENOTES_DATA_DIR " \
                       "or --data-dir to a writable directory)"
    assert mirror.request_count == 0


def read_only(path: Path) -> tuple[str, ...]:
    """A command prefix under which `path` is read-only, or skip: root ignores permission bits, so
    root gets a private read-only bind mount (needs CAP_SYS_ADMIN)."""
    if os.geteuid() != 0:
        for folder, dirs, files in os.walk(path):
            for name in dirs + files:
                os.chmod(os.path.join(folder, name), 0o555 if name in dirs else 0o444)
        path.chmod(0o555)
        return ()
    probe = subprocess.run(["unshare", "--mount", "true"], capture_output=True) if shutil.which("unshare") else None
    if probe is None or probe.returncode != 0:
        pytest.skip("cannot make a read-only folder here (root without unshare)")
    script = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" "$0" && exec "$@"'
    return ("unshare", "--mount", "sh", "-c", script, str(path))


@pytest.mark.usefixtures("prefect_harness")
def test_a_read_only_lake_is_one_line_before_the_crawl(tmp_path, mirror):
    from statenotes.warehouse.lake import Lake

    Lake(tmp_path / "lake")  # an existing, empty lake
    prefix = read_only(tmp_path / "lake")
    try:
        line = one_line_error(cli(*backfill_args(mirror), data_dir=tmp_path, prefix=prefix))
    finally:
        for folder, dirs, _ in os.walk(tmp_path):
            os.chmod(folder, 0o755)
    assert line == f"error: lake {tmp_path / 'lake'} cannot be opened for writing: " + \
        ("Read-only file system" if prefix else "Permission denied")
    assert mirror.request_count == 0


@pytest.mark.usefixtures("prefect_harness")
@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_damaged_lake_file_stops_the_run_before_the_crawl(tmp_path, mirror, damage):
    from statenotes.flows.parameters import BackfillRequest
    from statenotes.flows.pipeline import backfill
    from statenotes.flows.settings import load_settings, run_with

    settings = load_settings(base_url=mirror.base_url, data_dir=tmp_path, crawl_delay_s=0.0, requests_per_minute=0)
    run_with(settings, backfill, BackfillRequest(start=date(2019, 1, 1), end=date(2019, 12, 31)))
    victim = sorted((settings.lake_dir / "paragraphs").rglob("*.parquet"))[0]
    content = victim.read_bytes()
    victim.write_bytes(b"not parquet at all" if damage == "garbage" else content[: len(content) // 2])
    published = settings.db_path.read_bytes()
    mirror.clear_requests()

    for args in (backfill_args(mirror), ("reprocess",)):
        line = one_line_error(cli(*args, data_dir=tmp_path))
        assert line.startswith(f"error: lake file {victim} cannot be read (") and "restore it" in line
    assert mirror.requests == []  # found before the crawl, not at the commit
    assert settings.db_path.read_bytes() == published


def test_a_utf16_bot_wall_is_still_a_bot_wall():
    from statenotes.extractors.parse import is_bot_wall

    html = (PAGES / "bot_wall.html").read_bytes()
    assert is_bot_wall(utf16(html, "utf-16-le")) and is_bot_wall(utf16(html, "utf-16-be"))
    with pytest.raises(ParseError, match="bot wall"):
        parse_note(utf16(html, "utf-16-be"), URL)
