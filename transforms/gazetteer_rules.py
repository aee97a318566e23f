"""The gazetteer's context rules, compiled from config/gazetteer.toml: when an ambiguous name is no
actor ([[ambiguous]], [ambiguity]), which phrases make a country its government or one of its
bodies ([governments], [[government_body]]), and how titles before persons' names read ([persons]).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from statenotes.transforms.textforms import fold, normalise

BODY_KEYS = frozenset({"slug", "name", "before", "after", "skip"})


@dataclass(frozen=True, slots=True)
class AmbiguousName:
    not_after: tuple[str, ...] = ()
    not_before: tuple[str, ...] = ()
    not_in_list_with_us_state: bool = False
    not_after_given_name: bool = False
    not_before_surname: bool = False
    language: bool = False  # also a language's name: dropped where it is used as one


@dataclass(frozen=True, slots=True)
class GovernmentPhrases:
    before: tuple[str, ...]
    after: tuple[str, ...]
    list_before: tuple[str, ...]
    list_separators: frozenset[str]


@dataclass(frozen=True, slots=True)
class GovernmentBody:
    """A body every country has ("Ministry of Foreign Affairs"), found by phrases around a country."""

    slug: str  # actor ids are gov:<iso3>-<slug>
    name: str  # actor names are "<name> of <country>"
    before: tuple[str, ...]  # folded, longest first
    after: tuple[str, ...]
    skip: frozenset[str]  # countries whose body has its own entry (the U.S. Department of State)


@dataclass(frozen=True, slots=True)
class PersonRules:
    title_re: re.Pattern[str]
    office_words: frozenset[str]
    particles: frozenset[str]
    not_names: frozenset[str]
    us_roles: tuple[str, ...]


def ambiguous_names(entries: list[dict], languages: list[str], texts: set[str]) -> dict[str, AmbiguousName]:
    """[[ambiguous]] rules by surface, with `language` set for the [ambiguity] languages."""
    rules = {}
    for entry in map(dict, entries):
        surface = normalise(entry.pop("surface"))
        if surface not in texts:
            raise ValueError(f"[[ambiguous]] {surface!r} is not a surface of any actor")
        rules[surface] = AmbiguousName(
            **{k: tuple(map(normalise, v)) if isinstance(v, list) else v for k, v in entry.items()})
    for surface in map(normalise, languages):
        if surface not in texts:
            raise ValueError(f"[ambiguity] languages: {surface!r} is not a surface of any actor")
        rules[surface] = dataclasses.replace(rules.get(surface, AmbiguousName()), language=True)
    return rules


def government_bodies(entries: list[dict]) -> tuple[GovernmentBody, ...]:
    def longest_first(phrases: list[str]) -> tuple[str, ...]:
        return tuple(sorted((fold(normalise(p)) for p in phrases), key=len, reverse=True))

    bodies = []
    for entry in entries:
        if unknown := set(entry) - BODY_KEYS:
            raise ValueError(f"[[government_body]] {entry.get('slug')}: unknown keys {sorted(unknown)}")
        bodies.append(GovernmentBody(entry["slug"], entry["name"], longest_first(entry.get("before", [])),
                                     longest_first(entry.get("after", [])), frozenset(entry.get("skip", []))))
    return tuple(bodies)


def government_phrases(data: dict) -> GovernmentPhrases:
    return GovernmentPhrases(
        before=tuple(fold(p) for p in data["before"]), after=tuple(fold(p) for p in data["after"]),
        list_before=tuple(fold(p) for p in data["list_before"]),
        list_separators=frozenset(fold(p) for p in data["list_separators"]),
    )


def person_rules(data: dict) -> PersonRules:
    def alternation(words: list[str]) -> str:
        return "|".join(re.escape(normalise(w)) for w in sorted(words, key=len, reverse=True))

    title = rf"(?<![\w'-])(?:(?:{alternation(data['modifiers'])}) )*(?:{alternation(data['heads'])})(?![\w'-])"
    return PersonRules(
        title_re=re.compile(title), office_words=frozenset(map(normalise, data["office_words"])),
        particles=frozenset(data["name_particles"]), not_names=frozenset(data["not_names"]),
        us_roles=tuple(data["us_roles"]),
    )
