"""The generic fallback of `parse_note`'s cascade: reads a release from what any well-made news page
carries, for a page none of the known layouts recognises (a redesign). Pure function over a parsed
page: `generic_note(soup, url) -> MediaNote`, or `ParseError` with the reason.

Signals, never class names: JSON-LD (`NewsArticle`/`Article`/..., also inside `@graph`), OpenGraph
and `article:*` meta, `<time datetime>`, the page's `<h1>`, and the body as the main text block of
`<article>`/`<main>`, found by where the prose is (paragraphs long enough to be sentences), after
dropping chrome (navigation, asides, footers, forms, hidden elements) and link-dense widgets (share
bars, tag lists, related cards, breadcrumbs).

It loads nothing it is unsure of: every field present in two places must agree (JSON-LD headline and
`<h1>`, machine and printed dates, `articleSection` and the label near the title, ...), else the page
is quarantined; a page without a title, a publication date or a real paragraph, or whose body holds
page furniture ("Share this", a cookie notice), is quarantined as well.
"""

from __future__ import annotations

import json
import logging
from datetime import date, datetime

from bs4 import BeautifulSoup
from bs4.element import NavigableString, Tag

from statenotes.extractors.body import body_blocks
from statenotes.extractors.errors import ParseError
from statenotes.extractors.fields import clean, parse_printed_date, parse_timestamp
from statenotes.extractors.records import (
    BLOCK_ORDERED_ITEM,
    BLOCK_PARAGRAPH,
    BLOCK_QUOTE,
    BLOCK_UNORDERED_ITEM,
    BodyBlock,
    MediaNote,
)
from statenotes.extractors.selectors import (
    ARTICLE_ITEMTYPE,
    ARTICLE_TYPE,
    AUTHOR_META,
    BLOCK_TAGS,
    BOILERPLATE,
    BOT_WALL_TITLE,
    BYLINE_PREFIX,
    CANONICAL_REL,
    GENERIC_DROP_ROLES,
    GENERIC_DROP_TAGS,
    HEADING_TAGS,
    JSON_LD_TYPE,
    LABEL_MAX_CHARS,
    LAYOUT_GENERIC,
    LINE_BLOCK_TAGS,
    LINK_DENSE_MAX_CHARS,
    LINK_DENSE_SHARE,
    MODIFIED_META,
    NOT_FOUND_TITLE,
    OFFICE_NAME,
    OG_SITE_NAME,
    OG_TITLE,
    OG_TYPE,
    OG_URL,
    PROSE_MIN_CHARS,
    PROSE_MIN_WORDS,
    PUBLISHED_META,
    PUBLISHED_PREFIX,
    SECOND_ARTICLE_SHARE,
    SECTION_META,
    TAG_META,
    TYPE_MAX_WORDS,
)

log = logging.getLogger(__name__)

NOT_RECOGNISED = "unknown layout: no release title"
PROSE_TAGS = LINE_BLOCK_TAGS | {"blockquote", "div", "section"}
PROSE_BLOCK_KINDS = frozenset({BLOCK_PARAGRAPH, BLOCK_QUOTE, BLOCK_ORDERED_ITEM, BLOCK_UNORDERED_ITEM})
NOT_A_CONTAINER = frozenset({"blockquote", "ol", "ul", "li", "dl", "table", "tbody", "thead", "tr", "td", "th",
                             "figure", "p"})
LINK_ONLY_SHARE = 0.95
FIELD_NAME_TAGS = frozenset({"dt", "th"})
TITLE_SEPARATORS = (" - ", " – ", " — ", " | ")


class _Rejected(Exception):
    """The page looks like an article but fails a check: becomes a ParseError with the url."""


# --- Head signals: JSON-LD and meta -----------------------------------------------------------------

def _types(node: dict) -> list[str]:
    kind = node.get("@type")
    return [kind] if isinstance(kind, str) else [k for k in kind or () if isinstance(k, str)]


