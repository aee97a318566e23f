"""`statenotes sql`: queries against the published warehouse on a read-only connection, printed as
a table, CSV or JSON; without a query, a small interactive shell.

Read-only connections never block a run's publish (it swaps a new file in; this connection keeps
reading its snapshot) and cannot change the warehouse."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
from rich.console import Console
from rich.table import Table

from statenotes.extractors.errors import StatenotesError

TABLE_ROWS_SHOWN = 1000  # past this, table output says how many more; --csv / --json print all
PROMPT, CONTINUATION = "statenotes> ", "       ...> "
SHELL_HELP = """Statements end with ';'. Commands: .tables (tables and views), .schema NAME (columns
with their descriptions), .help, .quit (or Ctrl-D). The connection is read-only."""


class QueryError(StatenotesError):
    """A query the warehouse refused (syntax, unknown name, a write on a read-only connection)."""


@dataclass(frozen=True, slots=True)
class Result:
    columns: list[str]
    rows: list[tuple]


def connect(db_path: Path) -> duckdb.DuckDBPyConnection:
    if not Path(db_path).exists():
        raise StatenotesError(f"no warehouse at {db_path}: run `statenotes demo` or a backfill first "
                              "(or point --data-dir / STATENOTES_DATA_DIR at one)")
    return duckdb.connect(str(db_path), read_only=True)


def run_query(con: duckdb.DuckDBPyConnection, sql: str) -> Result:
    try:
        relation = con.execute(sql)
        if relation.description is None:  # a statement without a result (e.g. SET)
            return Result([], [])
        return Result([d[0] for d in relation.description], relation.fetchall())
    except duckdb.Error as exc:
        raise QueryError(str(exc).splitlines()[0]) from None


def _plain(value: object) -> object:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def as_json(result: Result) -> str:
    """One JSON array of objects, column names as keys; dates ISO 8601."""
    return json.dumps([{c: _plain(v) for c, v in zip(result.columns, row)} for row in result.rows],
                      ensure_ascii=False, indent=1)


def as_csv(result: Result) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(result.columns)
    for row in result.rows:
        writer.writerow(["" if v is None else json.dumps(_plain(v), ensure_ascii=False)
                         if isinstance(v, (list, dict)) else _plain(v) for v in row])
    return buffer.getvalue()


def as_table(result: Result) -> Table:
    table = Table(show_lines=False, caption=f"{len(result.rows)} row(s)")
    for column in result.columns:
        table.add_column(column, overflow="fold")
    for row in result.rows[:TABLE_ROWS_SHOWN]:
        table.add_row(*("" if v is None else str(_plain(v)) for v in row))
    if len(result.rows) > TABLE_ROWS_SHOWN:
        table.caption = (f"{len(result.rows)} rows, first {TABLE_ROWS_SHOWN} shown "
                         "(--csv or --json print them all)")
    return table


def describe(con: duckdb.DuckDBPyConnection, name: str | None) -> Result:
    if not name:
        return run_query(con, "select table_name as name, 'table' as kind, comment from duckdb_tables() "
                              "union all select view_name, 'view', comment from duckdb_views() "
                              "where not internal order by kind, name")
    return Result(*_columns(con, name))


def _columns(con: duckdb.DuckDBPyConnection, name: str) -> tuple[list[str], list[tuple]]:
    rows = con.execute("select column_name, data_type, comment from duckdb_columns() "
                       "where table_name = ? order by column_index", [name]).fetchall()
    if not rows:
        raise QueryError(f"no table or view named {name!r} (.tables lists them)")
    return ["column", "type", "description"], rows


def statements(lines: Iterable[str], on_continue: Callable[[], None] = lambda: None) -> Iterable[str]:
    """Complete statements (ended by ';') and dot-commands from input lines."""
    pending: list[str] = []
    for line in lines:
        stripped = line.strip()
        if not pending and stripped.startswith("."):
            yield stripped
            continue
        if stripped:
            pending.append(line.rstrip("\n"))
        if pending and stripped.endswith(";"):
            yield "\n".join(pending)
            pending = []
        elif pending:
            on_continue()
    if pending and "\n".join(pending).strip():
        yield "\n".join(pending)  # the last statement may omit its ';'


def shell(con: duckdb.DuckDBPyConnection, lines: Iterable[str], console: Console, interactive: bool) -> int:
    """Run statements from `lines` until .quit or the end; returns how many failed."""
    failures = 0
    prompt = (lambda text: console.print(text, end="")) if interactive else (lambda text: None)
    if interactive:
        console.print(SHELL_HELP, highlight=False)
        prompt(PROMPT)
    for statement in statements(lines, on_continue=lambda: prompt(CONTINUATION)):
        command, _, argument = statement.partition(" ")
        try:
            if command in (".quit", ".exit"):
                break
            if command == ".help":
                console.print(SHELL_HELP, highlight=False)
            elif command in (".tables", ".schema"):
                console.print(as_table(describe(con, argument.strip().rstrip(";") or None)))
            elif statement.startswith("."):
                raise QueryError(f"unknown command {command} (.help lists them)")
            else:
                console.print(as_table(run_query(con, statement)))
        except QueryError as exc:
            failures += 1
            console.print(f"[red]error:[/] {exc}", highlight=False)
        prompt(PROMPT)
    return failures
