"""Titles before names: "Under Secretary of State for Political Affairs Thomas A. Shannon".

A title is any of the gazetteer's [persons] modifiers followed by a head ("Vice Foreign
Minister"), then optionally an "of/for/to ..." complement made of office words, connectors and
other actors' names ("for Civilian Security, Democracy, and Human Rights", "to the UN
Secretary-General"). The run of capitalised words after the last office word is the name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from statenotes.transforms.gazetteer import Gazetteer
from statenotes.transforms.gazetteer_rules import PersonRules
from statenotes.transforms.surfaces import Hit

CONNECTORS = frozenset({"of", "for", "to", "the", "and", "&", "on"})
MAX_TITLE_ITEMS = 30  # words in a title's complement plus the name; longer runs are prose
MAX_NAME_WORDS = 6
INITIAL = re.compile(r"(?:[A-Z]\.)+")
_WORD = re.compile(r"[^\s,;:()\[\]\"“”!?/]+")
_ACRONYM = re.compile(r"\([A-Z][A-Z0-9&.-]{1,11}\)")


@dataclass(slots=True)
class Item:
    kind: str  # conn / comma / paren / office / hit / name / particle
    start: int
    end: int
    word: str


def find_titles(norm: str, others: list[Hit], gaz: Gazetteer):
    """(role start, role end, name items) for every title in `norm`; name items may be empty."""
    resume = 0
    for match in gaz.persons.title_re.finditer(norm):
        if match.start() < resume or any(h.start <= match.start() < h.end for h in others):
            continue
        items = _items(norm, match.end(), others, gaz)
        role_end, name = _split(items, match.end(), norm, gaz.persons)
        resume = name[-1].end if name else role_end
        yield match.start(), role_end, name


def _items(norm: str, pos: int, others: list[Hit], gaz: Gazetteer) -> list[Item]:
    rules, items = gaz.persons, []
    while len(items) < MAX_TITLE_ITEMS:
        while pos < len(norm) and norm[pos] == " ":
            pos += 1
        if pos >= len(norm):
            break
        if norm[pos] == ",":
            items.append(Item("comma", pos, pos + 1, ","))
            pos += 1
            continue
        if norm[pos] == "(":
            paren = _ACRONYM.match(norm, pos)
            if paren is None:
                break
            items.append(Item("paren", pos, paren.end(), paren.group()))
            pos = paren.end()
            continue
        match = _WORD.match(norm, pos)
        if match is None:
            break
        start, end, word, last = match.start(), match.end(), match.group(), False
        for tail in ("'s", "'") if word not in rules.office_words else ():  # a possessive ends the
            if word.endswith(tail) and len(word) > len(tail):  # title or the name ("Women's" does not)
                word, end, last = word[: -len(tail)], end - len(tail), True
                break
        if word.endswith(".") and not INITIAL.fullmatch(word) and "." not in word[:-1]:
            word, end, last = word[:-1], end - 1, True
        kind = _classify(word, start, end, others, rules)
        if kind is None:
            break
        if items and items[0].kind == "conn" and rules.title_re.match(norm, start):
            # "the Secretary-General of the United Nations and UN Secretary-General António
            # Guterres": after "and", a new title starts; a complement never holds two.
            ands = [n for n, item in enumerate(items) if item.word == "and"]
            if ands:
                del items[ands[-1]:]
                break
        items.append(Item(kind, start, end, word))
        pos = match.end()
        if last:
            break
    return items


def _classify(word: str, start: int, end: int, others: list[Hit], rules: PersonRules) -> str | None:
    if word in CONNECTORS:
        return "conn"
    if any(h.start < end and start < h.end for h in others):
        return "hit"
    if word in rules.office_words or word[:1].isdigit():
        return "office"
    if word in rules.particles:
        return "particle"
    if word[:1].isupper() and word not in rules.not_names:
        return "name"
    lead = word.split("-", 1)
    if len(lead) == 2 and lead[0] in rules.particles and lead[1][:1].isupper():
        return "name"  # "al-Sarraj"
    return None


def _split(items: list[Item], head_end: int, norm: str, rules: PersonRules) -> tuple[int, list[Item]]:
    """Where the title ends and which items are the name."""
    role_end, i = head_end, 0
    after_office = True  # right after the head, or after an office word
    complement = bool(items) and items[0].kind == "conn"
    while i < len(items):
        kind = items[i].kind
        if kind in ("office", "hit"):
            role_end, after_office, i = items[i].end, True, i + 1
            continue
        if kind in ("conn", "comma", "paren"):
            after_office = after_office and kind != "conn"
            i += 1
            continue
        j = i
        while j < len(items) and items[j].kind in ("name", "particle"):
            j += 1
        following = items[j].kind if j < len(items) else None
        # A run before an office word, or one word after "of/for/and", belongs to the complement.
        if complement and (following in ("office", "hit") or (not after_office and j - i == 1 and following == "conn")):
            after_office, i = False, j
            continue
        run, role_end = _after_second_title(items[i:j], role_end, norm, rules)
        return role_end, _name(run)
    return role_end, []


def _after_second_title(run: list[Item], role_end: int, norm: str, rules: PersonRules) -> tuple[list[Item], int]:
    """"Special Envoy for the Horn of Africa Ambassador David Satterfield": a second title before the
    name is an honorific, not part of the name; the words before it end the role ("Special
    Representative for Syria Engagement Ambassador James Jeffrey")."""
    for k in range(len(run) - 1, -1, -1):
        title = rules.title_re.match(norm, run[k].start)
        rest = [item for item in run[k:] if item.start >= title.end()] if title else []
        if rest and name_words(rest):  # "Ambassador Robert King": a head that ends the run is a name
            return rest, run[k - 1].end if k else role_end
    return run, role_end


def _name(run: list[Item]) -> list[Item]:
    while run and run[-1].kind == "particle":
        run = run[:-1]
    if not run or run[0].kind == "particle" or len(run) > MAX_NAME_WORDS or not name_words(run):
        return []
    if INITIAL.fullmatch(run[-1].word):
        return []
    return run


def name_words(name: list[Item]) -> list[str]:
    """The name's words without initials ("Thomas A. Shannon" -> Thomas, Shannon)."""
    return [i.word for i in name if i.kind == "name" and not INITIAL.fullmatch(i.word)]
