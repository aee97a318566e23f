"""The generic fallback (extractors/generic.py): a redesigned page is read from its semantic signals,
and any page it cannot read surely (signals that disagree, two articles, a body of widgets, a bot
wall) is quarantined with the reason, never loaded with a wrong field."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import duckdb
import pytest

from statenotes.extractors.errors import ParseError
from statenotes.extractors.parse import parse_note
from statenotes.flows.parameters import BackfillRequest
from statenotes.flows.pipeline import backfill
from statenotes.flows.settings import load_settings, run_with
from statenotes.mirror.redesign import REDESIGNS, render_redesigned_page
from statenotes.mirror.server import MirrorServer
from statenotes.mirror.site import load_sample_notes, page_url
from statenotes.transforms.paragraphs import normalise_body

URL = "https://www.state.gov/a-release/"
BODY = ("<p>Washington, DC<br>March 21, 2019</p>"
        "<p>The Department of State has amended the designations of three groups today.</p>"
        "<p>These actions notify the public that the groups are aliases of the organisation.</p>")


def page(*, ld: dict | None = None, head: str = "", article: str | None = None, title: str = "Amended Designations",
         kicker: str = "Media Note", byline: str = "Office of the Spokesperson", when: str = "2019-03-21",
         printed: str = "March 21, 2019", body: str = BODY, after: str = "") -> bytes:
    ld_tag = f'<script type="application/ld+json">{json.dumps(ld)}</script>' if ld is not None else ""
    article = article if article is not None else (
        f'<article><header><p>{kicker}</p><h1>{title}</h1><p>{byline}</p>'
        f'<time datetime="{when}T15:00:00-04:00">{printed}</time></header><div>{body}</div>{after}</article>')
    return (f'<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>{head}{ld_tag}</head>'
            f'<body><nav><a href="/">Home</a> <a href="/news/">News</a></nav><main>{article}</main>'
            f'<footer><p>U.S. Department of State</p></footer></body></html>').encode("utf-8")


def news_article(**fields) -> dict:
    return {"@context": "https://schema.org", "@type": "NewsArticle", "headline": "Amended Designations",
            "datePublished": "2019-03-21T15:00:00-04:00", "articleSection": "Media Note",
            "author": {"@type": "Organization", "name": "Office of the Spokesperson"}} | fields


def reason(html: bytes) -> str:
    with pytest.raises(ParseError) as caught:
        parse_note(html, URL)
    return caught.value.reason


def test_a_semantic_page_is_read_with_every_field():
    note = parse_note(page(ld=news_article()), URL)
    body = normalise_body(note.blocks)
    assert note.layout == "generic:jsonld+article"
    assert (note.title, note.release_type, note.office, note.published_date) == \
        ("Amended Designations", "Media Note", "Office of the Spokesperson", date(2019, 3, 21))
    assert (body.dateline_place, body.dateline_date) == ("Washington, DC", date(2019, 3, 21))
    assert [p.text for p in body.paragraphs] == [
        "The Department of State has amended the designations of three groups today.",
        "These actions notify the public that the groups are aliases of the organisation."]


def test_json_ld_inside_a_graph_names_the_author_by_id():
    graph = {"@context": "https://schema.org", "@graph": [
        {"@type": "WebPage", "@id": "#page", "name": "Something else entirely"},
        {"@type": "Organization", "@id": "#office", "name": "Office of the Spokesperson"},
        news_article(author={"@id": "#office"}, **{"@type": "ReportageNewsArticle"})]}
    note = parse_note(page(ld=graph, byline=""), URL)
    assert note.office == "Office of the Spokesperson" and note.layout == "generic:jsonld+article"


def test_opengraph_only_page():
    head = ('<meta property="og:type" content="article"><meta property="og:site_name" content="U.S. Department of State">'
            '<meta property="og:title" content="Amended Designations - U.S. Department of State">'
            '<meta property="article:published_time" content="2019-03-21T15:00:00-04:00">'
            '<meta property="article:section" content="Media Note">'
            '<meta property="article:tag" content="Iraq"><meta property="article:tag" content="Syria">')
    html = page(head=head, article=f'<div><div><h1>Amended Designations</h1><div><span>Media Note</span>'
                                   f'<span>March 21, 2019</span></div></div><div><div>{BODY}</div></div></div>')
    note = parse_note(html, URL)
    assert note.layout == "generic:opengraph+main"
    assert (note.title, note.release_type, note.published_date, note.tags) == \
        ("Amended Designations", "Media Note", date(2019, 3, 21), ["Iraq", "Syria"])


def test_json_ld_that_lies_about_the_headline_is_quarantined():
    assert reason(page(ld=news_article(headline="A Different Release"))).startswith(
        "generic fallback: title signals disagree")


def test_json_ld_that_lies_about_the_date_is_quarantined():
    html = page(ld=news_article(datePublished="2019-03-20T15:00:00-04:00"))
    assert reason(html).startswith("generic fallback: publication date signals disagree")


def test_visible_date_against_time_datetime_is_quarantined():
    assert reason(page(ld=news_article(), printed="March 22, 2019")).startswith(
        "generic fallback: publication date signals disagree")


def test_article_section_against_the_kicker_is_quarantined():
    assert reason(page(ld=news_article(articleSection="Press Statement"))).startswith(
        "generic fallback: release type signals disagree")


def test_two_full_articles_are_quarantined():
    one = f'<article><h1>Amended Designations</h1><time datetime="2019-03-21">March 21, 2019</time>{BODY}</article>'
    two = f'<article><h2>Another Release</h2><time datetime="2019-03-20">March 20, 2019</time>{BODY}</article>'
    assert reason(page(article=one + two)) == "generic fallback: several articles on one page"


def test_a_related_card_article_does_not_count_as_a_second_article():
    card = '<article><a href="/x/">Another Release</a> <time datetime="2019-03-20">March 20, 2019</time></article>'
    note = parse_note(page(ld=news_article(), after=f"<div>{card}{card}</div>"), URL)
    assert note.published_date == date(2019, 3, 21)


def test_a_summary_box_that_repeats_the_lead_is_not_a_paragraph():
    summary = "<div><h2>Summary</h2><p>The Department of State has amended the designations of three…</p></div>"
    html = page(ld=news_article(), article=f'<article><header><h1>Amended Designations</h1><time datetime="2019-03-21">'
                                           f'March 21, 2019</time></header>{summary}<div>{BODY}</div></article>')
    body = normalise_body(parse_note(html, URL).blocks)
    assert [p.text[:30] for p in body.paragraphs] == ["The Department of State has am", "These actions notify the publi"]


def test_prose_outside_the_text_block_makes_the_page_ambiguous():
    other = "<div><p>An unrelated note about visa appointments at the embassy in Paris this week.</p></div>"
    html = page(ld=news_article(), article=f'<article><header><h1>Amended Designations</h1><time datetime="2019-03-21">'
                                           f'March 21, 2019</time></header>{other}<div>{BODY}</div></article>')
    assert reason(html).startswith("generic fallback: prose outside the text block")


def test_a_body_of_share_widgets_only_is_quarantined():
    widgets = '<p><a href="https://facebook.com/s">Facebook</a> <a href="https://x.com/s">X</a> <a href="mailto:">Email</a></p>'
    assert reason(page(ld=news_article(), body=widgets)) == "generic fallback: no body paragraph"


def test_a_cookie_notice_in_the_text_block_is_quarantined():
    notice = "<p>We use cookies to improve your experience on this website, see our privacy notice.</p>"
    assert reason(page(ld=news_article(), body=BODY + notice)).startswith("generic fallback: page furniture in the body")


def test_a_bot_wall_with_json_ld_is_quarantined_as_a_bot_wall():
    html = page(ld=news_article(), title="Technical Difficulties")
    assert reason(html) == "bot wall: 'Technical Difficulties' page"


def test_a_soft_404_that_says_it_is_an_article_is_quarantined():
    html = page(ld=news_article(headline="Page Not Found"), title="Page Not Found")
    assert reason(html) == "page not found (404 page served with 200)"


def test_a_page_without_a_date_is_quarantined():
    html = page(when="", printed="", article=f"<article><h1>Amended Designations</h1><div>{BODY}</div></article>")
    assert reason(html) == "generic fallback: no publication date"


def test_a_page_that_does_not_say_it_is_an_article_keeps_the_unknown_layout_reason():
    html = (b"<html><head><title>Office</title></head><body><main><h1>Office of the Spokesperson</h1>"
            b"<p>The Office of the Spokesperson communicates U.S. foreign policy to the public.</p></main></body></html>")
    assert reason(html) == "unknown layout: no release title"


@pytest.mark.parametrize("redesign", REDESIGNS)
def test_every_redesign_of_the_seed_note_is_read_exactly(redesign, seed_gold):
    notes = load_sample_notes()
    seed = next(n for n in notes if n["url"].endswith("/statement-by-ministers-of-the-global-coalition-to-defeat-isis-daesh/"))
    note = parse_note(render_redesigned_page(seed, "http://127.0.0.1:1", redesign, related=notes).encode(),
                      page_url(seed, "http://127.0.0.1:1"))
    body = normalise_body(note.blocks)
    assert note.layout.startswith("generic:")
    assert (note.title, note.release_type, note.office, str(note.published_date)) == \
        (seed["title"], seed["release_type"], seed["office"], seed["published_date"])
    assert [p.text for p in body.paragraphs] == [p["text"] for p in seed_gold["paragraphs"]]


@pytest.mark.usefixtures("prefect_harness")
def test_a_backfill_of_a_redesigned_site_loads_every_note_through_the_fallback(tmp_path):
    notes = load_sample_notes()
    with MirrorServer(redesign="cards") as site:
        settings = load_settings(base_url=site.base_url, data_dir=tmp_path, crawl_delay_s=0.0, requests_per_minute=0,
                                 backoff_factor_s=0.01, max_retry_after_s=1.0)
        run_with(settings, backfill, BackfillRequest(start=date(2000, 1, 1), end=datetime.now(UTC).date()))
    with duckdb.connect(str(tmp_path / "statenotes.duckdb"), read_only=True) as con:
        rows = con.execute("select title, release_type, office, published_date, layout, paragraph_count "
                           "from notes_latest").fetchall()
        quarantined = con.execute("select count(*) from quarantine").fetchone()[0]
    assert quarantined == 0
    assert sorted((r[0], r[1], r[2], r[3].isoformat()) for r in rows) == sorted(
        (n["title"], n["release_type"], n["office"], n["published_date"]) for n in notes)
    assert {r[4] for r in rows} == {"generic:jsonld+article"}
    assert all(r[5] > 0 for r in rows)
