"""Where things are on a state.gov release page: CSS selectors, tag sets and patterns, in one place.

The parser reads pages only through these names, so that a markup change is a one-line edit here.
Selectors marked "confirmed" are used by several independent scrapers (see corpus MARKUP.md);
"believed" ones come from a single source. Element selectors are simple ones, `tag.class[.class]`
or `.class` (looked up in one index per page, see `fields.PageIndex`); meta entries are the
`property` / `name` of a `<meta>` in `<head>`.
"""

from __future__ import annotations

import re

# --- Layout names (the `notes.layout` column) ---------------------------------------------------
LAYOUT_WORDPRESS = "wordpress"  # www.state.gov since 2019, and the 2017-2021 / 2021-2025 archive hosts
LAYOUT_DRUPAL = "drupal"  # 2009-2017.state.gov archive (believed markup)
LAYOUT_WP_JSON = "wp-json"  # an item of the WordPress REST API (/wp-json/wp/v2/state_press_release)

# --- 1. WordPress release page (confirmed) --------------------------------------------------------
WP_TITLE = "h1.featured-content__headline"
WP_RELEASE_TYPE = "p.article-meta.doctype-meta"
WP_OFFICE = "p.article-meta__author-bureau"
WP_PUBLISH_DATE = "p.article-meta__publish-date"
WP_BODY = "div.entry-content"
WP_TAGS = "div.related-tags__pills"  # the tag links are the <a>s inside
OG_TITLE = "og:title"
OG_TITLE_SUFFIX = " - United States Department of State"
CANONICAL_REL = "canonical"
# First match wins: WordPress (Yoast) writes article:modified_time, some themes og:updated_time.
MODIFIED_META = ("article:modified_time", "og:updated_time")

# --- 2. Drupal-era archive page (believed: one parser's class names) ------------------------------
DRUPAL_TITLE = "h1.title"
DRUPAL_DATE = ".field-name-field-date"
DRUPAL_BODY = "div.field-name-body"
# Header fields before the title ("Media Note" / "Office of the Spokesperson" / "Washington, DC"):
# Drupal 7's field naming, as the mirror renders them; not confirmed on the real archive.
DRUPAL_RELEASE_TYPE = ".field-name-field-doctype"
DRUPAL_OFFICE = ".field-name-field-office"
DRUPAL_DATELINE = ".field-name-field-dateline"

# --- Pages that are not releases ------------------------------------------------------------------
# Looked for at the start of <title> and <h1> only, and only on pages without a release headline:
# words in a release (even a title like "Section 404 Waiver") must never trip these.
BOT_WALL_TITLE = re.compile(
    r"^(?:technical difficulties|access denied|request rejected|just a moment|attention required"
    r"|are you a (?:human|robot))",
    re.IGNORECASE,
)
NOT_FOUND_TITLE = re.compile(
    r"^(?:page (?:was )?not found|page (?:cannot|can't|could not) be found|nothing found"
    r"|(?:error\s*)?404(?:\s*[-–:|]|\s+(?:error|not found)|$))",
    re.IGNORECASE,
)
NOT_FOUND_BODY_CLASS = "error404"  # WordPress puts it on <body> of its 404 template

# --- Body walking ---------------------------------------------------------------------------------
HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
LIST_TAGS = frozenset({"ol", "ul"})
# Tags whose content is one block of lines (a paragraph in all but name).
LINE_BLOCK_TAGS = frozenset({"p", "figcaption", "pre", "address", "dt", "dd", "li"})
# Elements that never hold release prose.
SKIP_TAGS = frozenset({
    "script", "style", "noscript", "template", "iframe", "form", "button", "input", "select",
    "svg", "img", "picture", "video", "audio", "source", "object", "embed", "nav", "aside", "hr",
})
# Containers of widgets inside the body (share buttons, related posts, PDF download boxes).
SKIP_CLASS = re.compile(
    r"(?:^|[-_\s])(?:share|sharing|sharedaddy|social|addtoany|a2a|jp-relatedposts|related"
    r"|print-?button|screen-reader-text|sr-only)(?:$|[-_\s])",
    re.IGNORECASE,
)
PDF_LINK_CLASS = "external-link__pdf"
# Block-level tags that end an implicit paragraph of loose inline content.
BLOCK_TAGS = frozenset({
    "p", "div", "section", "article", "blockquote", "ol", "ul", "li", "table", "thead", "tbody",
    "tfoot", "tr", "td", "th", "figure", "figcaption", "header", "footer", "main", "pre", "dl",
    "dt", "dd", "address", "center",
}) | HEADING_TAGS | SKIP_TAGS

# --- Byte pre-slice (speed: BeautifulSoup sees only the head and the <main> region) ---------------
HEAD_END = re.compile(rb"</head\s*>", re.IGNORECASE)
# What the parser reads in <head>: the title, the <meta>s it looks up and the canonical link (not
# styles, scripts, preloads or the dozen social metas, which are most of a WordPress head).
HEAD_METAS = (OG_TITLE, *MODIFIED_META)
HEAD_KEEP = re.compile(
    rb"<title[\s>].*?</title\s*>|<link\s[^>]*\bcanonical\b[^>]*>"
    rb"|<meta\s[^>]*\b(?:property|name)\s*=\s*[\"']?(?:"
    + b"|".join(re.escape(m.encode()) for m in HEAD_METAS) + rb")[\"'\s/>][^>]*>",
    re.IGNORECASE | re.DOTALL)
