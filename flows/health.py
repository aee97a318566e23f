"""Whether a run read the site: the quarantine share that fails a crawl, the dominant reason named in
its one-line message, and the jump in the share of notes a fallback layout produced. Pure functions
over a run's counts; the flows decide what to do with the answers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from statenotes.extractors.errors import StatenotesError
from statenotes.extractors.reasons import reason_label
from statenotes.extractors.selectors import LAYOUT_DRUPAL, LAYOUT_WORDPRESS, LAYOUT_WP_JSON

# The layouts statenotes was built on; a note read by any other layout came from a fallback.
KNOWN_LAYOUTS = frozenset({LAYOUT_WORDPRESS, LAYOUT_DRUPAL, LAYOUT_WP_JSON})
RECENT_RUNS = 5  # the successful runs a run's fallback share is compared with


class RunFailed(StatenotesError):
    """A crawl that completed but could not read the site; `summary` is its RunSummary (committed,
    recorded in `runs` with status failed)."""

    def __init__(self, message: str, summary: object = None):
        super().__init__(message)
        self.summary = summary

    def __reduce__(self):  # picklable with its summary (Prefect may keep it as the state's data)
        return (type(self), (str(self), self.summary))


def dominant_reason(quarantined: Iterable[tuple[str, str, str]]) -> tuple[str, int]:
    """The most common reason among (url, stage, reason) as an operator reads it, and how many."""
    counts = Counter(reason_label(reason, stage) for _, stage, reason in quarantined)
    if not counts:
        return "", 0
    return counts.most_common(1)[0]


def quarantine_failure(attempted: int, quarantined: list[tuple[str, str, str]], max_share: float,
                       min_pages: int) -> str | None:
    """The one-line message of a run that quarantined more than `max_share` of the `attempted`
    pages (at least `min_pages` of them), else None."""
    count = len(quarantined)
    if attempted < min_pages or attempted == 0 or count / attempted <= max_share:
        return None
    reason, times = dominant_reason(quarantined)
    why = reason if times == count else f"{times} {reason}; {count - times} other"
    return f"{count} of {attempted} pages quarantined ({why}): see `statenotes quarantine`"


def fallback_share(layouts: Mapping[str, int]) -> float | None:
    """The share of a run's loaded notes read by a layout outside KNOWN_LAYOUTS; None without notes."""
    total = sum(layouts.values())
    if total == 0:
        return None
    return sum(n for layout, n in layouts.items() if layout not in KNOWN_LAYOUTS) / total


def fallback_jump(layouts: Mapping[str, int], previous: list[Mapping[str, int]], jump: float,
                  min_notes: int) -> str | None:
    """A warning when the run's fallback share exceeds the previous runs' (all their notes
    together; none before: 0) by more than `jump`, for a run of at least `min_notes` notes."""
    share = fallback_share(layouts)
    if share is None or sum(layouts.values()) < min_notes:
        return None
    before = fallback_share(sum((Counter(p) for p in previous), Counter()))
    before = before or 0.0
    if share - before <= jump:
        return None
    shown = ", ".join(f"{layout} {n}" for layout, n in sorted(layouts.items()) if layout not in KNOWN_LAYOUTS)
    return (f"{share:.0%} of the run's notes were read by a fallback layout ({shown}), against {before:.0%} "
            f"in the previous runs: the site's markup may have changed; check `statenotes doctor` and the notes")
