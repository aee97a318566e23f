"""The statement body of a release page (`div.entry-content`) in the markup variants state.gov uses.

The real site is not uniform: older posts have bare `<p>`s, newer ones wrap each paragraph in
`div.wp-block-paragraph`; numbered paragraphs are text or an `<ol>`; datelines are split by `<br>`
or into two paragraphs. A `Variant` fixes one choice per dimension. Only boilerplate a parser may
drop is ever added to the body text (empty paragraphs, "# # #", a PDF link after the "# # #").
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import date
from html import escape
from itertools import combinations

from statenotes.mirror.notes import stable_hash

# Each dimension and its options; the first option of each is the plainest markup.
DIMENSIONS: dict[str, tuple] = {
    "wrap": (False, True),  # each <p> inside <div class="wp-block-paragraph">
    "dateline": ("br", "two_p", "strong_br", "one_line"),
    "numbered": ("text", "ol", "text_paren"),  # "1. ..." as text, an <ol> without the numbers, "1) ..."
    "bullets": ("text", "ul"),  # "• ..." kept as text, or a <ul>
    "markers": ("plain", "strong", "em", "upper"),  # "Begin Text:" / "End text." emphasis; "BEGIN TEXT:"
    "quote": ("p", "blockquote"),  # the text between the markers inside a <blockquote>
    "spacing": (False, True),  # &nbsp; and double spaces between some words
    "empties": (False, True),  # empty <p></p> / <p>&nbsp;</p> between blocks
    "ending": ("none", "hashes", "hashes_pdf"),  # "# # #", then a PDF link
}

MARKER_RE = re.compile(r"^(begin|end)\s+text\b", re.IGNORECASE)
NUMBERED_RE = re.compile(r"^(\d{1,3})\.\s+(.*)$", re.DOTALL)
BULLET_RE = re.compile(r"^[•·]\s*(.*)$", re.DOTALL)
NBSP_RATE = 0.04
DOUBLE_SPACE_RATE = 0.04
HASHES = "# # #"

# Additions (`Variant.additions`): markup the corpus notes lack, put into the body on request only,
# since they add text. A heading and a table after the first plain paragraph outside the quoted
# text (else after the last line), and a closing line at the end.
ADDED_HEADING = "Additional Information"
ADDED_TABLE = (("Office", "Contact"), ("Office of Press Relations", "PAPressDesk@state.gov"))
ADDED_CLOSING = "For press inquiries, please contact the Office of Press Relations at PAPressDesk@state.gov."


@dataclass(frozen=True, slots=True)
class Variant:
    """One combination of markup choices (see DIMENSIONS), with or without the additions."""

    wrap: bool
    dateline: str
    numbered: str
    bullets: str
    markers: str
    quote: str
    spacing: bool
    empties: bool
    ending: str
    additions: bool = False


def _pairwise_rows() -> tuple[Variant, ...]:
    """A covering array: every pair of options of any two dimensions occurs in some row.

    The full product has 864 combinations; covering all pairs takes ~15, which keeps
    "every note x every variant" tests fast while still exercising each interaction of two
    choices. Greedy and deterministic, so variant numbers are stable.
    """
    names = list(DIMENSIONS)
    sizes = [len(DIMENSIONS[n]) for n in names]
    uncovered = {
        (i, a, j, b)
        for i, j in combinations(range(len(names)), 2)
        for a in range(sizes[i])
        for b in range(sizes[j])
    }
    def pair(p: int, x: int, q: int, y: int) -> tuple[int, int, int, int]:
        return (p, x, q, y) if p < q else (q, y, p, x)

    rows = []
    while uncovered:
        i, a, j, b = min(uncovered)
        row: dict[int, int] = {i: a, j: b}
        for k in range(len(names)):
            if k not in row:
                gains = [sum(pair(k, v, m, row[m]) in uncovered for m in row) for v in range(sizes[k])]
                row[k] = gains.index(max(gains))
        uncovered -= {(p, row[p], q, row[q]) for p, q in combinations(range(len(names)), 2)}
        rows.append(Variant(**{names[k]: DIMENSIONS[names[k]][row[k]] for k in range(len(names))}))
    return tuple(rows)


VARIANTS: tuple[Variant, ...] = _pairwise_rows()
VARIANT_COUNT = len(VARIANTS)


def choose_variant(url: str, variant: int | Variant | None = None) -> Variant:
    """The variant to render: given, by index into VARIANTS, or (None) picked by the note's url."""
    if isinstance(variant, Variant):
        return variant
    index = stable_hash(url) % VARIANT_COUNT if variant is None else variant
    if not 0 <= index < VARIANT_COUNT:
        raise ValueError(f"variant must be in range({VARIANT_COUNT}), got {variant}")
    return VARIANTS[index]


