"""Finding the gazetteer's surfaces in one text.

Aho-Corasick finds every candidate; then, in order: whole words only, capitals as the surface has
them, longest match wins, blockers and ambiguous names dropped, countries next to "government"
turned into governments (or their foreign ministries), and "ISIS/DAESH" merged into one mention.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from statenotes.transforms.gazetteer import BLOCKER, DEMONYM, Gazetteer, Surface
from statenotes.transforms.textforms import fold, normalise

# A capitalised word or an initial right before / after an ambiguous name ("Michael Jordan").
_WORD_BEFORE = re.compile(r"(?:^|[\s(])([A-Z][\w'-]*|[A-Z]\.) $")
_WORD_AFTER = re.compile(r" ([A-Z][\w'-]*)")
# How far back to look for a U.S. state in a list ("Alabama, Georgia").
US_STATE_LOOKBACK = 40
# A demonym used as a language's name: "Spanish-language media", "French-speaking", or after "in",
# "into", "speak"... as a list that ends the phrase ("in Spanish and French.", but not "in French
# territory" or "in Russian, Chinese, and Iranian exercises").
_LANGUAGE_NOUN = re.compile(
    r"[- ](?:languages?|speaking|speakers?|translations?|interpretation|interpreters?|subtitles|versions?"
    r"|text|editions?|lessons?|classes|courses?|teachers?|instruction|proficiency|fluency)(?![\w-])")
_LANGUAGE_VERB = re.compile(
    r"(?:^|\W)(?:in|into|speak|speaks|spoke|spoken|learn|learning|learned|teach|teaching|taught|study|"
    r"studying|studied)\s(?:[A-Z][\w-]*(?:,|,? and|,? or)\s)*$")
_LIST_ENDS = re.compile(r"(?:(?:,|,? and|,? or) [A-Z][\w-]*)*+(?![\w'-]| \w)")


@dataclass(slots=True)
class Hit:
    start: int
    end: int
    actor_id: str
    surface: Surface


def find_surfaces(text: str, gazetteer: Gazetteer, *, body: bool = True) -> list[Hit]:
    """Actor surfaces in `text`, in order, without overlaps. `body` is False for a note's title."""
    norm = normalise(text)
    low = fold(norm)
    candidates = []
    for end, (index, length) in gazetteer.exact.iter(norm) if len(gazetteer.exact) else ():
        start = end + 1 - length
        if _whole_word(norm, start, end + 1):
            candidates.append((start, end + 1, gazetteer.surfaces[index]))
    for end, (index, length) in gazetteer.folded.iter(low) if len(gazetteer.folded) else ():
        start, surface = end + 1 - length, gazetteer.surfaces[index]
        if _whole_word(norm, start, end + 1) and _capitals_kept(surface.text, norm, start):
            candidates.append((start, end + 1, surface))
    hits = [
        Hit(start, end, surface.actor_id, surface)
        for start, end, surface in _longest(candidates, len(norm))
        if surface.how != BLOCKER and _plausible(surface, norm, start, end, gazetteer, body)
    ]
    _governments(hits, low, gazetteer)
    return _merge_slashed(hits, norm)


def _whole_word(text: str, start: int, end: int) -> bool:
    return (start == 0 or not text[start - 1].isalnum()) and (end == len(text) or not text[end].isalnum())


def _capitals_kept(surface: str, text: str, start: int) -> bool:
    """The text may capitalise more than the surface ("The Coalition"), never less ("un")."""
    return all(text[start + i].isupper() for i, c in enumerate(surface) if c.isupper())


def _longest(candidates: list[tuple[int, int, Surface]], size: int) -> list[tuple[int, int, Surface]]:
    """Longest first, then leftmost; a candidate overlapping a kept one is dropped."""
    taken = bytearray(size)
    kept = []
    for start, end, surface in sorted(candidates, key=lambda c: (c[0] - c[1], c[0])):
        if not any(taken[start:end]):
            taken[start:end] = b"\x01" * (end - start)
            kept.append((start, end, surface))
    kept.sort(key=lambda c: c[0])
    return kept


