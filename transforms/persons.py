"""Persons, first pass: titled names, known persons, and later short references in the same note.

"Secretary of State Mike Pompeo" -> person Mike Pompeo, role "Secretary of State", country USA.
transforms/titles.py reads the titles; here the names after them become persons (a known one from
the gazetteer, one already named in the note, or a new `person:<slug>`), "Secretary Pompeo" later
in the note is the same person, and each gets a country from the words around its title.
Headlines capitalise every word, so a name there must be one the note or the gazetteer knows.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field

from statenotes.transforms.gazetteer import Gazetteer
from statenotes.transforms.textforms import ascii_variant, fold, normalise
from statenotes.transforms.records import Actor, ActorMention
from statenotes.transforms.surfaces import Hit
from statenotes.transforms.titles import INITIAL, Item, find_titles, name_words

TITLE_SEQ = -1
# Text between a country (or body) mention and a title that still ties them together:
# "Iraqi Foreign Minister", "Israel's Minister", "U.S. Columbia River Treaty Negotiator",
# "the new Iraqi government, headed by Prime Minister".
_TIED_BEFORE = re.compile(r"(?:'s?)?\s*|\s+(?:[A-Z][\w.'-]*\s+){1,4}|,?\s+(?:headed|led|chaired) by\s+")
# ... and between a name and a country after it: "Lee Taeho of the Republic of Korea",
# "Mohamed Ali Alhakim as the senior-most representative of the new Iraqi government".
_TIED_AFTER = re.compile(r"\s+of\s+(?:the\s+)?|,?\s+as\s+[^,;.()]{0,60}?\s+of\s+(?:the\s+)?(?:new\s+)?")
_OF = re.compile(r" of (?:the )?$")
_APPOSITIVE = re.compile(r",\s+(?:the\s+)?")
_ROLE_END = re.compile(r",|;|\.(?:\s|$)|\s\(|$")
# A name introduced before its title ("accompanied by Brett McGurk, Special Presidential Envoy ...,
# and Joseph Pennington, Deputy Assistant Secretary ..."): two to five name words (capitalised,
# initials, lower-case particles inside), after a word that joins it to the sentence, then ", " and
# a title. Not at a sentence start: "In Washington, Secretary X met ..." is no person.
_NAME_WORD = r"(?:[A-Z][\w'’-]*[a-z\u00C0-\u024F][\w'’-]*|[A-Z]\.)"
_PARTICLE = r"(?:de|da|del|della|der|di|du|la|le|van|von|bin|ibn|al|el)"
_APPOSED_NAME = re.compile(
    rf"(?:(?<=, )|(?<=; )|(?<=: )|(?<=\()|(?<=\band )|(?<=\bby )|(?<=\bwith )|(?<=\binclude )"
    rf"|(?<=\bincludes )|(?<=\bincluding ))"
    rf"({_NAME_WORD}(?: (?:{_PARTICLE} ){{0,2}}{_NAME_WORD}){{1,4}})(?=, )")


@dataclass(slots=True)
class _Mention:
    seq: int
    start: int
    end: int
    person_id: str
    role: str | None = None
    role_start: int | None = None


@dataclass(slots=True)
class _Person:
    name: str
    iso3: str | None
    printed: list[str] = field(default_factory=list)  # names as printed, first first
    surfaces: set[str] = field(default_factory=set)  # the same, folded
    words: set[str] = field(default_factory=set)  # folded name words, for "Secretary Pompeo"


def find_persons(
    texts: list[tuple[int, str]], hits: dict[int, list[Hit]], gaz: Gazetteer
) -> tuple[list[ActorMention], list[Actor]]:
    """Person mentions and person actors in a note (seq -1 is its title)."""
    people: dict[str, _Person] = {}
    mentions: list[_Mention] = []
    pending: list[tuple[int, int, str, list[Item]]] = []
    originals = dict(texts)
    norms = {seq: normalise(text) for seq, text in texts}
    for seq, norm in norms.items():
        for hit in hits.get(seq, []):
            if hit.actor_id.startswith("person:"):
                _register(people, gaz, hit.actor_id, originals[seq][hit.start : hit.end])
                mentions.append(_Mention(seq, hit.start, hit.end, hit.actor_id))
    for seq, norm in sorted(norms.items(), key=lambda s: s[0] == TITLE_SEQ):
        others = [h for h in hits.get(seq, []) if not h.actor_id.startswith("person:")]
        for role_start, role_end, name in find_titles(norm, others, gaz):
            role = originals[seq][role_start:role_end]
            known = next((m for m in mentions if m.seq == seq and name and m.start < name[-1].end
                          and name[0].start < m.end), None)
            if known is not None:
                known.role, known.role_start = role, role_start
            elif len(name_words(name)) >= 2 and seq != TITLE_SEQ:
                start, end = name[0].start, name[-1].end
                person_id = _identify(people, gaz, originals[seq][start:end])
                mentions.append(_Mention(seq, start, end, person_id, role, role_start))
            elif name:
                pending.append((seq, role_start, role, name))
    for seq, role_start, role, name in pending:
        found = _resolve(people, gaz, name, role, allow_new=seq != TITLE_SEQ)
        if found is not None:
            person_id, count = found
            mentions.append(_Mention(seq, name[0].start, name[count - 1].end, person_id, role, role_start))
    for seq, norm in norms.items():
        if seq == TITLE_SEQ:
            continue
        others = [h for h in hits.get(seq, []) if not h.actor_id.startswith("person:")]
        for start, end in _apposed_names(norm, others, [m for m in mentions if m.seq == seq], gaz):
            mentions.append(_Mention(seq, start, end, _identify(people, gaz, originals[seq][start:end])))
    mentions += _repeats(people, norms, mentions)
    return _finish(people, mentions, texts, hits, norms, gaz)


def _apposed_names(norm: str, others: list[Hit], taken: list[_Mention], gaz: Gazetteer) -> list[tuple[int, int]]:
    """Spans of names followed by ", (the) Title": the title (read by `_finish`) says it is a person."""
    rules, found = gaz.persons, []
    for match in _APPOSED_NAME.finditer(norm):
        start, end = match.span(1)
        words = match.group(1).split()
        appositive = _APPOSITIVE.match(norm, end)
        if not rules.title_re.match(norm, appositive.end()):
            continue
        if any(w.rstrip(".") in rules.office_words or rules.title_re.fullmatch(w) for w in words):
            continue  # an office or a title ("Pacific Affairs, Ambassador ..."), not a name
        if any(h.start < end and start < h.end for h in others) or any(m.start < end and start < m.end for m in taken):
            continue  # a country, a body, or a person found already
        found.append((start, end))
    return found


def _register(people: dict[str, _Person], gaz: Gazetteer, person_id: str, printed: str) -> None:
    known = gaz.actors.get(person_id)
    person = people.setdefault(person_id, _Person(known.name if known else printed, known.iso3 if known else None))
    if printed not in person.printed:
        person.printed.append(printed)
    for surface in ([printed] + list(known.aliases if known else ())):
        person.surfaces.add(fold(normalise(surface)))
        person.words.update(fold(w) for w in normalise(surface).split() if not INITIAL.fullmatch(w))


def _identify(people: dict[str, _Person], gaz: Gazetteer, printed: str) -> str:
    """The id of a full name: a known person, one already in the note, or a new slug."""
    key = fold(normalise(printed))
    person_id = gaz.person_aliases.get(key)
    if person_id is None:
        words = [w for w in key.split() if not INITIAL.fullmatch(w.upper())]
        person_id = next((pid for pid, p in people.items() if key in p.surfaces
                          or _first_last(p.surfaces) & {(words[0], words[-1])}
                          or any(_ends_with(s, key) or _ends_with(key, s) for s in p.surfaces)), None)
    if person_id is None:
        person_id = _slug(printed)
    _register(people, gaz, person_id, printed)
    return person_id


def _slug(printed: str) -> str:
    words = [w for w in fold(normalise(printed)).split() if not INITIAL.fullmatch(w.upper())]
    return "person:" + re.sub(r"[^a-z0-9]+", "-", ascii_variant(" ".join(words))).strip("-")


def _by_fullest_name(people: dict[str, _Person], mentions: list[_Mention], gaz: Gazetteer) -> None:
    """A person the gazetteer does not know takes the id and name of their fullest printed name,
    wherever in the note it comes ("President López Obrador ... Andrés Manuel López Obrador")."""
    for person_id in [pid for pid in people if pid not in gaz.actors]:
        fullest = max(people[person_id].printed, key=lambda name: len(name.split()))
        new_id = _slug(fullest)
        if new_id != person_id and new_id not in people:
            people[new_id] = people.pop(person_id)
            people[new_id].name = fullest
            for mention in mentions:
                if mention.person_id == person_id:
                    mention.person_id = new_id


def _ends_with(longer: str, shorter: str) -> bool:
    """"andrés manuel lópez obrador" ends with "lópez obrador": a two-word surname is the same person."""
    return " " in shorter and longer.endswith(" " + shorter)


def _first_last(surfaces: set[str]) -> set[tuple[str, str]]:
    pairs = set()
    for surface in surfaces:
        words = [w for w in surface.split() if not INITIAL.fullmatch(w.upper())]
        if len(words) >= 2:
            pairs.add((words[0], words[-1]))
    return pairs


def _resolve(
    people: dict[str, _Person], gaz: Gazetteer, name: list[Item], role: str, allow_new: bool
) -> tuple[str, int] | None:
    """(person id, items used) for a short or headline name; None when nobody fits."""
    head = role.split()[-1] if role else ""
    for count in range(len(name), 0, -1):
        printed = " ".join(i.word for i in name[:count])
        key = fold(printed)
        if count > 1:
            person_id = gaz.person_aliases.get(key) or next(
                (pid for pid, p in people.items() if key in p.surfaces), None)
        else:
            # Known namesakes told apart by the title ("President Trump", "First Lady Trump")
            # first, then the note's own persons, then a known person of that surname.
            known = gaz.person_surnames.get(key, ())
            ids = [pid for pid in known if head in gaz.person_roles.get(pid, ())] if len(known) > 1 else []
            ids = ids or [pid for pid, p in people.items() if key in p.words] or list(known)
            person_id = ids[0] if len(ids) == 1 else None
        if person_id is not None:
            if person_id not in people:  # a known person, first named here by surname
                _register(people, gaz, person_id, gaz.actors[person_id].name)
            return person_id, count
    if allow_new and len(name) == 1:
        return _identify(people, gaz, name[0].word), 1
    return None


def _repeats(people: dict[str, _Person], norms: dict[int, str], mentions: list[_Mention]) -> list[_Mention]:
    """Full names of the note's persons printed again without a title."""
    owner = {s: pid for pid, p in people.items() for s in p.surfaces if " " in s}
    if not owner:
        return []
    names = "|".join(re.escape(s) for s in sorted(owner, key=len, reverse=True))
    pattern = re.compile(rf"(?<!\w)(?:{names})(?!\w)")
    found: list[_Mention] = []
    for seq, norm in norms.items():
        taken = [m for m in mentions if m.seq == seq]
        for match in pattern.finditer(fold(norm)):
            if not any(m.start < match.end() and match.start() < m.end for m in taken):
                found.append(_Mention(seq, match.start(), match.end(), owner[match.group()]))
    return found