def _json_ld_nodes(soup: BeautifulSoup) -> list[dict]:
    nodes: list[dict] = []

    def add(value) -> None:
        if isinstance(value, list):
            for item in value:
                add(item)
        elif isinstance(value, dict):
            if "@graph" in value:
                add(value["@graph"])
            if "@type" in value:
                nodes.append(value)

    for script in soup.find_all("script", type=JSON_LD_TYPE):
        try:
            add(json.loads(script.string or ""))
        except ValueError:
            log.debug("unreadable JSON-LD block")
    return nodes


def _article_node(nodes: list[dict]) -> dict | None:
    articles = [n for n in nodes if any(ARTICLE_TYPE.search(t) for t in _types(n))]
    headlines = {clean(str(n.get("headline") or n.get("name") or "")) for n in articles}
    if len(headlines) > 1:
        raise _Rejected("JSON-LD describes several articles")
    return articles[0] if articles else None


def _names(value, by_id: dict[str, dict]) -> list[str]:
    """Names of a JSON-LD author / publisher value: a string, a node, an @id reference, a list."""
    if isinstance(value, list):
        return [name for item in value for name in _names(item, by_id)]
    if isinstance(value, str):
        return [clean(value)] if clean(value) else []
    if isinstance(value, dict):
        node = by_id.get(value.get("@id"), value) if "name" not in value else value
        name = node.get("name")
        return [clean(name)] if isinstance(name, str) and clean(name) else []
    return []


def _text_list(value) -> list[str]:
    if isinstance(value, str):
        return [clean(part) for part in value.split(",") if clean(part)]
    if isinstance(value, list):
        return [clean(item) for item in value if isinstance(item, str) and clean(item)]
    return []


class _Head:
    """What the page declares about itself in `<head>` (and JSON-LD anywhere)."""

    def __init__(self, soup: BeautifulSoup):
        self.metas: dict[str, list[str]] = {}
        for tag in soup.find_all("meta"):
            key = tag.get("property") or tag.get("name") or tag.get("itemprop")
            content = tag.get("content")
            if key and content and clean(content):
                self.metas.setdefault(key.strip().lower(), []).append(clean(content))
        nodes = _json_ld_nodes(soup)
        self.by_id = {n["@id"]: n for n in nodes if isinstance(n.get("@id"), str)}
        self.article = _article_node(nodes)
        self.canonical = None
        for link in soup.find_all("link", href=True):
            if CANONICAL_REL in (link.get("rel") or ()) and link["href"].strip():
                self.canonical = link["href"].strip()
                break
        self.canonical = self.canonical or self.meta(OG_URL)

    def meta(self, *keys: str) -> str | None:
        for key in keys:
            if self.metas.get(key):
                return self.metas[key][0]
        return None

    def article_field(self, key: str):
        return self.article.get(key) if self.article else None

    @property
    def is_article(self) -> bool:
        og_type = (self.meta(OG_TYPE) or "").lower()
        return self.article is not None or og_type == "article" or self.meta(*PUBLISHED_META) is not None


# --- The page body: chrome out, then where the prose is -------------------------------------------

def _within(tag: Tag, ancestor: Tag) -> bool:
    """`tag` is inside `ancestor` (by identity: a Tag's == compares markup, not elements)."""
    return any(parent is ancestor for parent in tag.parents)


def _drop_chrome(root: Tag) -> None:
    doomed = [tag for tag in root.find_all(True)
              if tag.name in GENERIC_DROP_TAGS
              or (tag.get("role") or "").strip().lower() in GENERIC_DROP_ROLES
              or tag.has_attr("hidden") or (tag.get("aria-hidden") or "").strip().lower() == "true"]
    for tag in doomed:
        if not tag.decomposed:
            tag.decompose()


def _link_share(tag: Tag) -> tuple[int, float]:
    text = clean(tag.get_text(" "))
    links = tag.find_all("a")
    linked = sum(len(clean(a.get_text(" "))) for a in links)
    return len(links), (linked / len(text) if text else 1.0)


