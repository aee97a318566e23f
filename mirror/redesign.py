"""Release pages in markups state.gov has never used: what a redesign could look like, so that the
parser's generic fallback is tested on pages none of its known layouts recognises
(`MirrorServer(redesign=NAME)` serves every WordPress-host note page so; listing pages, sitemaps
and the REST API stay as they are, so discovery still works).

Each redesign has its own class names (none of today's) and structure, and carries the note's
facts in the places a modern news page does: JSON-LD, OpenGraph / `article:*` meta, `<time>`, a
kicker or byline. The body is the note's usual body markup (`mirror.body`) without any class.

- "semantic": HTML5 `<article>` with a `<header>` (kicker, h1, byline, time), JSON-LD NewsArticle,
  share and tags in the article's `<footer>`, related stories in an `<aside>`.
- "cards": a card-heavy CMS: cookie banner, breadcrumbs, a JSON-LD `@graph` whose
  ReportageNewsArticle names its author by `@id`, sidebars of `<article>` cards in plain `<div>`s,
  a share bar, a newsletter box, tags and related cards around the story.
- "opengraph": no JSON-LD and no `<article>`: `<main>` with nested `<div>`s, the facts in
  OpenGraph and `article:*` meta and in plain `<div>`/`<span>` labels, a date without `<time>`.
- "portal": microdata (`itemtype` NewsArticle, `itemprop`s), the facts in a `<dl>`, no `<main>`,
  no `<article>`, no og:type; a cookie bar, a tools row, "See also" links, "Last updated".
- "blog": a headless-CMS post: JSON-LD with a list `@type` and UTC times, a linked category
  kicker, a "By ... · date" byline, a figure, share and tag rows, post navigation, comments.

- "newsroom": the title in a hero above the `<article>` (a "Newsroom" kicker over it), the type
  and office in spans split by "•", "Published <date>" in a paragraph, a summary box repeating
  the lead before the text, JSON-LD in Washington time.

The fallback was written and tuned on "semantic" and "cards"; "opengraph", "portal", "blog" and
"newsroom" measure it (portal and blog were written after the fallback was first frozen, and
showed two gaps that were then fixed; newsroom after those fixes: see bench/README.md).
"""

from __future__ import annotations

import json
import re
from zoneinfo import ZoneInfo
from html import escape

from statenotes.mirror.body import body_rng, choose_variant, format_long_date, render_body
from statenotes.mirror.hosts import host_of, slug_of
from statenotes.mirror.notes import country_tags, modified_at, page_url, published_at, published_date, site_base

SEMANTIC, CARDS, OPENGRAPH, PORTAL, BLOG, NEWSROOM = "semantic", "cards", "opengraph", "portal", "blog", "newsroom"
REDESIGNS = (SEMANTIC, CARDS, OPENGRAPH, PORTAL, BLOG, NEWSROOM)
WASHINGTON = ZoneInfo("America/New_York")
SITE_NAME = "U.S. Department of State"
RELATED_COUNT = 3
CLASS_ATTRIBUTE = re.compile(r'\s+class="[^"]*"')
COOKIE_TEXT = ("We use cookies to understand how you use this site and to improve your experience. "
               "By continuing you accept our cookie policy.")


def _e(text: str) -> str:
    return escape(text, quote=False)


def _json_ld(value: dict) -> str:
    return ('<script type="application/ld+json">' + json.dumps(value, ensure_ascii=False).replace("</", "<\\/")
            + "</script>")


def _body(note: dict, base_url: str, body_variant) -> str:
    chosen = choose_variant(note["url"], body_variant)
    pdf = f"{site_base(note, base_url)}/files/{slug_of(note)}.pdf"
    return CLASS_ATTRIBUTE.sub("", render_body(note, chosen, body_rng(note["url"], chosen), pdf))


def _tags(note: dict) -> list[str]:
    return [label for label, _ in country_tags(note)] + ([note["office"]] if note.get("office") else [])


def _related(note: dict, others: list[dict]) -> list[dict]:
    day = published_date(note).toordinal()
    pool = [o for o in others if o["url"] != note["url"] and host_of(o) == host_of(note)]
    return sorted(pool, key=lambda o: (abs(published_date(o).toordinal() - day), o["url"]))[:RELATED_COUNT]


def _share_links(url: str) -> list[tuple[str, str]]:
    return [("Facebook", f"https://www.facebook.com/sharer/sharer.php?u={url}"),
            ("X", f"https://x.com/intent/post?url={url}"), ("Email", f"mailto:?body={url}")]


