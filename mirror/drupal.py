"""The 2009-2017 archive (2009-2017.state.gov) in its Drupal-era markup: release pages, and the
press-release index by year and by month.

Known (corpus MARKUP.md): release urls `/r/pa/prs/ps/YYYY/MM/NNNNNN.htm`; a year index
`/r/pa/prs/ps/YYYY/index.htm` linking its months; month pages listing releases with their dates in
`span.date-display-single` (confirmed); a release page reads "Media Note" / "Office of the
Spokesperson" / "Washington, DC" / date, then the title and the body, with `h1.title`,
`.field-name-field-date` and `div.field-name-body` (believed). The rest is Drupal 7's usual field
markup (`div.field.field-name-X > div.field-items > div.field-item`) and the archive's own chrome;
links are root-relative, as Drupal writes them. The header carries the dateline when its date is
the publication date (the usual case then); otherwise the body opens with its own dateline.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time
from html import escape
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from statenotes.mirror.body import Variant, body_rng, format_long_date, render_body
from statenotes.mirror.chrome import slugify
from statenotes.mirror.hosts import DRUPAL_RELEASES_PATH, HOST_2009_2017, host_prefix
from statenotes.mirror.notes import page_path, published_date, sort_newest_first

ARCHIVE_NOTICE = ("This is an archive of information released online from January 20, 2009 to "
                  "January 20, 2017. Inclusion of non-U.S. Government links does not imply endorsement "
                  "of contents.")
ARCHIVE_FIRST_MONTH, ARCHIVE_LAST_MONTH = (2009, 1), (2017, 1)
NAV_ITEMS = ("Travel", "Careers", "Business", "Secretary Kerry", "Policy Issues", "Countries & Regions",
             "Bureaus & Offices", "About State", "Press & Public Affairs", "Youth & Education")
FOOTER_ITEMS = ("FOIA", "Privacy Notice", "Copyright Information", "White House", "Other U.S. Government Info",
                "Archives", "Social Media", "Contact Us", "Site Map", "Accessibility")
EASTERN = ZoneInfo("America/New_York")  # the site's dates are Washington dates
BREADCRUMB = ("Under Secretary for Public Diplomacy and Public Affairs", "Bureau of Public Affairs",
              "Bureau of Public Affairs: Press Relations Office", "Press Releases")


def index_path(year: int | None = None, month: int | None = None) -> str:
    """`/r/pa/prs/ps/index.htm`, `/r/pa/prs/ps/YYYY/index.htm` or `/r/pa/prs/ps/YYYY/MM/index.htm`."""
    parts = [f"{year}"] if year else []
    parts += [f"{month:02d}"] if year and month else []
    return DRUPAL_RELEASES_PATH + "".join(p + "/" for p in parts) + "index.htm"


def archive_months(year: int) -> list[int]:
    """The months of `year` the archive covers (the year index links each, even when empty)."""
    return [m for m in range(1, 13) if ARCHIVE_FIRST_MONTH <= (year, m) <= ARCHIVE_LAST_MONTH]


def _field(name: str, inner: str, kind: str = "text") -> str:
    return (f'<div class="field field-name-field-{name} field-type-{kind} field-label-hidden">'
            f'<div class="field-items"><div class="field-item even">{inner}</div></div></div>')


def _date_span(value: date) -> str:
    midnight = datetime.combine(value, time(0), tzinfo=EASTERN)
    return (f'<span class="date-display-single" property="dc:date" datatype="xsd:dateTime" '
            f'content="{midnight.isoformat()}">{format_long_date(value)}</span>')


def _page(title: str, prefix: str, content: str, *, crumbs: tuple[str, ...] = (), canonical: str = "",
          body_class: str = "", years: tuple[int, ...] = ()) -> str:
    nav = "\n".join(f'<li class="leaf"><a href="{prefix}/{slugify(item)}/index.htm">{escape(item)}</a></li>'
                    for item in NAV_ITEMS)
    footer = "\n".join(f'<li class="leaf"><a href="{prefix}/{slugify(item)}/index.htm">{escape(item)}</a></li>'
                       for item in FOOTER_ITEMS)
    trail = " &gt; ".join([f'<a href="{prefix}/r/pa/index.htm">{escape(BREADCRUMB[0])}</a>',
                           f'<a href="{prefix}/r/pa/prs/index.htm">{escape(BREADCRUMB[1])}</a>',
                           f'<a href="{prefix}/r/pa/prs/ps/index.htm">{escape(BREADCRUMB[3])}</a>',
                           *map(escape, crumbs)])
    sidebar = "\n".join(f'<li class="leaf"><a href="{prefix}{index_path(y)}">{y}</a></li>' for y in years)
    link = f'<link rel="canonical" href="{escape(canonical)}" />\n' if canonical else ""
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML+RDFa 1.0//EN" "http://www.w3.org/MarkUp/DTD/xhtml-rdfa-1.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" version="XHTML+RDFa 1.0" dir="ltr">
<head profile="http://www.w3.org/1999/xhtml/vocab">
<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
{link}<title>{escape(title, quote=False)}</title>
<style type="text/css" media="all">@import url("{prefix}/sites/all/themes/dos/css/style.css?o8x2k1");</style>
<script type="text/javascript" src="{prefix}/misc/jquery.js?v=1.4.4"></script>
<script type="text/javascript">jQuery.extend(Drupal.settings, {{"basePath":"\\/","pathPrefix":""}});</script>
</head>
<body class="html not-front not-logged-in one-sidebar sidebar-first {body_class}">
<div id="skip-link"><a href="#main-content" class="element-invisible element-focusable">Skip to main content</a></div>
<div id="archive-banner"><p>{ARCHIVE_NOTICE}</p></div>
<div id="page-wrapper"><div id="page">
<div id="header"><div class="section clearfix">
<a href="{prefix}/index.htm" title="Home" rel="home" id="logo"><img src="{prefix}/sites/all/themes/dos/logo.png" alt="U.S. Department of State" /></a>
<div id="name-and-slogan"><div id="site-name"><strong>U.S. Department of State</strong></div><div id="site-slogan">Diplomacy in Action</div></div>
<form action="{prefix}/search/index.htm" method="get" id="search-block-form"><div><input type="text" name="q" size="15" /><input type="submit" value="Search" /></div></form>
</div></div>
<div id="navigation"><div class="section"><ul class="menu">
{nav}
</ul></div></div>
<div id="breadcrumb"><div class="breadcrumb">You are in: {trail}</div></div>
<div id="main-wrapper"><div id="main" class="clearfix">
<div id="content" class="column"><div class="section">
<a id="main-content"></a>
{content}
</div></div>
<div id="sidebar-first" class="column sidebar"><div class="section"><div class="block block-menu">
<h2>Press Releases by Year</h2><ul class="menu">
{sidebar}
</ul></div></div></div>
</div></div>
<div id="footer"><div class="section"><ul class="menu">
{footer}
</ul><p>The Office of Website Management, Bureau of Public Affairs, manages this site as a portal for
information from the U.S. State Department. External links to other Internet sites should not be
construed as an endorsement of the views or privacy policies contained therein.</p></div></div>
</div></div>
</body>
</html>
"""


