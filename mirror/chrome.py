"""The boilerplate around every state.gov page: head, USWDS banner, header, navigation, search, footer.

None of it is release content; it is here so that a parser meets the same clutter (country names
in menus, many links, inline scripts) as on the real site, and pages have a realistic size.
"""

from __future__ import annotations

import re
from html import escape

SITE_NAME = "United States Department of State"
TITLE_SUFFIX = f" - {SITE_NAME}"
THEME = "/wp-content/themes/state-dept"

# The mega-menu, as (section, items). Items become /<section-slug>/<item-slug>/ links.
NAV_MENU: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Travel", ("U.S. Passports", "International Travel", "U.S. Visas", "Intercountry Adoption",
                "International Parental Child Abduction", "Travel Advisories", "Emergencies Abroad")),
    ("Careers", ("Foreign Service Officer", "Foreign Service Specialist", "Civil Service",
                 "Student Programs", "Veterans", "Diversity and Inclusion", "Benefits")),
    ("Policy Issues", ("Arms Control and Nonproliferation", "Climate and Environment", "Counterterrorism",
                       "Cyber Issues", "Democracy and Human Rights", "Economic Prosperity and Trade Policy",
                       "Energy", "Global Health", "Global Women’s Issues", "Human Trafficking",
                       "International Religious Freedom", "Refugees and Migration",
                       "Science, Technology and Innovation", "Sanctions", "Wildlife Trafficking")),
    ("Countries & Areas", ("Africa", "East Asia and the Pacific", "Europe and Eurasia", "Near East",
                           "South and Central Asia", "Western Hemisphere", "Bilateral Relations Fact Sheets",
                           "U.S. Embassies and Consulates", "Countries and Areas Archive")),
    ("Bureaus & Offices", ("Office of the Secretary", "Office of the Deputy Secretary",
                           "Under Secretary for Political Affairs",
                           "Under Secretary for Economic Growth, Energy, and the Environment",
                           "Under Secretary for Arms Control and International Security",
                           "Under Secretary for Management",
                           "Under Secretary for Public Diplomacy and Public Affairs",
                           "Under Secretary for Civilian Security, Democracy, and Human Rights",
                           "Bureau of African Affairs", "Bureau of East Asian and Pacific Affairs",
                           "Bureau of European and Eurasian Affairs", "Bureau of Near Eastern Affairs",
                           "Bureau of South and Central Asian Affairs", "Bureau of Western Hemisphere Affairs",
                           "Bureau of Counterterrorism", "Bureau of Consular Affairs",
                           "Bureau of Global Public Affairs", "Office of the Spokesperson",
                           "Office of the Legal Adviser", "Office of the Chief of Protocol")),
    ("About", ("About the U.S. Department of State", "Leadership", "Organization Chart",
               "Budget and Performance", "History", "Diplomatic Reception Rooms", "Contact Us",
               "Frequently Asked Questions", "Open Government", "Business Opportunities")),
    ("News & Events", ("Press Releases", "Department Press Briefings", "Remarks and Releases",
                       "Secretary’s Remarks", "Speeches", "Interviews", "Events", "Photos", "Videos",
                       "Podcasts", "Subscribe to Updates")),
)

FOOTER_LINKS: tuple[str, ...] = (
    "Accessibility Statement", "Copyright Information", "FOIA", "No FEAR Act", "Privacy Policy",
    "Inspector General", "USA.gov", "Archives", "Social Media Directory", "Site Map", "Vulnerability Disclosure",
    "Plain Writing", "Budget Documents", "Agency Financial Report", "Open Data", "External Link Policy",
    "Information Quality Guidelines", "Digital Strategy", "Regulations", "Reports", "Treaties and Agreements",
    "Employee Resources", "Forms", "Fact Sheets", "Testimony", "Foreign Relations of the United States",
)

# A page's own stylesheet and scripts are long on the real site; these stand in for them.
THEME_CSS = "".join(
    f".usa-{name}{{margin:0 auto;padding:.{i % 9}rem {i % 5}rem;max-width:{60 + i}rem}}"
    f".usa-{name}__inner{{display:flex;flex-wrap:wrap;align-items:center}}"
    f".usa-{name}--{['big', 'slim', 'extended', 'basic'][i % 4]}{{font-size:{1 + i % 3}.0{i % 7}rem}}"
    for i, name in enumerate(("banner", "header", "nav", "footer", "search", "menu", "grid", "accordion",
                              "card", "alert", "button", "tag", "media-block", "identifier", "sidenav"))
)


