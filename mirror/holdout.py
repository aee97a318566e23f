"""Blind holdout redesigns: four more markups of a release page, written without looking at how the
generic fallback (`extractors.generic`) works, to measure it on pages it was never tuned on
(`MirrorServer(redesign=NAME)` serves them like the six of `mirror.redesign`; the evaluation
reports them apart as "holdout (blind)").

Each copies what a kind of CMS really prints today, traps included: a second `<h1>` (a logo or a
print header), a modified date later than the published one and a "Last updated" line, a deck
under the headline, footnotes, the body's own table (the body variants' additions), cards of other
releases with their own titles, dates and summaries.

- "uswds": Drupal 10 with the U.S. Web Design System: gov banner, `<h1>` logo, `<main
  id="main-content">`, breadcrumb, side navigation, Drupal field wrappers with labels, a
  `usa-intro` deck that repeats the start of the lead, JSON-LD `@graph` (WebPage, BreadcrumbList,
  NewsArticle) in Washington time, footnotes, "Related content" cards with summaries.
- "nextjs": a React/Next.js render: hashed class names, nested `<div>`s, no `<main>`/`<article>`,
  only og:title and a description in the head, the article in `<script id="__NEXT_DATA__">`, the
  dateline in a `<strong>`, "Updated" beside the date, "Read next" cards, a cookie dialog.
- "brdivs": an old CMS: no `<p>` at all (paragraphs are runs of text split by `<br><br>` inside
  `<div>`s), OpenGraph meta only (no dates in it), the date printed "December 5, 2026" in a
  `<span>`, a logo `<h1>`, a "Last updated" span, footnotes with `<sup>` marks.
- "pressroom": a press-office page: language switcher, print-only header repeating the title, a
  left sidebar "Latest Media Notes" of ten other releases with `<time>`s before the article, a share
  toolbar, an `<amp-img>` figure, a date-only JSON-LD `datePublished`, "Last updated".
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from html import escape

from statenotes.mirror.body import body_rng, choose_variant, format_long_date, render_body
from statenotes.mirror.hosts import host_of, slug_of
from statenotes.mirror.notes import modified_at, stable_hash, page_url, published_at, published_date, site_base
from statenotes.mirror.redesign import CLASS_ATTRIBUTE, COOKIE_TEXT, SITE_NAME, WASHINGTON, _body, _e, _json_ld, _tags

USWDS, NEXTJS, BRDIVS, PRESSROOM = "uswds", "nextjs", "brdivs", "pressroom"
HOLDOUTS = (USWDS, NEXTJS, BRDIVS, PRESSROOM)
LATEST_COUNT = 10
EDIT_DELAY = timedelta(days=2, hours=5, minutes=17)
FOOTNOTE = ("The Department of State publishes the texts of joint statements as released by the participating "
            "governments; translations are unofficial.")
P_OPEN = re.compile(r"<div><p>|<p>")
P_CLOSE = re.compile(r"</p></div>|</p>")


def _others(note: dict, pool: list[dict], count: int) -> list[dict]:
    """Other releases of the same host, newest first: what a "latest" sidebar lists."""
    others = [o for o in pool if o["url"] != note["url"] and host_of(o) == host_of(note)]
    return sorted(others, key=lambda o: (o["published_date"], o["url"]), reverse=True)[:count]


def _edited(note: dict):
    """A last modification some days after publication (the page was corrected)."""
    return max(modified_at(note), published_at(note) + EDIT_DELAY)


def _lead(note: dict, limit: int = 150) -> str:
    lead = next((line for line in note["body_lines"] if len(line) > 60), note["body_lines"][0] if note["body_lines"] else "")
    return lead if len(lead) <= limit else lead[:limit].rsplit(" ", 1)[0] + "…"


def _document(head: str, body: str, *, lang: str = "en") -> str:
    return (f'<!DOCTYPE html>\n<html lang="{lang}" dir="ltr">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n{head}\n</head>\n<body>\n{body}\n</body>\n</html>\n')


# --- "uswds": Drupal 10 + USWDS ----------------------------------------------------------------------

def _uswds(note: dict, base_url: str, variant, pool: list[dict]) -> str:
    url, title = page_url(note, base_url), note["title"]
    kind, office = note.get("release_type") or "", note.get("office") or ""
    local = published_at(note).astimezone(WASHINGTON)
    edited = _edited(note).astimezone(WASHINGTON)
    body = _body(note, base_url, variant)
    deck = _lead(note, 120)
    crumbs = [("Home", f"{base_url}/"), ("News &amp; Events", f"{base_url}/news-events/"),
              ("Press Releases", f"{base_url}/press-releases/")]
    graph = [{"@type": "WebPage", "@id": url, "name": f"{title} | {SITE_NAME}", "url": url,
              "datePublished": local.isoformat(timespec="seconds"), "dateModified": edited.isoformat(timespec="seconds"),
              "breadcrumb": {"@id": url + "#breadcrumb"}},
             {"@type": "BreadcrumbList", "@id": url + "#breadcrumb", "itemListElement": [
                 {"@type": "ListItem", "position": i + 1, "name": name.replace("&amp;", "&"), "item": href}
                 for i, (name, href) in enumerate(crumbs)]},
             {"@type": "NewsArticle", "@id": url + "#article", "headline": title, "description": deck,
              "datePublished": local.isoformat(timespec="seconds"), "dateModified": edited.isoformat(timespec="seconds"),
              "isPartOf": {"@id": url}, "publisher": {"@type": "GovernmentOrganization", "name": SITE_NAME},
              **({"articleSection": kind} if kind else {}),
              **({"author": {"@type": "GovernmentOrganization", "name": office}} if office else {})}]
    head = (f'<title>{_e(title)} | {SITE_NAME}</title>\n<link rel="canonical" href="{escape(url)}">\n'
            f'<meta name="description" content="{escape(deck)}">\n<meta property="og:site_name" content="{SITE_NAME}">\n'
            f'<meta property="og:title" content="{escape(title)}">\n<meta property="og:description" content="{escape(deck)}">\n'
            f'<meta name="Generator" content="Drupal 10 (https://www.drupal.org)">\n'
            + _json_ld({"@context": "https://schema.org", "@graph": graph}))
    crumb_items = "".join(f'<li class="usa-breadcrumb__list-item"><a href="{href}" class="usa-breadcrumb__link">'
                          f'<span>{name}</span></a></li>' for name, href in crumbs)
    cards = "\n".join(
        f'<li class="usa-card tablet:grid-col-4"><div class="usa-card__container"><div class="usa-card__header">'
        f'<h3 class="usa-card__heading"><a href="{page_url(o, base_url)}">{_e(o["title"])}</a></h3></div>'
        f'<div class="usa-card__body"><p>{_e(_lead(o))}</p></div><div class="usa-card__footer">'
        f'<time datetime="{published_at(o).isoformat(timespec="seconds")}">{format_long_date(published_date(o))}</time>'
        f'</div></div></li>' for o in _others(note, pool, 3))
    sidenav = "".join(f'<li class="usa-sidenav__item"><a href="{base_url}/{s}/">{_e(label)}</a></li>' for s, label in
                      (("press-releases", "Press Releases"), ("media-notes", "Media Notes"),
                       ("readouts", "Readouts"), ("remarks", "Remarks"), ("briefings", "Department Press Briefings")))
    kind_field = (f'<div class="field field--name-field-release-type field--type-entity-reference field--label-hidden">'
                  f'<div class="field__item"><span class="usa-tag">{_e(kind)}</span></div></div>') if kind else ""
    office_field = (f'<div class="field field--name-field-office field--label-inline"><div class="field__label">Bureau/Office</div>'
                    f'<div class="field__item"><a href="{base_url}/bureaus-offices/{slug_of(note)[:12]}/" hreflang="en">'
                    f'{_e(office)}</a></div></div>') if office else ""
    page = f"""<a class="usa-skipnav" href="#main-content">Skip to main content</a>