def _drop_link_dense(root: Tag, keep: Tag | None) -> None:
    """Share bars, tag lists, groups of related cards, breadcrumbs: short containers of several links."""
    for tag in list(root.find_all(("div", "section", "ul", "ol", "p", "header", "dl", "span"))):
        if tag.decomposed or (keep is not None and (tag is keep or _within(tag, keep) or _within(keep, tag))):
            continue
        count, share = _link_share(tag)
        if count >= 2 and share >= LINK_DENSE_SHARE and len(clean(tag.get_text(" "))) <= LINK_DENSE_MAX_CHARS:
            tag.decompose()


def _drop_link_only(container: Tag) -> None:
    """In the text block, a paragraph that is one link and nothing else is an attachment or a
    "read more", not release prose."""
    for tag in list(container.find_all(("p", "div", "li"))):
        if tag.decomposed or _has_block_child(tag):
            continue
        count, share = _link_share(tag)
        if count and share >= LINK_ONLY_SHARE:
            tag.decompose()


def _has_block_child(tag: Tag) -> bool:
    return any(isinstance(c, Tag) and c.name in BLOCK_TAGS for c in tag.children)


def _is_prose(tag: Tag) -> bool:
    if tag.name in ("div", "section", "blockquote") and _has_block_child(tag):
        return False
    text = clean(tag.get_text(" "))
    if len(text) < PROSE_MIN_CHARS or len(text.split()) < PROSE_MIN_WORDS:
        return False
    return _link_share(tag)[1] < 0.5


def _prose_blocks(root: Tag) -> list[Tag]:
    """The outermost elements of `root` that hold a sentence or more of non-link text."""
    found: list[Tag] = []
    found_ids: set[int] = set()
    for tag in root.find_all(PROSE_TAGS):
        if any(id(parent) in found_ids for parent in tag.parents):
            continue
        if tag.find_parent("h1") is None and _is_prose(tag) and not BOILERPLATE.search(clean(tag.get_text(" "))):
            found.append(tag)
            found_ids.add(id(tag))  # a cookie notice is a sentence too, but never where the body is
    return found


def _weight(blocks: list[Tag]) -> int:
    return sum(len(clean(b.get_text(" "))) for b in blocks)


def _choose_root(soup: BeautifulSoup) -> tuple[Tag, str]:
    body = soup.body or soup
    articles = body.find_all("article")
    kind = "article"
    if not articles:  # microdata marks the article on any element
        articles, kind = body.find_all(itemtype=ARTICLE_ITEMTYPE), "microdata"
    if articles:
        weighed = sorted(((_weight(_prose_blocks(a)), i, a) for i, a in enumerate(articles)),
                         key=lambda x: (-x[0], x[1]))
        best_weight, _, best = weighed[0]
        if best_weight:
            for weight, _, other in weighed[1:]:
                nested = _within(best, other) or _within(other, best)
                if not nested and weight >= SECOND_ARTICLE_SHARE * best_weight:
                    raise _Rejected("several articles on one page")
            return best, kind
    main = body.find("main") or body.find(attrs={"role": "main"})
    if main is not None:
        return main, "main"
    return body, "body"


def _is_wrapper(node: Tag) -> bool:
    return len(node.find_all(True, recursive=False)) == 1 and not _own_text(node)


def _text_box(block: Tag, root: Tag) -> Tag:
    """The element a prose block is a paragraph of: its parent, through quotations, lists, tables
    and wrappers around the block alone."""
    node = block.parent
    while node is not None and node is not root and (node.name in NOT_A_CONTAINER or _is_wrapper(node)):
        node = node.parent
    return node if node is not None else root


def _body_container(root: Tag, prose: list[Tag]) -> Tag:
    """The element whose own paragraphs hold the most prose (text density by paragraph structure).
    Prose elsewhere in the article must repeat it (a summary, a teaser), else the page is ambiguous."""
    weights: dict[int, list] = {}
    for block in prose:
        box = _text_box(block, root)
        weights.setdefault(id(box), [box, 0])[1] += len(clean(block.get_text(" ")))
    container = max(weights.values(), key=lambda entry: entry[1])[0]  # the first of equals, in document order
    text = _fold(container.get_text(" "))
    for block in prose:
        if block is container or _within(block, container):
            continue
        repeated = _fold(block.get_text(" ")).rstrip("…. ")
        if repeated not in text:
            raise _Rejected(f"prose outside the text block: {clean(block.get_text(' '))[:40]!r}")
    return container


