"""The extraction evaluation's cases (bench/eval_cases.py) scored without trafilatura: every note in
every layout, in the first variants plain and with additions, must be extracted exactly, so that
the bench figures in bench/README.md cannot silently regress."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from statenotes.mirror.redesign import REDESIGNS

sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))
from eval_cases import (  # noqa: E402
    LAYOUTS,
    REST_LAYOUT,
    actual_fields,
    build_cases,
    build_redesign_cases,
    compare_fallback,
    f1,
    paragraph_hits,
    run_statenotes,
    score_redesign,
    tokens,
)

CASES = build_cases(variant_limit=2)


def test_cases_cover_every_layout_note_and_both_halves():
    assert {case.layout for case in CASES} == set(LAYOUTS)
    assert len(CASES) == len(LAYOUTS) * 22 * 4
    assert any(row[1] == "heading" for case in CASES for row in case.expected.rows)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_statenotes_is_exact_on_the_evaluation_cases(layout):
    for case in (c for c in CASES if c.layout == layout):
        note, body = run_statenotes(case)
        got = actual_fields(note, body)
        assert {name: got[name] for name in case.expected.fields} == case.expected.fields, (case.note, case.variant)
        hits, total, misses = paragraph_hits(case.expected.rows, body.paragraphs)
        assert misses == [] and hits == total == len(case.expected.rows), (case.note, case.variant)


def test_scores_fall_when_output_is_wrong():
    case = next(c for c in CASES if len(c.expected.rows) > 2)
    _, body = run_statenotes(case)
    hits, total, misses = paragraph_hits(case.expected.rows, body.paragraphs[:-1])
    assert misses == [len(case.expected.rows) - 1] and hits == total - 1
    assert f1(tokens("a b c"), tokens("a b c")) == 1.0 and f1(tokens("a b"), tokens("a b c d")) == pytest.approx(2 / 3)
    assert f1([], tokens("a")) == 0.0


RECOVERY_FLOOR = 0.95  # of redesigned pages loaded; a page not loaded is quarantined, never wrong
AGREEMENT_FLOOR = 0.95


def test_redesigned_pages_are_recovered_with_no_wrong_field():
    cases = build_redesign_cases(variant_limit=1)
    results = [score_redesign(case) for case in cases]
    loaded = [r for r in results if r["loaded"]]
    assert {case.layout for case in cases} == {f"redesign:{name}" for name in REDESIGNS} and len(REDESIGNS) >= 3
    assert [r["wrong"] for r in loaded if r["wrong"]] == []
    assert [r["para_wrong"] for r in loaded if r["para_wrong"]] == []
    assert len(loaded) >= RECOVERY_FLOOR * len(cases)
    assert all(r["layout"].startswith("generic:") for r in loaded)
    assert sum(r["para_hits"] for r in loaded) >= AGREEMENT_FLOOR * sum(r["para_total"] for r in loaded)


def test_the_fallback_alone_agrees_with_the_primary_parser_on_the_wordpress_layouts():
    results = [compare_fallback(c) for c in CASES if c.layout not in (REST_LAYOUT, "2009-2017")]
    read = [r for r in results if r["declined"] is None]
    assert len(read) >= AGREEMENT_FLOOR * len(results)
    fields = [ok for r in read for ok in r["fields"].values()]
    assert sum(fields) >= AGREEMENT_FLOOR * len(fields)
    assert sum(r["para_agree"] for r in read) >= AGREEMENT_FLOOR * sum(r["para_total"] for r in read)


def test_a_wrong_field_is_counted_as_wrong():
    case = build_redesign_cases(variant_limit=1)[0]
    lying = case.payload.replace(b'"headline": "', b'"headline": "Not ', 1)
    assert score_redesign(type(case)(case.note, case.layout, case.variant, case.url, lying, case.expected))["loaded"] is False
    expected = dict(case.expected.fields, title="Another title")
    result = score_redesign(type(case)(case.note, case.layout, case.variant, case.url, case.payload,
                                       type(case.expected)(expected, case.expected.rows, "")))
    assert result["wrong"] == ["title"]
