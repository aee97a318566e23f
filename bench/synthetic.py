"""A synthetic corpus of N media notes for the end-to-end benchmark, in the corpus JSON format
(one note per line: JSON Lines), written as it is generated: memory stays flat at any N.

Each note takes the body of a real note from `mirror/sample/notes` (its structure kept: markers,
numbered paragraphs, bullets), with the countries, organisations and officials it names swapped
for others from the gazetteer (config/gazetteer.toml), sometimes a paragraph borrowed from another
note and a sentence naming more actors; a date spread uniformly over the years; a unique title
and slug. The same seed, N and dates give the same bytes.

    python bench/synthetic.py --notes 10000 --out /tmp/notes.jsonl [--seed 7] [--start 2009-01-20] [--end 2025-12-31]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from statenotes.mirror.chrome import slugify
from statenotes.mirror.site import load_sample_notes
from statenotes.transforms.actors import load_gazetteer

DEFAULT_SEED = 7
DEFAULT_START = date(2009, 1, 20)
DEFAULT_END = date(2025, 12, 31)
SITE = "https://www.state.gov"
RELEASE_TYPE = "Media Note"  # the type the pipeline fetches (settings release_types)
OFFICES = ("Office of the Spokesperson", "Bureau of Political-Military Affairs", "Bureau of Consular Affairs",
           "Bureau of Economic and Business Affairs", "Office of the Spokesperson", "Bureau of African Affairs")
BORROW_CHANCE = 0.4  # a plain paragraph from another note is added
EXTRA_CHANCE = 0.6  # a sentence naming more actors is added
KEEP_COUNTRIES = frozenset({"USA"})  # the host country stays what the text says
# Lines that carry structure (markers, numbering, bullets) are never borrowed into another note.
STRUCTURED = re.compile(r"^(\d+[.)]|•|begin text|end text|# # #)", re.IGNORECASE)
TITLES = ("Secretary of State", "Deputy Secretary of State", "Under Secretary", "Assistant Secretary",
          "Special Envoy", "Ambassador")
MEETINGS = (
    "{title} {person} will meet with representatives of the {org} and the Government of {country}.",
    "The United States and {country} discussed cooperation with the {org}, {title} {person} said.",
    "{title} {person} welcomed the contribution of {country} and {other} to the work of the {org}.",
)


@dataclass(frozen=True, slots=True)
class Actors:
    countries: tuple[str, ...]
    organisations: tuple[str, ...]
    persons: tuple[str, ...]
    pattern: re.Pattern  # every name that gets swapped (organisations first: their names hold countries)
    kind_of: dict[str, str]


def gazetteer_actors() -> Actors:
    actors = load_gazetteer().actors.values()
    countries = sorted({a.name for a in actors if a.kind == "country" and a.iso3 not in KEEP_COUNTRIES
                        and "," not in a.name and "(" not in a.name})
    organisations = sorted({a.name for a in actors if a.kind == "organization"})
    persons = sorted({a.name for a in actors if a.kind == "person"})
    kind_of = {}
    for actor in actors:
        if actor.kind in ("organization", "person") or (actor.kind == "country" and actor.iso3 not in KEEP_COUNTRIES):
            for alias in actor.aliases:
                if len(alias) > 3 and alias[0].isupper():  # acronyms and demonyms stay as printed
                    kind_of.setdefault(alias, actor.kind)
    for name in countries:
        kind_of[name] = "country"
    names = sorted(kind_of, key=len, reverse=True)
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b")
    return Actors(tuple(countries), tuple(organisations), tuple(persons), pattern, kind_of)


class Generator:
    """Notes one after another; note i depends only on the seed and i."""

    def __init__(self, seed: int = DEFAULT_SEED, start: date = DEFAULT_START, end: date = DEFAULT_END):
        if start > end:
            raise ValueError(f"start {start} is after end {end}")
        self.seed, self.start, self.days = seed, start, (end - start).days + 1
        self.templates = load_sample_notes()
        self.borrowable = [line for note in self.templates for line in note["body_lines"]
                           if not STRUCTURED.match(line) and len(line) > 80]
        self.actors = gazetteer_actors()

    def _swap(self, text: str, rng: random.Random, chosen: dict[str, str]) -> str:
        """Each distinct name in the note becomes the same other name of its kind everywhere."""
        pools = {"country": self.actors.countries, "organization": self.actors.organisations,
                 "person": self.actors.persons}

        def replace(match: re.Match) -> str:
            name = match.group(1)
            if name not in chosen:
                kind = self.actors.kind_of[name]
                chosen[name] = name if kind == "organization" and rng.random() < 0.5 else rng.choice(pools[kind])
            return chosen[name]

        return self.actors.pattern.sub(replace, text)

    def note(self, i: int) -> dict:
        rng = random.Random(f"{self.seed}:{i}")
        template = rng.choice(self.templates)
        chosen: dict[str, str] = {}
        lines = [self._swap(line, rng, chosen) for line in template["body_lines"]]
        if rng.random() < BORROW_CHANCE:
            lines.insert(min(1, len(lines)), self._swap(rng.choice(self.borrowable), rng, chosen))
        if rng.random() < EXTRA_CHANCE:
            country, other = rng.sample(self.actors.countries, 2)
            lines.insert(min(1, len(lines)), rng.choice(MEETINGS).format(
                title=rng.choice(TITLES), person=rng.choice(self.actors.persons), org=rng.choice(self.actors.organisations),
                country=country, other=other))
        published = self.start + timedelta(days=rng.randrange(self.days))
        title = f"{self._swap(template['title'], rng, chosen)} ({published:%B} {i + 1})"
        dateline_date = published - timedelta(days=rng.choice((0, 0, 0, 1)))
        return {
            "url": f"{SITE}/{slugify(title)}/",
            "title": title,
            "release_type": RELEASE_TYPE,
            "office": rng.choice(OFFICES),
            "published_date": published.isoformat(),
            "dateline_place": template["dateline_place"],
            "dateline_date": dateline_date.isoformat() if template["dateline_place"] else None,
            "complete": True,
            "source_url": f"synthetic:{self.seed}:{i}",
            "body_lines": lines,
        }

    def notes(self, count: int) -> Iterator[dict]:
        return (self.note(i) for i in range(count))


@dataclass(frozen=True, slots=True)
class CorpusInfo:
    path: Path
    notes: int
    bytes: int
    first_date: date
    last_date: date


def write_corpus(path: Path, count: int, seed: int = DEFAULT_SEED, start: date = DEFAULT_START,
                 end: date = DEFAULT_END) -> CorpusInfo:
    """Write `count` notes to `path` (JSON Lines), one at a time; returns what was written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    first, last = end, start
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as out:
        for note in Generator(seed, start, end).notes(count):
            published = date.fromisoformat(note["published_date"])
            first, last = min(first, published), max(last, published)
            out.write(json.dumps(note, ensure_ascii=False) + "\n")
    tmp.replace(path)
    return CorpusInfo(path, count, path.stat().st_size, first, last)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notes", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--start", type=date.fromisoformat, default=DEFAULT_START)
    parser.add_argument("--end", type=date.fromisoformat, default=DEFAULT_END)
    args = parser.parse_args(argv)
    info = write_corpus(args.out, args.notes, args.seed, args.start, args.end)
    print(json.dumps({"path": str(info.path), "notes": info.notes, "bytes": info.bytes,
                      "first_date": info.first_date.isoformat(), "last_date": info.last_date.isoformat()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
