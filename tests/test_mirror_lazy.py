"""The mirror renders pages on demand from a note source: a JSON Lines file serves the same bytes as
the notes in memory, the page cache stays bounded, and listing pages do not grow with the corpus."""

from __future__ import annotations

import json

import pytest
import requests
from bs4 import BeautifulSoup

from statenotes.mirror.hosts import archived
from statenotes.mirror.notes import page_path
from statenotes.mirror.pages import Pages
from statenotes.mirror.server import MirrorServer
from statenotes.mirror.site import load_sample_notes
from statenotes.mirror.sources import MemoryNotes, NotesFile

BASE = "http://127.0.0.1:9"
NOTES = load_sample_notes()


def write_jsonl(path, notes):
    with open(path, "w", encoding="utf-8") as out:
        for note in notes:
            out.write(json.dumps(note, ensure_ascii=False) + "\n")
    return path


def copies(count: int) -> list[dict]:
    """`count` distinct notes made from the sample (new urls and titles)."""
    made = []
    for i in range(count):
        note = dict(NOTES[i % len(NOTES)])
        note["url"] = note["url"].rstrip("/") + f"-{i}/"
        note["title"] = f"{note['title']} ({i})"
        made.append(note)
    return made


def every_path(pages: Pages) -> list[str]:
    paths = ["/robots.txt", "/press-releases/", "/press-releases/page/2/", "/press-releases/page/1/",
             "/sitemap_index.xml", "/state_press_release-sitemap.xml", "/state_press_release-sitemap2.xml",
             "/wp-json/wp/v2/state_press_release?per_page=7&page=2", "/no-such-page/"]
    return paths + sorted(pages.entries)


def test_a_notes_file_serves_the_same_answers_as_notes_in_memory(tmp_path):
    notes = NOTES + archived(NOTES)
    source = NotesFile(write_jsonl(tmp_path / "notes.jsonl", notes))
    try:
        assert len(source) == len(notes) and source[page_path(notes[3])] == notes[3]
        in_memory, from_file = Pages(MemoryNotes(notes), BASE, 0.0), Pages(source, BASE, 0.0, cache_pages=2)
        for path in every_path(in_memory) + sorted(in_memory.hosts["2009-2017.state.gov"].drupal_index):
            assert from_file.lookup(path) == in_memory.lookup(path), path
    finally:
        source.close()


def test_the_page_cache_is_bounded_and_evicted_pages_come_back_the_same():
    pages = Pages(MemoryNotes(NOTES), BASE, 0.0, cache_pages=3)
    paths = sorted(pages.entries)
    first = [pages.lookup(p)[0] for p in paths]
    assert len(pages._cache) == 3
    assert [pages.lookup(p)[0] for p in paths] == first


def test_listing_pages_elide_the_pagination_like_wordpress():
    pages = Pages(MemoryNotes(copies(2000)), BASE, 0.0)
    soup = BeautifulSoup(pages.lookup("/press-releases/page/100/")[0].body, "lxml")
    shown = [a.get_text() for a in soup.select("nav.pagination .page-numbers")]
    assert shown == ["Previous", "1", "…", "98", "99", "100", "101", "102", "…", "200", "Next"]
    assert len(soup.select("li.collection-result")) == 10
    small = Pages(MemoryNotes(copies(40)), BASE, 0.0).lookup("/press-releases/page/2/")[0].body
    assert len(pages.lookup("/press-releases/page/2/")[0].body) < len(small) + 500
    assert pages.lookup("/press-releases/page/201/")[0].status == 404


def test_related_articles_are_the_nearest_in_date_as_with_every_note_at_hand():
    from statenotes.mirror.site import render_note_page

    notes = copies(120)
    pages = Pages(MemoryNotes(notes), BASE, 0.0)
    for note in notes[::17]:
        assert pages.lookup(page_path(note))[0].body == render_note_page(note, BASE, related=notes).encode()


@pytest.fixture
def served_file(tmp_path):
    source = NotesFile(write_jsonl(tmp_path / "notes.jsonl", copies(60)))
    with MirrorServer(source, log_requests=False) as server:
        yield server
    source.close()


def test_a_server_on_a_notes_file_serves_and_takes_edits(served_file):
    note = served_file.notes[5]
    path = page_path(note)
    with requests.Session() as http:
        listing = http.get(served_file.base_url + "/press-releases/page/6/")
        assert listing.status_code == 200 and listing.text.count('class="collection-result"') == 10
        assert note["title"] in http.get(served_file.base_url + path).text
        served_file.update_note(path, {**note, "title": "An edited title"})
        assert "An edited title" in http.get(served_file.base_url + path).text
    assert served_file.requests == [] and served_file.request_count == 3
