"""`statenotes report`: one static HTML page about the published warehouse, for people who would
rather look than query: notes per month, the top actors over the years, the strongest co-mentions.

Self-contained (inline CSS and SVG, no script, nothing fetched), so it opens offline and can be
mailed. Queries run on a read-only connection; co-mentions are computed from `mentions` here."""

from __future__ import annotations

import html
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

TOP_ACTORS = 12
TOP_PAIRS = 20
MIN_PAIR_NOTES = 2  # a pair named together once is a coincidence, not a relation
CHART_WIDTH, CHART_HEIGHT, CHART_MARGIN = 900, 220, 30
FIRST_LABEL_LAST_MONTH = 6  # a chart starting later in the year leaves no room to name that year

NOTES_PER_MONTH_SQL = """
select cast(date_trunc('month', published_date) as date) as month, count(*) as notes
from notes_latest where published_date is not null group by all order by month"""

# Notes naming each of the top actors, per year of publication (latest versions only).
ACTORS_OVER_TIME_SQL = """
with named as (
    select distinct m.note_id, m.actor_id, year(n.published_date) as year
    from mentions m join notes_latest n using (note_id, version)
    where n.published_date is not null
), top as (
    select actor_id, count(distinct note_id) as notes from named group by all
    order by notes desc, actor_id limit ?
)
select a.name, a.kind, t.notes, n.year, count(distinct n.note_id) as year_notes
from top t join named n using (actor_id) join actors a using (actor_id)
group by all order by t.notes desc, a.name, n.year"""

# Pairs of actors named in the same note; strength = notes together / notes naming either (Jaccard).
CO_MENTIONS_SQL = """
with named as (
    select distinct m.note_id, m.actor_id
    from mentions m join notes_latest n using (note_id, version)
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

STYLE = """body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:960px;color:#222}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse}td,th{padding:3px 8px;text-align:right}th{background:#f3f3f3}
td.l,th.l{text-align:left}.muted{color:#777}.bar{fill:#3b6ea8}.axis{font-size:11px;fill:#555}"""


@dataclass(frozen=True, slots=True)
class ReportData:
    db_path: str
    notes: int
    months: list[tuple[object, int]]
    actors: list[tuple[str, str, int, int, int]]  # name, kind, notes, year, notes that year
    pairs: list[tuple[str, str, int, float]]


def read_report_data(db_path: Path) -> ReportData:
    with duckdb.connect(str(db_path), read_only=True) as con:
        notes = con.execute("select count(*) from notes_latest").fetchone()[0]
        months = con.execute(NOTES_PER_MONTH_SQL).fetchall()
        actors = con.execute(ACTORS_OVER_TIME_SQL, [TOP_ACTORS]).fetchall()
        pairs = con.execute(CO_MENTIONS_SQL, [MIN_PAIR_NOTES, TOP_PAIRS]).fetchall()
    return ReportData(str(db_path), notes, months, actors, pairs)


def _e(value: object) -> str:
    return html.escape(str(value))


def months_chart(months: list[tuple[object, int]]) -> str:
    """An inline SVG bar chart, one bar per month from the first to the last (gaps as zero)."""
    if not months:
        return '<p class="muted">No dated notes yet.</p>'
    counts = {(m.year, m.month): n for m, n in months}
    (y0, m0), (y1, m1) = min(counts), max(counts)
    keys = [(y, m) for y in range(y0, y1 + 1) for m in range(1, 13) if (y0, m0) <= (y, m) <= (y1, m1)]
    top = max(counts.values())
    plot_h = CHART_HEIGHT - CHART_MARGIN
    step = (CHART_WIDTH - 2 * CHART_MARGIN) / len(keys)  # a margin each side for the axis labels
    parts = [f'<svg role="img" aria-label="notes per month" width="{CHART_WIDTH}" height="{CHART_HEIGHT}" '
             f'viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}" xmlns="http://www.w3.org/2000/svg">',
             f'<text class="axis" x="0" y="12">{top}</text>']
    for i, (year, month) in enumerate(keys):
        count = counts.get((year, month), 0)
        height = plot_h * count / top
        x = CHART_MARGIN + i * step
        parts.append(f'<rect class="bar" x="{x:.1f}" y="{plot_h - height:.1f}" width="{max(step - 1, 1):.1f}" '
                     f'height="{height:.1f}"><title>{year}-{month:02d}: {count}</title></rect>')
        if month == 1 or (i == 0 and month <= FIRST_LABEL_LAST_MONTH):
            parts.append(f'<text class="axis" x="{x:.1f}" y="{CHART_HEIGHT - 8}">{year}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def actors_table(rows: list[tuple[str, str, int, int, int]]) -> str:
    """Actors down, years across; each cell shaded by its share of the row's busiest year."""
    if not rows:
        return '<p class="muted">No actor mentioned yet.</p>'
    years = sorted({r[3] for r in rows})
    actors: dict[str, tuple[str, int, dict[int, int]]] = {}
    for name, kind, notes, year, count in rows:
        actors.setdefault(name, (kind, notes, {}))[2][year] = count
    head = "".join(f"<th>{y}</th>" for y in years)
    lines = [f'<table><tr><th class="l">actor</th><th class="l">kind</th><th>notes</th>{head}</tr>']
    for name, (kind, notes, by_year) in actors.items():
        peak = max(by_year.values())
        cells = []
        for year in years:
            count = by_year.get(year, 0)
            alpha = 0.85 * count / peak if count else 0
            cells.append(f'<td style="background:rgba(59,110,168,{alpha:.2f})">{count or ""}</td>')
        lines.append(f'<tr><td class="l">{_e(name)}</td><td class="l">{_e(kind)}</td><td>{notes}</td>'
                     f'{"".join(cells)}</tr>')
    lines.append("</table>")
    return "\n".join(lines)


def pairs_table(pairs: list[tuple[str, str, int, float]]) -> str:
    if not pairs:
        return f'<p class="muted">No two actors named together in {MIN_PAIR_NOTES} notes or more.</p>'
    top = max(p[2] for p in pairs)
    lines = ['<table><tr><th class="l">actor</th><th class="l">actor</th><th>notes together</th>'
             '<th class="l"></th><th>strength</th></tr>']
    for left, right, together, strength in pairs:
        bar = f'<svg width="120" height="10"><rect class="bar" width="{120 * together / top:.0f}" height="10"/></svg>'
        lines.append(f'<tr><td class="l">{_e(left)}</td><td class="l">{_e(right)}</td><td>{together}</td>'
                     f'<td class="l">{bar}</td><td>{strength:.3f}</td></tr>')
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
<p class="muted">Notes naming each actor, by year of publication.</p>
{actors_table(data.actors)}
<h2>Strongest co-mentions</h2>
<p class="muted">Actors named in the same notes. Strength: notes naming both / notes naming either.</p>
{pairs_table(data.pairs)}
</body></html>
"""


def write_report(db_path: Path, output: Path) -> Path:
    """Write the report for the warehouse at `db_path` to `output` (atomically) and return it."""
    page = render(read_report_data(Path(db_path)), datetime.now(UTC))
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