<section class="usa-banner" aria-label="Official website of the United States government"><div class="usa-accordion"><header class="usa-banner__header"><div class="usa-banner__inner"><p class="usa-banner__header-text">An official website of the United States government</p><button type="button" class="usa-accordion__button usa-banner__button" aria-expanded="false"><span class="usa-banner__button-text">Here's how you know</span></button></div></header>
<div class="usa-banner__content usa-accordion__content" hidden><p><strong>Official websites use .gov</strong><br>A <strong>.gov</strong> website belongs to an official government organization in the United States.</p><p><strong>Secure .gov websites use HTTPS</strong><br>A lock or https:// means you've safely connected to the .gov website. Share sensitive information only on official, secure websites.</p></div></div></section>
<div class="usa-overlay"></div>
<header class="usa-header usa-header--extended"><div class="usa-navbar"><div class="usa-logo" id="extended-logo"><h1 class="usa-logo__text"><a href="{base_url}/" title="Home">{SITE_NAME}</a></h1></div><button type="button" class="usa-menu-btn">Menu</button></div>
<nav aria-label="Primary navigation" class="usa-nav"><ul class="usa-nav__primary usa-accordion">{"".join(f'<li class="usa-nav__primary-item"><a class="usa-nav-link" href="{base_url}/{i}/"><span>{label}</span></a></li>' for i, label in enumerate(("Travel", "Careers", "Policy Issues", "Countries &amp; Areas", "News &amp; Events")))}</ul>
<section aria-label="Search component"><form class="usa-search usa-search--small" role="search"><label class="usa-sr-only" for="search-field">Search</label><input class="usa-input" id="search-field" type="search" name="query"><button class="usa-button" type="submit"><span class="usa-sr-only">Search</span></button></form></section></nav></header>
<main id="main-content" class="main-content" role="main">
<div class="grid-container">
<nav class="usa-breadcrumb" aria-label="Breadcrumbs"><ol class="usa-breadcrumb__list">{crumb_items}<li class="usa-breadcrumb__list-item usa-current" aria-current="page"><span>{_e(title)}</span></li></ol></nav>
<div class="grid-row grid-gap">
<div class="usa-layout-docs__sidenav desktop:grid-col-3"><nav aria-label="Secondary navigation"><ul class="usa-sidenav">{sidenav}</ul></nav></div>
<div class="usa-layout-docs__main desktop:grid-col-9 usa-prose">
<div data-history-node-id="{len(url)}" class="node node--type-press-release node--view-mode-full">
{kind_field}
<h1 class="page-title"><span class="field field--name-title field--type-string">{_e(title)}</span></h1>
<p class="usa-intro">{_e(deck)}</p>
<div class="field field--name-field-date field--label-hidden"><div class="field__item"><time datetime="{published_at(note).strftime("%Y-%m-%dT%H:%M:%SZ")}">{format_long_date(published_date(note))}</time></div></div>
{office_field}
<div class="clearfix text-formatted field field--name-body field--type-text-with-summary field--label-hidden field__item">
{body}
</div>
<div class="field field--name-field-footnotes field--label-above"><h2 class="field__label">Footnotes</h2><div class="field__item"><ol class="usa-list"><li id="fn1">{_e(FOOTNOTE)}</li></ol></div></div>
<p class="last-updated">Last updated: {format_long_date(edited.date())}</p>
</div>
</div>
</div>
<section class="usa-section related-content" aria-labelledby="related-heading"><h2 id="related-heading">Related content</h2>
<ul class="usa-card-group">
{cards}
</ul></section>
</div>
</main>
<footer class="usa-footer usa-footer--slim"><div class="usa-footer__primary-section"><nav class="usa-footer__nav" aria-label="Footer navigation"><ul class="grid-row">{"".join(f'<li class="usa-footer__primary-content"><a class="usa-footer__primary-link" href="{base_url}/{s}/">{label}</a></li>' for s, label in (("privacy", "Privacy Policy"), ("foia", "FOIA"), ("accessibility", "Accessibility"), ("no-fear", "No FEAR Act")))}</ul></nav></div>
<div class="usa-footer__secondary-section"><address><p>{SITE_NAME}<br>2201 C St NW<br>Washington, DC 20520</p></address></div></footer>
<div class="usa-identifier"><section class="usa-identifier__section"><p class="usa-identifier__identity-disclaimer">An official website of the {SITE_NAME}</p></section></div>"""
    return _document(head, page)


# --- "nextjs": a React render ---------------------------------------------------------------------------

def _hashed(seed: str) -> str:
    return "css-" + format(stable_hash(seed) % 16 ** 6, "06x")


CSS = {name: "css-" + code for name, code in (("root", "1x2y3z"), ("shell", "k9q2ab"), ("col", "7fh3d0"), ("box", "0pl4me"),
                                                ("kicker", "r2d2c3"), ("h1", "b8a1x9"), ("deck", "m1n2o3"), ("meta", "t5u6v7"),
                                                ("copy", "q0w9e8"), ("para", "z7y6x5"), ("card", "c4b3a2"), ("foot", "f0o0t1"))}


def _top_blocks(inner: str) -> list[str]:
    """The body's top-level blocks (one a line, but a quotation spans lines)."""
    blocks, open_quote = [], False
    for line in inner.split("\n"):
        if open_quote:
            blocks[-1] += "\n" + line
        else:
            blocks.append(line)
        open_quote = (open_quote or line.startswith("<blockquote>")) and not line.endswith("</blockquote>")
    return blocks