def slugify(text: str) -> str:
    """WordPress-style slug: lowercase ASCII words joined by hyphens."""
    text = text.replace("’", "").replace("'", "").replace("&", "")
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _head(title: str, base_url: str, canonical: str | None, head_extra: str) -> str:
    canonical_tag = f'<link rel="canonical" href="{escape(canonical)}">\n' if canonical else ""
    fonts = "\n".join(
        f'<link rel="preload" href="{base_url}{THEME}/dist/fonts/{font}.woff2" as="font" type="font/woff2" crossorigin>'
        for font in ("merriweather-regular-webfont", "merriweather-bold-webfont", "sourcesanspro-regular-webfont",
                     "sourcesanspro-bold-webfont", "sourcesanspro-italic-webfont")
    )
    return f"""<head>
<meta charset="utf-8">
<meta http-equiv="X-UA-Compatible" content="IE=edge">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title, quote=False)}</title>
<meta name="robots" content="index, follow, max-image-preview:large, max-snippet:-1, max-video-preview:-1">
{canonical_tag}<meta property="og:locale" content="en_US">
<meta property="og:site_name" content="{SITE_NAME}">
<meta property="og:image" content="{base_url}/wp-content/uploads/2019/04/state-department-seal.jpg">
<meta name="twitter:card" content="summary_large_image">
<meta name="twitter:site" content="@StateDept">
{head_extra}
{fonts}
<link rel="stylesheet" id="state-dept-styles-css" href="{base_url}{THEME}/dist/css/main.min.css?ver=3.9.2" type="text/css" media="all">
<link rel="stylesheet" id="wp-block-library-css" href="{base_url}/wp-includes/css/dist/block-library/style.min.css?ver=6.4.3" type="text/css" media="all">
<link rel="icon" href="{base_url}/wp-content/uploads/2019/04/cropped-favicon-32x32.png" sizes="32x32">
<link rel="alternate" type="application/rss+xml" title="{SITE_NAME} &raquo; Feed" href="{base_url}/feed/">
<style id="state-dept-inline-css">{THEME_CSS}</style>
<script>window.dataLayer = window.dataLayer || [];function gtag(){{dataLayer.push(arguments);}}gtag('js', new Date());gtag('config', 'G-STATEDEPT0', {{'anonymize_ip': true, 'cookie_flags': 'SameSite=None;Secure'}});</script>
</head>"""


BANNER = """<section class="usa-banner" aria-label="Official website of the United States government">
<div class="usa-accordion">
<header class="usa-banner__header"><div class="usa-banner__inner">
<div class="grid-col-auto"><img aria-hidden="true" class="usa-banner__header-flag" src="/wp-content/themes/state-dept/dist/img/us_flag_small.png" alt=""></div>
<div class="grid-col-fill tablet:grid-col-auto" aria-hidden="true"><p class="usa-banner__header-text">An official website of the United States government</p>
<p class="usa-banner__header-action">Here’s how you know</p></div>
<button type="button" class="usa-accordion__button usa-banner__button" aria-expanded="false" aria-controls="gov-banner-default"><span class="usa-banner__button-text">Here’s how you know</span></button>
</div></header>
<div class="usa-banner__content usa-accordion__content" id="gov-banner-default" hidden>
<div class="grid-row grid-gap-lg">
<div class="usa-banner__guidance tablet:grid-col-6"><div class="usa-media-block__body"><p><strong>Official websites use .gov</strong><br>A <strong>.gov</strong> website belongs to an official government organization in the United States.</p></div></div>
<div class="usa-banner__guidance tablet:grid-col-6"><div class="usa-media-block__body"><p><strong>Secure .gov websites use HTTPS</strong><br>A <strong>lock</strong> or <strong>https://</strong> means you’ve safely connected to the .gov website. Share sensitive information only on official, secure websites.</p></div></div>
</div></div></div></section>"""


def _nav(base_url: str) -> str:
    sections = []
    for n, (section, items) in enumerate(NAV_MENU):
        section_slug = slugify(section)
        links = "\n".join(
            f'<li class="menu-item menu-item-type-post_type menu-item-object-page"><a class="usa-nav__submenu-link" '
            f'href="{base_url}/{section_slug}/{slugify(item)}/">{escape(item, quote=False)}</a></li>'
            for item in items
        )
        sections.append(
            f'<li class="usa-nav__primary-item menu-item menu-item-has-children">'
            f'<button type="button" class="usa-accordion__button usa-nav__link" aria-expanded="false" '
            f'aria-controls="extended-mega-nav-section-{n}"><span>{escape(section, quote=False)}</span></button>\n'
            f'<div id="extended-mega-nav-section-{n}" class="usa-nav__submenu usa-megamenu" hidden>'
            f'<div class="grid-row grid-gap-4"><ul class="usa-nav__submenu-list">\n{links}\n</ul></div></div></li>'
        )
    return "\n".join(sections)