def body_rng(url: str, variant: Variant) -> random.Random:
    """The dice for one note in one variant: the same page bytes on every run and every route."""
    return random.Random(f"{url}#{variant}")


def format_long_date(value: date) -> str:
    """'February 6, 2019' (no zero padding), as state.gov prints dates."""
    return f"{value:%B} {value.day}, {value.year}"


def _text(raw: str, variant: Variant, rng: random.Random) -> str:
    """Escape a line of text and, in the spacing variant, sprinkle &nbsp; and double spaces."""
    html = escape(raw, quote=False)
    if not variant.spacing:
        return html
    words = html.split(" ")
    out = [words[0]]
    for word in words[1:]:
        roll = rng.random()
        out.append("&nbsp;" if roll < NBSP_RATE else "  " if roll < NBSP_RATE + DOUBLE_SPACE_RATE else " ")
        out.append(word)
    if rng.random() < NBSP_RATE * 3:
        out.append("&nbsp;")  # a trailing non-breaking space, as editors leave them
    return "".join(out)


def _p(inner: str, variant: Variant) -> str:
    p = f"<p>{inner}</p>"
    return f'<div class="wp-block-paragraph">{p}</div>' if variant.wrap else p


def _dateline(place: str, when: str, variant: Variant) -> list[str]:
    place, when = escape(place, quote=False), escape(when, quote=False)
    if variant.dateline == "two_p":
        return [_p(place, variant), _p(when, variant)]
    if variant.dateline == "strong_br":
        return [_p(f"<strong>{place}</strong><br>{when}", variant)]
    if variant.dateline == "one_line":
        return [_p(f"{place}, {when}", variant)]
    return [_p(f"{place}<br>{when}", variant)]


def _marker(line: str, variant: Variant, rng: random.Random) -> str:
    if variant.markers == "upper":
        return _p(f"<b>{_text(line.upper(), variant, rng)}</b>", variant)
    if variant.markers in ("strong", "em"):
        tag = variant.markers
        return _p(f"<{tag}>{_text(line, variant, rng)}</{tag}>", variant)
    return _p(_text(line, variant, rng), variant)


def _additions_middle() -> list[str]:
    rows = "".join(
        "<tr>" + "".join(f"<{cell}>{escape(text, quote=False)}</{cell}>" for text in row) + "</tr>"
        for row, cell in zip(ADDED_TABLE, ["th"] + ["td"] * (len(ADDED_TABLE) - 1)))
    return [f"<h3>{escape(ADDED_HEADING, quote=False)}</h3>",
            f'<figure class="wp-block-table"><table><tbody>{rows}</tbody></table></figure>']


def _classify(line: str) -> tuple[str, int | None, str]:
    """(kind, number, text) for one body line: marker, numbered, bullet or paragraph."""
    if MARKER_RE.match(line):
        return "marker", None, line
    if m := NUMBERED_RE.match(line):
        return "numbered", int(m.group(1)), m.group(2)
    if m := BULLET_RE.match(line):
        return "bullet", None, m.group(1)
    return "p", None, line


