"""Text search for analysts: the paragraphs_latest view and the search_paragraphs(term) macro, published
from a small real lake. The macro answers what `text ILIKE '%term%'` over the latest versions answers,
with the term taken literally; it is documented in the file's comments and in docs/schema.md."""

from __future__ import annotations

import sys
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest

from statenotes.extractors.records import MediaNote
from statenotes.transforms.actors import find_actors, load_gazetteer
from statenotes.transforms.records import NoteBody, Paragraph
from statenotes.warehouse.lake import Lake
from statenotes.warehouse.publish import describe_schema, publish
from statenotes.warehouse.records import LoadedNote
from statenotes.warehouse.rows import note_tables
from statenotes.warehouse.schema import MACROS, VIEWS

T0 = datetime(2024, 5, 1, 3, 0, tzinfo=timezone.utc)
BENCH = Path(__file__).parents[1] / "bench"
# The reference: ILIKE over paragraphs of the latest versions, the term's wildcards escaped.
ILIKE = """SELECT p.note_id, p.version, p.seq, n.published_date, n.title, n.url, p.label, p.kind, p.text
           FROM paragraphs AS p JOIN notes_latest AS n USING (note_id, version)
           WHERE p.text ILIKE '%' || replace(replace(replace($term, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%'
                 ESCAPE '\\'"""


def loaded(path: str, title: str, texts: tuple[str, ...], published: date | None,
           fetched_at: datetime = T0) -> LoadedNote:
    url = f"https://www.state.gov{path}"
    paragraphs = [Paragraph(seq, None, "lead" if seq == 0 else "body", text) for seq, text in enumerate(texts)]
    note = MediaNote(url=url, layout="www-2019", title=title, release_type="Media Note",
                     office="Office of the Spokesperson", published_date=published, canonical_url=url)
    findings = find_actors(title, paragraphs, load_gazetteer())
    return LoadedNote(note, NoteBody(paragraphs), findings, url, fetched_at, f"raw-{path}-{fetched_at:%j}", "p1")


def rows(db: Path, sql: str, parameters: dict | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, parameters or {}).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("text-search")
    lake = Lake(root / "lake")
    lake.merge_notes(note_tables([
        loaded("/a/", "Aid to Chad", ("Humanitarian aid to Chad.", "Other news."), date(2019, 2, 7)),
        loaded("/b/", "Relief", ("Help for humanitarians and HUMANITARIAN-led groups.",), date(2021, 3, 1)),
        loaded("/c/", "Figures", ("The U.S. gave 50% more_than before.", "UTSA and US agencies, 5000 staff."),
               None),
        loaded("/d/", "Visit", ("Chargé d’Affaires José met (ISIS) experts.", "CHARGÉ JOSÉ left."),
               date(2019, 2, 7)),
    ], "run-1"))
    # Note A's second version drops the word from its first paragraph and adds it in upper case later.
    lake.merge_notes(note_tables([
        loaded("/a/", "Aid to Chad", ("Aid to Chad.", "Other news.", "A HUMANITARIAN corridor."), date(2019, 2, 7),
               T0 + timedelta(days=1)),
    ], "run-2"))
    db_path = root / "statenotes.duckdb"
    publish(lake, db_path)
    return db_path


def search(db: Path, term: str | None) -> list[tuple]:
    return rows(db, "SELECT url, version, seq, text FROM search_paragraphs($term) ORDER BY url, seq", {"term": term})


def test_search_ignores_case_and_reads_only_latest_versions(db: Path):
    assert search(db, "humanitarian") == [
        ("https://www.state.gov/a/", 2, 2, "A HUMANITARIAN corridor."),  # not version 1's first paragraph
        ("https://www.state.gov/b/", 1, 0, "Help for humanitarians and HUMANITARIAN-led groups."),
    ]
    assert [r[:3] for r in search(db, "josé")] == [("https://www.state.gov/d/", 1, 0),
                                                  ("https://www.state.gov/d/", 1, 1)]


def test_the_term_is_literal_text_not_a_pattern(db: Path):
    assert [r[3] for r in search(db, "U.S.")] == ["The U.S. gave 50% more_than before."]  # '.' is no wildcard
    assert [r[3] for r in search(db, "50%")] == ["The U.S. gave 50% more_than before."]  # nor '%' (5000)
    assert [r[3] for r in search(db, "e_t")] == ["The U.S. gave 50% more_than before."]  # nor '_'
    assert [r[3] for r in search(db, "(isis)")] == ["Chargé d’Affaires José met (ISIS) experts."]
    assert search(db, "no such words") == [] and search(db, None) == []


@pytest.mark.parametrize("term", ["humanitarian", "HUMANITARIAN-LED", "u.s.", "50%", "e_t", "(isis)", "chargé",
                                  "CHARGÉ JOSÉ", "d’affaires", "a", "", "zzz"])
def test_search_returns_exactly_the_rows_of_ilike_on_latest_versions(db: Path, term: str):
    found = rows(db, "SELECT * FROM search_paragraphs($term)", {"term": term})
    assert Counter(found) == Counter(rows(db, ILIKE, {"term": term}))


def test_paragraphs_latest_is_the_paragraphs_of_notes_latest(db: Path):
    assert Counter(rows(db, "SELECT * FROM paragraphs_latest")) == Counter(rows(db, ILIKE, {"term": ""}))
    assert rows(db, "SELECT DISTINCT url, version FROM paragraphs_latest WHERE url LIKE '%/a/'") == [
        ("https://www.state.gov/a/", 2)]
    view = [r[0] for r in rows(db, "DESCRIBE SELECT * FROM paragraphs_latest")]
    macro = [r[0] for r in rows(db, "DESCRIBE SELECT * FROM search_paragraphs('x')")]
    assert view == macro == [name for name, _ in VIEWS["paragraphs_latest"].columns]


def test_the_macro_and_the_view_are_documented(db: Path):
    comments = dict(rows(db, "SELECT function_name, comment FROM duckdb_functions() "
                             "WHERE function_type = 'table_macro' AND NOT internal"))
    assert comments == {name: macro.description for name, macro in MACROS.items()}
    table = rows(db, "SELECT comment FROM duckdb_tables() WHERE table_name = 'paragraphs'")[0][0]
    assert "search_paragraphs('word')" in table
    assert "search_paragraphs('word')" in rows(db, "SELECT comment FROM duckdb_views() "
                                                   "WHERE view_name = 'paragraphs_latest'")[0][0]
    doc = describe_schema(db)
    assert doc.index("## Views") < doc.index("### `paragraphs_latest`") < doc.index("## Macros")
    section = doc[doc.index("### `search_paragraphs(term)`"):]
    assert MACROS["search_paragraphs"].description in section
    assert "Returns: `note_id` VARCHAR, `version` INTEGER, `seq` INTEGER, `published_date` DATE" in section


def test_the_benchmark_text_search_answers_what_the_ilike_query_answers(db: Path):
    sys.path.insert(0, str(BENCH))
    try:
        from measures import QUERIES
    finally:
        sys.path.remove(str(BENCH))
    plain = ("SELECT n.published_date, n.title, p.label, p.text FROM paragraphs p JOIN notes_latest n "
             "USING (note_id, version) WHERE p.text ILIKE '%humanitarian%' ORDER BY n.published_date DESC, p.seq")
    assert "search_paragraphs('humanitarian')" in QUERIES["text_search"]
    assert rows(db, QUERIES["text_search"]) == rows(db, plain) and len(rows(db, plain)) == 2
