"""The actor evaluation (bench/actors_eval.py): its scoring on hand-made cases, and the corpus figures
it reports in bench/README.md, so that they cannot silently regress."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))
from actors_eval import GOLD, NOTES, TARGETS, evaluate, identity_splits, load_cases, score_note, totals  # noqa: E402

from statenotes.transforms.actors import load_gazetteer  # noqa: E402
from statenotes.transforms.records import Actor, ActorFindings, ActorMention  # noqa: E402

GOLD_ENTRIES = [
    {"kind": "country", "iso3": "IRQ"},
    {"kind": "organization", "name": "United Nations", "match": ["united nations", "un"]},
    {"kind": "person", "name": "Mike Pompeo", "match": ["michael r. pompeo", "mike pompeo"]},
    {"kind": "region", "name": "Sahel", "match": ["sahel"], "optional": True},
    {"kind": "country", "iso3": "SYR"},
]


def findings(*named: tuple[Actor, str]) -> ActorFindings:
    return ActorFindings([a for a, _ in named], [ActorMention(0, i, i + 1, s, a.actor_id) for i, (a, s) in enumerate(named)])


def test_scoring_counts_optional_lineage_splits_and_misses():
    gaz = load_gazetteer()
    gold = {"note": "x.json", "actors": GOLD_ENTRIES}
    score = score_note(gold, findings(
        (gaz.actors["IRQ"], "Iraq"),
        (gaz.actors["org:un-security-council"], "UN Security Council"),  # the UN through its parent
        (Actor("person:mike-pompeo", "Mike Pompeo", "person", "USA"), "Mike Pompeo"),
        (Actor("person:pompeo", "Pompeo", "person"), "Michael R. Pompeo"),  # a second id: split
        (gaz.actors["region:sahel"], "Sahel"),  # optional: neither right nor wrong
        (gaz.actors["TUR"], "Turkey"),  # not in the gold: wrong
    ), gaz)
    assert (score.required, score.found_required, score.right) == (4, 3, 3)
    assert score.wrong == ["person:pompeo (split of person:mike-pompeo)", "TUR"]
    assert score.missed == ["SYR"]
    assert (round(score.precision, 3), score.recall) == (0.6, 0.75)


def test_a_child_with_its_own_gold_entry_is_not_its_parent():
    gaz = load_gazetteer()
    gold = {"note": "x.json", "actors": GOLD_ENTRIES[1:2] + [
        {"kind": "organization", "name": "UN Support Mission in Libya", "match": ["unsmil"]}]}
    score = score_note(gold, findings((gaz.actors["org:unsmil"], "UNSMIL")), gaz)
    assert (score.found_required, score.missed, score.wrong) == (1, ["United Nations"], [])


def test_every_corpus_note_has_a_gold_file():
    notes = {p.stem for p in NOTES.glob("*.json")}
    golds = {json.loads(p.read_text(encoding="utf-8"))["note"].removesuffix(".json") for p in GOLD.glob("*.gold.json")}
    assert notes == golds and len(notes) == 22
    for path in GOLD.glob("*.gold.json"):
        for entry in json.loads(path.read_text(encoding="utf-8"))["actors"]:
            assert entry["kind"] in {"country", "organization", "group", "government", "person", "region"}, path
            assert ("iso3" in entry) if entry["kind"] == "country" else ("name" in entry), (path, entry)


def test_corpus_meets_the_targets_and_keeps_one_id_per_person():
    scores = evaluate(load_cases(), load_gazetteer())
    figures = totals(scores)
    assert figures["precision"] >= TARGETS["precision"], [(s.note, s.wrong) for s in scores if s.wrong]
    assert figures["recall"] >= TARGETS["recall"], [(s.note, s.missed) for s in scores if s.missed]
    assert identity_splits(scores) == []