def _list_blocks(items: list[tuple[int | None, str]], tag: str, variant: Variant, rng) -> list[str]:
    """One <ol>/<ul> per run; an <ol> restarts (with start=N) where the numbering jumps."""
    blocks, run, expected = [], [], None
    cls = ' class="wp-block-list"' if variant.wrap else ""

    def flush():
        if not run:
            return
        start = run[0][0]
        start_attr = f' start="{start}"' if tag == "ol" and start != 1 else ""
        lis = "".join(f"<li>{_text(text, variant, rng)}</li>" for _, text in run)
        blocks.append(f"<{tag}{cls}{start_attr}>{lis}</{tag}>")
        run.clear()

    for number, text in items:
        if tag == "ol" and expected is not None and number != expected:
            flush()
        run.append((number, text))
        expected = number + 1 if number is not None else None
    flush()
    return blocks


def render_body(note: dict, variant: Variant, rng: random.Random, pdf_url: str, *, dateline: bool = True) -> str:
    """The inner HTML of `div.entry-content` for a note's dateline and body_lines (`dateline=False`:
    a page that prints the dateline elsewhere)."""
    blocks: list[str] = []
    if dateline and note.get("dateline_place") and note.get("dateline_date"):
        when = format_long_date(date.fromisoformat(note["dateline_date"]))
        blocks.extend(_dateline(note["dateline_place"], when, variant))
    body_start = len(blocks)

    quoted: list[str] | None = None  # collecting the <blockquote> (quote variant, between markers)
    inside = False  # between "Begin Text:" and "End Text", whatever the markup
    pending: list[tuple[int | None, str]] = []
    pending_kind = None
    added = not variant.additions

    def out() -> list[str]:
        return blocks if quoted is None else quoted

    def flush_list():
        nonlocal pending_kind
        if pending:
            out().extend(_list_blocks(pending, "ol" if pending_kind == "numbered" else "ul", variant, rng))
            pending.clear()
        pending_kind = None

    def close_quote():
        nonlocal quoted
        if quoted is not None:
            blocks.append("<blockquote>" + "\n".join(quoted) + "</blockquote>")
            quoted = None

    for line in note["body_lines"]:
        kind, number, text = _classify(line)
        as_list = (kind == "numbered" and variant.numbered == "ol") or (kind == "bullet" and variant.bullets == "ul")
        if as_list:
            if pending_kind not in (None, kind):
                flush_list()
            pending_kind = kind
            pending.append((number, text))
            continue
        flush_list()
        if kind == "marker":
            inside = line.lower().startswith("begin")
            if not inside:
                close_quote()
            blocks.append(_marker(line, variant, rng))
            if inside and variant.quote == "blockquote":
                quoted = []
        elif kind == "numbered" and variant.numbered == "text_paren":
            out().append(_p(_text(f"{number}) {text}", variant, rng), variant))
        else:
            out().append(_p(_text(line, variant, rng), variant))
            if not added and kind == "p" and not inside:
                blocks.extend(_additions_middle())
                added = True
    flush_list()
    close_quote()
    if not added:
        blocks.extend(_additions_middle())
    if variant.additions:
        blocks.append(_p(escape(ADDED_CLOSING, quote=False), variant))

    if variant.empties:  # never inside the dateline: "place, empty, date" is not how pages look
        for _ in range(rng.randint(1, 2)):
            blocks.insert(rng.randint(max(1, body_start), len(blocks)), rng.choice(("<p></p>", "<p>&nbsp;</p>")))
    if variant.ending != "none":
        blocks.append(_p(HASHES, variant))
    if variant.ending == "hashes_pdf":
        title = escape(note["title"], quote=False)
        blocks.append(_p(f'<a class="external-link__pdf" href="{escape(pdf_url)}" target="_blank" '
                         f'rel="noopener">{title} [PDF]</a>', variant))
    return "\n".join(blocks)
