"""Renders the offline mirror's pages in state.gov's current WordPress markup (see corpus MARKUP.md).

Pure functions from note dicts to page text; the only I/O is reading the bundled sample notes.
Release pages come in markup variants (see `mirror.body`); without an explicit variant a note's
url picks one, so a page is always rendered the same way.
"""

from __future__ import annotations

import json
import math
from html import escape
from urllib.parse import quote

from statenotes.mirror.body import (
    VARIANT_COUNT,
    VARIANTS,
    Variant,
    body_rng,
    choose_variant,
    format_long_date,
    render_body,
)
from statenotes.mirror.drupal import render_drupal_page
from statenotes.mirror.hosts import WWW_HOST, host_of, host_prefix, is_drupal, slug_of
from statenotes.mirror.chrome import SITE_NAME, TITLE_SUFFIX, render_page, slugify
from statenotes.mirror.feeds import (
    render_robots,
    render_sitemap,
    render_sitemap_index,
    sitemap_count,
    sitemap_name,
)
from statenotes.mirror.notes import (
    country_tags,
    load_sample_notes,
    modified_at,
    page_path,
    page_url,
    published_at,
    published_date,
    site_base,
    sort_newest_first,
    stable_hash,
)

__all__ = [
    "VARIANT_COUNT", "VARIANTS", "LISTING_PATH", "PER_PAGE", "load_sample_notes", "page_path", "page_url",
    "published_at", "modified_at", "variant_for", "render_note_page", "render_listing_page", "listing_path",
    "listing_page_count", "render_not_found", "render_robots", "render_sitemap", "render_sitemap_index",
    "sitemap_count", "sitemap_name", "sort_newest_first",
]

LISTING_PATH = "/press-releases/"
PER_PAGE = 10
RELATED_COUNT = 3
OFFICE_PARENT = "/bureaus-offices/under-secretary-for-public-diplomacy-and-public-affairs/bureau-of-global-public-affairs/"
RELEASE_TYPES = ("Media Note", "Press Statement", "Readout", "Remarks", "Fact Sheet", "Joint Statement",
                 "Notice to the Press", "Department Press Briefing", "Interview", "Speech", "Travel")
DESCRIPTION_CHARS = 155
# paginate_links defaults: pages shown at either end, and either side of the current one.
PAGINATION_END_SIZE, PAGINATION_MID_SIZE = 1, 2


def variant_for(url: str) -> int:
    """The variant a note is served in when none is asked for."""
    return stable_hash(url) % VARIANT_COUNT


def _office_href(base_url: str, office: str) -> str:
    return f"{base_url}{OFFICE_PARENT}{slugify(office)}/"


def _iso(value) -> str:
    return value.isoformat(timespec="seconds")


def _head_for_note(note: dict, url: str, published: str, modified: str) -> str:
    title = note["title"] + TITLE_SUFFIX
    first = " ".join(note["body_lines"][:1])
    description = first if len(first) <= DESCRIPTION_CHARS else first[:DESCRIPTION_CHARS].rsplit(" ", 1)[0] + "…"
    schema = {"@context": "https://schema.org", "@graph": [
        {"@type": "WebPage", "@id": url, "url": url, "name": title, "isPartOf": {"@id": "#website"},
         "datePublished": published, "dateModified": modified, "inLanguage": "en-US"},
        {"@type": "WebSite", "@id": "#website", "name": SITE_NAME, "publisher": {"@id": "#organization"}},
    ]}
    graph = json.dumps(schema, ensure_ascii=False).replace("</", "<\\/")
    return f"""<meta name="description" content="{escape(description)}">
<meta property="og:type" content="article">
<meta property="og:title" content="{escape(title)}">
<meta property="og:description" content="{escape(description)}">
<meta property="og:url" content="{escape(url)}">
<meta property="article:publisher" content="https://www.facebook.com/StateDept">
<meta property="article:published_time" content="{published}">
<meta property="article:modified_time" content="{modified}">
<meta property="og:updated_time" content="{modified}">
<script type="application/ld+json" class="yoast-schema-graph">{graph}</script>"""


def _share(url: str, title: str) -> str:
    u, t = quote(url, safe=""), quote(title, safe="")
    links = (("facebook", "Facebook", f"https://www.facebook.com/sharer/sharer.php?u={u}"),
             ("twitter", "X", f"https://twitter.com/intent/tweet?text={t}&amp;url={u}"),
             ("linkedin", "LinkedIn", f"https://www.linkedin.com/shareArticle?mini=true&amp;url={u}&amp;title={t}"),
             ("email", "Email", f"mailto:?subject={t}&amp;body={u}"))
    items = "\n".join(f'<li class="article-share__item"><a class="article-share__link article-share__link--{k}" '
                      f'href="{href}" target="_blank" rel="noopener">{label}</a></li>' for k, label, href in links)
    return f'<div class="article-share"><p class="article-share__heading">Share</p>\n<ul class="article-share__list">\n{items}\n</ul></div>'