def _nav(base_url: str, labels=("Travel", "Careers", "Policy Issues", "Countries & Areas", "News & Events")) -> str:
    return "".join(f'<li><a href="{base_url}/{i}/">{_e(label)}</a></li>' for i, label in enumerate(labels))


def _facts(note: dict, base_url: str) -> dict:
    url = page_url(note, base_url)
    return {"url": url, "title": note["title"], "type": note.get("release_type") or "", "office": note.get("office") or "",
            "published": published_at(note).isoformat(timespec="seconds"),
            "modified": modified_at(note).isoformat(timespec="seconds"),
            "printed": format_long_date(published_date(note)), "tags": _tags(note)}


def _document(head: str, body: str) -> str:
    return f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n{head}\n</head>\n<body>\n{body}\n</body>\n</html>\n'


# --- "semantic": HTML5 + JSON-LD ---------------------------------------------------------------------

def _semantic(note: dict, base_url: str, body: str, related: list[dict]) -> str:
    f = _facts(note, base_url)
    ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": f["title"], "url": f["url"],
          "datePublished": f["published"], "dateModified": f["modified"], "articleSection": f["type"],
          "author": {"@type": "GovernmentOrganization", "name": f["office"]} if f["office"] else None,
          "publisher": {"@type": "GovernmentOrganization", "name": SITE_NAME}, "keywords": f["tags"]}
    head = (f'<title>{_e(f["title"])} | {SITE_NAME}</title>\n<link rel="canonical" href="{escape(f["url"])}">\n'
            f'<meta property="og:type" content="article">\n<meta property="og:title" content="{escape(f["title"])}">\n'
            f'<meta property="og:site_name" content="{SITE_NAME}">\n' + _json_ld({k: v for k, v in ld.items() if v}))
    cards = "\n".join(
        f'<li class="stack__item"><a href="{page_url(o, base_url)}">{_e(o["title"])}</a>'
        f' <time datetime="{published_date(o).isoformat()}">{format_long_date(published_date(o))}</time></li>'
        for o in related)
    share = "".join(f'<li><a href="{escape(href)}">{label}</a></li>' for label, href in _share_links(f["url"]))
    tags = "".join(f'<li><a href="{base_url}/tag/{i}/">{_e(t)}</a></li>' for i, t in enumerate(f["tags"]))
    byline = f'<p class="story-head__by">{_e(f["office"])}</p>\n' if f["office"] else ""
    kicker = f'<p class="story-head__eyebrow">{_e(f["type"])}</p>\n' if f["type"] else ""
    page = f"""<a class="skip" href="#story">Skip to content</a>
<header class="top"><a href="{base_url}/">{SITE_NAME}</a><nav aria-label="Main"><ul>{_nav(base_url)}</ul></nav></header>
<main id="story">
<article class="story">
<header class="story-head">
{kicker}<h1 class="story-head__title">{_e(f["title"])}</h1>
{byline}<time class="story-head__when" datetime="{f["published"]}">{f["printed"]}</time>
</header>
<div class="story-text">
{body}
</div>
<footer class="story-foot">
<ul class="share-row" aria-label="Share">{share}</ul>
<ul class="topic-list" aria-label="Topics">{tags}</ul>
</footer>
</article>
<aside class="stack" aria-label="Related"><h2>More from the Department</h2><ul>
{cards}
</ul></aside>
</main>
<footer class="bottom"><p>{SITE_NAME}, 2201 C St NW, Washington, DC 20520</p><ul>{_nav(base_url, ("Privacy", "FOIA", "Accessibility"))}</ul></footer>"""
    return _document(head, page)


# --- "cards": a card-heavy CMS ---------------------------------------------------------------------------

def _semantic_card(o: dict, base_url: str) -> str:
    return (f'<article class="tile"><a class="tile__link" href="{page_url(o, base_url)}">{_e(o["title"])}</a>'
            f'<div class="tile__meta"><span>{_e(o.get("release_type") or "")}</span> '
            f'<span>{format_long_date(published_date(o))}</span></div></article>')


