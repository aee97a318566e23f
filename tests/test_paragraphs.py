"""normalise_body: from raw blocks (and from real-markup pages through parse_note) to paragraphs."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from statenotes.extractors.parse import parse_note
from statenotes.extractors.records import BodyBlock
from statenotes.transforms.paragraphs import normalise_body, normalise_text

HERE = Path(__file__).parent
PAGES = HERE / "pages"
GOLD = HERE / "gold" / "2019-02-07-statement-by-ministers-of-the-global-coalition-to-defeat-isis-daesh.gold.json"
URL = "https://www.state.gov/joint-statement-on-libya/"


def p(*lines: str) -> BodyBlock:
    return BodyBlock("p", lines)


def from_html(body_html: str):
    template = (PAGES / "wordpress_template.html").read_text(encoding="utf-8")
    html = template.replace("<!-- BODY -->", body_html).encode("utf-8")
    return normalise_body(parse_note(html, URL).blocks)


def rows(body) -> list[tuple[int, str | None, str, str]]:
    return [(x.seq, x.label, x.kind, x.text) for x in body.paragraphs]


# --- text -----------------------------------------------------------------------------------------

def test_text_normalisation_keeps_quotes_and_dashes():
    assert normalise_text("\n  The\xa0“Coalition’s”  work\u200b –\tand — more\u202f.\xa0") == \
        "The “Coalition’s” work – and — more ."


def test_nbsp_and_double_spaces_in_markup():
    body = from_html("<p>Secretary&nbsp;Pompeo  will\n   travel&nbsp;.&nbsp;</p><p>&nbsp;</p>")
    assert rows(body) == [(0, None, "lead", "Secretary Pompeo will travel .")]


# --- datelines ------------------------------------------------------------------------------------

LEAD = "The text of the following statement was released."


@pytest.mark.parametrize("body_html", [
    "<p>Washington, DC<br>February 6, 2019</p><p>" + LEAD + "</p>",  # <br>
    "<p>Washington, DC</p><p>February 6, 2019</p><p>" + LEAD + "</p>",  # two paragraphs
    "<p>Washington, DC</p><p>&nbsp;</p><p>February 6, 2019</p><p>" + LEAD + "</p>",  # an empty one between
    "<p><strong>Washington, DC</strong><br>February 6, 2019</p><p>" + LEAD + "</p>",  # strong
    '<div class="wp-block-paragraph"><p><strong>Washington, DC<br>February 6, 2019</strong></p></div><p>' + LEAD + "</p>",
    "<p>Washington, DC, February 6, 2019</p><p>" + LEAD + "</p>",  # one line
    "<p>Washington, DC<br>\nFebruary&nbsp;6, 2019<br>" + LEAD + "</p>",  # lead in the same <p>
])
def test_dateline_variants(body_html):
    body = from_html(body_html)
    assert (body.dateline_place, body.dateline_date) == ("Washington, DC", date(2019, 2, 6))
    assert rows(body) == [(0, None, "lead", LEAD)]


@pytest.mark.parametrize("line, place, when", [
    ("WASHINGTON, February 6, 2019", "WASHINGTON", date(2019, 2, 6)),
    ("Washington, D.C., Sept. 30, 2020", "Washington, D.C.", date(2020, 9, 30)),
    ("Brussels, Belgium — May 4, 2018", "Brussels, Belgium", date(2018, 5, 4)),
    ("Port of Spain, Trinidad and Tobago, June 1, 2022", "Port of Spain, Trinidad and Tobago", date(2022, 6, 1)),
])
def test_one_line_datelines(line, place, when):
    body = normalise_body([p(line), p(LEAD)])
    assert (body.dateline_place, body.dateline_date) == (place, when)
    assert [x.text for x in body.paragraphs] == [LEAD]


@pytest.mark.parametrize("blocks", [
    [p("Washington, DC"), p(LEAD)],  # a place without a date
    [p("February 6, 2019"), p(LEAD)],  # a date without a place
    [p("Washington, DC", "February 30, 2019"), p(LEAD)],  # not a date
    [p("Washington, DC", "February 2019"), p(LEAD)],  # not a full date
    [p("On February 6, 2019, the Ministers of the Coalition met in Washington.")],  # prose
    [p("The Ministers met in Washington today, February 6, 2019")],  # a sentence is not a place
    [p("The Ministers met today, February 6, 2019")],  # nor a short one
    [p("Released on", "February 6, 2019"), p(LEAD)],
    [p(LEAD), p("Washington, DC", "February 6, 2019")],  # not leading
    [BodyBlock("heading", ("Washington, DC",)), p("February 6, 2019")],  # not a paragraph
])
def test_no_dateline_when_not_strictly_one(blocks):
    body = normalise_body(blocks)
    assert (body.dateline_place, body.dateline_date) == (None, None)
    assert len(body.paragraphs) == sum(len(b.lines) > 0 for b in blocks)


# --- Begin / End Text ---------------------------------------------------------------------------

@pytest.mark.parametrize("begin", ["Begin Text:", "BEGIN TEXT:", "Begin text:", "Begin Text", "begin text."])
@pytest.mark.parametrize("end", ["End Text", "End text.", "END TEXT", "End text:", "End of Text."])
def test_markers_in_any_case(begin, end):
    body = normalise_body([p(LEAD), p(begin), p("Quoted one."), p("Quoted two."), p(end), p("After.")])
    assert [x.text for x in body.paragraphs] == [LEAD, "Quoted one.", "Quoted two.", "After."]
    assert (body.has_quoted_text, body.quoted_start_seq, body.quoted_end_seq) == (True, 1, 3)


@pytest.mark.parametrize("tag", ["strong", "em", "b"])
def test_markers_inside_emphasis(tag):
    body = from_html(f"<p>{LEAD}</p><p><{tag}>Begin&nbsp;Text:</{tag}></p><p>Quoted.</p>"
                     f"<p><{tag}>End text.</{tag}>&nbsp;</p>")
    assert [x.text for x in body.paragraphs] == [LEAD, "Quoted."]
    assert (body.has_quoted_text, body.quoted_start_seq, body.quoted_end_seq) == (True, 1, 2)


def test_begin_without_end_runs_to_the_end_of_the_body():
    body = normalise_body([p(LEAD), p("BEGIN TEXT:"), p("Quoted one."), p("Quoted two.")])
    assert (body.has_quoted_text, body.quoted_start_seq, body.quoted_end_seq) == (True, 1, 3)


def test_marker_as_a_line_of_a_paragraph_splits_it():
    body = from_html(f"<p>{LEAD}<br>Begin Text:</p><p>Quoted.<br>End Text<br>For press inquiries, contact us.</p>")
    assert rows(body) == [(0, None, "lead", LEAD), (1, None, "body", "Quoted."),
                          (2, None, "closing", "For press inquiries, contact us.")]
    assert (body.quoted_start_seq, body.quoted_end_seq) == (1, 2)


def test_no_markers():
    body = normalise_body([p(LEAD), p("Begin texting your friends today.")])
    assert (body.has_quoted_text, body.quoted_start_seq, body.quoted_end_seq) == (False, None, None)
    assert len(body.paragraphs) == 2


@pytest.mark.parametrize("hashes", ["# # #", "###", "#\xa0#\xa0#", " # # # "])
def test_hashes_and_empty_blocks_are_not_paragraphs(hashes):
    body = normalise_body([p(LEAD), p(""), p("  ", "\xa0"), p("Body."), p(hashes)])
    assert rows(body) == [(0, None, "lead", LEAD), (1, None, "body", "Body.")]


# --- labels and kinds -----------------------------------------------------------------------------

@pytest.mark.parametrize("printed, label", [("1. ", "1"), ("2) ", "2"), ("(3) ", "3"), ("10.\xa0", "10")])
def test_numbered_as_text(printed, label):
    body = normalise_body([p(LEAD), p(printed + "We welcome the progress.")])
    assert rows(body)[1] == (1, label, "numbered", "We welcome the progress.")


def test_numbers_that_are_not_labels():
    texts = ["1.5 million people were freed.", "2019 was a year of progress.", "3.Without a space"]
    body = normalise_body([p(LEAD)] + [p(t) for t in texts])
    assert [(x.label, x.kind, x.text) for x in body.paragraphs[1:]] == [(None, "body", t) for t in texts]


def test_numbered_as_ol_honours_start():
    body = from_html(f'<p>{LEAD}</p><ol start="4"><li>Fourth.</li><li>Fifth.</li></ol>')
    assert rows(body) == [(0, None, "lead", LEAD), (1, "4", "numbered", "Fourth."), (2, "5", "numbered", "Fifth.")]


@pytest.mark.parametrize("body_html", [
    "<p>Included:</p><p>• The rebalance;</p><p>•&nbsp;Trade.</p>",
    '<p>Included:</p><ul class="wp-block-list"><li>The rebalance;</li><li>Trade.</li></ul>',
    "<p>Included:</p><ul><li>• The rebalance;</li><li>Trade.</li></ul>",
])
def test_bullets_as_text_and_as_ul(body_html):
    assert rows(from_html(body_html)) == [(0, None, "lead", "Included:"), (1, None, "list_item", "The rebalance;"),
                                          (2, None, "list_item", "Trade.")]


def test_blockquote_heading_and_table_kinds():
    body = from_html(f"<h2>Background</h2><p>{LEAD}</p><blockquote><p>Quoted.</p><p>2. Numbered quote.</p>"
                     "</blockquote><h3>1. Pledges</h3><table><tr><td>Iraq</td><td>$10\xa0million</td></tr></table>")
    assert rows(body) == [
        (0, None, "heading", "Background"), (1, None, "lead", LEAD), (2, None, "quote", "Quoted."),
        (3, "2", "numbered", "Numbered quote."), (4, None, "heading", "1. Pledges"),
        (5, None, "table_row", "Iraq | $10 million"),
    ]


def test_closing_lines_at_the_end():
    body = normalise_body([
        p("Acting Assistant Secretary Thornton will travel to Berlin."),
        p("For more information about the trip, see the Bureau’s page."),  # not at the end: body
        p("She will meet officials."),
        p("For updates, please follow the East Asian and Pacific Bureau on Twitter at @USAsiaPacific."),
        p("For press inquiries please contact EAP-P-Office-DL@state.gov."),
        p("# # #"),
    ])
    assert [x.kind for x in body.paragraphs] == ["lead", "body", "body", "closing", "closing"]


def test_a_lone_closing_line_is_the_lead():
    assert [x.kind for x in normalise_body([p("For more information, call us.")]).paragraphs] == ["lead"]


def test_lead_is_the_first_plain_paragraph():
    body = normalise_body([p("1. First."), p("Plain one."), p("Plain two.")])
    assert [x.kind for x in body.paragraphs] == ["numbered", "lead", "body"]


def test_pure_and_seq_contiguous():
    blocks = [p("Washington, DC", "February 6, 2019"), p(LEAD), p("Begin Text:"), p("1. A."), p("End text.")]
    first, second = normalise_body(blocks), normalise_body(blocks)
    assert first == second
    assert [x.seq for x in first.paragraphs] == list(range(len(first.paragraphs)))


# --- the seed note against gold -------------------------------------------------------------------

def test_seed_page_gives_exactly_the_gold_paragraphs():
    gold = json.loads(GOLD.read_text(encoding="utf-8"))
    note = parse_note((PAGES / "seed.html").read_bytes(),
                      "https://www.state.gov/statement-by-ministers-of-the-global-coalition-to-defeat-isis-daesh/")
    body = normalise_body(note.blocks)
    assert [{"label": x.label, "text": x.text} for x in body.paragraphs] == gold["paragraphs"]
    assert (body.dateline_place, body.dateline_date) == ("Washington, DC", date(2019, 2, 6))
    assert (body.has_quoted_text, body.quoted_start_seq, body.quoted_end_seq) == (True, 1, 11)
    assert [x.kind for x in body.paragraphs] == ["lead"] + ["numbered"] * 10
