"""parse_note on hand-written pages in state.gov's markup (tests/pages/)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from statenotes.extractors.errors import ParseError, StatenotesError
from statenotes.extractors.parse import article_region, choose_encoding, parse_note
from statenotes.extractors.records import BodyBlock

PAGES = Path(__file__).parent / "pages"
URL = "https://www.state.gov/joint-statement-on-libya/"
SEED_URL = "https://www.state.gov/statement-by-ministers-of-the-global-coalition-to-defeat-isis-daesh/"


def page(body_html: str) -> bytes:
    """The WordPress release template with `body_html` inside div.entry-content."""
    template = (PAGES / "wordpress_template.html").read_text(encoding="utf-8")
    return template.replace("<!-- BODY -->", body_html).encode("utf-8")


def blocks(body_html: str) -> list[tuple[str, tuple[str, ...], int | None]]:
    note = parse_note(page(body_html), URL)
    return [(b.kind, b.lines, b.ordinal) for b in note.blocks]


# --- metadata -----------------------------------------------------------------------------------

def test_seed_page_metadata():
    note = parse_note((PAGES / "seed.html").read_bytes(), SEED_URL)
    assert note.layout == "wordpress"
    assert note.url == SEED_URL
    assert note.title == "Statement by Ministers of the Global Coalition To Defeat ISIS/DAESH"
    assert note.release_type == "Media Note"
    assert note.office == "Office of the Spokesperson"
    assert note.published_date == date(2019, 2, 7)
    assert note.modified_at == datetime(2019, 2, 7, 23, 39, 42, tzinfo=timezone.utc)
    assert note.canonical_url == SEED_URL
    assert note.tags == ["Iraq", "Syria", "Bureau of Counterterrorism", "Office of the Spokesperson"]


def test_seed_page_blocks_in_order_and_boilerplate_dropped():
    note = parse_note((PAGES / "seed.html").read_bytes(), SEED_URL)
    assert note.blocks[0] == BodyBlock("p", ("Washington, DC", "\nFebruary 6, 2019"))
    assert note.blocks[1].lines[0].startswith("The text of the following statement")
    assert note.blocks[2].lines == ("Begin Text:",)
    assert note.blocks[3].lines[0].startswith("1. We, the Ministers")
    assert [b.lines for b in note.blocks[-2:]] == [("End text.",), ("# # #",)]  # PDF link dropped
    assert all(b.kind == "p" for b in note.blocks)
    text = " ".join(line for b in note.blocks for line in b.lines)
    for boilerplate in ("official website", "Share on Twitter", "Related Articles", "2201 C St", "[PDF]"):
        assert boilerplate not in text


def test_og_title_is_the_fallback_title():
    html = page("<p>Text.</p>").replace(
        b'<h1 class="featured-content__headline stars-above">Joint Statement on Libya</h1>', b"")
    assert parse_note(html, URL).title == "Joint Statement on Libya"


def test_title_whitespace_and_nbsp_collapsed():
    html = page("<p>Text.</p>").replace(b">Joint Statement on Libya</h1>", b">\n  Joint&nbsp;Statement\n on  Libya </h1>")
    assert parse_note(html, URL).title == "Joint Statement on Libya"


def test_office_with_name_and_title_on_two_lines():
    html = page("<p>Text.</p>").replace(
        b'<p class="article-meta__author-bureau">',
        b'<p class="article-meta__author-bureau">Michael R. Pompeo<br>Secretary of State<span hidden>',
    ).replace(b'Office of the Spokesperson</a></p>\n<p class="article-meta__publish', b'</a></span></p>\n<p class="article-meta__publish')
    assert parse_note(html, URL).office == "Michael R. Pompeo, Secretary of State"


def test_missing_optional_metadata_is_none():
    html = page("<p>Text.</p>")
    for cut in (b'<p class="article-meta doctype-meta">Media Note</p>',
                b'<p class="article-meta__publish-date">March 1, 2019</p>',
                b'<meta property="article:modified_time" content="2019-03-01T21:14:05+00:00">',
                b'<link rel="canonical" href="https://www.state.gov/joint-statement-on-libya/">'):
        assert cut in html
        html = html.replace(cut, b"")
    note = parse_note(html, URL)
    assert (note.release_type, note.published_date, note.modified_at, note.canonical_url) == (None, None, None, None)
    assert note.title == "Joint Statement on Libya"


def test_modified_time_from_og_updated_time_when_article_time_is_absent():
    html = page("<p>Text.</p>").replace(
        b'<meta property="article:modified_time" content="2019-03-01T21:14:05+00:00">',
        b'<meta property="og:updated_time" content="2019-03-02T08:00:00Z">')
    assert parse_note(html, URL).modified_at == datetime(2019, 3, 2, 8, 0, tzinfo=timezone.utc)


# --- body blocks --------------------------------------------------------------------------------

def test_br_splits_lines_and_inline_children_are_joined():
    assert blocks("<p><strong>Washington, DC</strong><br/>February 6, 2019</p>"
                  '<p>The <em>text</em> of the <a href="/x/">following</a> statement.</p>') == [
        ("p", ("Washington, DC", "February 6, 2019"), None),
        ("p", ("The text of the following statement.",), None),
    ]


def test_whitespace_is_left_for_the_transform():
    assert blocks("<p>Two&nbsp;words  and\n a line</p>") == [("p", ("Two\xa0words  and\n a line",), None)]


def test_wp_block_paragraph_wrappers_and_loose_text():
    assert blocks('<div class="wp-block-paragraph"><p>One.</p></div>'
                  '<div class="wp-block-paragraph">Two, <em>loose</em>.</div>Three.') == [
        ("p", ("One.",), None), ("p", ("Two, loose.",), None), ("p", ("Three.\n",), None)]


def test_ordered_list_honours_start_and_value():
    assert blocks('<ol start="3"><li>Three</li><li>Four</li><li value="9">Nine</li><li>Ten</li></ol>') == [
        ("ol_item", ("Three",), 3), ("ol_item", ("Four",), 4), ("ol_item", ("Nine",), 9), ("ol_item", ("Ten",), 10)]


def test_unordered_and_nested_lists():
    assert blocks('<ul class="wp-block-list"><li>A<ul><li>A1</li></ul></li><li><p>B</p></li></ul>') == [
        ("ul_item", ("A",), None), ("ul_item", ("A1",), None), ("ul_item", ("B",), None)]


def test_blockquote_paragraphs():
    assert blocks("<blockquote><p>First.</p><p>Second.</p></blockquote><p>After.</p>") == [
        ("blockquote", ("First.",), None), ("blockquote", ("Second.",), None), ("p", ("After.",), None)]


def test_headings_h2_to_h6():
    assert blocks("<h2>Two</h2><h4>Four</h4><h6>Six</h6>") == [
        ("heading", ("Two",), None), ("heading", ("Four",), None), ("heading", ("Six",), None)]


def test_table_rows_cells_joined():
    assert blocks('<figure class="wp-block-table"><table><thead><tr><th>Country</th><th>Amount</th></tr></thead>'
                  "<tbody><tr><td>Iraq</td><td> $10 million </td></tr><tr><td></td><td></td></tr></tbody>"
                  "</table><figcaption>Pledges</figcaption></figure>") == [
        ("table_row", ("Country | Amount",), None), ("table_row", ("Iraq | $10 million",), None),
        ("p", ("Pledges",), None)]


def test_empty_blocks_scripts_and_widgets_are_skipped():
    assert blocks("<p></p><p>&nbsp;</p><p> <br> </p><p>\u200b</p><script>var a = 'Washington';</script>"
                  '<style>p{}</style><div class="sharedaddy sd-sharing-enabled"><p>Share this:</p></div>'
                  '<div class="jp-relatedposts"><p>Related</p></div><p>Kept.</p>') == [("p", ("Kept.",), None)]


def test_pdf_link_paragraph_dropped_but_pdf_link_in_prose_kept():
    assert blocks('<p><a class="external-link__pdf" href="/a.pdf">Full text [PDF]</a></p>'
                  '<p>Read the <a class="external-link__pdf" href="/a.pdf">full text</a> here.</p>') == [
        ("p", ("Read the full text here.",), None)]


def test_hashes_are_kept_for_the_transform():
    assert blocks("<p>Text.</p><p># # #</p>")[-1] == ("p", ("# # #",), None)


def test_comments_are_not_text():
    assert blocks("<p>Text<!-- editor note -->.</p>") == [("p", ("Text.",), None)]


# --- encodings ----------------------------------------------------------------------------------

def test_charset_from_meta_when_header_has_none():
    raw = (PAGES / "windows1252.html").read_bytes()
    assert choose_encoding(raw, None) == "windows-1252"
    assert choose_encoding(raw, "text/html") == "windows-1252"
    note = parse_note(raw, URL, content_type="text/html")
    assert note.title == "Under Secretary Zeya’s Travel to Jamaica – and Belize"
    assert note.blocks[1].lines == ("The \u201cConnecting the Unconnected\u201d initiative\u00a0– a caf\u00e9 for all.",)


def test_header_charset_wins_over_meta_and_latin1_means_windows_1252():
    raw = page("<p>It\x92s here.</p>").replace(b"<p>It\xc2\x92s", b"<p>It\x92s")
    assert choose_encoding(raw, "text/html; charset=ISO-8859-1") == "windows-1252"
    note = parse_note(raw, URL, content_type="text/html; charset=ISO-8859-1")
    assert note.blocks == [BodyBlock("p", ("It’s here.",))]


def test_unknown_charset_label_falls_back_to_the_page():
    raw = (PAGES / "windows1252.html").read_bytes()
    assert choose_encoding(raw, "text/html; charset=x-no-such-codec") == "windows-1252"
    assert choose_encoding("<p>It’s</p>".encode(), 'text/html; charset="utf8mb4"') == "utf-8"


def test_decoded_text_is_accepted():
    text = (PAGES / "windows1252.html").read_bytes().decode("cp1252")
    assert parse_note(text, URL).title == "Under Secretary Zeya’s Travel to Jamaica – and Belize"


def test_undeclared_page_utf8_or_windows_1252():
    assert choose_encoding("<p>It’s</p>".encode(), None) == "utf-8"
    assert choose_encoding(b"<p>It\x92s</p>", None) == "windows-1252"


# --- pages that are not releases ----------------------------------------------------------------

def reason(html: bytes) -> str:
    with pytest.raises(ParseError) as caught:
        parse_note(html, URL)
    assert caught.value.url == URL and "\n" not in caught.value.reason
    assert isinstance(caught.value, StatenotesError)
    return caught.value.reason


def test_bot_wall_served_with_200():
    assert reason((PAGES / "bot_wall.html").read_bytes()) == "bot wall: 'Technical Difficulties' page"


def test_404_page_served_with_200():
    raw = (PAGES / "not_found.html").read_bytes()
    assert reason(raw) == "page not found (404 page served with 200)"
    # also recognised by its title alone, without WordPress' body class
    assert reason(raw.replace(b'class="error404"', b"")) == "page not found (404 page served with 200)"


@pytest.mark.parametrize("title", ["Section 404 Waiver", "404 Visas Issued", "Page Not Found Yet",
                                   "Technical Difficulties at the Consulate", "Just a Moment of Silence"])
def test_release_titled_like_an_error_page_is_still_a_release(title):
    html = page("<p>Text.</p>").replace(b"Joint Statement on Libya", title.encode())
    assert parse_note(html, URL).title == title


@pytest.mark.parametrize("title", ["Access Denied", "Just a moment...", "Attention Required! | Cloudflare"])
def test_other_bot_walls(title):
    html = f"<html><head><title>{title}</title></head><body><p>Checking your browser.</p></body></html>"
    assert reason(html.encode()).startswith("bot wall: ")


@pytest.mark.parametrize("title", ["404 - Not Found", "Error 404", "Page cannot be found"])
def test_other_404_titles(title):
    html = f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"
    assert reason(html.encode()) == "page not found (404 page served with 200)"


@pytest.mark.parametrize("fraction", [0.3, 0.6, 0.99])
def test_truncated_page(fraction):
    raw = (PAGES / "seed.html").read_bytes()
    assert reason(raw[: int(len(raw) * fraction)]) == "truncated page (no </html>)"


def test_comment_after_html_end_is_not_truncation():
    raw = (PAGES / "seed.html").read_bytes() + b"\n<!-- Dynamic page generated in 0.412 seconds. -->\n"
    assert parse_note(raw, SEED_URL).title.startswith("Statement by Ministers")


def test_no_entry_content():
    html = page("").replace(b'<div class="entry-content">', b'<div class="content">')
    assert reason(html) == "no release body (div.entry-content missing)"


@pytest.mark.parametrize("body", [
    "",
    "<p></p><p>&nbsp;</p>",
    '<p># # #</p><p><a class="external-link__pdf" href="/a.pdf">Statement [PDF]</a></p>',
    "<script>document.write('Washington')</script>",
])
def test_empty_entry_content(body):
    assert reason(page(body)) == "empty release body"


@pytest.mark.parametrize("html", [
    b"<html><head><title>Home</title></head><body><main><p>Welcome to our site.</p></main></body></html>",
    b"",
    b"%PDF-1.7\x00\x01binary",
    b'<div class="entry-content"><p>Body without any title.</p></div>',
])
def test_unknown_layout(html):
    assert reason(html) == "unknown layout: no release title"


# --- other layouts and the pre-slice ------------------------------------------------------------

def test_drupal_archive_page():
    note = parse_note((PAGES / "drupal.html").read_bytes(), "https://2009-2017.state.gov/r/pa/prs/ps/2014/09/231566.htm")
    assert note.layout == "drupal"
    assert note.title == "U.S.-Israel Strategic Dialogue"
    assert note.published_date == date(2014, 9, 11)
    assert note.blocks[0].lines == ("Washington, DC", "September 11, 2014")
    assert len(note.blocks) == 3


def test_drupal_page_without_or_with_an_empty_body():
    raw = (PAGES / "drupal.html").read_bytes()
    start, end = raw.index(b'<div class="field field-name-body">'), raw.index(b"</div>\n</body>")
    assert reason(raw[:start] + raw[end + 6:]) == "no release body (div.field-name-body missing)"
    empty = raw[:start] + b'<div class="field field-name-body"><p>&nbsp;</p></div>' + raw[end + 6:]
    assert reason(empty) == "empty release body"


def test_article_region_keeps_head_and_main_only():
    raw = (PAGES / "seed.html").read_bytes()
    region = article_region(raw)
    assert len(region) < len(raw)
    assert b"<title>" in region and b'class="entry-content"' in region and b"related-tags__pills" in region
    assert b"usa-banner" not in region and b"usa-footer" not in region
    assert b'class="state_press_release-template-default' in region  # <body> classes survive


def test_page_without_main_is_parsed_whole():
    html = page("<p>Text.</p>").replace(b'<main id="main" class="site-main">', b"<div>").replace(b"</main>", b"</div>")
    assert article_region(html) == html
    assert parse_note(html, URL).blocks == [BodyBlock("p", ("Text.",))]