def _finish(
    people: dict[str, _Person], mentions: list[_Mention], texts: list[tuple[int, str]],
    hits: dict[int, list[Hit]], norms: dict[int, str], gaz: Gazetteer,
) -> tuple[list[ActorMention], list[Actor]]:
    """Mentions with roles, and persons with the first country their titles tell."""
    _by_fullest_name(people, mentions, gaz)
    originals = dict(texts)
    out, iso3 = [], {pid: p.iso3 for pid, p in people.items()}
    for m in sorted(mentions, key=lambda m: (m.seq, m.start)):
        norm, others = norms[m.seq], [h for h in hits.get(m.seq, []) if not h.actor_id.startswith("person:")]
        roles = [m.role] if m.role else []
        country = None
        if m.role_start is not None:
            country = _country_before(m.role_start, norm, others, gaz)
            country = country or _country_within(m.role_start, m.role_start + len(m.role), norm, others, gaz)
        country = country or _country_after(m.end, norm, others, gaz)
        appositive = _APPOSITIVE.match(norm, m.end)
        if appositive:
            at = appositive.end()
            lead = next((h for h in others if h.start == at), None)
            if lead is not None:
                country = country or gaz.actors[lead.actor_id].iso3
                at = lead.end + 1
            title = gaz.persons.title_re.match(norm, at)
            if title:
                role = originals[m.seq][title.start() : _ROLE_END.search(norm, title.end()).start()]
                roles.append(role)
                m.role = m.role or role
        roles = [r.removeprefix("Acting ") for r in roles]
        if country is None and any(fnmatch.fnmatchcase(r, p) for r in roles for p in gaz.persons.us_roles):
            country = "USA"
        if iso3.get(m.person_id) is None and country is not None:
            iso3[m.person_id] = country
        out.append(ActorMention(m.seq, m.start, m.end, originals[m.seq][m.start : m.end], m.person_id, m.role))
    actors = []
    for pid, person in people.items():
        known = gaz.actors.get(pid)
        aliases = known.aliases if known else tuple(person.printed)
        if any(m.actor_id == pid for m in out):
            actors.append(Actor(pid, person.name, "person", iso3[pid], None, aliases))
    return out, actors


def _country_before(role_start: int, norm: str, others: list[Hit], gaz: Gazetteer) -> str | None:
    before = [h for h in others if h.end <= role_start]
    if before and _TIED_BEFORE.fullmatch(norm, before[-1].end, role_start):
        return gaz.actors[before[-1].actor_id].iso3
    return None


def _country_within(role_start: int, role_end: int, norm: str, others: list[Hit], gaz: Gazetteer) -> str | None:
    """"President of Ghana", "Ambassador of Japan to the United States": the first "of" country."""
    for hit in others:
        if role_start <= hit.start < role_end and _OF.search(norm, role_start, hit.start):
            return gaz.actors[hit.actor_id].iso3
    return None


def _country_after(name_end: int, norm: str, others: list[Hit], gaz: Gazetteer) -> str | None:
    after = [h for h in others if h.start >= name_end]
    if after and _TIED_AFTER.fullmatch(norm, name_end, after[0].start):
        return gaz.actors[after[0].actor_id].iso3
    return None