def _tags(note: dict, base_url: str) -> str:
    pills = [f'<a class="related-tags__pill" href="{base_url}/countries-areas/{slug}/">{escape(label, quote=False)}</a>'
             for label, slug in country_tags(note)]
    if note.get("office"):
        pills.append(f'<a class="related-tags__pill" href="{_office_href(base_url, note["office"])}">'
                     f'{escape(note["office"], quote=False)}</a>')
    return ('<div class="related-tags"><p class="related-tags__title">Tags</p>\n<div class="related-tags__pills">\n'
            + "\n".join(pills) + "\n</div></div>")


def _related(note: dict, others: list[dict], base_url: str) -> str:
    day = published_date(note).toordinal()
    pool = [o for o in others if o["url"] != note["url"] and host_of(o) == host_of(note)]
    chosen = sorted(pool, key=lambda o: (abs(published_date(o).toordinal() - day), o["url"]))[:RELATED_COUNT]
    cards = "\n".join(
        f'<div class="related-content__card"><p class="related-content__type">{escape(o.get("release_type") or "")}</p>'
        f'<a class="related-content__title" href="{page_url(o, base_url)}">{escape(o["title"], quote=False)}</a>'
        f'<p class="related-content__date">{format_long_date(published_date(o))}</p></div>'
        for o in chosen)
    return (f'<section class="related-content" aria-label="Related Articles"><h2 class="related-content__heading">'
            f'Related Articles</h2>\n<div class="related-content__cards">\n{cards}\n</div></section>')


def note_body_html(note: dict, base_url: str, variant: int | Variant | None = None) -> str:
    """The inner HTML of a WordPress note's `div.entry-content` (also its REST `content.rendered`)."""
    chosen = choose_variant(note["url"], variant)
    host_base = site_base(note, base_url)
    pdf = f"{host_base}/wp-content/uploads/{note['published_date'][:4]}/{note['published_date'][5:7]}/" \
          f"{slug_of(note)}.pdf"
    return render_body(note, chosen, body_rng(note["url"], chosen), pdf)


def post_id(note: dict) -> int:
    """The WordPress post id (also the REST item's `id`)."""
    return 100000 + stable_hash(note["url"]) % 900000


def render_note_page(note: dict, base_url: str, variant: int | Variant | None = None, *,
                     related: list[dict] | None = None) -> str:
    """One release page, in the markup of the note's host (Drupal on 2009-2017, else WordPress).
    `variant` (an index into VARIANTS, or a Variant) picks the body markup (None: from the url);
    `related` are the notes the "Related Articles" block may show (default: the sample)."""
    chosen = choose_variant(note["url"], variant)
    if is_drupal(note):
        return render_drupal_page(note, base_url, chosen)
    url = page_url(note, base_url)
    root, base_url = base_url.rstrip("/"), site_base(note, base_url)
    published, modified = _iso(published_at(note)), _iso(modified_at(note))
    pid = post_id(note)
    title = escape(note["title"], quote=False)
    office = ""
    if note.get("office"):
        office = (f'<p class="article-meta__author-bureau"><a href="{_office_href(base_url, note["office"])}">'
                  f'{escape(note["office"], quote=False)}</a></p>\n')
    main = f"""<main id="main" class="site-main" role="main">
<article id="post-{pid}" class="post-{pid} state_press_release type-state_press_release status-publish hentry">
<div class="featured-content featured-content--no-image"><div class="featured-content__inner">
<div class="featured-content__copy">
<h1 class="featured-content__headline stars-above">{title}</h1>
</div></div></div>
<section class="article-meta__container">
<div class="article-meta">
<p class="article-meta doctype-meta">{escape(note.get("release_type") or "", quote=False)}</p>
{office}<p class="article-meta__publish-date">{format_long_date(published_date(note))}</p>
</div>
</section>
<div class="entry-content">
{note_body_html(note, root, chosen)}
</div><!-- .entry-content -->
{_share(url, note["title"])}
{_tags(note, base_url)}
</article>
{_related(note, load_sample_notes() if related is None else related, root)}
</main>"""
    return render_page(note["title"] + TITLE_SUFFIX, base_url, main, canonical=url,
                       head_extra=_head_for_note(note, url, published, modified),
                       body_class=f"state_press_release-template-default single single-state_press_release postid-{pid}")


def listing_path(page: int) -> str:
    return LISTING_PATH if page == 1 else f"{LISTING_PATH}page/{page}/"


def listing_page_count(note_count: int, per_page: int = PER_PAGE) -> int:
    return max(1, math.ceil(note_count / per_page))