# Inside <main> but never read: the "Related Articles" cards after the article (a sixth of a
# page's tags). Cut before BeautifulSoup parses the region.
RELATED_SECTION = re.compile(rb"<section\s[^>]*\bclass\s*=\s*[\"'][^\"']*\brelated-content\b(?!_)[^>]*>.*?</section\s*>",
                             re.IGNORECASE | re.DOTALL)
MAIN_START = re.compile(rb"<main[\s>]", re.IGNORECASE)
MAIN_END = re.compile(rb"</main\s*>", re.IGNORECASE)
BODY_TAG = re.compile(rb"<body[^>]*>", re.IGNORECASE)

# --- Truncation: a document that opens <html> must close it (caches may append a comment after) --
DOCUMENT_START = re.compile(rb"<html[\s>]", re.IGNORECASE)
DOCUMENT_END = re.compile(rb"</html\s*>", re.IGNORECASE)

# --- Text -----------------------------------------------------------------------------------------
# "February 7, 2019"; also "Feb. 7, 2019" / "Sept. 7, 2019" as AP style prints them.
PRINTED_DATE = re.compile(
    r"^(?P<month>[A-Za-z]+)\.?\s+(?P<day>\d{1,2}),?\s+(?P<year>\d{4})$"
)
MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
    "oct": 10, "nov": 11, "dec": 12,
}
CHARSET_PARAM = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
# Browsers (WHATWG Encoding) read these labels as windows-1252; Python's latin-1 would turn
# 0x91-0x97 (curly quotes, dashes) into control characters.
WINDOWS_1252_ALIASES = frozenset({"iso-8859-1", "iso8859-1", "latin-1", "latin1", "us-ascii", "ascii"})

# --- 3. Generic fallback (extractors.generic): semantic signals only, no class names -------------
LAYOUT_GENERIC = "generic"  # recorded as "generic:<metadata source>+<body root>", e.g. "generic:jsonld+article"
# schema.org types that describe one article (NewsArticle, ReportageNewsArticle, BlogPosting, ...).
ARTICLE_TYPE = re.compile(r"(?:Article|BlogPosting|Report)$")
ARTICLE_ITEMTYPE = re.compile(r"schema\.org/\w*(?:Article|BlogPosting|Report)$")  # microdata itemtype
JSON_LD_TYPE = "application/ld+json"
OG_TYPE, OG_SITE_NAME, OG_URL = "og:type", "og:site_name", "og:url"
PUBLISHED_META = ("article:published_time", "og:published_time", "datepublished")
SECTION_META = ("article:section",)
TAG_META = "article:tag"
AUTHOR_META = "author"
# Elements that are never the article: chrome, widgets, forms, hidden things.
GENERIC_DROP_TAGS = frozenset({
    "nav", "aside", "footer", "form", "button", "script", "style", "noscript", "template", "iframe",
    "svg", "dialog", "select", "input", "textarea", "label", "menu",
})
GENERIC_DROP_ROLES = frozenset({"navigation", "complementary", "contentinfo", "banner", "search", "dialog",
                                "alertdialog", "menu", "menubar", "toolbar"})
# A container this short that is mostly link text is a share bar, a tag list, a card, breadcrumbs.
LINK_DENSE_SHARE = 0.6
LINK_DENSE_MAX_CHARS = 400
# A prose paragraph: long enough to be a sentence.
PROSE_MIN_CHARS = 40
PROSE_MIN_WORDS = 6
SECOND_ARTICLE_SHARE = 0.5  # a second <article> with this much of the first's prose: ambiguous page
LABEL_MAX_CHARS = 80  # a metadata line (type, office, date) near the title
TYPE_MAX_WORDS = 5
# Issuing offices of the Department name themselves so ("Office of the Spokesperson", "Bureau of ...").
OFFICE_NAME = re.compile(
    r"^(?:(?:the\s+)?(?:office|bureau|embassy|mission|consulate|secretariat)\b"
    r"|(?:(?:deputy|under|assistant)\s+)?secretary\b|(?:u\.s\.\s+)?(?:special\s+(?:envoy|representative)|ambassador)\b)",
    re.IGNORECASE)
BYLINE_PREFIX = re.compile(r"^by\s+", re.IGNORECASE)
# "Published March 21, 2019": the publication date with its label ("Updated ..." is another date).
PUBLISHED_PREFIX = re.compile(r"^(?:published|posted|released|issued)(?:\s+on)?:?\s+", re.IGNORECASE)
# Text that is page furniture, never release prose; a body holding any of it is not loaded.
BOILERPLATE = re.compile(
    r"^(?:share(?:\s+(?:this|on\b.*))?|tweet|print(?:\s+this)?|email(?:\s+this)?|skip to (?:main )?content"
    r"|related (?:articles|content|posts|stories)|read more|tags?:?|back to top|return to top|subscribe\b.*"
    r"|sign up\b.*|breadcrumbs?|you are (?:here|in):?.*)$"
    r"|\b(?:we use cookies|this (?:site|website) uses cookies|accept (?:all )?cookies|cookie (?:policy|settings))\b",
    re.IGNORECASE)
