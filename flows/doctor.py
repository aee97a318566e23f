"""`statenotes doctor`: does the site still look the way statenotes reads it?

A handful of requests through the project's Fetcher (its timeouts, robots.txt and crawl delay; at
most one retry; no Wayback fallback, so that a block shows): robots.txt, the first listing page,
the newest note page it lists, one REST API item and the sitemap index. `gather` makes them;
`assess` and `verdict` are pure functions of what came back, tested on the mirror as it is, behind
a bot wall and redesigned.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from statenotes.extractors.discover import LISTING_PATH, listing_url, parse_listing
from statenotes.extractors.discover_sitemap import PRESS_RELEASE_SITEMAP, SITEMAP_INDEX_PATH, parse_sitemap_index
from statenotes.extractors.errors import FetchError, ParseError, StatenotesError
from statenotes.extractors.http import BLOCKED, Fetcher
from statenotes.extractors.parse import is_bot_wall, parse_note
from statenotes.extractors.records import FetchedPage
from statenotes.extractors.rest import parse_rest_page, rest_url, total_pages
from statenotes.flows.health import KNOWN_LAYOUTS
from statenotes.flows.pages import transform_page
from statenotes.flows.settings import Settings
from statenotes.transforms.actors import Gazetteer, load_gazetteer

OK, WARN, FAIL, INFO = "ok", "warn", "FAIL", "info"
EXIT_OK, EXIT_BROKEN, EXIT_CHANGED = 0, 1, 2
DOCTOR_RETRIES = 1  # a doctor answers in seconds, not after the crawl's full backoff
LISTING, NOTE, REST, SITEMAPS = "listing page", "note page", "REST API", "sitemaps"
DELTA = "Delta target"
FALLBACK_ONLY = "read only by a fallback"


@dataclass(frozen=True, slots=True)
class Answer:
    """One request of the doctor: what came back, or why nothing usable did."""

    url: str
    page: FetchedPage | None = None
    error: str | None = None

    @property
    def blocked(self) -> bool:
        """A 403, or a 200 page that is a bot wall."""
        if self.error is not None:
            return self.error.endswith(f"HTTP {BLOCKED}")
        return self.page is not None and is_bot_wall(self.page.body, self.page.content_type)


@dataclass(slots=True)
class Observations:
    """What `gather` saw of a site."""

    base_url: str
    user_agent: str
    robots_status: int | None = None  # None: robots.txt could not be read at all
    robots_delay_s: float | None = None  # Crawl-delay robots.txt asks this user agent for
    crawl_delay_s: float = 0.0  # the delay the fetcher keeps (the larger of the setting and robots.txt)
    listing_allowed: bool = True
    robots_blocked: str | None = None  # robots.txt unavailable (5xx, no answer): the crawler may fetch nothing
    answers: dict[str, Answer] = field(default_factory=dict)  # LISTING, NOTE, REST, SITEMAPS
    note_skipped: str | None = None  # why no note page was asked for


@dataclass(frozen=True, slots=True)
class Check:
    area: str
    state: str  # OK, WARN, FAIL or INFO
    finding: str


@dataclass(frozen=True, slots=True)
class Verdict:
    exit_code: int
    summary: str
    next_step: str


def _ask(fetcher: Fetcher, url: str) -> Answer:
    try:
        return Answer(url, page=fetcher.fetch_page(url))
    except FetchError as exc:
        return Answer(url, error=exc.reason)


def _same_origin(url: str, base_url: str) -> bool:
    a, b = urlsplit(url), urlsplit(base_url)
    return (a.scheme, a.netloc.lower()) == (b.scheme, b.netloc.lower())


def gather(settings: Settings, fetcher: Fetcher | None = None) -> Observations:
    """Five requests at most (robots.txt, the listing, one note page, the REST API, the sitemap
    index), each through the Fetcher and its timeouts; the note page only on the site itself."""
    base = settings.base_url
    policy = dataclasses.replace(settings.fetch_policy(), wayback_fallback=False,
                                 max_retries=min(settings.max_retries, DOCTOR_RETRIES))
    own = fetcher is None
    fetcher = fetcher or Fetcher(policy)
    try:
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(base))
        seen = Observations(base_url=base, user_agent=policy.user_agent)
        seen.crawl_delay_s = fetcher.crawl_delay_for(origin)
        rules, seen.robots_blocked = fetcher.robots_rules(origin)
        robots = [r for r in fetcher.take_log() if r.url.endswith("/robots.txt")]
        seen.robots_status = robots[-1].status if robots else None
        delay = rules.crawl_delay(policy.user_agent)
        seen.robots_delay_s = float(delay) if delay is not None else None
        seen.listing_allowed = rules.can_fetch(policy.user_agent, base + LISTING_PATH)
        seen.answers[LISTING] = listing = _ask(fetcher, listing_url(base, 1))
        note_url = _newest_note(listing, base)
        if note_url is None:
            seen.note_skipped = "the listing gave no note link on the site"
        else:
            seen.answers[NOTE] = _ask(fetcher, note_url)
        seen.answers[REST] = _ask(fetcher, rest_url(base, per_page=1))
        seen.answers[SITEMAPS] = _ask(fetcher, base + SITEMAP_INDEX_PATH)
        return seen
    finally:
        if own:
            fetcher.close()


def _newest_note(listing: Answer, base_url: str) -> str | None:
    """The first note the listing links to, if it is on the site being checked (a page never
    chooses which host the doctor contacts)."""
    if listing.page is None:
        return None
    try:
        refs = parse_listing(listing.page.body, base_url).refs
    except ParseError:
        return None
    return next((ref.url for ref in refs if _same_origin(ref.url, base_url)), None)


# --- pure checks --------------------------------------------------------------------------------

def _failed(answer: Answer) -> str | None:
    """Why an answer is no answer (a block, an error), else None."""
    if answer.error is not None:
        return f"bot wall: {answer.error}" if answer.blocked else answer.error
    if answer.blocked:
        try:
            parse_note(answer.page.body, answer.url, answer.page.content_type)
        except ParseError as exc:  # names the wall: "bot wall: 'Technical Difficulties' page"
            return f"{exc.reason} (HTTP {answer.page.status})"
        return f"bot wall (HTTP {answer.page.status})"
    return None


def check_robots(seen: Observations) -> Check:
    asked = f"Crawl-delay {seen.robots_delay_s:g} s" if seen.robots_delay_s is not None else "no Crawl-delay"
    effective = f"the crawl waits {seen.crawl_delay_s:g} s between requests"
    if seen.robots_blocked:
        return Check("robots.txt", FAIL, seen.robots_blocked)
    if not seen.listing_allowed:
        return Check("robots.txt", FAIL, f"disallows the listing ({LISTING_PATH}) for this User-Agent; {asked}")
    if seen.robots_status is None or seen.robots_status >= 400:
        status = "not followed" if seen.robots_status is None else f"HTTP {seen.robots_status}"
        return Check("robots.txt", WARN, f"{status}: no rules, everything allowed; {effective}")
    return Check("robots.txt", OK, f"HTTP {seen.robots_status}, listing allowed, {asked}; {effective}")


def check_listing(seen: Observations) -> Check:
    answer = seen.answers.get(LISTING)
    if answer is None:
        return Check(LISTING, FAIL, "not asked")
    problem = _failed(answer)
    if problem:
        return Check(LISTING, FAIL, problem)
    try:
        listing = parse_listing(answer.page.body, seen.base_url)
    except ParseError as exc:
        return Check(LISTING, FAIL, f"not a listing any more: {exc.reason}")
    items = len(listing.refs)
    dated = sum(1 for ref in listing.refs if ref.listed_date is not None)
    typed = sum(1 for ref in listing.refs if ref.release_type)
    finding = f"{items} items, {dated} dates parsed, {typed} release types"
    if items == 0:
        return Check(LISTING, FAIL, "no items found in the listing")
    return Check(LISTING, OK if dated == items else WARN, finding)


def check_note(seen: Observations, gazetteer: Gazetteer | None = None) -> Check:
    answer = seen.answers.get(NOTE)
    if answer is None:
        return Check(NOTE, FAIL, f"not asked: {seen.note_skipped or 'no note link'}")
    problem = _failed(answer)
    if problem:
        return Check(NOTE, FAIL, problem)
    try:
        note, body, _ = transform_page(answer.page.body, answer.url, answer.page.content_type,
                                       gazetteer or load_gazetteer())
    except ParseError as exc:
        return Check(NOTE, FAIL, f"not readable: {exc.reason}")
    present = {"title": note.title, "release type": note.release_type, "office": note.office,
               "published date": note.published_date, "modified": note.modified_at, "tags": note.tags,
               "dateline": body.dateline_place}
    found = [name for name, value in present.items() if value]
    missing = [name for name, value in present.items() if not value]
    finding = (f"layout {note.layout}; {len(body.paragraphs)} paragraphs; found {', '.join(found)}"
               + (f"; missing {', '.join(missing)}" if missing else ""))
    if note.layout not in KNOWN_LAYOUTS:
        return Check(NOTE, WARN, f"{FALLBACK_ONLY}: {finding}")
    essential_missing = note.published_date is None or not body.paragraphs
    return Check(NOTE, WARN if essential_missing else OK, finding)


def check_rest(seen: Observations) -> Check:
    answer = seen.answers.get(REST)
    if answer is None:
        return Check(REST, WARN, "not asked")
    problem = _failed(answer)
    if problem:
        return Check(REST, WARN, f"{problem}: REST discovery and the REST content fallback are unavailable")
    try:
        items = parse_rest_page(answer.page.body)
    except ParseError as exc:
        return Check(REST, WARN, f"{exc.reason}: REST discovery and the REST content fallback are unavailable")
    total = next((v for k, v in answer.page.headers.items() if k.lower() == "x-wp-total"), None)
    if not items:
        return Check(REST, WARN, "answers, but lists no release")
    if total_pages(answer.page.headers) is None:
        return Check(REST, WARN, "answers without X-WP-TotalPages: REST discovery cannot page through it")
    return Check(REST, OK, f"answers: {total or '?'} releases (X-WP-Total)")


def check_sitemaps(seen: Observations) -> Check:
    answer = seen.answers.get(SITEMAPS)
    if answer is None:
        return Check(SITEMAPS, WARN, "not asked")
    problem = _failed(answer)
    if problem:
        return Check(SITEMAPS, WARN, f"{problem}: discovery by sitemap is unavailable")
    try:
        locations = parse_sitemap_index(answer.page.body)
    except ParseError as exc:
        return Check(SITEMAPS, WARN, f"{exc.reason}: discovery by sitemap is unavailable")
    releases = [loc for loc in locations if PRESS_RELEASE_SITEMAP.search(urlsplit(loc).path)]
    state = OK if releases else WARN
    return Check(SITEMAPS, state, f"index lists {len(locations)} sitemaps, {len(releases)} of press releases")


def check_bot_wall(seen: Observations) -> Check:
    blocked = [area for area, answer in seen.answers.items() if answer.blocked]
    if blocked:
        return Check("bot wall", FAIL, f"blocked at: {', '.join(blocked)} (403 or a bot-wall page)")
    return Check("bot wall", OK, f"none of {len(seen.answers)} answers was a bot wall")


def assess(seen: Observations, gazetteer: Gazetteer | None = None) -> list[Check]:
    return [
        Check("site", INFO, seen.base_url),
        Check("User-Agent", INFO, seen.user_agent),
        check_robots(seen), check_listing(seen), check_note(seen, gazetteer), check_rest(seen),
        check_sitemaps(seen), check_bot_wall(seen),
    ]


def verdict(checks: list[Check]) -> Verdict:
    """The one conclusion and the next step, by the worst finding."""
    states = {check.area: check.state for check in checks}
    if states.get("site") == FAIL:
        return Verdict(EXIT_BROKEN, "the site could not be checked",
                       "check base_url (or --site) and the network, then run `statenotes doctor` again.")
    if states.get("bot wall") == FAIL:
        return Verdict(EXIT_BROKEN, "BLOCKED: the site answers this client with a bot wall",
                       "do not start a backfill now: every page would be quarantined and the run would fail. "
                       "Retry `statenotes doctor` later or from another network, check user_agent, or set "
                       "wayback_fallback = true to read blocked pages from the Wayback Machine.")
    if states.get("robots.txt") == FAIL:
        return Verdict(EXIT_BROKEN, "robots.txt forbids crawling the listing for this User-Agent, or is unavailable",
                       "statenotes honours robots.txt: if it is unavailable (5xx, no answer), retry later; "
                       "if it disallows, ask the site, or change user_agent only if allowed.")
    if states.get(LISTING) == FAIL or states.get(NOTE) == FAIL:
        broken = [area for area in (LISTING, NOTE) if states.get(area) == FAIL]
        rest = states.get(REST) == OK
        return Verdict(EXIT_BROKEN, f"the site no longer looks as expected: {' and '.join(broken)} not readable",
                       ("check base_url (or --site): the listing should be at " + LISTING_PATH + "; "
                        if LISTING in broken else "")
                       + ("runs can still read releases from the REST API (`--discovery rest`; note pages fall "
                          "back to their REST items); " if rest else "")
                       + "save a page (`statenotes extract URL`) and report it if the markup changed.")
    fallback = next((c for c in checks if c.area == NOTE and c.finding.startswith(FALLBACK_ONLY)), None)
    if fallback is not None:
        return Verdict(EXIT_CHANGED, "the note pages changed: the known layouts no longer read them, the generic "
                       "fallback does", "runs will load what the fallback validates and quarantine the rest; check "
                       "a few pages (`statenotes extract URL`), watch `notes.layout` and `statenotes quarantine`, "
                       "and report the new markup so that a layout can be written for it.")
    if WARN in states.values():
        changed = [check.area for check in checks if check.state == WARN]
        return Verdict(EXIT_CHANGED, f"readable, but changed: {', '.join(changed)}",
                       "runs will work; look at the warnings above, then watch the next run's layouts and "
                       "quarantine (`statenotes quarantine`).")
    return Verdict(EXIT_OK, "the site looks as statenotes expects",
                   "`statenotes backfill --start YYYY-MM-DD --end YYYY-MM-DD`, then `statenotes run` nightly.")


def check_delta(target: str, newest_run: str | None, published: str | None, error: str | None) -> Check:
    """The Delta target (`delta_uri`, shown redacted) against the lake's newest run. A target that
    cannot be read does not fail runs (they publish after committing, and retry next time): a warning."""
    if error is not None:
        return Check(DELTA, WARN, f"{target} cannot be read ({error}): runs still commit the lake and the "
                                  "DuckDB file, and publish once it can be reached")
    if published is None:
        return Check(DELTA, WARN if newest_run else OK, f"{target}: nothing published yet" +
                     ("; the next successful run publishes the lake" if newest_run else " (no run yet)"))
    if published != newest_run:
        return Check(DELTA, WARN, f"{target}: last published run {published}, the lake's newest is {newest_run}: "
                                  "the last publish failed (see that run's log); the next run publishes what is missing")
    return Check(DELTA, OK, f"{target}: up to date with run {published}")


def _delta_check(settings: Settings) -> Check:
    from statenotes.extractors.credentials import redact
    from statenotes.warehouse.delta import published_run, redacted
    from statenotes.warehouse.lake import Lake

    target = redacted(settings.delta_uri)
    runs = Lake(settings.lake_dir).read("runs") if settings.lake_dir.exists() else None
    newest = None
    if runs is not None and runs.num_rows:
        newest = runs.sort_by([("started_at", "descending")]).column("run_id")[0].as_py()
    try:
        published, error = published_run(settings.delta_uri), None
    except Exception as exc:  # noqa: BLE001 - whatever the object store says, it is a finding, not a crash
        published, error = None, redact(" ".join(str(exc).split()).replace(settings.delta_uri, target))[:300]
    return check_delta(target, newest, published, error)


def diagnose(settings: Settings) -> tuple[list[Check], Verdict]:
    try:
        checks = assess(gather(settings))
    except StatenotesError as exc:  # e.g. robots.txt of a host that is not a web site at all
        checks = [Check("site", FAIL, str(exc))]
    if settings.delta_uri:
        checks.append(_delta_check(settings))
    return checks, verdict(checks)
