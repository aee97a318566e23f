"""The pages of the extraction evaluation, what each should yield, and how statenotes' output is
scored against it (used by extraction_eval.py and tests/test_extraction_eval.py).

Every corpus note is rendered by the offline mirror in every layout (the five places of
`mirror.hosts` and the REST item) and every markup variant (`mirror.body.VARIANTS`, each once
plain and once with the additions: a heading, a table and a closing line). The expected output is
derived from the note JSON and the variant's choices alone, never from the parser.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date

from statenotes.extractors.errors import ParseError
from statenotes.extractors.parse import parse_generic, parse_note
from statenotes.extractors.records import site_for
from statenotes.extractors.rest import parse_rest_item
from statenotes.mirror import wpjson
from statenotes.mirror.body import ADDED_CLOSING, ADDED_HEADING, ADDED_TABLE, VARIANTS, Variant, format_long_date
from statenotes.mirror.hosts import PLACES, relocated, slug_of
from statenotes.mirror.redesign import REDESIGNS, render_redesigned_page
from statenotes.mirror.notes import country_tags, modified_at, published_at
from statenotes.mirror.site import load_sample_notes, note_body_html, page_url, post_id, render_note_page
from statenotes.transforms.paragraphs import normalise_body

BASE_URL = "http://127.0.0.1:8765"
REST_LAYOUT = "wp-json"
LAYOUTS = PLACES + (REST_LAYOUT,)
HTML_TYPE = "text/html; charset=UTF-8"
EVAL_VARIANTS: tuple[Variant, ...] = VARIANTS + tuple(dataclasses.replace(v, additions=True) for v in VARIANTS)

PARSER_LAYOUT = {"2009-2017": "drupal", REST_LAYOUT: "wp-json"}
SITE = {"www-releases": "www", REST_LAYOUT: "www"}
# Fields a layout carries (the others it cannot give: a Drupal page has no tags or modified time,
# a REST item no release type, office or tags).
COMMON_FIELDS = ("title", "published_date", "dateline_place", "dateline_date", "quoted_text", "site", "layout",
                 "canonical_url")
LAYOUT_FIELDS = {"2009-2017": COMMON_FIELDS + ("release_type", "office"),
                 REST_LAYOUT: COMMON_FIELDS + ("modified_at",)}
WORDPRESS_FIELDS = COMMON_FIELDS + ("release_type", "office", "modified_at", "tags")

MARKER = re.compile(r"^(begin|end) text[:.]?$", re.IGNORECASE)
NUMBERED = re.compile(r"^(\d+)\. (.*)$")
BULLET = re.compile(r"^• ?(.*)$")
WORD = re.compile(r"\w+")
PLAIN = None  # expected kind of a plain paragraph: "lead" if first, else "body" or "closing"
PLAIN_LATER = frozenset({"body", "closing"})


@dataclass(frozen=True, slots=True)
class Expected:
    fields: dict[str, object]
    rows: tuple[tuple[str | None, str | None, str], ...]  # (label, kind or PLAIN, text)
    printed: str  # the body as a reader sees it: dateline, markers, numbers and bullets included


@dataclass(frozen=True, slots=True)
class Case:
    note: str  # the note's slug
    layout: str
    variant: int  # index into EVAL_VARIANTS
    url: str
    payload: bytes  # the page, or the REST item as JSON
    expected: Expected


def tokens(text: str) -> list[str]:
    return WORD.findall(text.lower())


def _additions() -> list[tuple[str | None, str | None, str]]:
    return [(None, "heading", ADDED_HEADING)] + [(None, "table_row", " | ".join(row)) for row in ADDED_TABLE]


def expected_body(note: dict, variant: Variant) -> tuple[list, tuple[bool, int | None, int | None], list[str]]:
    """(rows, (has_quoted_text, start, end), printed lines) for the note in `variant`."""
    rows, printed, start, end, inside = [], [], None, None, False
    added = not variant.additions
    for raw in note["body_lines"]:
        line = " ".join(raw.split())
        printed.append(line)
        if MARKER.match(line):
            inside = line.lower().startswith("begin")
            if inside and start is None:
                start = len(rows)
            elif not inside:
                start, end = (0 if start is None else start), len(rows)
            continue
        if match := NUMBERED.match(line):
            rows.append((match.group(1), "numbered", match.group(2)))
        elif match := BULLET.match(line):
            rows.append((None, "list_item", match.group(1)))
        else:
            rows.append((None, "quote" if inside and variant.quote == "blockquote" else PLAIN, line))
            if not added and not inside:
                rows += _additions()
                added = True
    if not added:
        rows += _additions()
    if variant.additions:
        rows.append((None, "closing", ADDED_CLOSING))
        printed += [ADDED_HEADING, *(" ".join(row) for row in ADDED_TABLE), ADDED_CLOSING]
    if start is not None and end is None:
        end = len(rows)
    return rows, (start is not None, start, end), printed


def _expected(note: dict, moved: dict, layout: str, variant: Variant, url: str) -> Expected:
    rows, quoted, printed = expected_body(note, variant)
    dateline = [note["dateline_place"], format_long_date(date.fromisoformat(note["dateline_date"]))] \
        if note.get("dateline_place") else []
    values = {
        "title": note["title"], "release_type": note["release_type"], "office": note["office"],
        "published_date": date.fromisoformat(note["published_date"]), "modified_at": modified_at(moved),
        "dateline_place": note["dateline_place"],
        "dateline_date": date.fromisoformat(note["dateline_date"]) if note["dateline_date"] else None,
        "tags": [label for label, _ in country_tags(note)] + [note["office"]], "quoted_text": quoted,
        "site": SITE.get(layout, layout), "layout": PARSER_LAYOUT.get(layout, "wordpress"), "canonical_url": url,
    }
    names = LAYOUT_FIELDS.get(layout, WORDPRESS_FIELDS)
    return Expected({name: values[name] for name in names}, tuple(rows), "\n".join(dateline + printed))


def _rest_payload(note: dict, variant: Variant) -> tuple[str, bytes]:
    """The note's REST item as the mirror sends it (same body markup as its page in `variant`)."""
    link = page_url(note, BASE_URL)
    item = wpjson.rest_item(post_id=post_id(note), slug=slug_of(note), link=link, title=note["title"],
                            content_html=note_body_html(note, BASE_URL, variant), excerpt=" ".join(note["body_lines"]),
                            published=published_at(note), modified=modified_at(note), api_base=BASE_URL)
    return link, json.dumps(item).replace("/", "\\/").encode("utf-8")


