"""The generic fallback (extractors/generic.py): a redesigned page is read from its semantic signals,
and any page it cannot read surely (signals that disagree, two articles, a body of widgets, a bot
wall) is quarantined with the reason, never loaded with a wrong field."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, date, datetime

import duckdb
import pytest

from statenotes.extractors.errors import ParseError
from statenotes.extractors.parse import parse_note
from statenotes.flows.parameters import BackfillRequest
from statenotes.flows.pipeline import backfill
from statenotes.flows.settings import load_settings, run_with
from statenotes.mirror.holdout import HOLDOUTS
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


# --- Found by the blind holdout (mirror/holdout.py): each a minimal page of what a real CMS prints ---

OG_ONLY = ('<meta property="og:type" content="article">'
           '<meta property="article:published_time" content="2019-03-21T15:00:00-04:00">')


def bare(body: str, head: str = OG_ONLY) -> bytes:
    """A page without <article> or <main> (an old CMS): the fallback roots itself at <body>."""
    return (f'<!doctype html><html><head><meta charset="utf-8"><title>Amended Designations</title>{head}</head>'
            f'<body>{body}</body></html>').encode("utf-8")


def paragraphs(html: bytes) -> list[str]:
    return [p.text for p in normalise_body(parse_note(html, URL).blocks).paragraphs]


def test_a_logo_h1_linking_home_is_not_the_headline():
    html = bare('<div id="top"><h1 id="logo"><a href="/">U.S. Department of State</a></h1></div>'
                '<div id="content"><h1>Amended Designations</h1><span>March 21, 2019</span>'
                f'<div>{BODY}</div></div>')
    assert parse_note(html, URL).title == "Amended Designations"


def test_two_different_headlines_are_quarantined():
    html = bare('<h1>Amended Designations</h1><span>March 21, 2019</span>'
                f'<div>{BODY}</div><h1>Visa Appointments in Paris</h1>')
    assert reason(html).startswith("generic fallback: several headlines")


def test_related_cards_with_summaries_do_not_outweigh_a_short_body():
    card = ('<li><div><h3><a href="/other-{0}/">Another Release {0}</a></h3></div><div><p>A summary of another release '
            'that is about as long as the whole of this release, as card summaries often are on pages like this one, '
            'with a few more words to make the point {0}.</p></div></li>')
    html = page(ld=news_article(), article=f'<main><h1>Amended Designations</h1><time datetime="2019-03-21">March 21, 2019'
                                           f'</time><div>{BODY}</div><section><h2>Related content</h2><ul>'
                                           + "".join(card.format(i) for i in range(3)) + "</ul></section></main>")
    assert paragraphs(html) == ["The Department of State has amended the designations of three groups today.",
                                "These actions notify the public that the groups are aliases of the organisation."]


def test_a_deck_under_the_headline_is_not_the_lead():
    deck = "<p>The Department acts against three aliases of a terrorist organisation.</p>"
    html = page(ld=news_article(), article=f'<article><h1>Amended Designations</h1>{deck}<p>Office of the Spokesperson</p>'
                                           f'<time datetime="2019-03-21">March 21, 2019</time><div>{BODY}</div></article>')
    assert paragraphs(html) == ["The Department of State has amended the designations of three groups today.",
                                "These actions notify the public that the groups are aliases of the organisation."]


def test_a_paragraph_between_the_date_and_the_text_block_is_still_ambiguous():
    stray = "<p>The Department acts against three aliases of a terrorist organisation.</p>"
    html = page(ld=news_article(), article=f'<article><h1>Amended Designations</h1><time datetime="2019-03-21">'
                                           f'March 21, 2019</time>{stray}<div>{BODY}</div></article>')
    assert reason(html).startswith("generic fallback: prose outside the text block")


@pytest.mark.parametrize("notes", [
    '<section aria-label="Footnotes"><ol><li>Translations of joint statements are unofficial and for reference only.</li></ol></section>',
    '<div><h2>Footnotes</h2><ol><li>Translations of joint statements are unofficial and for reference only.</li></ol></div>',
    '<div><sup>1</sup> Translations of joint statements are unofficial and for reference only.</div>'])
def test_footnotes_after_the_text_block_are_not_the_body(notes):
    html = page(ld=news_article(), after=notes)
    assert paragraphs(html)[-1] == "These actions notify the public that the groups are aliases of the organisation."


def test_an_unmarked_paragraph_after_the_text_block_is_still_ambiguous():
    html = page(ld=news_article(), after="<div><p>Translations of joint statements are unofficial and for reference.</p></div>")
    assert reason(html).startswith("generic fallback: prose outside the text block")


def test_paragraphs_split_by_empty_lines_and_a_pdf_link_run():
    body = ("<div>Washington, DC<br>March 21, 2019<br><br>The Department of State has amended the designations of three "
            "groups today.<br><br>These actions notify the public that the groups are aliases of the organisation.<br><br>"
            '# # #<br><br><a href="/files/amended.pdf">Amended Designations [PDF]</a></div>')
    html = bare(f'<h1>Amended Designations</h1><span>March 21, 2019</span><div class="text">{body}</div>')
    note = parse_note(html, URL)
    parsed = normalise_body(note.blocks)
    assert (parsed.dateline_place, parsed.dateline_date) == ("Washington, DC", date(2019, 3, 21))
    assert [p.text for p in parsed.paragraphs] == [
        "The Department of State has amended the designations of three groups today.",
        "These actions notify the public that the groups are aliases of the organisation."]


def test_a_facts_line_and_an_updated_line_are_labels_not_prose():
    facts = "<div><span>Media Note</span><br><span>Office of the Spokesperson</span><br><span>March 21, 2019</span></div>"
    tools = '<div>Last updated: March 24, 2019 | <a href="#print">Print</a> | <a href="mailto:?">E-mail this page</a></div>'
    html = bare(f'<div id="content"><h1>Amended Designations</h1>{facts}<div>{BODY}</div>{tools}</div>')
    note = parse_note(html, URL)
    assert (note.release_type, note.office, note.published_date) == ("Media Note", "Office of the Spokesperson",
                                                                     date(2019, 3, 21))
    assert len(normalise_body(note.blocks).paragraphs) == 2


def test_a_figure_caption_outside_the_text_block_is_not_the_body():
    figure = "<figure><img src='/room.jpg' alt=''><figcaption>The Press Briefing Room at the Department of State.</figcaption></figure>"
    html = page(ld=news_article(), article=f'<article><h1>Amended Designations</h1><time datetime="2019-03-21">'
                                           f'March 21, 2019</time>{figure}<div>{BODY}</div></article>')
    assert len(paragraphs(html)) == 2


@pytest.mark.parametrize("holdout", HOLDOUTS)
def test_each_holdout_page_of_the_seed_note_is_read_exactly_or_quarantined(holdout, seed_gold):
    notes = load_sample_notes()
    seed = next(n for n in notes if n["url"].endswith("/statement-by-ministers-of-the-global-coalition-to-defeat-isis-daesh/"))
    html = render_redesigned_page(seed, "http://127.0.0.1:1", holdout, related=notes).encode()
    try:
        note = parse_note(html, page_url(seed, "http://127.0.0.1:1"))
    except ParseError:
        assert holdout == "nextjs"  # no article signal at all: the unknown layout it is
        return
    assert (note.title, note.release_type, note.office, str(note.published_date)) == \
        (seed["title"], seed["release_type"], seed["office"], seed["published_date"])
    assert [p.text for p in normalise_body(note.blocks).paragraphs] == [p["text"] for p in seed_gold["paragraphs"]]


def test_the_mirror_serves_a_holdout_redesign():
    notes = load_sample_notes()
    with MirrorServer(redesign="pressroom") as site:
        with urllib.request.urlopen(page_url(notes[0], site.base_url), timeout=10) as answer:
            html = answer.read()
    assert b"Latest Media Notes" in html and b"<amp-img" in html
    with pytest.raises(ValueError, match="unknown redesign"):
        MirrorServer(redesign="nonesuch")