def _search_form(base_url: str) -> str:
    return (f'<section aria-label="Search component"><form class="usa-search usa-search--small search-form" '
            f'role="search" method="get" action="{base_url}/">'
            f'<label class="usa-sr-only" for="search-field">Search</label>'
            f'<input class="usa-input search-field" id="search-field" type="search" name="s" placeholder="Search">'
            f'<button class="usa-button search-submit" type="submit"><span class="usa-sr-only">Search</span></button>'
            f'</form></section>')


def _header(base_url: str) -> str:
    return f"""<div class="usa-overlay"></div>
<header class="usa-header usa-header--extended site-header" role="banner">
<div class="usa-navbar"><div class="usa-logo site-logo" id="extended-logo">
<a href="{base_url}/" title="Home" aria-label="Home"><img src="{base_url}{THEME}/dist/img/dos-seal.svg" alt="U.S. Department of State seal"><em class="usa-logo__text">U.S. Department <span>of</span> State</em></a>
</div><button type="button" class="usa-menu-btn">Menu</button></div>
<nav aria-label="Primary navigation" class="usa-nav site-navigation" id="site-navigation">
<div class="usa-nav__inner"><button type="button" class="usa-nav__close"><img src="{base_url}{THEME}/dist/img/close.svg" alt="Close"></button>
<ul class="usa-nav__primary usa-accordion menu" id="primary-menu">
{_nav(base_url)}
</ul>
<div class="usa-nav__secondary">{_search_form(base_url)}</div>
</div></nav></header>"""


def _footer(base_url: str) -> str:
    links = "\n".join(
        f'<li class="usa-footer__secondary-link"><a href="{base_url}/{slugify(label)}/">{escape(label, quote=False)}</a></li>'
        for label in FOOTER_LINKS
    )
    social = "\n".join(
        f'<a class="usa-social-link usa-social-link--{name.lower()}" href="https://www.{name.lower()}.com/StateDept" '
        f'rel="noopener"><span>{name}</span></a>'
        for name in ("Facebook", "Twitter", "YouTube", "Instagram", "Flickr", "LinkedIn")
    )
    return f"""<footer class="usa-footer usa-footer--big site-footer" role="contentinfo">
<div class="grid-container usa-footer__return-to-top"><a href="#">Return to top</a></div>
<div class="usa-footer__primary-section"><nav class="usa-footer__nav" aria-label="Footer navigation">
<ul class="grid-row grid-gap">
{links}
</ul></nav></div>
<div class="usa-footer__secondary-section"><div class="grid-container">
<div class="usa-footer__logo"><img class="usa-footer__logo-img" src="{base_url}{THEME}/dist/img/dos-seal.svg" alt="">
<p class="usa-footer__logo-heading">U.S. Department of State</p></div>
<div class="usa-footer__contact-links"><div class="usa-footer__social-links">
{social}
</div>
<p class="usa-footer__contact-heading">Subscribe to updates</p>
<form class="usa-form usa-form--large" action="https://public.govdelivery.com/accounts/USSTATE/subscribers/qualify" method="post">
<label class="usa-label" for="email">Your email address</label><input class="usa-input" id="email" name="email" type="email">
<button class="usa-button" type="submit">Sign up</button></form>
<address class="usa-footer__address"><p>2201 C St NW, Washington, DC 20520</p></address>
</div></div></div>
<div class="usa-identifier"><section class="usa-identifier__section usa-identifier__section--masthead" aria-label="Agency identifier">
<p class="usa-identifier__identity-domain">state.gov</p>
<p class="usa-identifier__identity-disclaimer">An official website of the <a href="{base_url}/">U.S. Department of State</a></p>
</section></div>
</footer>
<script type="text/javascript" src="{base_url}/wp-includes/js/jquery/jquery.min.js?ver=3.7.1" id="jquery-core-js"></script>
<script type="text/javascript" src="{base_url}{THEME}/dist/js/uswds.min.js?ver=3.9.2" id="uswds-js"></script>
<script type="text/javascript" src="{base_url}{THEME}/dist/js/main.min.js?ver=3.9.2" id="state-dept-scripts-js"></script>"""


def render_page(title: str, base_url: str, main_html: str, *, canonical: str | None = None,
                head_extra: str = "", body_class: str = "") -> str:
    """A full HTML document: head, banner, header and navigation, `main_html`, footer."""
    return f"""<!doctype html>
<html lang="en-US">
{_head(title, base_url, canonical, head_extra)}
<body class="{escape(body_class)}">
<a class="usa-skipnav" href="#main">Skip to main content</a>
{BANNER}
{_header(base_url)}
{main_html}
{_footer(base_url)}
</body>
</html>
"""