# --- Metadata near the title -------------------------------------------------------------------------

def _label_lines(root: Tag, before: Tag, skip: Tag | None) -> list[Tag]:
    """Short leaf elements of `root` before `before` in document order (outside `skip`, the <h1>)."""
    lines: list[Tag] = []
    for tag in root.find_all(True):
        if tag is before:
            break
        if _within(before, tag) or _within(tag, before):
            continue
        if skip is not None and (tag is skip or _within(tag, skip)):
            continue
        if tag.name not in ("time", "address") and not _own_text(tag):
            continue
        text = clean(tag.get_text(" "))
        if tag.name in FIELD_NAME_TAGS or tag.name in HEADING_TAGS or text.endswith(":"):
            continue  # "Type:", <dt>Office</dt>, a section heading: names, not values
        if 0 < len(text) <= LABEL_MAX_CHARS and not (lines and _within(tag, lines[-1])):
            lines.append(tag)
    return lines


def _own_text(tag: Tag) -> bool:
    """Text directly in the element: a label, not a box of labels ("By <a>…</a> · <time>…</time>"
    is a box: "By" and separators are not text of their own)."""
    return any(isinstance(c, NavigableString) and any(ch.isalnum() for ch in BYLINE_PREFIX.sub("", clean(str(c)) + " "))
               for c in tag.children)


def _printed_date(text: str) -> date | None:
    return parse_printed_date(PUBLISHED_PREFIX.sub("", BYLINE_PREFIX.sub("", text)))


def _iso_date(value: str | None) -> date | None:
    """The calendar date an ISO 8601 value is written in (its own offset: what the page shows)."""
    if not value:
        return None
    stamp = parse_timestamp(value)
    if stamp is not None:
        return stamp.date()
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def _agreed(what: str, values: list) -> object | None:
    """The one value all signals give, None when there is none; _Rejected when they disagree."""
    distinct = list(dict.fromkeys(v for v in values if v))
    if len(distinct) > 1:
        raise _Rejected(f"{what} signals disagree: " + " / ".join(map(str, distinct[:3])))
    return distinct[0] if distinct else None


def _fold(text: str) -> str:
    return clean(text).casefold().replace("’", "'")


def _without_site_name(title: str | None, site_name: str | None) -> str | None:
    if not title:
        return None
    for separator in TITLE_SEPARATORS:
        head, sep, tail = title.rpartition(separator)
        if sep and head and site_name and _fold(tail) == _fold(site_name):
            return head.strip()
    return title


def _title(head: _Head, h1: Tag | None) -> str:
    printed = clean(h1.get_text(" ")) if h1 is not None else None
    headline = head.article_field("headline") or head.article_field("name")
    headline = clean(headline) if isinstance(headline, str) else None
    og = head.meta(OG_TITLE)
    if printed:
        if headline and _fold(headline) != _fold(printed):
            raise _Rejected(f"title signals disagree: <h1> {printed!r} / JSON-LD headline {headline!r}")
        if og and not headline and _fold(_without_site_name(og, head.meta(OG_SITE_NAME)) or "") != _fold(printed) \
                and not any(_fold(og).startswith(_fold(printed) + sep.strip().casefold()) or
                            _fold(og).startswith(_fold(printed + sep)) for sep in TITLE_SEPARATORS):
            raise _Rejected(f"title signals disagree: <h1> {printed!r} / og:title {og!r}")
        return printed
    title = headline or _without_site_name(og, head.meta(OG_SITE_NAME))
    if not title:
        raise _Rejected("no title")
    return title