def _nextjs(note: dict, base_url: str, variant, pool: list[dict]) -> str:
    url, title = page_url(note, base_url), note["title"]
    kind, office = note.get("release_type") or "", note.get("office") or ""
    chosen = choose_variant(note["url"], variant)
    pdf = f"{site_base(note, base_url)}/files/{slug_of(note)}.pdf"
    inner = CLASS_ATTRIBUTE.sub("", render_body(note, chosen, body_rng(note["url"], chosen), pdf, dateline=False))
    if note.get("dateline_place") and note.get("dateline_date"):
        printed = format_long_date(date.fromisoformat(note["dateline_date"]))
        inner = f'<p><strong>{_e(note["dateline_place"])}, {printed}</strong></p>\n' + inner
    # React wraps the CMS's HTML in its own divs, one per block.
    copy = "\n".join(f'<div class="{CSS["para"]}">{block}</div>' for block in _top_blocks(inner))
    edited = _edited(note)
    deck = f"Read the {kind.lower() or 'release'} issued by the {office or SITE_NAME}."
    data = {"props": {"pageProps": {"article": {
        "id": len(url), "slug": slug_of(note), "title": title, "subtitle": deck,
        "publishedAt": published_at(note).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "updatedAt": edited.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "category": {"name": kind} if kind else None, "office": {"name": office} if office else None,
        "tags": [{"name": t} for t in _tags(note)]},
        "readNext": [{"title": o["title"], "publishedAt": published_at(o).strftime("%Y-%m-%dT%H:%M:%S.000Z")}
                     for o in _others(note, pool, 3)]}, "__N_SSG": True},
        "page": "/[...slug]", "query": {"slug": [slug_of(note)]}, "buildId": "h0Ld0uT-7f3a", "isFallback": False}
    head = (f'<title>{_e(title)} — State</title>\n<meta property="og:title" content="{escape(title)}">\n'
            f'<meta name="description" content="{escape(_lead(note))}">\n<meta name="next-head-count" content="4">\n'
            f'<link rel="preload" href="/_next/static/css/a1b2c3.css" as="style">')
    cards = "".join(f'<div class="{CSS["card"]}"><a href="{page_url(o, base_url)}" class="{_hashed(o["url"])}">'
                    f'<div class="{CSS["box"]}"><span class="{CSS["kicker"]}">{_e(o.get("release_type") or "")}</span>'
                    f'<div class="{CSS["h1"]}-s">{_e(o["title"])}</div><div class="{CSS["meta"]}">'
                    f'{published_date(o):%b %-d, %Y}</div></div></a></div>' for o in _others(note, pool, 3))
    short = f"{published_date(note):%b %-d, %Y}"
    next_data = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    page = f"""<div id="__next"><div class="{CSS["root"]}">
<div class="{CSS["shell"]}" role="dialog" aria-label="Cookie consent"><div class="{CSS["box"]}"><p>{COOKIE_TEXT}</p><button class="{CSS["foot"]}">Accept all</button><button>Reject</button></div></div>
<div class="{CSS["shell"]}"><div class="{CSS["col"]}"><a href="{base_url}/" class="{CSS["kicker"]}"><div class="{CSS["box"]}">{SITE_NAME}</div></a><div class="{CSS["box"]}">{"".join(f'<a href="{base_url}/{s}/">{label}</a>' for s, label in (("news", "News"), ("travel", "Travel"), ("careers", "Careers"), ("about", "About")))}</div></div></div>
<div class="{CSS["shell"]}"><div class="{CSS["col"]}"><div class="{CSS["box"]}"><div class="{CSS["box"]}">
<div class="{CSS["kicker"]}"><span>{_e(kind)}</span></div>
<h1 class="{CSS["h1"]}">{_e(title)}</h1>
<div class="{CSS["deck"]}"><p>{_e(deck)}</p></div>
<div class="{CSS["meta"]}"><div class="{CSS["box"]}"><span>{_e(office)}</span></div><div class="{CSS["box"]}"><span>{short}</span><span> · Updated {edited:%b %-d, %Y}</span></div></div>
</div>
<div class="{CSS["copy"]}"><div class="{CSS["box"]}">
{copy}
</div></div>
<div class="{CSS["box"]}"><div class="{CSS["meta"]}"><sup>*</sup> {_e(FOOTNOTE)}</div></div>
<div class="{CSS["box"]}"><button aria-label="Copy link">Copy link</button><a href="https://x.com/intent/post?url={escape(url)}">Post</a><a href="mailto:?body={escape(url)}">Email</a></div>
</div></div>
<div class="{CSS["col"]}"><div class="{CSS["box"]}"><div class="{CSS["kicker"]}">Read next</div>{cards}</div></div></div>
<div class="{CSS["foot"]}"><div class="{CSS["box"]}"><span>© {SITE_NAME}</span><a href="{base_url}/privacy/">Privacy</a><a href="{base_url}/foia/">FOIA</a></div></div>
</div></div>
<script id="__NEXT_DATA__" type="application/json">{next_data}</script>
<script src="/_next/static/chunks/main-9f8e7d.js" defer></script>"""
    return _document(head, page)