def _plausible(surface: Surface, norm: str, start: int, end: int, gaz: Gazetteer, body: bool) -> bool:
    rule = gaz.ambiguous.get(surface.text)
    if rule is None:
        return True
    before, after = norm[:start], norm[end:]
    if any(before.endswith(p) for p in rule.not_after) or any(after.startswith(p) for p in rule.not_before):
        return False
    if rule.language and (_LANGUAGE_NOUN.match(norm, end) or (
            _LANGUAGE_VERB.search(before[-US_STATE_LOOKBACK:]) and _LIST_ENDS.match(norm, end))):
        return False
    if rule.not_in_list_with_us_state and (
        gaz.us_state_before.search(before[-US_STATE_LOOKBACK:]) or gaz.us_state_after.match(after)
    ):
        return False
    if body and rule.not_after_given_name:
        match = _WORD_BEFORE.search(before[-US_STATE_LOOKBACK:])
        if match and _could_be_name(match.group(1), gaz):
            return False
    if body and rule.not_before_surname:
        match = _WORD_AFTER.match(after)
        if match and _could_be_name(match.group(1), gaz):
            return False
    return True


def _could_be_name(word: str, gaz: Gazetteer) -> bool:
    return not (word in gaz.function_words or word in gaz.surface_texts or word in gaz.persons.office_words)


def _governments(hits: list[Hit], low: str, gaz: Gazetteer) -> None:
    """"Government of Iraq", "the Iraqi government", "the Governments of A, B, and C"."""
    phrases = gaz.governments
    listing = False
    previous: Hit | None = None
    for hit in hits:
        country = gaz.actors[hit.actor_id]
        if country.kind != "country":
            listing, previous = False, hit
            continue
        gov_id = f"gov:{country.actor_id}"
        before = low[: hit.start]
        if hit.surface.how != DEMONYM and any(before.endswith(p) for p in phrases.list_before):
            listing = True
            hit.actor_id = gov_id
        elif listing and previous is not None and low[previous.end : hit.start] in phrases.list_separators:
            hit.actor_id = gov_id
        else:
            listing = False
            if not _body(hit, low, gaz):
                lead = next((p for p in phrases.before if before.endswith(p)), None)
                if lead is not None and hit.surface.how != DEMONYM:
                    hit.start -= len(lead)
                    hit.actor_id = gov_id
                tail = _phrase_after(low, hit.end, phrases.after)
                if tail is not None:
                    hit.end += len(tail)
                    hit.actor_id = gov_id
        previous = hit


def _body(hit: Hit, low: str, gaz: Gazetteer) -> bool:
    """"the French Ministry of Foreign Affairs", "the Ministry of Foreign Affairs of Japan"."""
    for body in gaz.bodies:
        if hit.actor_id in body.skip:
            continue
        lead = None if hit.surface.how == DEMONYM else next(
            (p for p in body.before if low.endswith(p, 0, hit.start)), None)
        tail = _phrase_after(low, hit.end, body.after)
        if lead is not None or tail is not None:
            hit.start -= len(lead or "")
            hit.end += len(tail or "")
            hit.actor_id = f"gov:{hit.actor_id}-{body.slug}"
            return True
    return False


def _phrase_after(low: str, end: int, phrases: tuple[str, ...]) -> str | None:
    return next((p for p in phrases if low.startswith(p, end)
                 and (end + len(p) == len(low) or not low[end + len(p)].isalnum())), None)


def _merge_slashed(hits: list[Hit], norm: str) -> list[Hit]:
    """"ISIS/DAESH" names one actor once."""
    merged: list[Hit] = []
    for hit in hits:
        last = merged[-1] if merged else None
        if last is not None and last.actor_id == hit.actor_id and norm[last.end : hit.start] == "/":
            last.end = hit.end
        else:
            merged.append(hit)
    return merged
