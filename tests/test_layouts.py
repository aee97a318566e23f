"""Every layout state.gov has used, as the mirror serves it, read back by the parser: the WordPress
site (slug urls and the 2025+ /releases/ scheme), the 2017-2021 and 2021-2025 archive hosts, the
2009-2017 Drupal archive with its index pages, and the REST API. The www page of the same note in
the same markup variant is the reference (test_parse_mirror checks it against the corpus)."""

from __future__ import annotations

import dataclasses
import re
from datetime import date

import pytest

from statenotes.extractors.discover import discover_from_listing
from statenotes.extractors.discover_drupal import discover_from_archive_index, parse_month_index, parse_year_index
from statenotes.extractors.http import Fetcher, FetchPolicy
from statenotes.extractors.parse import parse_note
from statenotes.extractors.records import note_id_for, site_for
from statenotes.mirror.body import ADDED_CLOSING, ADDED_HEADING, VARIANTS
from statenotes.mirror.hosts import PLACES, archived, host_of, host_prefix, relocated
from statenotes.mirror.server import MirrorServer
from statenotes.mirror.site import VARIANT_COUNT, load_sample_notes, page_url, render_note_page
from statenotes.transforms.paragraphs import normalise_body

BASE = "http://127.0.0.1:9"
NOTES = load_sample_notes()
SEED = next(n for n in NOTES if n["published_date"] == "2019-02-07")
LAYOUT = {"2009-2017": "drupal"}
POLICY = FetchPolicy(user_agent="statenotes-tests", crawl_delay_s=0.0, backoff_factor_s=0.01)
SITE = {"www": "www", "www-releases": "www", "2017-2021": "2017-2021", "2021-2025": "2021-2025",
        "2009-2017": "2009-2017"}


def read(note: dict, variant=None):
    url = page_url(note, BASE)
    parsed = parse_note(render_note_page(note, BASE, variant).encode("utf-8"), url)
    return parsed, normalise_body(parsed.blocks)


def said(body) -> tuple:
    return (body.dateline_place, body.dateline_date, [(p.label, p.text) for p in body.paragraphs],
            body.has_quoted_text, body.quoted_start_seq, body.quoted_end_seq)


@pytest.mark.parametrize("place", PLACES)
def test_every_note_at_every_place_reads_as_its_www_page(place):
    for index, note in enumerate(NOTES):
        variant = index % VARIANT_COUNT
        moved = relocated(note, place)
        parsed, body = read(moved, variant)
        reference, reference_body = read(note, variant)
        assert parsed.layout == LAYOUT.get(place, "wordpress")
        assert site_for(parsed.url) == SITE[place]
        assert (parsed.title, parsed.release_type, parsed.office, parsed.published_date) == \
            (note["title"], note["release_type"], note["office"], date.fromisoformat(note["published_date"]))
        assert said(body) == said(reference_body), (place, note["url"])
        assert parsed.canonical_url == page_url(moved, BASE)
        if place != "2009-2017":
            assert parsed.tags == reference.tags and parsed.modified_at is not None


def test_urls_of_each_place():
    assert relocated(SEED, "www-releases")["url"] == ("https://www.state.gov/releases/office-of-the-spokesperson/"
                                                      "2019/02/statement-by-ministers-of-the-global-coalition-to-defeat-isis-daesh/")
    moved = relocated(SEED, "2017-2021")
    assert page_url(moved, BASE) == BASE + "/2017-2021.state.gov" + page_url(SEED, "")
    assert note_id_for(page_url(moved, BASE)) == note_id_for(SEED["url"]) == note_id_for(moved["url"])
    drupal = relocated(NOTES[-1], "2009-2017")["url"]
    assert drupal.startswith("https://2009-2017.state.gov/r/pa/prs/ps/2007/07/") and drupal.endswith(".htm")
    assert site_for(drupal) == "2009-2017" and host_prefix(host_of({"url": drupal})) == "/2009-2017.state.gov"
    assert [site_for(u) for u in ("https://web.archive.org/web/2020/https://2017-2021.state.gov/a/",
                                  "http://127.0.0.1:1/2021-2025.state.gov/a/", "http://127.0.0.1:1/a/")] == \
        ["2017-2021", "2021-2025", "www"]
    with pytest.raises(ValueError):
        relocated(SEED, "2001-2009")