# --- "brdivs": no <p>, <br><br> between paragraphs, og: meta only ----------------------------------------

def _without_paragraphs(body: str) -> str:
    """Runs of paragraphs become one `<div>` each, split by `<br><br>`; lists, tables, headings and
    quotations stay blocks (their own paragraphs split the same way)."""
    merged = re.sub(r"(?:</p></div>|</p>)\s*(?:<div><p>|<p>)", "<br><br>\n", body)
    return P_CLOSE.sub("</div>", P_OPEN.sub("<div>", merged))


def _brdivs(note: dict, base_url: str, variant, pool: list[dict]) -> str:
    url, title = page_url(note, base_url), note["title"]
    kind, office = note.get("release_type") or "", note.get("office") or ""
    body = _without_paragraphs(_body(note, base_url, variant))
    head = (f'<title>{SITE_NAME} - {_e(title)}</title>\n<meta property="og:type" content="article">\n'
            f'<meta property="og:title" content="{escape(title)}">\n<meta property="og:url" content="{escape(url)}">\n'
            f'<meta property="og:description" content="{escape(_lead(note))}">\n'
            f'<meta property="og:image" content="{base_url}/images/seal-og.png">')
    recent = "<br>".join(f'<a href="{page_url(o, base_url)}">{_e(o["title"])}</a> - {format_long_date(published_date(o))}'
                         for o in _others(note, pool, 4))
    page = f"""<div id="page"><div id="header"><h1 id="logo"><a href="{base_url}/"><img src="{base_url}/images/seal.gif" alt="{SITE_NAME}"></a></h1>
<div id="topnav"><a href="{base_url}/">Home</a> | <a href="{base_url}/news/">Press</a> | <a href="{base_url}/travel/">Travel</a> | <a href="{base_url}/contact/">Contact Us</a></div></div>
<div id="content-wrap"><div id="left"><div class="box"><b>Recent releases</b><br>{recent}</div></div>
<div id="content">
<div class="crumb"><a href="{base_url}/">Home</a> &raquo; <a href="{base_url}/news/">Press</a> &raquo; {_e(kind)}</div>
<h1 class="title">{_e(title)}</h1>
<div class="info"><span class="type">{_e(kind)}</span><br><span class="office">{_e(office)}</span><br><span class="date">{format_long_date(published_date(note))}</span></div>
<div class="text">
{body}
</div>
<div class="footnotes"><sup>1</sup> {_e(FOOTNOTE)}</div>
<div class="meta"><span class="updated">Last updated: {format_long_date(_edited(note).date())}</span> | <a href="javascript:window.print()">Print</a> | <a href="mailto:?body={escape(url)}">E-mail this page</a></div>
</div></div>
<div id="footer"><a href="{base_url}/privacy/">Privacy</a> | <a href="{base_url}/foia/">FOIA</a> | <a href="{base_url}/copyright/">Copyright Information</a><br>{SITE_NAME}</div></div>"""
    return _document(head, page)


