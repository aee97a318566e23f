"""The actor gazetteer: config/gazetteer.toml plus every ISO 3166 country, compiled for matching.

Loading checks the data (known kinds, unique ids, existing parents, no surface naming two actors)
and raises ConfigError on a mistake, so a bad edit fails the first test that loads it.
"""

from __future__ import annotations

import importlib.resources
import logging
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import ahocorasick
import pycountry

from statenotes.extractors.errors import ConfigError
from statenotes.transforms.gazetteer_rules import (
    AmbiguousName,
    GovernmentBody,
    GovernmentPhrases,
    PersonRules,
    ambiguous_names,
    government_bodies,
    government_phrases,
    person_rules,
)
from statenotes.transforms.records import Actor
from statenotes.transforms.textforms import ascii_variant, fold, normalise

log = logging.getLogger(__name__)

CONFIG_PACKAGE = "statenotes.config"
CONFIG_FILE = "gazetteer.toml"
KINDS = frozenset({"country", "organization", "group", "government", "region", "person"})
ACTOR_KEYS = frozenset(
    {"id", "name", "kind", "iso3", "parent", "aliases", "context_aliases", "context_requires", "roles"}
)
COUNTRY_KEYS = frozenset({"name", "aliases", "demonyms", "article", "drop"})

# How a surface names its actor (Surface.how).
ALIAS = "alias"
DEMONYM = "demonym"
CONTEXT = "context"  # counts only in a note that names the actor through an ordinary alias
BLOCKER = "blocker"  # a place named after an actor: wins overlaps, yields nothing

@dataclass(frozen=True, slots=True)
class Surface:
    text: str  # normalised, capitals as written
    actor_id: str | None  # None for a blocker
    how: str


@dataclass(slots=True)
class Gazetteer:
    actors: dict[str, Actor]
    surfaces: list[Surface]
    exact: ahocorasick.Automaton  # surfaces without lower-case letters, over the normalised text
    folded: ahocorasick.Automaton  # the others, over the normalised, lower-cased text
    surface_texts: frozenset[str]
    context_requires: dict[str, frozenset[str]]
    ambiguous: dict[str, AmbiguousName]
    governments: GovernmentPhrases
    bodies: tuple[GovernmentBody, ...]
    persons: PersonRules
    function_words: frozenset[str]
    us_state_before: re.Pattern[str]
    us_state_after: re.Pattern[str]
    person_aliases: dict[str, str]  # folded printed name -> person id
    person_surnames: dict[str, tuple[str, ...]]  # folded surname -> person ids
    person_roles: dict[str, frozenset[str]]  # person id -> title heads that tell namesakes apart