def _office_and_type(head: _Head, labels: list[Tag], title: str) -> tuple[str | None, str | None]:
    publisher = set(map(_fold, _names(head.article_field("publisher"), head.by_id)))
    publisher |= {_fold(head.meta(OG_SITE_NAME) or "")}
    authors = [n for n in _names(head.article_field("author"), head.by_id) if _fold(n) not in publisher]
    offices = authors[:1] + [m for m in head.metas.get(AUTHOR_META, [])[:1] if _fold(m) not in publisher]
    kinds = _text_list(head.article_field("articleSection"))[:1]
    kinds += [m for k in SECTION_META for m in head.metas.get(k, [])[:1]]
    kinds += [clean(t.get_text(" ")) for t in labels if t.get("itemprop") == "articleSection"][:1]
    shown: list[str] = []  # short labels near the title that are not a date, the title or the office
    for tag in labels:
        text = clean(tag.get_text(" "))
        if tag.name == "time" or _printed_date(text) or _fold(text) == _fold(title) or BOILERPLATE.search(text):
            continue  # "Share on X" near the title is a widget, not a label
        in_byline = tag.parent is not None and BYLINE_PREFIX.match(clean(tag.parent.get_text(" ")))
        authored = (tag.name == "address" or "author" in (tag.get("rel") or ()) or tag.get("itemprop") == "author"
                    or BYLINE_PREFIX.match(text) or in_byline)
        if authored or (OFFICE_NAME.match(text) and len(text.split()) > 1):
            offices.append(BYLINE_PREFIX.sub("", text))
        elif len(text.split()) <= TYPE_MAX_WORDS and not any(ch.isdigit() for ch in text) \
                and not any(p in text for p in ".:;!?"):
            shown.append(text)
    # The type a label shows is taken when it is the only candidate; with a declared type, the
    # declared one must be among the labels shown (a kicker saying something else: quarantine).
    if kinds and shown and _fold(kinds[0]) not in map(_fold, shown):
        raise _Rejected(f"release type signals disagree: {kinds[0]} / {' / '.join(shown[:2])}")
    if not kinds and len(shown) == 1:
        kinds.append(shown[0])
    folded_offices = {_fold(o): o for o in offices}
    folded_kinds = {_fold(k): k for k in kinds}
    office = _agreed("office", list(folded_offices))
    kind = _agreed("release type", list(folded_kinds))
    return (folded_offices[office] if office else None), (folded_kinds[kind] if kind else None)


def _published(head: _Head, labels: list[Tag]) -> date:
    machine = [_iso_date(head.article_field("datePublished")), *(_iso_date(head.meta(k)) for k in PUBLISHED_META)]
    printed = []
    for tag in labels:
        if tag.name == "time":
            machine.append(_iso_date(tag.get("datetime")))
            printed.append(_printed_date(clean(tag.get_text(" "))))
        else:
            printed.append(_printed_date(clean(tag.get_text(" "))))
    # Printed dates in the header are the page's own; a time element's datetime attribute and the
    # head's metadata must say the same day, or the page is not loaded.
    found = _agreed("publication date", [*machine, *printed])
    if found is None:
        raise _Rejected("no publication date")
    return found


def _modified(head: _Head) -> datetime | None:
    values = [parse_timestamp(head.article_field("dateModified")) if isinstance(head.article_field("dateModified"), str)
              else None, *(parse_timestamp(head.meta(k)) for k in MODIFIED_META)]
    distinct = {v for v in values if v is not None}
    return distinct.pop() if len(distinct) == 1 else None  # missing rather than maybe wrong


# --- Validation -----------------------------------------------------------------------------------------

def _strip_leading_metadata(blocks: list[BodyBlock], known: set[str], published: date) -> list[BodyBlock]:
    """A flat page prints the title's metadata (type, office, date) at the top of the text block."""
    while blocks:
        text = clean(" ".join(blocks[0].lines))
        printed = _printed_date(text) if len(blocks[0].lines) == 1 else None
        if printed is not None and printed != published:
            raise _Rejected(f"publication date signals disagree: {published} / {printed}")
        if _fold(BYLINE_PREFIX.sub("", text)) in known or printed is not None:
            blocks = blocks[1:]
            continue
        break
    return blocks


