"""Pages that answer 200 but are not releases, served on demand so that the pipeline's quarantine
can be tested end to end (`MirrorServer(bad_pages={path: kind})`, or the "botwall" fault).

- "botwall": the "Technical Difficulties" page scrapers report for non-browser clients (MARKUP.md).
- "soft404": the site's page-not-found template, served with 200.
- "no_body": the note's page without its `div.entry-content`.
- "empty_body": the note's page whose body holds only empty paragraphs and "# # #".
- "unknown_layout": a state.gov page that is not a release at all (a bureau landing page).
"""

from __future__ import annotations

import re

from statenotes.mirror.chrome import TITLE_SUFFIX, render_page
from statenotes.mirror.hosts import is_drupal
from statenotes.mirror.notes import stable_hash

BOT_WALL = "botwall"
SOFT_404 = "soft404"
NO_BODY = "no_body"
EMPTY_BODY = "empty_body"
UNKNOWN_LAYOUT = "unknown_layout"
BAD_PAGE_KINDS = (BOT_WALL, SOFT_404, NO_BODY, EMPTY_BODY, UNKNOWN_LAYOUT)
NOTE_KINDS = frozenset({NO_BODY, EMPTY_BODY})  # made from the note served at the path

ENTRY_CONTENT = re.compile(r'<div class="entry-content">.*?</div><!-- \.entry-content -->', re.DOTALL)
EMPTY_BODY_HTML = '<div class="entry-content">\n<p></p>\n<p>&nbsp;</p>\n<p># # #</p>\n</div><!-- .entry-content -->'

BOT_WALL_HTML = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Technical Difficulties</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<div class="container">
<h1>Technical Difficulties</h1>
<p>We’re sorry, this site is currently experiencing technical difficulties. Please try again in a few moments.</p>
<p>Reference #18.{ref}</p>
</div>
</body>
</html>
"""


def check_bad_pages(bad_pages: dict[str, str], notes_by_path: dict[str, dict]) -> dict[str, str]:
    """`bad_pages` if every kind is known and every NOTE_KINDS page has a WordPress note to be
    made from; else ValueError (before the server starts, so that nothing is left open)."""
    for path, kind in bad_pages.items():
        if kind not in BAD_PAGE_KINDS:
            raise ValueError(f"unknown bad page kind {kind!r}; expected one of {BAD_PAGE_KINDS}")
        if kind in NOTE_KINDS and (path not in notes_by_path or is_drupal(notes_by_path[path])):
            raise ValueError(f"a {kind!r} page is made from a WordPress release page; none is served at {path!r}")
    return dict(bad_pages)


def render_bot_wall(path: str) -> str:
    return BOT_WALL_HTML.format(ref=f"{stable_hash(path) % 16**8:08x}.1700000000")


def _landing_page(base_url: str) -> str:
    main = f"""<main id="main" class="site-main" role="main">
<div class="page-header"><h1 class="page-header__title">Office of the Spokesperson</h1></div>
<div class="page-content"><p>The Office of the Spokesperson communicates U.S. foreign policy to the public.</p>
<p>See the latest <a href="{base_url}/press-releases/">press releases</a>.</p></div>
</main>"""
    return render_page("Office of the Spokesperson" + TITLE_SUFFIX, base_url, main, body_class="page")


def render_bad_page(kind: str, path: str, base_url: str, *, note_page: str | None = None,
                    not_found_page: str | None = None) -> str:
    """The bad page of `kind` at `path`. `note_page` (the release page normally served there) is
    needed for NOTE_KINDS; `not_found_page` (the site's 404 page) for "soft404"."""
    if kind == BOT_WALL:
        return render_bot_wall(path)
    if kind == SOFT_404 and not_found_page is not None:
        return not_found_page
    if kind == UNKNOWN_LAYOUT:
        return _landing_page(base_url.rstrip("/"))
    if kind in NOTE_KINDS and note_page is not None and ENTRY_CONTENT.search(note_page):
        replacement = "" if kind == NO_BODY else EMPTY_BODY_HTML
        return ENTRY_CONTENT.sub(lambda _: replacement, note_page, count=1)
    raise ValueError(f"cannot serve a {kind!r} page at {path!r} (kinds: {BAD_PAGE_KINDS}; "
                     f"{sorted(NOTE_KINDS)} need a WordPress release page there)")