def build_cases(variant_limit: int | None = None) -> list[Case]:
    """Every note x layout x variant (the first `variant_limit` variants of each half, if given)."""
    half = len(VARIANTS)
    chosen = [i for i in range(len(EVAL_VARIANTS)) if variant_limit is None or i % half < variant_limit]
    cases = []
    notes = load_sample_notes()
    for layout in LAYOUTS:
        # "Related Articles" on each page come from the same host, as on the real sites.
        related = [relocated(n, layout) for n in notes] if layout != REST_LAYOUT else notes
        for note, moved in zip(notes, related):
            for index in chosen:
                variant = EVAL_VARIANTS[index]
                if layout == REST_LAYOUT:
                    url, payload = _rest_payload(moved, variant)
                else:
                    url = page_url(moved, BASE_URL)
                    payload = render_note_page(moved, BASE_URL, variant, related=related).encode("utf-8")
                cases.append(Case(slug_of(note), layout, index, url, payload,
                                  _expected(note, moved, layout, variant, url)))
    return cases


# --- Scoring -------------------------------------------------------------------------------------

def f1(predicted: list[str], reference: list[str]) -> float:
    overlap = sum((Counter(predicted) & Counter(reference)).values())
    if not predicted or not reference or not overlap:
        return float(predicted == reference)
    precision, recall = overlap / len(predicted), overlap / len(reference)
    return 2 * precision * recall / (precision + recall)


def run_statenotes(case: Case):
    if case.layout == REST_LAYOUT:
        note = parse_rest_item(json.loads(case.payload))
    else:
        note = parse_note(case.payload, case.url, HTML_TYPE)
    return note, normalise_body(note.blocks)


def actual_fields(note, body) -> dict[str, object]:
    return {"title": note.title, "release_type": note.release_type, "office": note.office,
            "published_date": note.published_date, "modified_at": note.modified_at,
            "dateline_place": body.dateline_place, "dateline_date": body.dateline_date, "tags": note.tags,
            "quoted_text": (body.has_quoted_text, body.quoted_start_seq, body.quoted_end_seq),
            "site": site_for(note.url), "layout": note.layout, "canonical_url": note.canonical_url}


def paragraph_hits(rows, paragraphs) -> tuple[int, int, list[int]]:
    """(exact paragraphs, paragraphs counted, seqs that missed)."""
    first_plain = next((i for i, (_, kind, _) in enumerate(rows) if kind is PLAIN), None)
    misses = []
    for seq, (label, kind, text) in enumerate(rows):
        got = paragraphs[seq] if seq < len(paragraphs) else None
        kinds = {"lead"} if seq == first_plain else PLAIN_LATER if kind is PLAIN else {kind}
        if got is None or (got.label, got.text) != (label, text) or got.kind not in kinds:
            misses.append(seq)
    total = max(len(rows), len(paragraphs))
    misses += list(range(len(rows), len(paragraphs)))
    return total - len(misses), total, misses


