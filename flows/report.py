"""`statenotes report`: one static HTML page about the published warehouse, for people who would
rather look than query: notes per month, the top actors over time (a heatmap on a continuous
monthly axis, one colour scale with its legend), the strongest co-mentions, trips, each top
actor's notes, and the health of the runs.

Self-contained (inline CSS and SVG, no script, nothing fetched), so it opens offline and can be
mailed. Everything that came from the web is escaped, and only http(s) URLs become links. The
publishing side (the United States, its government, the Department: see the publishing_side view)
is set aside by default: it would top every ranking. Queries run on a read-only connection."""

from __future__ import annotations

import html
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlsplit

import duckdb

TOP_ACTORS = 12
TOP_PAIRS = 20
MIN_PAIR_NOTES = 2  # a pair named together once is a coincidence, not a relation
NOTES_PER_ACTOR = 50  # links listed under each top actor, newest first
TRIPS_SHOWN = 200
RUNS_SHOWN = 30
CHART_WIDTH, CHART_HEIGHT, CHART_MARGIN = 900, 220, 30
LABEL_HEIGHT = 14  # room above the bars for their numbers
MIN_STEP_FOR_LABELS = 14  # narrower bars have no room for a number each: only the peaks get one
FIRST_LABEL_LAST_MONTH = 6  # a chart starting later in the year leaves no room to name that year
HEAT_RGB = (59, 110, 168)
LEGEND_STEPS = 5

NOTES_PER_MONTH_SQL = """
select cast(date_trunc('month', published_date) as date) as month, count(*) as notes
from notes_latest where published_date is not null group by all order by month"""

# The actors named in the most notes (latest versions), the publishing side set aside unless asked.
TOP_ACTORS_SQL = """
with named as (
    select distinct m.note_id, m.actor_id from mentions m join notes_latest n using (note_id, version)
)
select a.actor_id, a.name, a.kind, count(*) as notes
from named join actors a using (actor_id)
where {keep}
group by all order by notes desc, a.name limit ?"""

ACTOR_MONTHS_SQL = """
select m.actor_id, cast(date_trunc('month', n.published_date) as date) as month, count(distinct m.note_id)
from mentions m join notes_latest n using (note_id, version)
where n.published_date is not null and m.actor_id in (select unnest(?))
group by all"""

ACTOR_NOTES_SQL = """
select distinct m.actor_id, n.published_date, n.title, n.url
from mentions m join notes_latest n using (note_id, version)
where m.actor_id in (select unnest(?))
order by m.actor_id, n.published_date desc nulls last, n.title"""

# Pairs of actors named in the same note; strength = notes together / notes naming either (Jaccard).
CO_MENTIONS_SQL = """
with named as (
    select distinct m.note_id, m.actor_id
    from mentions m join notes_latest n using (note_id, version)
    where {keep}
), per_actor as (select actor_id, count(*) as notes from named group by all),
pairs as (
    select a.actor_id as left_id, b.actor_id as right_id, count(*) as together
    from named a join named b on a.note_id = b.note_id and a.actor_id < b.actor_id
    group by all having count(*) >= ?
)
select la.name, ra.name, p.together,
       round(p.together / (l.notes + r.notes - p.together), 3) as strength
from pairs p
join per_actor l on l.actor_id = p.left_id join per_actor r on r.actor_id = p.right_id
join actors la on la.actor_id = p.left_id join actors ra on ra.actor_id = p.right_id
order by p.together desc, strength desc, la.name, ra.name limit ?"""

# One row per note, traveller and destination: the fullest role the note gives them.
TRIPS_SQL = """
select t.published_date, t.traveller, arg_max(t.role, length(t.role)) as role,
       coalesce(c.name, t.destination_iso3) as country, string_agg(distinct t.place, ', ') as place, n.title, n.url
from travels t join notes_latest n using (note_id, version)
left join actors c on c.actor_id = t.destination_iso3 and c.kind = 'country'
group by t.published_date, t.traveller_id, t.traveller, country, n.title, n.url
order by t.published_date nulls last, t.traveller, country limit ?"""