def render_drupal_page(note: dict, base_url: str, variant: Variant) -> str:
    """A release page of the 2009-2017 archive. The body uses `variant`'s choices, within what the
    Drupal-era editor produced: no block wrappers, no PDF-link class."""
    prefix = urlsplit(base_url.rstrip("/") + host_prefix(HOST_2009_2017)).path
    published = published_date(note)
    dateline_in_header = bool(note.get("dateline_place")) and note.get("dateline_date") == note["published_date"]
    plain = dataclasses.replace(variant, wrap=False,
                                ending="hashes" if variant.ending == "hashes_pdf" else variant.ending)
    body = render_body(note, plain, body_rng(note["url"], variant), "", dateline=not dateline_in_header)
    node = page_path(note).rsplit("/", 1)[-1].removesuffix(".htm")
    header = [_field("doctype", escape(note.get("release_type") or "", quote=False), "taxonomy-term-reference")]
    if note.get("office"):
        header.append(_field("office", escape(note["office"], quote=False), "taxonomy-term-reference"))
    if dateline_in_header:
        header.append(_field("dateline", escape(note["dateline_place"], quote=False)))
    header.append(_field("date", _date_span(published), "datetime"))
    share = (f'<div class="addthis_toolbox addthis_default_style"><a class="addthis_button_email">Email</a> '
             f'<a class="addthis_button_print">Print</a> <a class="addthis_button_compact">Share</a></div>')
    content = f"""<div class="region region-content"><div id="block-system-main" class="block block-system"><div class="content">
<div id="node-{node}" class="node node-press-release node-full clearfix" about="{prefix}{urlsplit(note["url"]).path}" typeof="sioc:Item foaf:Document">
{share}
<div class="pr-header">
{chr(10).join(header)}
</div>
<h1 class="title" id="page-title">{escape(note["title"], quote=False)}</h1>
<div class="field field-name-body field-type-text-with-summary field-label-hidden"><div class="field-items"><div class="field-item even" property="content:encoded">
{body}
</div></div></div>
<p class="node-print"><a href="{prefix}/r/pa/prs/ps/{published:%Y/%m}/{node}.htm?print=1">Print this page</a></p>
</div>
</div></div></div>"""
    return _page(note["title"], prefix, content, crumbs=(f"{published.year}", f"{published:%B}"),
                 canonical=base_url.rstrip("/") + page_path(note), years=years_of([note]),
                 body_class=f"page-node page-node-{node} node-type-press-release")


