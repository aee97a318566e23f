"""`statenotes sql`: queries against the published warehouse on a read-only, sandboxed connection,
printed as a table, CSV or JSON; without a query, a small interactive shell.

Read-only connections never block a run's publish (it swaps a new file in; this connection keeps
reading its snapshot) and cannot change the warehouse. The sandbox (no file system, no extensions,
configuration locked) keeps a query from writing anything else either (`COPY ... TO` a lake file)
or reading outside the warehouse (`read_text('/etc/passwd')`, `ATTACH`)."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
from rich.console import Console
from rich.table import Table
from rich.text import Text

from statenotes.extractors.errors import StatenotesError

TABLE_ROWS_SHOWN = 1000  # past this, table output says how many more; --csv / --json print all
PROMPT, CONTINUATION = "statenotes> ", "       ...> "
SHELL_HELP = """Statements end with ';' and may span lines. Commands: .tables (tables and views),
.schema NAME (columns with their descriptions), .help, .quit (or Ctrl-D). Arrow keys edit the line
and recall earlier statements. The connection is read-only and cannot touch files."""
# Everything the analyst's SQL could use to reach past the warehouse file is off, and locked so a
# statement cannot turn it back on (`SET enable_external_access = true`).
SANDBOX = {
    "enable_external_access": False,  # no COPY TO, read_*(), glob, ATTACH, INSTALL, EXPORT
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "lock_configuration": True,
}


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
    return duckdb.connect(str(db_path), read_only=True, config=SANDBOX)


def error_text(exc: duckdb.Error) -> str:
    """DuckDB's message with its hints ("Did you mean ...?") and its pointer into the query; a
    refusal by the sandbox in one line that says so."""
    text = str(exc).strip()
    if isinstance(exc, duckdb.PermissionException):
        first = text.splitlines()[0]
        return f"{first} (statenotes sql reads the warehouse only: no files, no extensions)"
    return "\n".join(line for line in text.splitlines() if line.strip())


def run_query(con: duckdb.DuckDBPyConnection, sql: str) -> Result:
    """Run `sql` (one statement or several; the result is the last one's)."""
    try:
        relation = con.execute(sql)
        if relation is None:
            raise QueryError("no statement to run: the query holds only comments or blanks")
        if relation.description is None:  # a statement without a result (e.g. SET)
            return Result([], [])
        return Result([d[0] for d in relation.description], relation.fetchall())
    except duckdb.Error as exc:
        raise QueryError(error_text(exc)) from None


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
    """Values (and column names) are Text, never rich markup: `[/]` or `[link=...]` in a title prints as is."""
    table = Table(show_lines=False, caption=f"{len(result.rows)} row(s)")
    for column in result.columns:
        table.add_column(Text(column), overflow="fold")
    for row in result.rows[:TABLE_ROWS_SHOWN]:
        table.add_row(*(Text("" if v is None else str(_plain(v))) for v in row))
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


HISTORY_FILE = Path.home() / ".statenotes_history"
HISTORY_LENGTH = 1000


def typed_lines(prompt: list[str], history: Path | None = HISTORY_FILE) -> Iterator[str]:
    """Lines typed at a terminal, with line editing and history (GNU readline / libedit through the
    standard library: arrow keys move and recall, Ctrl-R searches). `prompt[0]` is the prompt shown
    for the next line; Ctrl-C drops the line being typed, Ctrl-D ends."""
    import readline  # importing it is what gives input() editing and history

    if history is not None:
        with contextlib.suppress(OSError):
            readline.read_history_file(history)
        readline.set_history_length(HISTORY_LENGTH)
    try:
        while True:
            try:
                yield input(prompt[0]) + "\n"
            except KeyboardInterrupt:
                print()
                yield "\n"
            except EOFError:
                print()
                return
    finally:
        if history is not None:
            with contextlib.suppress(OSError):
                readline.write_history_file(history)


def shell(con: duckdb.DuckDBPyConnection, lines: Iterable[str] | None, console: Console) -> int:
    """Run statements until .quit or the end; returns how many failed. `lines`: a script (stdin
    that is not a terminal); None: typed at the terminal, with prompts, editing and history."""
    failures = 0
    prompt = [PROMPT]
    if lines is None:
        console.print(SHELL_HELP, highlight=False)
        lines = typed_lines(prompt)

    def continuing() -> None:
        prompt[0] = CONTINUATION

    for statement in statements(lines, on_continue=continuing):
        prompt[0] = PROMPT
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
            console.print(Text.assemble(("error:", "red"), " ", str(exc)), highlight=False)
    return failures
