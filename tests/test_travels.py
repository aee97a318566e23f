"""The `travels` and `datelines` views, published from a small real lake of notes written for this test
(not the mirror's travel notes the rules were written from): who travels where, and only that."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from statenotes.extractors.records import MediaNote
from statenotes.transforms.actors import find_actors, load_gazetteer
from statenotes.transforms.records import NoteBody, Paragraph
from statenotes.warehouse.lake import Lake
from statenotes.warehouse.publish import publish
from statenotes.warehouse.records import LoadedNote
from statenotes.warehouse.rows import note_tables

T0 = datetime(2024, 5, 1, 3, 0, tzinfo=UTC)


def loaded(path: str, title: str, texts: tuple[str, ...], dateline: str | None) -> LoadedNote:
    """A note as the flow hands it to the lake, its actors found by the real gazetteer."""
    url = f"https://www.state.gov{path}"
    paragraphs = [Paragraph(seq, None, "lead" if seq == 0 else "body", text) for seq, text in enumerate(texts)]
    note = MediaNote(url=url, layout="www-2019", title=title, release_type="Media Note",
                     office="Office of the Spokesperson", published_date=date(2022, 5, 20), canonical_url=url)
    findings = find_actors(title, paragraphs, load_gazetteer())
    return LoadedNote(note, NoteBody(paragraphs, dateline_place=dateline), findings, url, T0, f"raw-{path}", "p1")


def rows(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()

NOTES = [
    # (path, title, paragraphs, dateline)
    ("/t1/", "Deputy Secretary Sherman’s Travel to Indonesia and Japan",
     ("Deputy Secretary of State Wendy Sherman will travel to Jakarta, Indonesia, and Tokyo, Japan, "
      "May 30 to June 4, 2022.",
      "In Jakarta, the Deputy Secretary will meet senior Indonesian officials."), "Washington, DC"),
    ("/t2/", "Assistant Secretary Lu Leads Delegation to Dhaka",
     ("Assistant Secretary of State for South and Central Asian Affairs Donald Lu will lead an interagency "
      "delegation to Dhaka and Kathmandu, January 14-16.",), "WASHINGTON"),
    ("/t3/", "Readout",
     ("Secretary Blinken met Foreign Minister Kuleba of Ukraine, who visits Canada next week.",), "KYIV, Ukraine"),
    # Not trips this note announces: the past, a noun, a destination outside the sentence or after a verb.
    ("/t4/", "Statement on the Anniversary",
     ("Ambassador Linda Thomas-Greenfield visited Ethiopia in 2021. Her visit to Kenya was brief.",
      "Special Envoy Mike Hammer will travel to discuss the situation in Sudan with partners.",
      "Ambassador Jane Doe welcomed the President of Ghana. The delegation will travel to Accra."), None),
]


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("travels")
    lake = Lake(root / "lake")
    lake.merge_notes(note_tables([loaded(*note) for note in NOTES], "run-1"))
    publish(lake, root / "statenotes.duckdb")
    return root / "statenotes.duckdb"


def test_travels_links_the_traveller_to_each_destination_named_in_the_sentence(db):
    found = rows(db, "SELECT traveller, seq, destination_iso3, place, role FROM travels ORDER BY ALL")
    assert [(t, s, iso3, place) for t, s, iso3, place, _ in found] == [
        ("Donald Lu", -1, "BGD", "Dhaka"),  # the title announces it too
        ("Donald Lu", 0, "BGD", "Dhaka"),
        ("Donald Lu", 0, "NPL", "Kathmandu"),
        ("Kuleba", 0, "CAN", None),  # the nearest person before "visits", not Blinken
        ("Wendy Sherman", -1, "IDN", None),
        ("Wendy Sherman", -1, "JPN", None),
        ("Wendy Sherman", 0, "IDN", "Jakarta"),
        ("Wendy Sherman", 0, "JPN", "Tokyo"),
    ]
    assert {role for t, s, _, _, role in found if t == "Wendy Sherman" and s == 0} == {"Deputy Secretary of State"}


def test_datelines_are_tied_to_a_country(db):
    assert rows(db, "SELECT dateline_place, dateline_city, dateline_iso3 FROM datelines ORDER BY ALL") == [
        ("KYIV, Ukraine", "KYIV", "UKR"),
        ("WASHINGTON", "WASHINGTON", "USA"),
        ("Washington, DC", "Washington", "USA"),
        (None, None, None),
    ]