RUNS_SQL = "select run_id, flow, started_at, status, counts from runs order by started_at desc limit ?"

STYLE = """body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:960px;color:#222}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse}td,th{padding:3px 8px;text-align:right}th{background:#f3f3f3}
td.l,th.l{text-align:left}.muted{color:#777}.bar{fill:#3b6ea8}.axis{font-size:11px;fill:#555}
.value{font-size:10px;fill:#222}.failed{color:#b00;font-weight:bold}
.scroll{overflow-x:auto}
table.heatmap td.cell{padding:0;width:3px;min-width:3px;height:18px}
table.heatmap th.year{padding:0 2px;font-weight:normal;font-size:11px;text-align:left;border-left:1px solid #ccc}
table.heatmap td.name{white-space:nowrap}
#heatmap-legend{display:flex;align-items:center;gap:4px;margin:.5em 0;font-size:12px}
#heatmap-legend span.swatch{display:inline-block;width:28px;height:14px;border:1px solid #ccc}
.hbar{display:inline-block;height:10px;background:#3b6ea8;vertical-align:middle;margin-right:6px}
ul.notes{margin:.2em 0 1em;padding-left:1.2em}"""


@dataclass(frozen=True, slots=True)
class ReportData:
    db_path: str
    notes: int
    months: list[tuple[date, int]]
    actors: list[tuple[str, str, str, int]]  # actor_id, name, kind, notes (top actors, ranked)
    actor_months: dict[str, dict[date, int]]  # actor_id -> first day of month -> notes
    actor_notes: dict[str, list[tuple[date | None, str, str]]]  # actor_id -> (date, title, url)
    pairs: list[tuple[str, str, int, float]]
    set_aside: list[tuple[str, int]]  # publishing-side actors left out of the rankings: name, notes
    trips: list[tuple] | None  # None: the warehouse has no travels table
    runs: list[tuple[str, str, datetime, str, dict]]


def _relations(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute(
        "select table_name from duckdb_tables() union all select view_name from duckdb_views() "
        "where not internal").fetchall()}


def read_report_data(db_path: Path, include_publishing_side: bool = False) -> ReportData:
    with duckdb.connect(str(db_path), read_only=True) as con:
        present = _relations(con)
        side = "publishing_side" in present
        keep = "true" if include_publishing_side or not side else \
            "actor_id not in (select actor_id from publishing_side)"
        notes = con.execute("select count(*) from notes_latest").fetchone()[0]
        months = con.execute(NOTES_PER_MONTH_SQL).fetchall()
        actors = con.execute(TOP_ACTORS_SQL.format(keep=keep), [TOP_ACTORS]).fetchall()
        ids = [a[0] for a in actors]
        actor_months: dict[str, dict[date, int]] = {i: {} for i in ids}
        for actor_id, month, count in con.execute(ACTOR_MONTHS_SQL, [ids]).fetchall():
            actor_months[actor_id][month] = count
        actor_notes: dict[str, list] = {i: [] for i in ids}
        for actor_id, published, title, url in con.execute(ACTOR_NOTES_SQL, [ids]).fetchall():
            if len(actor_notes[actor_id]) < NOTES_PER_ACTOR:
                actor_notes[actor_id].append((published, title, url))
        pairs = con.execute(CO_MENTIONS_SQL.format(keep=keep), [MIN_PAIR_NOTES, TOP_PAIRS]).fetchall()
        set_aside = [] if keep == "true" else con.execute(
            "select a.name, count(distinct m.note_id) as notes from mentions m "
            "join notes_latest n using (note_id, version) join publishing_side a using (actor_id) "
            "group by all order by notes desc, a.name").fetchall()
        trips = con.execute(TRIPS_SQL, [TRIPS_SHOWN]).fetchall() if "travels" in present else None
        runs = [(run_id, flow, started, status, _counts(counts))
                for run_id, flow, started, status, counts in con.execute(RUNS_SQL, [RUNS_SHOWN]).fetchall()] \
            if "runs" in present else []
    return ReportData(str(db_path), notes, months, actors, actor_months, actor_notes, pairs, set_aside,
                      trips, runs)


