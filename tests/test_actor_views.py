"""The analyst views over actors, published from a small real lake: mentions by actor and month, and
pairs of actors named in the same note. Only each note's latest version counts."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
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
from statenotes.warehouse.schema import VIEWS

T0 = datetime(2024, 5, 1, 3, 0, tzinfo=timezone.utc)
ACTOR_VIEWS = ("actor_mentions_by_month", "co_mentions")


def loaded(path: str, title: str, texts: tuple[str, ...], published: date | None, fetched_at: datetime = T0) -> LoadedNote:
    """A note as the flow hands it to the lake, its actors found by the real gazetteer."""
    url = f"https://www.state.gov{path}"
    paragraphs = [Paragraph(seq, None, "lead" if seq == 0 else "body", text) for seq, text in enumerate(texts)]
    note = MediaNote(url=url, layout="www-2019", title=title, release_type="Media Note",
                     office="Office of the Spokesperson", published_date=published, canonical_url=url)
    findings = find_actors(title, paragraphs, load_gazetteer())
    return LoadedNote(note, NoteBody(paragraphs), findings, url, fetched_at, f"raw-{path}-{fetched_at:%j}", "p1")


def rows(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("actor-views")
    lake = Lake(root / "lake")
    # Note A's first version names the United States; its edited second version does not.
    lake.merge_notes(note_tables([
        loaded("/a/", "Iraq Strategic Dialogue", ("The United States and Iraq met.", "Iraqi officials spoke."),
               date(2019, 2, 7)),
        loaded("/b/", "Joint Statement on Libya", ("Iraq and the UN welcomed it.",), date(2019, 2, 20)),
        loaded("/c/", "Dialogue", ("The United States and Iraq met.",), date(2021, 3, 1)),
        loaded("/d/", "Statement", ("The UN met.",), None),
    ], "run-1"))
    lake.merge_notes(note_tables([
        loaded("/a/", "Iraq Strategic Dialogue", ("Iraq and the United Nations met.",), date(2019, 2, 7),
               T0 + timedelta(days=1)),
    ], "run-2"))
    db_path = root / "statenotes.duckdb"
    publish(lake, db_path)
    return db_path


def test_actor_mentions_by_month_counts_latest_versions_only(db: Path):
    assert rows(db, 'SELECT * FROM actor_mentions_by_month ORDER BY "month" NULLS LAST, actor_id') == [
        # A v2: title Iraq, Iraq, United Nations; B: title Libya, Iraq, UN. A v1's United States is gone.
        ("IRQ", "Iraq", "country", date(2019, 2, 1), 3, 2),
        ("LBY", "Libya", "country", date(2019, 2, 1), 1, 1),
        ("org:united-nations", "United Nations", "organization", date(2019, 2, 1), 2, 2),
        ("IRQ", "Iraq", "country", date(2021, 3, 1), 1, 1),
        ("USA", "United States", "country", date(2021, 3, 1), 1, 1),
        ("org:united-nations", "United Nations", "organization", None, 1, 1),
    ]


def test_co_mentions_are_pairs_of_actors_in_the_same_latest_note(db: Path):
    assert rows(db, "SELECT * FROM co_mentions ORDER BY actor_a, actor_b") == [
        # The last two columns: whether actor_a / actor_b is on the publisher's side (the United States).
        ("IRQ", "LBY", "Iraq", "Libya", 1, date(2019, 2, 20), date(2019, 2, 20), False, False),
        ("IRQ", "USA", "Iraq", "United States", 1, date(2021, 3, 1), date(2021, 3, 1), False, True),
        ("IRQ", "org:united-nations", "Iraq", "United Nations", 2, date(2019, 2, 7), date(2019, 2, 20), False, False),
        ("LBY", "org:united-nations", "Libya", "United Nations", 1, date(2019, 2, 20), date(2019, 2, 20), False, False),
    ]
    assert rows(db, "SELECT count(*) FROM co_mentions WHERE actor_a >= actor_b") == [(0,)]


def test_actor_views_and_their_columns_carry_comments(db: Path):
    views = dict(rows(db, "SELECT view_name, comment FROM duckdb_views() WHERE NOT internal"))
    assert views["actor_mentions_by_month"].startswith("One row per actor and month")
    assert views["co_mentions"].startswith("One row per pair of actors")
    for view in ACTOR_VIEWS:
        columns = rows(db, f"SELECT column_name, comment FROM duckdb_columns() WHERE table_name = '{view}'")
        assert [name for name, _ in columns] == [name for name, _ in VIEWS[view].columns]
        assert all(comment and comment.strip() for _, comment in columns), view
