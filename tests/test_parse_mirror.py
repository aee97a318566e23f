"""Every sample note, rendered by the mirror in every markup variant, parses back to what it says.

The expected paragraphs are derived here from the note JSON on their own terms (body_lines minus
"Begin/End Text" markers; a printed "1." becomes the label, a "•" the list_item kind), so a
parser change cannot move both sides of the comparison at once.
"""

from __future__ import annotations

import re
from datetime import date

import pytest

from statenotes.extractors.errors import ParseError
from statenotes.extractors.parse import parse_note
from statenotes.mirror.site import (
    VARIANT_COUNT,
    VARIANTS,
    load_sample_notes,
    modified_at,
    page_url,
    render_listing_page,
    render_not_found,
    render_note_page,
)
from statenotes.transforms.paragraphs import normalise_body

BASE_URL = "http://127.0.0.1:8765"
SEED_URL_PATH = "/statement-by-ministers-of-the-global-coalition-to-defeat-isis-daesh/"
MARKER = re.compile(r"^(begin|end) text[:.]?$", re.IGNORECASE)
NUMBERED = re.compile(r"^(\d+)\. (.*)$")
BULLET = re.compile(r"^• ?(.*)$")
NOTES = load_sample_notes()


def expected_paragraphs(note: dict, quote_markup: bool = False,
                        ) -> tuple[list[tuple[str | None, str | None, str]], int | None, int | None]:
    """([(label, kind or None for plain, text)], quoted_start_seq, quoted_end_seq) from the JSON.
    `quote_markup`: the page puts the quoted text in a <blockquote>, so plain lines there are quotes."""
    rows, start, end = [], None, None
    for raw in note["body_lines"]:
        line = " ".join(raw.split())
        quoted = start is not None and end is None
        if MARKER.match(line):
            if line.lower().startswith("begin"):
                start = len(rows)
            else:
                end = len(rows)
        elif match := NUMBERED.match(line):
            rows.append((match.group(1), "numbered", match.group(2)))
        elif match := BULLET.match(line):
            rows.append((None, "list_item", match.group(1)))
        else:
            rows.append((None, "quote" if quote_markup and quoted else None, line))
    if start is not None and end is None:
        end = len(rows)
    return rows, start, end


@pytest.mark.parametrize("variant", range(VARIANT_COUNT))
@pytest.mark.parametrize("note", NOTES, ids=[n["url"].rstrip("/").rsplit("/", 1)[-1][:40] for n in NOTES])
def test_mirror_page_round_trip(note, variant):
    url = page_url(note, BASE_URL)
    parsed = parse_note(render_note_page(note, BASE_URL, variant).encode("utf-8"), url,
                        content_type="text/html; charset=UTF-8")
    assert parsed.layout == "wordpress"
    assert parsed.title == note["title"]
    assert parsed.release_type == note["release_type"]
    assert parsed.office == note["office"]
    assert parsed.published_date == date.fromisoformat(note["published_date"])
    assert parsed.modified_at == modified_at(note)
    assert parsed.canonical_url == url
    assert note["office"] in parsed.tags

    body = normalise_body(parsed.blocks)
    assert body.dateline_place == note["dateline_place"]
    assert body.dateline_date == (date.fromisoformat(note["dateline_date"]) if note["dateline_date"] else None)

    rows, start, end = expected_paragraphs(note, VARIANTS[variant].quote == "blockquote")
    got = [(p.label, p.kind, p.text) for p in body.paragraphs]
    assert [(label, text) for label, _, text in got] == [(label, text) for label, _, text in rows]
    for (_, kind, _), (_, want, _) in zip(got, rows):
        assert kind == want if want else kind in ("lead", "body", "closing")
    plain = [kind for _, kind, _ in got if kind in ("lead", "body", "closing")]
    assert plain[:1] == (["lead"] if any(want is None for _, want, _ in rows) else [])
    assert (body.has_quoted_text, body.quoted_start_seq, body.quoted_end_seq) == (start is not None, start, end)
    assert [p.seq for p in body.paragraphs] == list(range(len(body.paragraphs)))


@pytest.mark.parametrize("variant", range(VARIANT_COUNT))
def test_seed_in_every_variant_matches_gold_exactly(variant, seed_gold):
    seed = next(n for n in NOTES if n["url"].endswith(SEED_URL_PATH))
    url = page_url(seed, BASE_URL)
    body = normalise_body(parse_note(render_note_page(seed, BASE_URL, variant).encode("utf-8"), url).blocks)
    assert [{"label": p.label, "text": p.text} for p in body.paragraphs] == seed_gold["paragraphs"]
    assert (body.dateline_place, body.dateline_date) == ("Washington, DC", date(2019, 2, 6))


def test_closing_lines_of_a_sample_note_are_closing():
    note = next(n for n in NOTES if n["url"].endswith("/thornton-travel-berlin/"))
    for variant in range(VARIANT_COUNT):
        html = render_note_page(note, BASE_URL, variant).encode("utf-8")
        kinds = [p.kind for p in normalise_body(parse_note(html, page_url(note, BASE_URL)).blocks).paragraphs]
        assert kinds == ["lead", "closing", "closing"]


def test_mirror_not_found_page_is_rejected():
    with pytest.raises(ParseError, match=r"page not found \(404 page served with 200\)"):
        parse_note(render_not_found(BASE_URL).encode("utf-8"), BASE_URL + "/no-such-release/")


def test_mirror_listing_page_is_not_a_release():
    with pytest.raises(ParseError, match="unknown layout: no release title"):
        parse_note(render_listing_page(NOTES, 1, BASE_URL).encode("utf-8"), BASE_URL + "/press-releases/")


def test_pre_slice_changes_nothing(monkeypatch):
    """BeautifulSoup sees only <head> + <main> (speed); the notes must equal a whole-page parse."""
    from statenotes.extractors import parse

    pages = [(render_note_page(n, BASE_URL, i % VARIANT_COUNT).encode("utf-8"), page_url(n, BASE_URL))
             for i, n in enumerate(NOTES)]
    sliced = [parse_note(html, url) for html, url in pages]
    assert all(len(parse.article_region(html)) < len(html) for html, _ in pages)
    monkeypatch.setattr(parse, "article_region", lambda html: html)
    assert [parse_note(html, url) for html, url in pages] == sliced
