"""The extraction evaluation's cases (bench/eval_cases.py) scored without trafilatura: every note in
every layout, in the first variants plain and with additions, must be extracted exactly, so that
the bench figures in bench/README.md cannot silently regress."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))
from eval_cases import LAYOUTS, actual_fields, build_cases, f1, paragraph_hits, run_statenotes, tokens  # noqa: E402

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