def _cards(note: dict, base_url: str, body: str, related: list[dict]) -> str:
    f = _facts(note, base_url)
    org = f"{f['url']}#office"
    graph = [{"@type": "WebPage", "@id": f["url"], "name": f["title"], "datePublished": f["published"]},
             {"@type": "GovernmentOrganization", "@id": "#dos", "name": SITE_NAME},
             {"@type": "ReportageNewsArticle", "@id": f["url"] + "#article", "headline": f["title"],
              "datePublished": f["published"], "dateModified": f["modified"],
              "articleSection": [f["type"]] if f["type"] else [], "publisher": {"@id": "#dos"},
              **({"author": {"@id": org}} if f["office"] else {}), "keywords": ", ".join(f["tags"])}]
    if f["office"]:
        graph.append({"@type": "GovernmentOrganization", "@id": org, "name": f["office"]})
    head = (f'<title>{_e(f["title"])}</title>\n<link rel="canonical" href="{escape(f["url"])}">\n'
            f'<meta name="description" content="{escape(" ".join(note["body_lines"][:1])[:150])}">\n'
            + _json_ld({"@context": "https://schema.org", "@graph": graph}))
    crumbs = " › ".join(f'<a href="{base_url}{path}">{label}</a>' for label, path in
                        (("Home", "/"), ("News", "/news/"), ("Releases", "/news/releases/")))
    tiles = "\n".join(_semantic_card(o, base_url) for o in related)
    share = " ".join(f'<a class="sb__btn" href="{escape(href)}">{label}</a>' for label, href in _share_links(f["url"]))
    tags = " ".join(f'<a class="pill" href="{base_url}/topics/{i}/">{_e(t)}</a>' for i, t in enumerate(f["tags"]))
    label = f'<span class="lbl lbl--kind">{_e(f["type"])}</span>' if f["type"] else ""
    page = f"""<div class="consent" id="consent"><p>{COOKIE_TEXT}</p><a href="#" class="consent__ok">Accept</a> <a href="{base_url}/privacy/">Privacy</a></div>
<div class="topbar"><a class="brand" href="{base_url}/">{SITE_NAME}</a><ul class="menu">{_nav(base_url)}</ul></div>
<div class="layout">
<div class="col col--left"><div class="widget"><h3>Most read</h3>
{tiles}
</div></div>
<div class="col col--center">
<div class="crumbs">{crumbs}</div>
<article class="entry">
<div class="entry__top">{label}
<h1 class="entry__headline">{_e(f["title"])}</h1>
<div class="entry__facts">{f'<a class="entry__org" rel="author" href="{base_url}/offices/{slug_of(note)}/">{_e(f["office"])}</a>' if f["office"] else ""}
<time datetime="{f["published"]}">{f["printed"]}</time></div>
</div>
<div class="sb"><span class="sb__title">Share this</span> {share}</div>
<div class="entry__main"><div class="rich">
{body}
</div></div>
<div class="entry__tags">Tags: {tags}</div>
<div class="sb"><span class="sb__title">Share this</span> {share}</div>
</article>
<div class="newsletter"><h3>Sign up for updates</h3><p>Get the latest releases in your inbox.</p>
<form><input type="email" name="e"><button>Subscribe</button></form></div>
<div class="more"><h2>Related releases</h2>
{tiles}
</div>
</div>
<div class="col col--right"><div class="widget"><h3>Connect</h3><a href="https://x.com/StateDept">X</a> <a href="https://facebook.com/StateDept">Facebook</a></div></div>
</div>
<div class="foot"><p>{SITE_NAME}</p><a href="{base_url}/privacy/">Privacy</a> <a href="{base_url}/foia/">FOIA</a></div>"""
    return _document(head, page)


# --- "opengraph": meta only, <main> and divs --------------------------------------------------------------

def _opengraph(note: dict, base_url: str, body: str, related: list[dict]) -> str:
    f = _facts(note, base_url)
    metas = [("og:type", "article"), ("og:title", f"{f['title']} - {SITE_NAME}"), ("og:site_name", SITE_NAME),
             ("og:url", f["url"]), ("article:published_time", f["published"]), ("article:modified_time", f["modified"])]
    metas += [("article:section", f["type"])] if f["type"] else []
    metas += [("article:tag", t) for t in f["tags"]]
    head = f'<title>{_e(f["title"])} - {SITE_NAME}</title>\n' + "\n".join(
        f'<meta property="{k}" content="{escape(v)}">' for k, v in metas)
    more = "\n".join(f'<div class="x-rel"><a href="{page_url(o, base_url)}">{_e(o["title"])}</a>'
                     f'<div class="x-rel__d">{format_long_date(published_date(o))}</div></div>' for o in related)
    share = "".join(f'<a href="{escape(href)}">{label}</a>' for label, href in _share_links(f["url"]))
    tags = "".join(f'<a href="{base_url}/t/{i}/">{_e(t)}</a>' for i, t in enumerate(f["tags"]))
    facts = "".join(f'<div class="x-fact">{_e(v)}</div>' for v in (f["type"], f["office"]) if v)
    page = f"""<div class="x-head"><a href="{base_url}/">{SITE_NAME}</a> <a href="{base_url}/news/">News</a> <a href="{base_url}/travel/">Travel</a> <a href="{base_url}/careers/">Careers</a></div>
<main>
<div class="x-wrap"><div class="x-grid">
<div class="x-c1">
<div class="x-hero"><h1>{_e(f["title"])}</h1>
<div class="x-facts">{facts}<div class="x-fact">{f["printed"]}</div></div></div>
<div class="x-copy"><div class="x-copy__in">
{body}
</div></div>
<div class="x-social">{share}</div>
<div class="x-topics">{tags}</div>
</div>
<div class="x-c2"><div class="x-box">Related</div>
{more}
</div>
</div></div>
</main>
<div class="x-foot"><a href="{base_url}/privacy/">Privacy</a> <a href="{base_url}/foia/">FOIA</a> <a href="{base_url}/contact/">Contact</a></div>"""
    return _document(head, page)