def _check_body(blocks: list[BodyBlock]) -> None:
    for block in blocks:
        text = clean(" ".join(block.lines))
        match = BOILERPLATE.search(text)
        if match:
            raise _Rejected(f"page furniture in the body: {match.group(0)[:40]!r}")
    if not any(block.kind in PROSE_BLOCK_KINDS and len(clean(" ".join(block.lines)).split()) >= PROSE_MIN_WORDS
               for block in blocks):
        raise _Rejected("no body paragraph")


def _not_a_release(soup: BeautifulSoup, title: str | None) -> None:
    shown = [clean(t.get_text(" ")) for t in soup.find_all(("title", "h1"), limit=4)] + ([title] if title else [])
    for text in shown:
        match = BOT_WALL_TITLE.search(text)
        if match:
            raise _Rejected(f"bot wall: '{match.group(0)}' page")
        if NOT_FOUND_TITLE.search(text):
            raise _Rejected("page not found (404 page served with 200)")


# --- The stage ----------------------------------------------------------------------------------------

def generic_note(soup: BeautifulSoup, url: str) -> MediaNote:
    """Read the whole page `soup` (it is changed: chrome is removed) as a release, or ParseError.

    Engages only on a page that says it is an article (JSON-LD article node, og:type article,
    `article:published_time`, or an `<article>` element); any other page keeps the cascade's
    "unknown layout" reason. Rejections say "generic fallback: <reason>".
    """
    try:
        head = _Head(soup)
    except _Rejected as rejected:
        raise ParseError(f"generic fallback: {rejected}", url) from None
    page = soup.body or soup
    if not head.is_article and page.find("article") is None and page.find(itemtype=ARTICLE_ITEMTYPE) is None:
        raise ParseError(NOT_RECOGNISED, url)
    try:
        return _read(soup, head, url)
    except _Rejected as rejected:
        raise ParseError(f"generic fallback: {rejected}", url) from None


def _read(soup: BeautifulSoup, head: _Head, url: str) -> MediaNote:
    _not_a_release(soup, None)
    _drop_chrome(soup.body or soup)
    root, root_kind = _choose_root(soup)
    h1 = root.find("h1") or ((soup.body or soup).find("h1") if len((soup.body or soup).find_all("h1")) == 1 else None)
    _drop_link_dense(root, h1)
    prose = _prose_blocks(root)
    if not prose:
        raise _Rejected("no body paragraph")
    container = _body_container(root, prose)
    title = _title(head, h1)
    _not_a_release(soup, title)
    flat = h1 is not None and (h1 is container or _within(h1, container) or _within(container, h1))
    labels = _label_lines(root, container, h1) if not flat else []
    office, release_type = _office_and_type(head, labels, title)
    published = _published(head, labels)
    if flat:  # the h1 shares the text block: the body is what follows the h1's branch
        branch = next(p for p in [h1, *h1.parents] if p.parent is container)
        for sibling in list(branch.find_previous_siblings()):
            sibling.decompose()
        branch.decompose()
    _drop_link_only(container)
    blocks = body_blocks(container)
    known = {_fold(v) for v in (title, office, release_type) if v}
    blocks = _strip_leading_metadata(blocks, known, published)
    _check_body(blocks)
    source = "jsonld" if head.article is not None else "microdata" if root_kind == "microdata" \
        else "opengraph" if head.is_article else "html"
    return MediaNote(
        url=url,
        layout=f"{LAYOUT_GENERIC}:{source}+{'article' if root_kind == 'microdata' else root_kind}",
        title=title,
        release_type=release_type,
        office=office,
        published_date=published,
        modified_at=_modified(head),
        tags=list(dict.fromkeys(head.metas.get(TAG_META, []) + _text_list(head.article_field("keywords")))),
        blocks=blocks,
        canonical_url=head.canonical,
    )