def test_drupal_header_carries_the_dateline_unless_its_date_differs():
    israel = relocated(next(n for n in NOTES if "israel" in n["url"]), "2009-2017")
    html = render_note_page(israel, BASE, 0)
    assert 'field-name-field-dateline' in html and '<span class="date-display-single"' in html
    assert "<p>Washington, DC" not in html  # not in the body: above the title
    parsed, body = read(israel, 0)
    assert (body.dateline_place, body.dateline_date) == ("Washington, DC", date(2014, 9, 11))
    seed = relocated(SEED, "2009-2017")  # dateline February 6, published February 7
    assert "field-name-field-dateline" not in render_note_page(seed, BASE, 0)
    parsed, body = read(seed, 0)
    assert (parsed.published_date, body.dateline_date) == (date(2019, 2, 7), date(2019, 2, 6))


def test_additions_heading_table_and_closing():
    note = next(n for n in NOTES if "thornton" in n["url"])  # ends with two closing lines of its own
    for variant in VARIANTS[:4]:
        _, body = read(note, dataclasses.replace(variant, additions=True))
        kinds = [(p.kind, p.text) for p in body.paragraphs]
        assert kinds[:4] == [("lead", kinds[0][1]), ("heading", ADDED_HEADING),
                             ("table_row", "Office | Contact"),
                             ("table_row", "Office of Press Relations | PAPressDesk@state.gov")]
        assert [k for k, _ in kinds[4:]] == ["closing"] * 3 and kinds[-1][1] == ADDED_CLOSING


@pytest.fixture(scope="module")
def everywhere():
    notes = NOTES + archived(NOTES) + [relocated(n, "www-releases") for n in NOTES[:3]]
    with MirrorServer(notes) as server:
        yield server


@pytest.fixture(scope="module")
def get():
    with Fetcher(POLICY) as fetcher:
        yield lambda url: fetcher.fetch_page(url).body


@pytest.mark.parametrize("host", ["www.state.gov", "2017-2021.state.gov", "2021-2025.state.gov"])
def test_each_wordpress_host_lists_and_serves_its_notes(everywhere, get, host):
    base = everywhere.base_url + host_prefix(host)
    expected = [page_url(n, everywhere.base_url) for n in everywhere.notes if host_of(n) == host]
    refs = list(discover_from_listing(get, base, date(2000, 1, 1), date(2030, 1, 1)))
    assert [r.url for r in refs] == expected and expected
    for ref in refs:
        note = parse_note(get(ref.url), ref.url)
        assert note.layout == "wordpress" and note.canonical_url == ref.url and note.title == ref.title
        assert site_for(ref.url) == ("www" if host.startswith("www") else host.split(".")[0])
    sitemaps = re.findall(r"<loc>([^<]+)</loc>", get(base + "/sitemap_index.xml").decode())
    assert sitemaps and all(url.startswith(base + "/state_press_release-sitemap") for url in sitemaps)
    listed = [url for sitemap in sitemaps for url in re.findall(r"<loc>([^<]+)</loc>", get(sitemap).decode())]
    assert sorted(listed) == sorted(expected)


def test_drupal_archive_index_finds_every_release(everywhere, get):
    base = everywhere.base_url + "/2009-2017.state.gov"
    drupal = sorted((n for n in everywhere.notes if host_of(n) == "2009-2017.state.gov"),
                    key=lambda n: n["published_date"], reverse=True)
    refs = list(discover_from_archive_index(get, base, date(2009, 1, 1), date(2017, 1, 31)))
    assert [r.url for r in refs] == [page_url(n, everywhere.base_url) for n in drupal]
    assert [r.listed_date.isoformat() for r in refs] == [n["published_date"] for n in drupal]
    for ref, note in zip(refs, drupal):
        parsed = parse_note(get(ref.url), ref.url)
        assert (parsed.layout, parsed.title, site_for(ref.url)) == ("drupal", note["title"], "2009-2017")
    year_url = base + "/r/pa/prs/ps/2014/index.htm"
    months = parse_year_index(get(year_url), year_url)
    assert [m for _, m, _ in months] == list(range(12, 0, -1))
    empty = base + "/r/pa/prs/ps/2014/01/index.htm"
    assert parse_month_index(get(empty), empty) == []
    assert len(list(discover_from_archive_index(get, base, date(2014, 9, 1), date(2014, 9, 30)))) == 1