# --- "portal": microdata, a definition list of facts, no OpenGraph type ---------------------------------

def _portal(note: dict, base_url: str, body: str, related: list[dict]) -> str:
    f = _facts(note, base_url)
    head = (f'<title>{_e(f["title"])} | State Department</title>\n<meta name="twitter:card" content="summary">\n'
            f'<meta name="twitter:title" content="{escape(f["title"])}">\n<meta property="og:title" content="{escape(f["title"])}">')
    rows = [("Type", f'<span itemprop="articleSection">{_e(f["type"])}</span>' if f["type"] else ""),
            ("Office", f'<span itemprop="author">{_e(f["office"])}</span>' if f["office"] else ""),
            ("Date", f'<meta itemprop="datePublished" content="{f["published"][:10]}">{f["printed"]}')]
    facts = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in rows if value)
    also = "".join(f'<li><a href="{page_url(o, base_url)}">{_e(o["title"])}</a> ({format_long_date(published_date(o))})</li>'
                   for o in related)
    page = f"""<div id="cookie-bar"><span>{COOKIE_TEXT}</span> <a href="#">OK</a></div>
<div id="wrapper"><div class="hdr"><a href="{base_url}/">State Department</a> | <a href="{base_url}/news/">News</a> | <a href="{base_url}/contact/">Contact</a></div>
<div class="content-area">
<div itemscope itemtype="https://schema.org/NewsArticle">
<div class="pg-title"><h1 itemprop="headline">{_e(f["title"])}</h1></div>
<dl class="facts">{facts}</dl>
<div itemprop="articleBody">
{body}
</div>
<div class="tools"><a href="#print">Print</a> <a href="mailto:?body={escape(f["url"])}">Email</a> <a href="#share">Share</a></div>
<p class="updated">Last updated: {format_long_date(modified_at(note).date())}</p>
</div>
<div class="also"><h3>See also</h3><ul>{also}</ul></div>
</div>
<div class="ftr"><a href="{base_url}/privacy/">Privacy</a> | <a href="{base_url}/foia/">FOIA</a></div></div>"""
    return _document(head, page)


# --- "blog": a headless-CMS post: typed JSON-LD list, byline with a middle dot, figure, comments ---------

def _blog(note: dict, base_url: str, body: str, related: list[dict]) -> str:
    f = _facts(note, base_url)
    utc = published_at(note).strftime("%Y-%m-%dT%H:%M:%SZ")
    ld = {"@context": "https://schema.org", "@type": ["Article", "NewsArticle"], "headline": f["title"],
          "datePublished": utc, "dateModified": modified_at(note).strftime("%Y-%m-%dT%H:%M:%SZ"),
          "author": [{"@type": "Organization", "name": f["office"]}] if f["office"] else [],
          "publisher": {"@type": "Organization", "name": SITE_NAME}, "articleSection": f["type"] or None}
    head = (f'<title>{_e(f["title"])}</title>\n<meta property="og:type" content="article">\n'
            f'<meta property="og:title" content="{escape(f["title"])}">\n' + _json_ld({k: v for k, v in ld.items() if v}))
    printed = published_date(note).strftime("%b %-d, %Y")
    share = "".join(f'<a href="{escape(href)}">{label}</a> ' for label, href in _share_links(f["url"]))
    tags = ", ".join(f'<a href="{base_url}/tag/{i}/">{_e(t)}</a>' for i, t in enumerate(f["tags"]))
    kicker = f'<div class="post-meta-top"><a href="{base_url}/category/{i}/">{_e(f["type"])}</a></div>' \
        if (i := f["type"].lower().replace(" ", "-")) else ""
    by = f'By <a href="{base_url}/author/office/">{_e(f["office"])}</a> · ' if f["office"] else ""
    nxt = "".join(f'<a class="post-nav" href="{page_url(o, base_url)}">{_e(o["title"])}</a>' for o in related[:2])
    page = f"""<div id="root"><header class="site"><a href="{base_url}/">{SITE_NAME}</a><ul>{_nav(base_url)}</ul></header>
<div class="page"><article class="post">
{kicker}
<h1>{_e(f["title"])}</h1>
<div class="byline">{by}<time datetime="{utc}">{printed}</time></div>
<figure><img src="{base_url}/seal.png" alt=""><figcaption>Photo: Department of State</figcaption></figure>
<section class="post-body">
{body}
</section>
<div class="post-share">Share this: {share}</div>
<div class="post-tags">Tagged: {tags}</div>
<div class="post-navs">{nxt}</div>
</article>
<section class="comments"><h3>Comments are closed.</h3></section>
</div></div>"""
    return _document(head, page)


