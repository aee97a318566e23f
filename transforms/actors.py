"""Actor recognition: which countries, organisations, groups, governments and persons a note names.

Public verbs:
- `load_gazetteer(path=None)` reads config/gazetteer.toml (the bundled one by default);
- `gazetteer_actors(gazetteer)` gives the `actors` dimension rows it defines;
- `find_actors(title, paragraphs, gazetteer)` gives a note's mentions (seq -1 is the title) and the
  distinct actors they name, persons included.
Pure and fast: the gazetteer is compiled once; a note is scanned by Aho-Corasick plus a few
regular expressions (transforms/surfaces.py, transforms/persons.py).
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from statenotes.transforms.gazetteer import CONTEXT, Gazetteer, read_gazetteer
from statenotes.transforms.persons import TITLE_SEQ, find_persons
from statenotes.transforms.records import Actor, ActorFindings, ActorMention, Paragraph
from statenotes.transforms.surfaces import Hit, find_surfaces

log = logging.getLogger(__name__)

__all__ = ["Gazetteer", "load_gazetteer", "gazetteer_actors", "find_actors", "TITLE_SEQ"]


def load_gazetteer(path: Path | None = None) -> Gazetteer:
    """The compiled gazetteer at `path`, or the bundled one (read once, then shared)."""
    return _bundled() if path is None else read_gazetteer(path)


@functools.cache
def _bundled() -> Gazetteer:
    gazetteer = read_gazetteer(None)
    log.debug("gazetteer: %d actors, %d surfaces", len(gazetteer.actors), len(gazetteer.surfaces))
    return gazetteer


def gazetteer_actors(gazetteer: Gazetteer) -> list[Actor]:
    """Every actor the gazetteer defines (the `actors` dimension), ordered by id."""
    return sorted(gazetteer.actors.values(), key=lambda a: a.actor_id)


def find_actors(title: str, paragraphs: list[Paragraph], gazetteer: Gazetteer) -> ActorFindings:
    """Mentions of actors in a note's title and paragraphs, and the distinct actors they name."""
    texts = [(TITLE_SEQ, title or "")] + [(p.seq, p.text) for p in paragraphs]
    hits = {seq: find_surfaces(text, gazetteer, body=seq != TITLE_SEQ) for seq, text in texts}
    _drop_out_of_context(hits, gazetteer)
    person_mentions, persons = find_persons(texts, hits, gazetteer)
    originals = dict(texts)
    mentions = list(person_mentions)
    for seq, seq_hits in hits.items():
        taken = [m for m in person_mentions if m.seq == seq]
        for hit in seq_hits:
            if hit.actor_id.startswith("person:") or any(m.start < hit.end and hit.start < m.end for m in taken):
                continue  # a person's name is never also a country's or an organisation's
            mentions.append(ActorMention(seq, hit.start, hit.end, originals[seq][hit.start : hit.end], hit.actor_id))
    mentions.sort(key=lambda m: (m.seq, m.start))
    by_id = {a.actor_id: a for a in persons}
    actors: dict[str, Actor] = {}
    for mention in mentions:
        if mention.actor_id not in actors:
            actors[mention.actor_id] = by_id.get(mention.actor_id) or gazetteer.actors[mention.actor_id]
    return ActorFindings(actors=list(actors.values()), mentions=mentions)


def _drop_out_of_context(hits: dict[int, list[Hit]], gazetteer: Gazetteer) -> None:
    """"the Coalition" is the Global Coalition only in a note that names the Global Coalition."""
    named = {h.actor_id for seq_hits in hits.values() for h in seq_hits if h.surface.how != CONTEXT}
    for seq, seq_hits in hits.items():
        hits[seq] = [
            h for h in seq_hits
            if h.surface.how != CONTEXT or gazetteer.context_requires.get(h.actor_id, frozenset()) & named
        ]
