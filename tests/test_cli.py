"""The `statenotes` command as a user runs it: a real process, real files, the real mirror."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from statenotes.mirror.site import load_sample_notes, page_url, render_note_page

PAGES = Path(__file__).parent / "pages"
SEED_URL_PATH = "/statement-by-ministers-of-the-global-coalition-to-defeat-isis-daesh/"


def statenotes(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", "from statenotes.flows.cli import app; app()", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def seed_note() -> dict:
    return next(n for n in load_sample_notes() if n["url"].endswith(SEED_URL_PATH))


def test_extract_a_saved_page_prints_the_design_contract(tmp_path, seed_gold):
    page = tmp_path / "seed.html"
    page.write_text(render_note_page(seed_note(), "https://www.state.gov"), encoding="utf-8")
    result = statenotes("extract", str(page), "--url", "https://www.state.gov" + SEED_URL_PATH, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"note", "paragraphs", "actors", "mentions"}
    note = data["note"]
    assert {k: note[k] for k in ("url", "title", "release_type", "office", "published_date",
                                 "dateline_place", "dateline_date")} == {
        "url": "https://www.state.gov" + SEED_URL_PATH,
        "title": "Statement by Ministers of the Global Coalition To Defeat ISIS/DAESH",
        "release_type": "Media Note", "office": "Office of the Spokesperson",
        "published_date": "2019-02-07", "dateline_place": "Washington, DC", "dateline_date": "2019-02-06"}
    assert isinstance(note["tags"], list) and note["layout"] == "wordpress"
    assert [(p["label"], p["text"]) for p in data["paragraphs"]] == [
        (p["label"], p["text"]) for p in seed_gold["paragraphs"]]
    assert [p["seq"] for p in data["paragraphs"]] == list(range(len(data["paragraphs"])))
    iraq = next(a for a in data["actors"] if a["actor_id"] == "IRQ")
    assert iraq == {"actor_id": "IRQ", "name": "Iraq", "kind": "country", "iso3": "IRQ"}
    texts = {p["seq"]: p["text"] for p in data["paragraphs"]}
    for mention in data["mentions"]:
        if mention["seq"] >= 0:
            assert texts[mention["seq"]][mention["start"]:mention["end"]] == mention["surface"]


def test_extract_a_url_from_the_mirror(mirror):
    note = load_sample_notes()[0]
    result = statenotes("extract", page_url(note, mirror.base_url), "--json",
                        env={"STATENOTES_CRAWL_DELAY_S": "0"})
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["note"]["title"] == note["title"]
    assert data["note"]["url"] == page_url(note, mirror.base_url)


@pytest.mark.parametrize("page,reason", [
    ("bot_wall.html", "bot wall"),
    ("not_found.html", "page not found"),
])
def test_extract_a_page_that_is_not_a_release_fails_with_one_line(page, reason):
    result = statenotes("extract", str(PAGES / page), "--json")
    assert result.returncode == 1
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and reason in result.stderr


def test_extract_a_missing_file_fails_with_one_line(tmp_path):
    result = statenotes("extract", str(tmp_path / "nope.html"))
    assert result.returncode == 1 and "cannot read" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_backfill_with_a_bad_date_range_says_so(tmp_path):
    result = statenotes("backfill", "--start", "2020-02-01", "--end", "2020-01-01", "--data-dir", str(tmp_path))
    assert result.returncode == 1
    assert "start 2020-02-01 is after end 2020-01-01" in result.stderr


def test_demo_builds_the_warehouse_and_says_where(tmp_path):
    result = statenotes("demo", "--data-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr[-2000:]
    assert str((tmp_path / "statenotes.duckdb").resolve()) in result.stdout.replace("\n", "")
    assert f"{len(load_sample_notes())} notes" in result.stdout
    assert "Top actors" in result.stdout


def test_mirror_command_serves_the_site_until_stopped():
    import re
    import signal
    import time

    import requests

    command = [sys.executable, "-c", "from statenotes.flows.cli import app; app()", "mirror", "--port", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        base_url = re.search(r"http://127\.0\.0\.1:\d+", line).group(0)
        listing = requests.get(base_url + "/press-releases/", timeout=5)
        assert listing.status_code == 200 and "collection-result" in listing.text
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        finally:
            if process.poll() is None:
                process.kill()
            process.stdout.close()
            process.stderr.close()
    assert process.returncode == 0