# --- "pressroom": sidebar of latest notes, print header, share toolbar, language switcher, amp-img --------

def _pressroom(note: dict, base_url: str, variant, pool: list[dict]) -> str:
    url, title = page_url(note, base_url), note["title"]
    kind, office = note.get("release_type") or "", note.get("office") or ""
    body = _body(note, base_url, variant)
    edited = _edited(note)
    ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": title, "mainEntityOfPage": url,
          "datePublished": published_date(note).isoformat(), "dateModified": edited.isoformat(timespec="seconds"),
          "image": [f"{base_url}/images/press-briefing-room.jpg"],
          "publisher": {"@type": "Organization", "name": SITE_NAME, "logo": {"@type": "ImageObject", "url": f"{base_url}/logo.png"}}}
    head = (f'<title>{_e(title)} - Press Room</title>\n<link rel="canonical" href="{escape(url)}">\n'
            f'<link rel="amphtml" href="{escape(url)}amp/">\n<meta property="og:type" content="article">\n'
            f'<meta property="og:title" content="{escape(title)}">\n<meta property="article:modified_time" content="{edited.isoformat(timespec="seconds")}">\n'
            + "".join(f'<link rel="alternate" hreflang="{code}" href="{escape(url)}?lang={code}">\n' for code in ("es", "fr", "ar"))
            + _json_ld(ld))
    latest = "\n".join(f'<li><a href="{page_url(o, base_url)}">{_e(o["title"])}</a><time datetime="{published_date(o).isoformat()}">'
                       f'{format_long_date(published_date(o))}</time></li>' for o in _others(note, pool, LATEST_COUNT))
    languages = "".join(f'<li><a href="{escape(url)}?lang={code}" lang="{code}" hreflang="{code}">{name}</a></li>' for code, name in
                        (("en", "English"), ("es", "Español"), ("fr", "Français"), ("ar", "العربية"), ("zh", "中文"), ("ru", "Русский")))
    toolbar = "".join(f'<a class="share-btn" href="{escape(href)}" aria-label="Share on {n}">{n}</a>' for n, href in
                      (("Facebook", f"https://www.facebook.com/sharer/sharer.php?u={url}"), ("X", f"https://x.com/intent/post?url={url}"),
                       ("LinkedIn", f"https://www.linkedin.com/shareArticle?url={url}"), ("Email", f"mailto:?body={url}")))
    by = f'<p class="byline">{_e(office)}</p>' if office else ""
    page = f"""<div class="print-header" aria-hidden="true"><img src="{base_url}/images/seal-print.png" alt=""><p class="print-title">{_e(title)}</p><p>{SITE_NAME} · Printed from {escape(url)}</p></div>
<div class="utility"><nav class="lang-switch" aria-label="Language"><ul>{languages}</ul></nav><a href="{base_url}/subscribe/">Subscribe to updates</a></div>
<header class="masthead"><a class="brand" href="{base_url}/">{SITE_NAME}</a><nav><a href="{base_url}/press-room/">Press Room</a> <a href="{base_url}/briefings/">Briefings</a> <a href="{base_url}/media-notes/">Media Notes</a></nav></header>
<div class="container">
<aside class="sidebar"><h2>Latest Media Notes</h2><ul class="latest-list">
{latest}
</ul><a href="{base_url}/media-notes/">All media notes</a></aside>
<article class="press-item">
<div class="press-item__label">{_e(kind)}</div>
<h1>{_e(title)}</h1>
<p class="standfirst">{_e(f"{kind or 'Release'} from the {office or SITE_NAME}")}</p>
{by}<div class="dates"><span>{format_long_date(published_date(note))}</span></div>
<div class="toolbar" role="toolbar" aria-label="Share">{toolbar}<a href="javascript:print()">Print</a></div>
<figure class="lead-image"><amp-img src="{base_url}/images/press-briefing-room.jpg" width="1200" height="675" layout="responsive" alt="The Press Briefing Room"></amp-img><figcaption>The Press Briefing Room at the Department of State. [State Department photo/ Public Domain]</figcaption></figure>
<div class="press-item__body">
{body}
</div>
<section class="notes" aria-label="Footnotes"><ol><li>{_e(FOOTNOTE)}</li></ol></section>
<p class="updated">Last updated <time datetime="{edited.isoformat(timespec="seconds")}">{format_long_date(edited.date())}</time></p>
<div class="toolbar" role="toolbar" aria-label="Share">{toolbar}</div>
</article>
</div>
<footer class="site-footer"><p>{SITE_NAME}</p><a href="{base_url}/privacy/">Privacy</a> <a href="{base_url}/foia/">FOIA</a></footer>"""
    return _document(head, page)


RENDERERS = {USWDS: _uswds, NEXTJS: _nextjs, BRDIVS: _brdivs, PRESSROOM: _pressroom}


def render_holdout_page(note: dict, base_url: str, holdout: str, body_variant=None, *,
                        related: list[dict] | None = None) -> str:
    """The note's release page in the holdout markup `holdout` (one of HOLDOUTS); `body_variant` as
    for `site.render_note_page`; `related` the notes the sidebars and cards come from."""
    if holdout not in RENDERERS:
        raise ValueError(f"unknown holdout redesign {holdout!r}; expected one of {HOLDOUTS}")
    return RENDERERS[holdout](note, base_url.rstrip("/"), body_variant, related or [])