def years_of(notes: list[dict]) -> tuple[int, ...]:
    return tuple(sorted({published_date(n).year for n in notes}, reverse=True))


def _release_links(notes: list[dict], prefix: str) -> str:
    rows = "\n".join(
        f'<li class="views-row"><span class="views-field views-field-title"><span class="field-content">'
        f'<a href="{prefix}{urlsplit(n["url"]).path}">{escape(n["title"], quote=False)}</a></span></span> '
        f'<span class="views-field views-field-field-date"><span class="field-content">'
        f'{_date_span(published_date(n))}</span></span></li>'
        for n in sort_newest_first(notes))
    if not rows:
        return '<div class="view-empty"><p>There are no press releases for this month.</p></div>'
    return f'<div class="view-content"><ul>\n{rows}\n</ul></div>'


def render_index_page(notes: list[dict], base_url: str, year: int | None = None, month: int | None = None, *,
                      years: tuple[int, ...] | None = None) -> str:
    """The press-release index (years), a year index (its months) or a month page (its releases).
    `years` (newest first) are the archive's years; by default those of `notes`, which may then
    be only the month's notes."""
    prefix = urlsplit(base_url.rstrip("/") + host_prefix(HOST_2009_2017)).path
    years = years_of(notes) if years is None else years
    if year is None:
        title, crumbs = "Press Releases", ()
        inner = "\n".join(f'<li><a href="{prefix}{index_path(y)}">{y}</a></li>' for y in years)
        inner = f'<div class="item-list"><ul>\n{inner}\n</ul></div>'
    elif month is None:
        title, crumbs = f"{year} Press Releases", (f"{year}",)
        inner = "\n".join(f'<li><a href="{prefix}{index_path(year, m)}">{date(year, m, 1):%B}</a></li>'
                          for m in archive_months(year))
        inner = f'<div class="item-list"><ul class="months">\n{inner}\n</ul></div>'
    else:
        title, crumbs = f"{date(year, month, 1):%B %Y} Press Releases", (f"{year}", f"{date(year, month, 1):%B}")
        shown = [n for n in notes if published_date(n).year == year and published_date(n).month == month]
        inner = f'<div class="view view-press-releases view-id-press_releases">\n{_release_links(shown, prefix)}\n</div>'
    content = (f'<div class="region region-content"><h1 class="title" id="page-title">{escape(title)}</h1>\n'
               f'{inner}\n</div>')
    return _page(title, prefix, content, crumbs=crumbs, years=years,
                 canonical=base_url.rstrip("/") + host_prefix(HOST_2009_2017) + index_path(year, month),
                 body_class="page-r page-r-pa page-r-pa-prs page-r-pa-prs-ps")


def index_pages(notes: list[dict]) -> list[tuple[int | None, int | None]]:
    """(year, month) of every index page the archive has for `notes`: (None, None) the years,
    (year, None) a year, (year, month) a month."""
    years = years_of(notes)
    return [(None, None)] + [(y, None) for y in years] + [(y, m) for y in years for m in archive_months(y)]