def _counts(text: str | None) -> dict:
    try:
        found = json.loads(text or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _e(value: object) -> str:
    return html.escape(str(value))


def safe_href(url: object) -> str | None:
    """The URL escaped for an href when it is an absolute http(s) URL with a host; else None (no link)."""
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return html.escape(url.strip(), quote=True)


def month_range(first: date, last: date) -> list[date]:
    """Every first-of-month from `first`'s month to `last`'s, none skipped."""
    keys, (y, m) = [], (first.year, first.month)
    while (y, m) <= (last.year, last.month):
        keys.append(date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return keys


def months_chart(months: list[tuple[date, int]]) -> str:
    """An inline SVG bar chart, one bar per month from the first to the last (gaps as zero), each
    bar's number above it (only the peaks' when bars are too narrow to hold a number each)."""
    if not months:
        return '<p class="muted">No dated notes yet.</p>'
    counts = {m.replace(day=1): n for m, n in months}
    keys = month_range(min(counts), max(counts))
    top = max(counts.values())
    plot_top, plot_h = LABEL_HEIGHT, CHART_HEIGHT - CHART_MARGIN - LABEL_HEIGHT
    step = (CHART_WIDTH - 2 * CHART_MARGIN) / len(keys)  # a margin each side for the axis labels
    parts = [f'<svg id="notes-per-month" role="img" aria-label="notes per month" width="{CHART_WIDTH}" '
             f'height="{CHART_HEIGHT}" viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}" xmlns="http://www.w3.org/2000/svg">']
    for i, month in enumerate(keys):
        count = counts.get(month, 0)
        height = plot_h * count / top
        x = CHART_MARGIN + i * step
        y = plot_top + plot_h - height
        parts.append(f'<rect class="bar" data-month="{month:%Y-%m}" data-count="{count}" x="{x:.1f}" y="{y:.1f}" '
                     f'width="{max(step - 1, 1):.1f}" height="{height:.1f}"><title>{month:%Y-%m}: {count}</title></rect>')
        if count and (step >= MIN_STEP_FOR_LABELS or count == top):
            parts.append(f'<text class="value" x="{x + step / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle">{count}</text>')
        if month.month == 1 or (i == 0 and month.month <= FIRST_LABEL_LAST_MONTH):
            parts.append(f'<text class="axis" x="{x:.1f}" y="{CHART_HEIGHT - 8}">{month.year}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _heat(count: int, peak: int) -> str:
    alpha = 0.9 * count / peak if count and peak else 0
    return f"rgba({HEAT_RGB[0]},{HEAT_RGB[1]},{HEAT_RGB[2]},{alpha:.2f})"


def heatmap_legend(peak: int) -> str:
    stops = sorted({round(peak * i / (LEGEND_STEPS - 1)) for i in range(LEGEND_STEPS)})
    swatches = "".join(f'<span class="swatch" style="background:{_heat(v, peak)}" title="{v}"></span>{v}'
                       for v in stops)
    return (f'<div id="heatmap-legend" role="img" aria-label="colour scale: 0 to {peak} notes a month">'
            f'notes a month (one scale for the whole table): {swatches}</div>')


def actors_heatmap(data: ReportData) -> str:
    """Actors down, every month from the first dated note to the last across (empty months kept),
    one colour scale for every cell (the busiest actor-month is the darkest), with its legend."""
    if not data.actors or not data.months:
        return '<p class="muted">No actor mentioned yet.</p>'
    keys = month_range(min(m for m, _ in data.months), max(m for m, _ in data.months))
    peak = max((n for by_month in data.actor_months.values() for n in by_month.values()), default=0)
    years: dict[int, int] = {}
    for month in keys:
        years[month.year] = years.get(month.year, 0) + 1
    head = "".join(f'<th class="year" colspan="{n}">{y if n >= 3 else ""}</th>' for y, n in years.items())
    lines = [heatmap_legend(peak), '<div class="scroll"><table class="heatmap" id="actors-heatmap">',
             f'<tr><th class="l">actor</th><th class="l">kind</th><th>notes</th>{head}</tr>']
    for rank, (actor_id, name, kind, notes) in enumerate(data.actors):
        by_month = data.actor_months.get(actor_id, {})
        cells = "".join(
            f'<td class="cell" data-month="{m:%Y-%m}" data-count="{by_month.get(m, 0)}" '
            f'style="background:{_heat(by_month.get(m, 0), peak)}" title="{_e(name)}, {m:%Y-%m}: '
            f'{by_month.get(m, 0)} notes"></td>' for m in keys)
        lines.append(f'<tr><td class="l name"><a href="#actor-{rank}">{_e(name)}</a></td><td class="l">{_e(kind)}</td>'
                     f'<td>{notes}</td>{cells}</tr>')
    lines.append("</table></div>")
    return "\n".join(lines)


def set_aside_note(set_aside: list[tuple[str, int]]) -> str:
    if not set_aside:
        return ""
    items = ", ".join(f"{_e(name)} ({notes})" for name, notes in set_aside)
    return (f'<details id="set-aside"><summary class="muted">{len(set_aside)} actors of the publishing side '
            f'(the United States, its government, the Department) set aside from the rankings</summary>'
            f'<p>{items}</p></details>')


def actor_notes_section(data: ReportData) -> str:
    if not data.actors:
        return ""
    lines = []
    for rank, (actor_id, name, _, notes) in enumerate(data.actors):
        listed = data.actor_notes.get(actor_id, [])
        more = f' <span class="muted">(newest {len(listed)} of {notes})</span>' if notes > len(listed) else ""
        lines.append(f'<h3 id="actor-{rank}">{_e(name)}{more}</h3><ul class="notes">')
        for published, title, url in listed:
            href, day = safe_href(url), _e(published or "undated")
            text = _e(title or url)
            lines.append(f'<li>{day} <a href="{href}">{text}</a></li>' if href else f'<li>{day} {text}</li>')
        lines.append("</ul>")
    return "\n".join(lines)


def bar_cell(value: int, top: int, width: int = 120) -> str:
    """The number with its bar beside it, in one cell: the bar never stands for another column."""
    return (f'<td class="l"><span class="hbar" style="width:{width * value / top:.0f}px"></span>'
            f'<span class="count">{value}</span></td>')


def pairs_table(pairs: list[tuple[str, str, int, float]]) -> str:
    if not pairs:
        return f'<p class="muted">No two actors named together in {MIN_PAIR_NOTES} notes or more.</p>'
    top = max(p[2] for p in pairs)
    lines = ['<table id="co-mentions"><tr><th class="l">actor</th><th class="l">actor</th>'
             '<th class="l">notes together</th><th>strength</th></tr>']
    for left, right, together, strength in pairs:
        lines.append(f'<tr><td class="l">{_e(left)}</td><td class="l">{_e(right)}</td>{bar_cell(together, top)}'
                     f'<td>{strength:.3f}</td></tr>')
    lines.append("</table>")
    return "\n".join(lines)


def trips_table(trips: list[tuple] | None) -> str:
    if trips is None:
        return '<p class="muted">This warehouse has no travels table.</p>'
    if not trips:
        return '<p class="muted">No trip announced in the notes.</p>'
    lines = ['<table id="trips"><tr><th class="l">date</th><th class="l">who</th><th class="l">role</th>'
             '<th class="l">where</th><th class="l">note</th></tr>']
    for published, traveller, role, country, place, title, url in trips:
        where = _e(country or "") + (f" ({_e(place)})" if place else "")
        href = safe_href(url)
        note = f'<a href="{href}">{_e(title or url)}</a>' if href else _e(title or "")
        lines.append(f'<tr><td class="l">{_e(published or "")}</td><td class="l">{_e(traveller)}</td>'
                     f'<td class="l">{_e(role or "")}</td><td class="l">{where}</td><td class="l">{note}</td></tr>')
    lines.append("</table>")
    return "\n".join(lines)


def _by_name(counts: object) -> str:
    if not isinstance(counts, dict) or not counts:
        return "-"
    return ", ".join(f"{_e(k)} {_e(v)}" for k, v in sorted(counts.items(), key=lambda kv: str(kv[0])))


def runs_table(runs: list[tuple[str, str, datetime, str, dict]]) -> str:
    if not runs:
        return '<p class="muted">No run recorded.</p>'
    lines = ['<table id="run-health"><tr><th class="l">started (UTC)</th><th class="l">flow</th>'
             '<th class="l">status</th><th>new</th><th>updated</th><th>quarantined</th>'
             '<th class="l">notes by layout</th><th class="l">notes from</th></tr>']
    for run_id, flow, started, status, counts in runs:
        when = f"{started.astimezone(UTC):%Y-%m-%d %H:%M}" if isinstance(started, datetime) else _e(started)
        quarantined = counts.get("quarantined", "-")
        mark = ' class="l failed"' if status != "success" else ' class="l"'
        why = f' title="{_e(counts["failure"])}"' if counts.get("failure") else ""
        lines.append(f'<tr data-run="{_e(run_id)}"><td class="l">{when}</td><td class="l">{_e(flow)}</td>'
                     f'<td{mark}{why}>{_e(status)}</td><td>{_e(counts.get("new", "-"))}</td>'
                     f'<td>{_e(counts.get("updated", "-"))}</td><td class="quarantined">{_e(quarantined)}</td>'
                     f'<td class="l">{_by_name(counts.get("layouts"))}</td>'
                     f'<td class="l">{_by_name(counts.get("content_sources"))}</td></tr>')
    lines.append("</table>")
    return "\n".join(lines)


def render(data: ReportData, generated_at: datetime) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>statenotes report</title>
<style>{STYLE}</style></head><body>
<h1>State Department media notes</h1>
<p>{data.notes} notes in <code>{_e(data.db_path)}</code>, generated {generated_at:%Y-%m-%d %H:%M} UTC.</p>
<h2>Notes per month</h2>
{months_chart(data.months)}
<h2>Top actors over time</h2>
<p class="muted">Notes naming each actor, per month of publication: every month from the first note to the last,
empty ones included. Each name links to its notes below.</p>
{set_aside_note(data.set_aside)}
{actors_heatmap(data)}
<h2>Strongest co-mentions</h2>
<p class="muted">Actors named in the same notes. Strength: notes naming both / notes naming either.</p>
{pairs_table(data.pairs)}
<h2>Trips</h2>
<p class="muted">Who a note says travels where, by the note's date (the first {TRIPS_SHOWN}).</p>
{trips_table(data.trips)}
<h2>Run health</h2>
<p class="muted">The latest {RUNS_SHOWN} runs: what each loaded, what it quarantined, which layouts and sources
the notes came from.</p>
{runs_table(data.runs)}
<h2>Notes by actor</h2>
{actor_notes_section(data)}
</body></html>
"""


def write_report(db_path: Path, output: Path, include_publishing_side: bool = False) -> Path:
    """Write the report for the warehouse at `db_path` to `output` (atomically) and return it."""
    page = render(read_report_data(Path(db_path), include_publishing_side), datetime.now(UTC))
    output = Path(output).resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(page)
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return output