def read_gazetteer(path: Path | None = None) -> Gazetteer:
    """Read and compile the gazetteer at `path`, or the one bundled with statenotes."""
    if path is None:
        raw = importlib.resources.files(CONFIG_PACKAGE).joinpath(CONFIG_FILE).read_bytes()
        where = f"{CONFIG_PACKAGE}/{CONFIG_FILE}"
    else:
        raw, where = Path(path).read_bytes(), str(path)
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from exc
    try:
        return _compile(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def _compile(data: dict) -> Gazetteer:
    actors: dict[str, Actor] = {}
    surfaces: list[tuple[str, str | None, str]] = []
    context_requires: dict[str, frozenset[str]] = {}
    person_roles: dict[str, frozenset[str]] = {}

    def add_actor(actor: Actor) -> None:
        if actor.actor_id in actors:
            raise ValueError(f"actor id {actor.actor_id!r} defined twice")
        if actor.kind not in KINDS:
            raise ValueError(f"{actor.actor_id}: unknown kind {actor.kind!r}")
        actors[actor.actor_id] = actor

    for iso3, name, aliases, demonyms in _countries(data.get("country", {})):
        add_actor(Actor(iso3, name, "country", iso3, None, tuple(aliases + demonyms)))
        surfaces += [(a, iso3, ALIAS) for a in aliases] + [(d, iso3, DEMONYM) for d in demonyms]
    for entry in data.get("actor", []):
        if unknown := set(entry) - ACTOR_KEYS:
            raise ValueError(f"{entry.get('id')}: unknown keys {sorted(unknown)}")
        actor_id, aliases = entry["id"], list(entry.get("aliases", []))
        context = list(entry.get("context_aliases", []))
        add_actor(Actor(actor_id, entry["name"], entry["kind"], entry.get("iso3"),
                        entry.get("parent"), tuple(aliases + context)))
        surfaces += [(a, actor_id, ALIAS) for a in _with_ascii(aliases)]
        surfaces += [(a, actor_id, CONTEXT) for a in _with_ascii(context)]
        if context:
            context_requires[actor_id] = frozenset(entry.get("context_requires", [actor_id]))
        if entry.get("roles"):
            person_roles[actor_id] = frozenset(entry["roles"])
    articled = {code for code, o in data.get("country", {}).items() if o.get("article")}
    bodies = government_bodies(data.get("government_body", []))
    for actor in [a for a in actors.values() if a.kind == "country"]:
        gov_id = f"gov:{actor.actor_id}"
        the = "the " if actor.actor_id in articled else ""
        if gov_id not in actors:
            add_actor(Actor(gov_id, f"Government of {the}{actor.name}", "government",
                            actor.iso3, actor.actor_id))
        for body in bodies:
            if actor.actor_id not in body.skip:
                add_actor(Actor(f"{gov_id}-{body.slug}", f"{body.name} of {the}{actor.name}", "government",
                                actor.iso3, gov_id))
    surfaces += [(b, None, BLOCKER) for b in data.get("blockers", {}).get("surfaces", [])]
    for actor in actors.values():
        if actor.parent_id is not None and actor.parent_id not in actors:
            raise ValueError(f"{actor.actor_id}: parent {actor.parent_id!r} is not an actor")
    for actor_id, required in context_requires.items():
        if missing := required - set(actors):
            raise ValueError(f"{actor_id}: context_requires unknown ids {sorted(missing)}")

    table, exact, folded = _automata(surfaces)
    amb = data.get("ambiguity", {})
    states = "|".join(re.escape(s) for s in sorted(amb.get("us_states", []), key=len, reverse=True))
    persons = [a for a in actors.values() if a.kind == "person"]
    ambiguous = ambiguous_names(data.get("ambiguous", []), amb.get("languages", []), {s.text for s in table})
    return Gazetteer(
        actors=actors, surfaces=table, exact=exact, folded=folded,
        surface_texts=frozenset(s.text for s in table if s.actor_id is not None),
        context_requires=context_requires, ambiguous=ambiguous,
        governments=government_phrases(data["governments"]), bodies=bodies, persons=person_rules(data["persons"]),
        function_words=frozenset(amb.get("function_words", [])),
        us_state_before=re.compile(rf"(?:^|\W)(?:{states})(?:,|,? and|,? or) $"),
        us_state_after=re.compile(rf"^(?:,|,? and|,? or) (?:{states})(?!\w)"),
        person_aliases={fold(normalise(a)): p.actor_id for p in persons for a in p.aliases},
        person_surnames=_surnames(persons), person_roles=person_roles,
    )


def _countries(overrides: dict) -> list[tuple[str, str, list[str], list[str]]]:
    """(iso3, canonical name, aliases, demonyms) for every ISO 3166 country."""
    known = {c.alpha_3 for c in pycountry.countries}
    if unknown := set(overrides) - known:
        raise ValueError(f"[country] has codes pycountry does not know: {sorted(unknown)}")
    rows = []
    for c in pycountry.countries:
        o = overrides.get(c.alpha_3, {})
        if unknown := set(o) - COUNTRY_KEYS:
            raise ValueError(f"[country] {c.alpha_3}: unknown keys {sorted(unknown)}")
        # "Korea, Republic of" and "Sint Maarten (Dutch part)" are list entries, not prose.
        printed = [n.removeprefix("the ") for n in
                   (c.name, getattr(c, "official_name", None), getattr(c, "common_name", None))
                   if n and "," not in n and "(" not in n]
        name = o.get("name") or getattr(c, "common_name", None) or c.name
        drop = set(o.get("drop", []))
        aliases = [a for a in _with_ascii(printed + o.get("aliases", [])) if a not in drop]
        demonyms = [d for d in _with_ascii(o.get("demonyms", [])) if d not in drop]
        rows.append((c.alpha_3, name, aliases, demonyms))
    return rows


def _with_ascii(names: list[str]) -> list[str]:
    out = []
    for name in names + [ascii_variant(n) for n in names]:
        if name not in out:
            out.append(name)
    return out


def _automata(raw: list[tuple[str, str | None, str]]):
    """One Surface per distinct text, and the two automata that find them."""
    by_key: dict[str, Surface] = {}
    for text, actor_id, how in raw:
        surface = Surface(normalise(text), actor_id, how)
        exact = not any(c.islower() for c in surface.text)
        key = ("=" if exact else "~") + (surface.text if exact else fold(surface.text))
        seen = by_key.get(key)
        if seen is not None and seen.actor_id != actor_id:
            raise ValueError(f"surface {text!r} names both {seen.actor_id} and {actor_id}")
        # Of two spellings that fold alike, keep the one with fewer capitals: it accepts both.
        if seen is None or sum(map(str.isupper, surface.text)) < sum(map(str.isupper, seen.text)):
            by_key[key] = surface
    table = list(by_key.values())
    exact_ac, folded_ac = ahocorasick.Automaton(), ahocorasick.Automaton()
    for index, (key, surface) in enumerate(by_key.items()):
        automaton = exact_ac if key[0] == "=" else folded_ac
        automaton.add_word(key[1:], (index, len(surface.text)))
    for automaton in (exact_ac, folded_ac):
        if len(automaton):
            automaton.make_automaton()
    return table, exact_ac, folded_ac


_NOT_SURNAME = re.compile(r"(?:[A-Z]\.)+|Jr\.?|Sr\.?|I{1,3}|IV", re.IGNORECASE)


def _surnames(persons: list[Actor]) -> dict[str, tuple[str, ...]]:
    index: dict[str, list[str]] = {}
    for person in persons:
        for alias in person.aliases:
            words = [w for w in normalise(alias).replace(",", " ").split() if not _NOT_SURNAME.fullmatch(w)]
            ids = index.setdefault(fold(words[-1]), [])
            if person.actor_id not in ids:
                ids.append(person.actor_id)
    return {k: tuple(v) for k, v in index.items()}
