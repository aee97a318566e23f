"""The WordPress REST API as the mirror serves it (MARKUP.md) and `extractors.rest` reading it: items
say what the pages say, paging and filters behave as WordPress's do, bad items are ParseErrors."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import requests

from statenotes.extractors.errors import ParseError
from statenotes.extractors.parse import parse_note
from statenotes.extractors.rest import parse_rest_item, parse_rest_page, rest_url, total_pages
from statenotes.mirror.hosts import archived
from statenotes.mirror.server import MirrorServer
from statenotes.mirror.site import load_sample_notes, page_url
from statenotes.transforms.paragraphs import normalise_body

NOTES = load_sample_notes()
SEED_PATH = "/statement-by-ministers-of-the-global-coalition-to-defeat-isis-daesh/"
ENDPOINT = "/wp-json/wp/v2/state_press_release"


@pytest.fixture(scope="module")
def site():
    with MirrorServer(NOTES + archived(NOTES)) as server:
        yield server


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


def said(note) -> tuple:
    body = normalise_body(note.blocks)
    return (note.title, note.published_date, note.modified_at, note.canonical_url, body.dateline_place,
            body.dateline_date, [(p.label, p.kind, p.text) for p in body.paragraphs], body.quoted_start_seq)


def test_every_item_says_what_its_page_says(site, http):
    answer = http.get(rest_url(site.base_url))
    assert answer.status_code == 200 and answer.headers["X-WP-Total"] == str(len(NOTES))
    items = parse_rest_page(answer.content)
    assert [item["link"] for item in items] == [page_url(n, site.base_url) for n in NOTES]  # newest first
    for item in items:
        from_api = parse_rest_item(item)
        from_page = parse_note(http.get(item["link"]).content, item["link"])
        assert from_api.layout == "wp-json" and from_api.url == item["link"]
        assert (from_api.release_type, from_api.office, from_api.tags) == (None, None, [])
        assert said(from_api) == said(from_page)


def test_titles_and_bodies_carry_wordpress_character_references(site, http):
    raw = http.get(site.base_url + ENDPOINT + "?slug=zeya-travel-jamaica-belize").text
    assert "Zeya&#8217;s Travel" in raw and "https:\\/\\/" not in raw and "http:\\/\\/127.0.0.1" in raw
    item = parse_rest_page(raw)[0]
    assert parse_rest_item(item).title == "Under Secretary Zeya’s Travel to Jamaica and Belize"


def test_paging_headers_and_the_page_past_the_end(site, http):
    seen = []
    for page in range(1, 6):
        answer = http.get(site.base_url + ENDPOINT, params={"per_page": 5, "page": page, "_fields": "id"})
        assert (answer.headers["X-WP-Total"], total_pages(answer.headers)) == (str(len(NOTES)), 5)
        assert ('rel="next"' in answer.headers.get("Link", "")) == (page < 5)
        seen += [item["id"] for item in answer.json()]
    assert len(set(seen)) == len(NOTES)
    past = http.get(site.base_url + ENDPOINT, params={"per_page": 5, "page": 6})
    assert past.status_code == 400
    with pytest.raises(ParseError, match="REST error: rest_post_invalid_page_number"):
        parse_rest_page(past.content)
    too_many = http.get(site.base_url + ENDPOINT, params={"per_page": 101})
    assert too_many.status_code == 400 and too_many.json()["code"] == "rest_invalid_param"
    with pytest.raises(ValueError):
        rest_url(site.base_url, per_page=101)


def test_date_filters_and_fields(site, http):
    day = http.get(rest_url(site.base_url, after="2019-02-07T00:00:00", before="2019-02-08T00:00:00")).json()
    assert [item["link"] for item in day] == [site.base_url + SEED_PATH]
    assert set(day[0]) == {"id", "date", "date_gmt", "modified_gmt", "slug", "link", "title", "content"}
    utc_bound = http.get(rest_url(site.base_url, after="2019-02-07T05:00:00+00:00",  # midnight in Washington
                                  before="2019-02-08T05:00:00Z")).json()
    assert [item["id"] for item in utc_bound] == [day[0]["id"]]
    nested = http.get(site.base_url + ENDPOINT, params={"_fields": "id,title.rendered", "per_page": 1}).json()
    assert set(nested[0]) == {"id", "title"} and set(nested[0]["title"]) == {"rendered"}
    bad = http.get(site.base_url + ENDPOINT, params={"after": "last tuesday"})
    assert bad.status_code == 400 and bad.json()["data"]["params"] == {"after": "Invalid date."}


def test_modified_after_sees_an_edit(http):
    with MirrorServer() as server:
        since = (datetime.now(timezone.utc) - timedelta(seconds=5)).isoformat(timespec="seconds")
        assert http.get(rest_url(server.base_url, modified_after=since)).json() == []
        seed = next(n for n in server.notes if n["url"].endswith(SEED_PATH))
        seed["body_lines"][0] = "An edited first paragraph."
        server.update_note(SEED_PATH, seed)
        edited = http.get(rest_url(server.base_url, modified_after=since)).json()
        assert [item["link"] for item in edited] == [server.base_url + SEED_PATH]
        note = parse_rest_item(edited[0])
        assert normalise_body(note.blocks).paragraphs[0].text == "An edited first paragraph."
        assert note.modified_at > datetime.fromisoformat(since) and note.published_date == date(2019, 2, 7)


def test_archive_hosts_have_their_own_api_and_drupal_has_none(site, http):
    for host in ("2017-2021.state.gov", "2021-2025.state.gov"):
        items = http.get(rest_url(f"{site.base_url}/{host}")).json()
        assert items and all(item["link"].startswith(f"{site.base_url}/{host}/") for item in items)
    assert http.get(f"{site.base_url}/2009-2017.state.gov{ENDPOINT}").status_code == 404


@pytest.mark.parametrize(("item", "reason"), [
    ({"id": 1, "content": {"rendered": "<p>Text.</p>"}}, "unknown layout: REST item without title.rendered"),
    ({"id": 1, "title": {"rendered": " "}, "content": {"rendered": "<p>Text.</p>"}},
     "unknown layout: REST item without title.rendered"),
    ({"id": 1, "title": {"rendered": "A title"}}, "no release body (content.rendered missing)"),
    ({"id": 1, "title": {"rendered": "A title"}, "content": {"rendered": "<p>&nbsp;</p>\n<p># # #</p>"}},
     "empty release body"),
])
def test_unusable_items_are_parse_errors(item, reason):
    with pytest.raises(ParseError) as caught:
        parse_rest_item(item, "https://www.state.gov/x/")
    assert caught.value.reason == reason


@pytest.mark.parametrize("body", [b"<html><title>Technical Difficulties</title></html>", b'[{"id": 1}', b'{"a": 1}',
                                  b"[1, 2]"])
def test_answers_that_are_not_item_lists(body):
    with pytest.raises(ParseError, match=r"^REST answer is not"):
        parse_rest_page(body)


def test_item_title_markup_and_times():
    item = {"id": 7, "link": "https://www.state.gov/a/", "date": "2019-02-07T18:39:42",
            "modified_gmt": "2019-02-07T23:39:42", "title": {"rendered": "U.S.&#8211;Iraq <em>Talks</em> &#038; More"},
            "content": {"rendered": "<p>Washington, DC<br />\nFebruary 6, 2019</p>\n<p>Text.</p>"}}
    note = parse_rest_item(item)
    assert note.title == "U.S.–Iraq Talks & More" and note.published_date == date(2019, 2, 7)
    assert note.modified_at == datetime(2019, 2, 7, 23, 39, 42, tzinfo=timezone.utc)
    body = normalise_body(note.blocks)
    assert (body.dateline_place, [p.text for p in body.paragraphs]) == ("Washington, DC", ["Text."])
