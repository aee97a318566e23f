"""Actor evaluation: `find_actors` on every corpus note, scored against tests/gold/*.gold.json, and
its speed in MB of paragraph text per second on one core.

    .venv/bin/python bench/actors_eval.py [--mb 4] [--runs 3] [--show] [--json PATH]

Scores (see bench/README.md, section "Actors"):
- a found actor is matched to a gold entry: a country by kind and ISO code; a person by kind and
  its name or a printed name in the entry's `match`; any other actor by kind and its name or a
  printed surface in `match` (an organisation or group also through its parents: "UN Security
  Council" names the United Nations when the gold has no entry of its own for it);
- precision = found actors matched to a required entry / found actors not matched to an optional
  entry (optional entries are neither required nor wrong). A second person matched to an entry
  that already has one is a split identity and counts as wrong;
- recall = required entries matched / required entries; both micro over all notes and per note.
Also: persons named in several notes must keep one id; persons' roles (the gold role among the
roles of their mentions) and countries against the gold where it gives them (reported, not part
of the scores).
Paragraphs come from the pipeline's own `normalise_body`, one block per body line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from statenotes.extractors.records import BLOCK_PARAGRAPH, BodyBlock
from statenotes.transforms.actors import Gazetteer, find_actors, load_gazetteer
from statenotes.transforms.textforms import fold, normalise
from statenotes.transforms.paragraphs import normalise_body
from statenotes.transforms.records import Actor, ActorFindings, Paragraph

ROOT = Path(__file__).resolve().parents[1]
NOTES = ROOT / "mirror" / "sample" / "notes"
GOLD = ROOT / "tests" / "gold"
TARGETS = {"precision": 0.95, "recall": 0.90, "mb_per_s": 1.0}
DEFAULT_MB = 4.0  # the corpus is ~40 KB of paragraph text: repeated to this size for the timing
DEFAULT_RUNS = 3  # timed runs; the median is reported
LINEAGE_KINDS = frozenset({"organization", "group"})  # UN organs name the UN; a ministry is not its government


def key(text: str) -> str:
    """How printed names are compared: apostrophes and dashes unified, lower case, no leading "the"."""
    return fold(normalise(text)).strip().removeprefix("the ")


@dataclass(slots=True)
class NoteScore:
    note: str
    required: int = 0
    found_required: int = 0
    right: int = 0  # found actors matched to a required entry
    wrong: list[str] = field(default_factory=list)  # found actors matched to nothing (or splits)
    missed: list[str] = field(default_factory=list)  # required entries not found
    persons: dict[str, str] = field(default_factory=dict)  # gold person name -> found id
    role_checks: list[tuple[str, tuple[str, ...], str]] = field(default_factory=list)  # (name, found, gold)
    country_checks: list[tuple[str, str | None, str]] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.right / (self.right + len(self.wrong)) if self.right + len(self.wrong) else 1.0

    @property
    def recall(self) -> float:
        return self.found_required / self.required if self.required else 1.0


def note_paragraphs(note: dict) -> list[Paragraph]:
    return normalise_body([BodyBlock(BLOCK_PARAGRAPH, (line,)) for line in note["body_lines"]]).paragraphs


def load_cases() -> list[tuple[dict, dict, list[Paragraph]]]:
    """(gold, note, paragraphs) for every gold file, in name order."""
    cases = []
    for path in sorted(GOLD.glob("*.gold.json")):
        gold = json.loads(path.read_text(encoding="utf-8"))
        note = json.loads((NOTES / gold["note"]).read_text(encoding="utf-8"))
        cases.append((gold, note, note_paragraphs(note)))
    return cases


def _names(entry: dict) -> set[str]:
    return {key(entry["name"])} | {key(m) for m in entry.get("match", [])} if "name" in entry else set()


def _matches(entry: dict, actor: Actor, printed: set[str], gaz: Gazetteer, lineage: bool) -> bool:
    if entry["kind"] != actor.kind:
        return False
    if actor.kind == "country":
        return actor.iso3 == entry["iso3"]
    names = _names(entry)
    if key(actor.name) in names or printed & names:
        return True
    if lineage and actor.kind in LINEAGE_KINDS:
        parent = gaz.actors.get(actor.parent_id) if actor.parent_id else None
        while parent is not None and parent.kind == actor.kind:
            if key(parent.name) in names:
                return True
            parent = gaz.actors.get(parent.parent_id) if parent.parent_id else None
    return False


def match_entry(actor: Actor, printed: set[str], gold: list[dict], gaz: Gazetteer) -> int | None:
    """Index of the gold entry a found actor is: a direct match first, then through its parents."""
    for lineage in (False, True):
        hits = [i for i, entry in enumerate(gold) if _matches(entry, actor, printed, gaz, lineage)]
        if hits:  # a required entry before an optional one
            return min(hits, key=lambda i: (bool(gold[i].get("optional")), i))
    return None


def score_note(gold: dict, findings: ActorFindings, gaz: Gazetteer) -> NoteScore:
    entries = gold["actors"]
    score = NoteScore(gold["note"].removesuffix(".json"))
    score.required = sum(not e.get("optional") for e in entries)
    printed: dict[str, set[str]] = defaultdict(set)
    roles: dict[str, tuple[str, ...]] = defaultdict(tuple)
    for m in findings.mentions:
        printed[m.actor_id].add(key(m.surface))
        if m.role and m.role not in roles[m.actor_id]:
            roles[m.actor_id] += (m.role,)
    matched: dict[int, str] = {}
    for actor in findings.actors:
        index = match_entry(actor, printed[actor.actor_id], entries, gaz)
        if index is None:
            score.wrong.append(actor.actor_id)
            continue
        entry = entries[index]
        if index in matched and actor.kind == "person":
            score.wrong.append(f"{actor.actor_id} (split of {matched[index]})")
            continue
        if entry.get("optional"):
            continue
        score.right += 1
        if index not in matched:
            matched[index] = actor.actor_id
            score.found_required += 1
        if actor.kind == "person":
            score.persons[entry["name"]] = actor.actor_id
            if "role" in entry:
                score.role_checks.append((entry["name"], roles[actor.actor_id], entry["role"]))
            if "iso3" in entry:
                score.country_checks.append((entry["name"], actor.iso3, entry["iso3"]))
    score.missed = [e.get("name", e.get("iso3")) for i, e in enumerate(entries)
                    if not e.get("optional") and i not in matched]
    return score


def evaluate(cases, gaz: Gazetteer) -> list[NoteScore]:
    return [score_note(gold, find_actors(note["title"], paragraphs, gaz), gaz) for gold, note, paragraphs in cases]


def totals(scores: list[NoteScore]) -> dict[str, float]:
    right = sum(s.right for s in scores)
    wrong = sum(len(s.wrong) for s in scores)
    required = sum(s.required for s in scores)
    return {"notes": len(scores), "required": required, "found_required": sum(s.found_required for s in scores),
            "right": right, "wrong": wrong, "precision": right / (right + wrong) if right + wrong else 1.0,
            "recall": sum(s.found_required for s in scores) / required if required else 1.0}


def identity_splits(scores: list[NoteScore]) -> list[tuple[str, list[str]]]:
    """Gold persons found in several notes under more than one id."""
    ids: dict[str, set[str]] = defaultdict(set)
    for score in scores:
        for name, actor_id in score.persons.items():
            ids[name].add(actor_id)
    return [(name, sorted(found)) for name, found in ids.items() if len(found) > 1]


def throughput(cases, gaz: Gazetteer, megabytes: float, runs: int) -> dict[str, float]:
    """MB of paragraph text per CPU second (and per wall second), one thread, over the corpus
    repeated to `megabytes`."""
    size = sum(len(p.text.encode("utf-8")) for _, _, paragraphs in cases for p in paragraphs)
    repeats = max(1, round(megabytes * 1_000_000 / size))
    work = [(note["title"], paragraphs) for _, note, paragraphs in cases] * repeats
    for title, paragraphs in work[: len(cases)]:  # warm up
        find_actors(title, paragraphs, gaz)
    wall, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        for title, paragraphs in work:
            find_actors(title, paragraphs, gaz)
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    # One thread: CPU seconds are the time on one core, unaffected by other work on the machine.
    seconds, wall_seconds = statistics.median(cpu), statistics.median(wall)
    megabytes = size * repeats / 1e6
    return {"mb": megabytes, "notes": len(work), "seconds": seconds, "mb_per_s": megabytes / seconds,
            "notes_per_s": len(work) / seconds, "wall_seconds": wall_seconds, "wall_mb_per_s": megabytes / wall_seconds}


def report(scores: list[NoteScore], speed: dict[str, float], load_ms: float, show: bool) -> dict:
    lines = ["| note | required | found | wrong | precision | recall |", "|---|---:|---:|---:|---:|---:|"]
    for s in scores:
        lines.append(f"| {s.note} | {s.required} | {s.found_required} | {len(s.wrong)} "
                     f"| {s.precision:.3f} | {s.recall:.3f} |")
    t = totals(scores)
    lines.append(f"| **all {t['notes']} notes (micro)** | {t['required']} | {t['found_required']} | {t['wrong']} "
                 f"| **{t['precision']:.3f}** | **{t['recall']:.3f}** |")
    macro_p = statistics.fmean(s.precision for s in scores)
    macro_r = statistics.fmean(s.recall for s in scores)
    roles = [c for s in scores for c in s.role_checks]
    countries = [c for s in scores for c in s.country_checks]
    splits = identity_splits(scores)
    multi = {n for n, c in _count_persons(scores).items() if c > 1}
    lines += [
        "", f"macro (mean per note): precision {macro_p:.3f}, recall {macro_r:.3f}",
        f"persons with the gold role among their mentions' roles: {sum(_has_role(f, g) for _, f, g in roles)}/{len(roles)}; "
        f"country as in gold: {sum(f == g for _, f, g in countries)}/{len(countries)}",
        f"persons named in several notes with one id: {len(multi) - len(splits)}/{len(multi)}",
        f"throughput: {speed['mb_per_s']:.2f} MB/s of paragraph text per core, CPU time ({speed['notes_per_s']:.0f} "
        f"notes/s; {speed['mb']:.1f} MB, {speed['notes']} notes, median run {speed['seconds']:.2f} s CPU); "
        f"wall clock {speed['wall_mb_per_s']:.2f} MB/s; gazetteer compiled once in {load_ms:.0f} ms",
    ]
    checks = {"precision": t["precision"] >= TARGETS["precision"], "recall": t["recall"] >= TARGETS["recall"],
              "mb_per_s": speed["mb_per_s"] >= TARGETS["mb_per_s"]}
    lines.append("targets: " + ", ".join(f"{k} >= {TARGETS[k]} {'PASS' if ok else 'FAIL'}" for k, ok in checks.items()))
    if show:
        for s in scores:
            for what, items in (("missed", s.missed), ("wrong", s.wrong)):
                if items:
                    lines.append(f"{what} {s.note}: {', '.join(items)}")
        lines += [f"role {n}: found {list(f)}, gold {g!r}" for n, f, g in roles if not _has_role(f, g)]
        lines += [f"country {n}: found {f}, gold {g}" for n, f, g in countries if f != g]
        lines += [f"split across notes: {n}: {ids}" for n, ids in splits]
    print("\n".join(lines))
    return {"totals": t, "macro": {"precision": macro_p, "recall": macro_r}, "throughput": speed,
            "notes": {s.note: {"precision": s.precision, "recall": s.recall, "missed": s.missed, "wrong": s.wrong}
                      for s in scores},
            "targets_met": checks}


def _has_role(found: tuple[str, ...], gold: str) -> bool:
    return key(gold) in {key(role) for role in found}


def _count_persons(scores: list[NoteScore]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for s in scores:
        for name in s.persons:
            counts[name] += 1
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=DEFAULT_MB, help="paragraph text to time, in MB")
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS, help="timed runs (median reported)")
    parser.add_argument("--show", action="store_true", help="list misses, wrong actors, role/country disagreements")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    gaz = load_gazetteer()
    load_ms = (time.perf_counter() - started) * 1000
    cases = load_cases()
    outcome = report(evaluate(cases, gaz), throughput(cases, gaz, args.mb, args.runs), load_ms, args.show)
    if args.json:
        args.json.write_text(json.dumps(outcome, indent=2), encoding="utf-8")
    return 0 if all(outcome["targets_met"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
