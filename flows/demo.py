"""What `statenotes demo` shows after its run: a look into the published warehouse."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
from rich.console import Console
from rich.table import Table
from rich.text import Text

from statenotes.flows.markup import plain

# The bundled sample reaches back to 2007; the demo backfills from before that to today.
DEMO_START = date(2000, 1, 1)

EXAMPLE_SQL = """select a.name, count(distinct m.note_id) as notes
from mentions m join actors a using (actor_id)
where a.kind = 'country'
group by a.name order by notes desc limit 10;"""


def summarise_warehouse(console: Console, db_path: Path) -> None:
    with duckdb.connect(str(db_path), read_only=True) as con:
        notes, paragraphs = con.execute("select count(*), sum(paragraph_count) from notes_latest").fetchone()
        actors = con.execute("select count(distinct actor_id) from mentions").fetchone()[0]
        top = con.execute("""
            select a.name, a.kind, count(distinct m.note_id) as notes
            from mentions m join actors a using (actor_id)
            group by all order by notes desc, a.name limit 8""").fetchall()
    console.print(f"[bold]{notes}[/] notes, [bold]{paragraphs}[/] paragraphs, [bold]{actors}[/] distinct actors named")
    table = Table(title="Top actors", show_lines=False)
    for column in ("actor", "kind", "notes"):
        table.add_column(column)
    for name, kind, count in top:
        table.add_row(plain(name), plain(kind), plain(count))  # names may come from the notes' text
    console.print(table)
    console.print(Text.assemble("Warehouse: ", (str(db_path.resolve()), "bold")))
    console.print("Try it:")
    console.print(f"  duckdb -readonly {db_path} \"{' '.join(EXAMPLE_SQL.split())}\"", highlight=False, soft_wrap=True,
                  markup=False)
    console.print(f"  python -c \"import duckdb; print(duckdb.connect('{db_path}', read_only=True)"
                  f".sql('select title, published_date from notes_latest order by published_date desc limit 5'))\"",
                  highlight=False, soft_wrap=True, markup=False)