def _listing_item(note: dict, base_url: str) -> str:
    spans = []
    if stable_hash("byline:" + note["url"]) % 2 and note.get("office"):  # some items carry a byline
        spans.append(f'<span class="" dir="ltr">{escape(note["office"], quote=False)}</span>')
    spans.append(f'<span class="" dir="ltr">{format_long_date(published_date(note))}</span>')
    return (f'<li class="collection-result">\n<p class="collection-result__date">'
            f'{escape(note.get("release_type") or "", quote=False)}</p>\n'
            f'<a class="collection-result__link" href="{page_url(note, base_url)}">{escape(note["title"], quote=False)}</a>\n'
            f'<div class="collection-result-meta">\n' + "\n".join(spans) + "\n</div>\n</li>")


def _pagination(page: int, pages: int, base_url: str) -> str:
    """WordPress's `paginate_links`: the first and last page, two either side of the current one,
    and "…" for each gap (so a page's size does not grow with the number of pages)."""
    parts = []
    if page > 1:
        parts.append(f'<a class="prev page-numbers" href="{base_url}{listing_path(page - 1)}">Previous</a>')
    gap = False
    for n in range(1, pages + 1):
        if n == page:
            parts.append(f'<span aria-current="page" class="page-numbers current">{n}</span>')
        elif n <= PAGINATION_END_SIZE or n > pages - PAGINATION_END_SIZE or abs(n - page) <= PAGINATION_MID_SIZE:
            parts.append(f'<a class="page-numbers" href="{base_url}{listing_path(n)}">{n}</a>')
        elif not gap:
            parts.append('<span class="page-numbers dots">&hellip;</span>')
            gap = True
            continue
        else:
            continue
        gap = False
    if page < pages:
        parts.append(f'<a class="next page-numbers" href="{base_url}{listing_path(page + 1)}">Next</a>')
    return '<nav class="navigation pagination" aria-label="Pagination"><div class="nav-links">\n' + "\n".join(parts) + "\n</div></nav>"


def render_listing_page(notes: list[dict], page: int, base_url: str, per_page: int = PER_PAGE, *,
                        host: str = WWW_HOST) -> str:
    """`/press-releases/` (page 1) or `/press-releases/page/N/` of `host`: notes newest first,
    `per_page` a page. `base_url` is the mirror's root; an archive host's pages live under its prefix."""
    pages = listing_page_count(len(notes), per_page)
    if not 1 <= page <= pages:
        raise ValueError(f"listing page {page} is outside 1..{pages}")
    shown = sort_newest_first(notes)[(page - 1) * per_page: page * per_page]
    return listing_page_html(shown, page, len(notes), base_url, per_page, host=host)


def listing_page_html(shown: list[dict], page: int, total: int, base_url: str, per_page: int = PER_PAGE, *,
                      host: str = WWW_HOST) -> str:
    """Listing page `page` of `host` showing `shown` (that page's notes, newest first) out of `total`."""
    root = base_url.rstrip("/")
    base_url = root + host_prefix(host)
    pages = listing_page_count(total, per_page)
    items = "\n".join(_listing_item(n, root) for n in shown)
    options = "\n".join(f'<option value="{slugify(t)}">{t}</option>' for t in RELEASE_TYPES)
    first = (page - 1) * per_page + 1
    links = "".join(f'<link rel="{rel}" href="{base_url}{listing_path(n)}">\n'
                    for rel, n in (("prev", page - 1), ("next", page + 1)) if 1 <= n <= pages)
    main = f"""<main id="main" class="site-main" role="main">
<div class="page-header"><h1 class="page-header__title">Press Releases</h1></div>
<div class="collection-filters"><form class="collection-filters__form" method="get" action="{base_url}{LISTING_PATH}">
<label class="usa-label" for="filter-type">Filter by type</label>
<select class="usa-select" id="filter-type" name="type"><option value="">All</option>
{options}
</select><button class="usa-button" type="submit">Apply</button></form></div>
<div class="collection-info">
<div class="collection-info__total"><span class="collection-info__number">{total:,}</span> Results</div>
<div class="collection-info__range">{first} - {first + len(shown) - 1} of {total:,}</div>
</div>
<ul id="col_json_result" class="collection-results">
{items}
</ul>
{_pagination(page, pages, base_url)}
</main>"""
    title = "Press Releases" + (f" - Page {page} of {pages}" if page > 1 else "") + TITLE_SUFFIX
    return render_page(title, base_url, main, canonical=base_url + listing_path(page),
                       head_extra=links.rstrip("\n"), body_class="archive post-type-archive post-type-archive-state_press_release")


def render_not_found(base_url: str) -> str:
    """The site's "page not found" page (served with status 404)."""
    base_url = base_url.rstrip("/")
    main = f"""<main id="main" class="site-main" role="main">
<section class="error-404 not-found">
<div class="page-header"><h1 class="page-header__title">Page Not Found</h1></div>
<div class="page-content"><p>We’re sorry, the page you requested could not be found.</p>
<p>Please try a search, or visit the <a href="{base_url}/">home page</a>.</p></div>
</section></main>"""
    return render_page("Page not found" + TITLE_SUFFIX, base_url, main, body_class="error404")