# --- "newsroom": title in a hero above the article, a summary box, Washington-time JSON-LD ------------

def _newsroom(note: dict, base_url: str, body: str, related: list[dict]) -> str:
    f = _facts(note, base_url)
    local = published_at(note).astimezone(WASHINGTON).isoformat(timespec="seconds")
    ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": f["title"], "datePublished": local,
          "author": {"@type": "Organization", "name": f["office"]} if f["office"] else None,
          "publisher": {"@type": "Organization", "name": SITE_NAME, "logo": {"@type": "ImageObject", "url": "/logo.png"}}}
    head = (f'<title>{_e(f["title"])} – Newsroom – {SITE_NAME}</title>\n<meta property="og:type" content="article">\n'
            f'<meta property="og:title" content="{escape(f["title"])}">\n' + _json_ld({k: v for k, v in ld.items() if v}))
    lead = note["body_lines"][0] if note["body_lines"] else ""
    summary = lead if len(lead) <= 160 else lead[:160].rsplit(" ", 1)[0] + "…"
    facts = " <span>•</span> ".join(f"<span>{_e(v)}</span>" for v in (f["type"], f["office"]) if v)
    latest = "".join(f'<li><a href="{page_url(o, base_url)}">{_e(o["title"])}</a><br><small>{format_long_date(published_date(o))}</small></li>'
                     for o in related)
    page = f"""<div class="site-top"><div class="logo"><a href="{base_url}/">{SITE_NAME}</a></div>
<div class="links"><a href="{base_url}/newsroom/">Newsroom</a> <a href="{base_url}/about/">About</a> <a href="{base_url}/search/">Search</a></div></div>
<div class="hero"><div class="hero__in"><div class="hero__kicker">Newsroom</div><h1>{_e(f["title"])}</h1></div></div>
<div class="wrap">
<article>
<div class="meta">{facts}</div>
<p class="pub">Published {f["printed"]}</p>
<div class="summary"><h2>Summary</h2><p>{_e(summary)}</p></div>
<div class="copy">
{body}
</div>
<p class="share">Share: <a href="https://x.com/intent/post?url={escape(f["url"])}">X</a></p>
</article>
<div class="latest"><h2>Latest releases</h2><ul>{latest}</ul></div>
</div>
<div class="bottom"><p>{SITE_NAME} · 2201 C St NW, Washington, DC 20520</p></div>"""
    return _document(head, page)


RENDERERS = {SEMANTIC: _semantic, CARDS: _cards, OPENGRAPH: _opengraph, PORTAL: _portal, BLOG: _blog,
             NEWSROOM: _newsroom}


def render_redesigned_page(note: dict, base_url: str, redesign: str, body_variant=None, *,
                           related: list[dict] | None = None) -> str:
    """The note's release page in `redesign` (one of REDESIGNS); `body_variant` as for
    `site.render_note_page` (None: chosen by the url); `related` the notes the related cards come from."""
    if redesign not in RENDERERS:
        raise ValueError(f"unknown redesign {redesign!r}; expected one of {REDESIGNS}")
    base_url = base_url.rstrip("/")
    return RENDERERS[redesign](note, base_url, _body(note, base_url, body_variant), _related(note, related or []))


def check_redesign(redesign: str | None) -> str | None:
    if redesign is not None and redesign not in RENDERERS:
        raise ValueError(f"unknown redesign {redesign!r}; expected one of {REDESIGNS}")
    return redesign