# --- The generic fallback: redesigned pages (a) and agreement with the known layouts (b) ----------

REDESIGN_FIELDS = ("title", "release_type", "office", "published_date", "dateline_place", "dateline_date")
AGREEMENT_FIELDS = ("title", "release_type", "office", "published_date", "modified_at", "canonical_url",
                    "dateline_place", "dateline_date", "quoted_text")
# Compared and reported, not in the agreement figure: the fallback reads tags from metadata only
# (article:tag, JSON-LD keywords); today's pages print them as link pills, which it drops as widgets.
REPORTED_FIELDS = ("tags",)


def build_redesign_cases(variant_limit: int | None = None) -> list[Case]:
    """Every note x redesign (`mirror.redesign.REDESIGNS`) x body variant: the truth is the note's."""
    half = len(VARIANTS)
    chosen = [i for i in range(len(EVAL_VARIANTS)) if variant_limit is None or i % half < variant_limit]
    notes = load_sample_notes()
    cases = []
    for redesign in REDESIGNS:
        for note in notes:
            url = page_url(note, BASE_URL)
            for index in chosen:
                variant = EVAL_VARIANTS[index]
                payload = render_redesigned_page(note, BASE_URL, redesign, variant, related=notes).encode("utf-8")
                rows, quoted, _ = expected_body(note, variant)
                values = {"title": note["title"], "release_type": note["release_type"], "office": note["office"],
                          "published_date": date.fromisoformat(note["published_date"]),
                          "dateline_place": note["dateline_place"],
                          "dateline_date": date.fromisoformat(note["dateline_date"]) if note["dateline_date"] else None}
                cases.append(Case(slug_of(note), f"redesign:{redesign}", index, url, payload,
                                  Expected(values, tuple(rows), "")))
    return cases


def score_redesign(case: Case) -> dict:
    """Loaded or not (and why), and per field: right, wrong (a value that is not the truth) or
    missing (None where the truth has a value); paragraphs exact or not."""
    try:
        note, body = run_statenotes(case)
    except ParseError as error:
        return {"loaded": False, "reason": error.reason}
    got = actual_fields(note, body)
    wrong = [n for n, v in case.expected.fields.items() if got[n] is not None and got[n] != v]
    missing = [n for n, v in case.expected.fields.items() if got[n] is None and v is not None]
    hits, total, misses = paragraph_hits(case.expected.rows, body.paragraphs)
    # A paragraph loaded that is not the truth at its seq (an extra one included) is wrong; a
    # paragraph the truth has and the output lacks is missing.
    wrong_paragraphs = [seq for seq in misses if seq < len(body.paragraphs)]
    return {"loaded": True, "layout": note.layout, "wrong": wrong, "missing": missing,
            "para_hits": hits, "para_total": total, "para_misses": misses, "para_wrong": wrong_paragraphs}


def compare_fallback(case: Case) -> dict:
    """The generic fallback alone against the primary parser on a known-layout page: which fields
    and paragraphs agree. `declined` is the fallback's reason when it loads nothing."""
    primary, primary_body = run_statenotes(case)
    try:
        fallback = parse_generic(case.payload, case.url, HTML_TYPE)
    except ParseError as error:
        return {"declined": error.reason}
    fallback_body = normalise_body(fallback.blocks)
    want, got = actual_fields(primary, primary_body), actual_fields(fallback, fallback_body)
    fields = {name: want[name] == got[name] for name in AGREEMENT_FIELDS}
    reported = {name: want[name] == got[name] for name in REPORTED_FIELDS}
    paragraphs = [(p.label, p.kind, p.text) for p in primary_body.paragraphs]
    theirs = [(p.label, p.kind, p.text) for p in fallback_body.paragraphs]
    agreeing = sum(a == b for a, b in zip(paragraphs, theirs))
    return {"declined": None, "fields": fields, "reported": reported, "para_agree": agreeing, "para_total": max(len(paragraphs), len(theirs)),
            "differences": {name: (want[name], got[name]) for name, ok in fields.items() if not ok},
            "paragraph_diff": [(a, b) for a, b in zip(paragraphs, theirs) if a != b][:2]
            + ([("count", len(paragraphs), len(theirs))] if len(paragraphs) != len(theirs) else [])}
