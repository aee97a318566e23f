"""The `statenotes` command: demo, run, backfill, reprocess, serve, sql, quarantine, report, docs,
extract, mirror."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from statenotes.extractors.errors import StatenotesError

# No local variables in tracebacks: they can hold a password (before it becomes a SecretStr) or web text.
app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_show_locals=False,
                  help="Turn the State Department's media notes into a Parquet + DuckDB warehouse.")
out = Console()
err = Console(stderr=True)

BaseUrl = Annotated[Optional[str], typer.Option("--base-url", help="Site to crawl (env STATENOTES_BASE_URL).")]
DataDir = Annotated[Optional[Path], typer.Option("--data-dir", help="Data directory (env STATENOTES_DATA_DIR).")]
CrawlDelay = Annotated[Optional[float], typer.Option("--crawl-delay", help="Least seconds between requests.")]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Show Prefect's and statenotes' logs.")]
TaskRunnerOption = Annotated[Optional[str], typer.Option(
    "--task-runner", help="Where parsing runs: thread or dask (env STATENOTES_TASK_RUNNER).")]


def _quiet_prefect(verbose: bool) -> None:
    level = "INFO" if verbose else "WARNING"
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", level)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def _settings(**overrides):
    from statenotes.flows.settings import load_settings

    return load_settings(**overrides)


class _RichProgress:
    def __init__(self, bar: Progress):
        self.bar = bar
        self.task = bar.add_task("pages", total=0)

    def add_total(self, pages: int) -> None:
        self.bar.update(self.task, total=(self.bar.tasks[0].total or 0) + pages)

    def advance(self, pages: int = 1) -> None:
        self.bar.advance(self.task, pages)


def _run_with_progress(run, settings):
    """`run()` (a flow) with `settings` (flags applied) and a progress bar on stderr. SIGTERM or
    Ctrl-C stop it cleanly: one line says whether anything was committed, and the exit is non-zero."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from statenotes.flows import interrupts, progress
    from statenotes.flows.settings import running_with

    # markup=False: a description is shown as it is, whatever it holds
    columns = [TextColumn("{task.description}", style="bold", markup=False), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn()]
    try:
        with interrupts.stop_on_sigterm():
            with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
                with progress.reporting_to(_RichProgress(bar)), running_with(settings):
                    return run()
    except (interrupts.RunInterrupted, KeyboardInterrupt) as exc:
        name = exc.signal_name if isinstance(exc, interrupts.RunInterrupted) else "SIGINT"
        if interrupts.committed():
            said = "after the run had committed: the warehouse holds it (its report or artifacts may be missing)"
        else:
            said = "before the run committed: nothing was committed, the warehouse is as it was; run it again"
        err.print(f"stopped by {name} {said}", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(128 + signal.Signals[name].value) from None


def _print_summary(summary) -> None:
    from rich.table import Table
    from rich.text import Text

    from statenotes.extractors.credentials import redact
    from statenotes.flows.markup import plain

    # URLs and reasons come from the web: printed as Text, never parsed as rich markup
    table = Table(title=plain(f"{summary.flow} {summary.window}".rstrip()), show_header=False)
    for label, value in [("site", redact(summary.base_url)), ("notes discovered", summary.discovered),
                         ("new", summary.new), ("updated", summary.updated), ("unchanged", summary.unchanged),
                         ("quarantined", len(summary.quarantined)), ("HTTP requests", summary.requests),
                         ("URLs refused", summary.refused_urls),
                         ("seconds", f"{summary.seconds:.1f}"), ("warehouse", summary.db_path),
                         ("report", summary.report_path or "-")]:
        table.add_row(plain(label), plain(value))
    out.print(table)
    for url, stage, reason in summary.quarantined[:10]:
        out.print(Text.assemble(("quarantined", "yellow"), f" ({stage}) {redact(url)}: {redact(reason)}"))
    if len(summary.quarantined) > 10:
        out.print(f"... and {len(summary.quarantined) - 10} more: statenotes sql \"select * from quarantine\"")


def _backfill_request(start: date, end: date, site: str | None):
    from pydantic import ValidationError

    from statenotes.flows.parameters import BackfillRequest, request_problems

    try:
        return BackfillRequest(start=start, end=end, site=site)
    except ValidationError as exc:
        raise StatenotesError(request_problems(exc)) from None


def _fail(exc: Exception) -> None:
    from rich.text import Text

    from statenotes.extractors.credentials import redact

    # a message may quote the web (a URL, a title): Text, so that "[/]" in it prints as it is
    err.print(Text.assemble(("error:", "red"), f" {redact(str(exc))}"), highlight=False)
    raise typer.Exit(1)


@app.command()
def backfill(
    start: Annotated[datetime, typer.Option(formats=["%Y-%m-%d"], help="First listed date (inclusive).")],
    end: Annotated[datetime, typer.Option(formats=["%Y-%m-%d"], help="Last listed date (inclusive).")],
    site: Annotated[Optional[str], typer.Option(help="www, 2017-2021, 2021-2025 or a URL.")] = None,
    base_url: BaseUrl = None, data_dir: DataDir = None, crawl_delay: CrawlDelay = None,
    task_runner: TaskRunnerOption = None, verbose: Verbose = False,
) -> None:
    """Load every media note listed between START and END."""
    _quiet_prefect(verbose)
    try:
        settings = _settings(base_url=base_url, data_dir=data_dir, crawl_delay_s=crawl_delay,
                             task_runner=task_runner)
        request = _backfill_request(start.date(), end.date(), site)
        from statenotes.flows.pipeline import backfill as backfill_flow

        summary = _run_with_progress(lambda: backfill_flow(request), settings)
    except StatenotesError as exc:
        _fail(exc)
    _print_summary(summary)


@app.command()
def run(base_url: BaseUrl = None, data_dir: DataDir = None, crawl_delay: CrawlDelay = None,
        task_runner: TaskRunnerOption = None, verbose: Verbose = False) -> None:
    """The nightly run: notes listed since the last successful run (minus an overlap)."""
    _quiet_prefect(verbose)
    try:
        settings = _settings(base_url=base_url, data_dir=data_dir, crawl_delay_s=crawl_delay,
                             task_runner=task_runner)
        from statenotes.flows.pipeline import nightly

        summary = _run_with_progress(nightly, settings)
    except StatenotesError as exc:
        _fail(exc)
    _print_summary(summary)


@app.command()
def reprocess(data_dir: DataDir = None, task_runner: TaskRunnerOption = None, verbose: Verbose = False) -> None:
    """Parse the raw archive again into the warehouse, without the network."""
    _quiet_prefect(verbose)
    try:
        settings = _settings(data_dir=data_dir, task_runner=task_runner)
        from statenotes.flows.pipeline import reprocess as reprocess_flow

        summary = _run_with_progress(reprocess_flow, settings)
    except StatenotesError as exc:
        _fail(exc)
    _print_summary(summary)


@app.command()
def serve(
    limit: Annotated[int, typer.Option(help="Flow runs at once (one crawl per site is polite).")] = 1,
    data_dir: DataDir = None,
) -> None:
    """Serve the nightly, backfill and reprocess deployments to the Prefect server at PREFECT_API_URL."""
    logging.basicConfig(level="WARNING", format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("statenotes").setLevel("INFO")
    from statenotes.flows.deployments import serve as serve_deployments

    try:
        settings = _settings(data_dir=data_dir)
        if data_dir is not None:  # the run processes read settings from the environment
            os.environ["STATENOTES_DATA_DIR"] = str(data_dir)
        serve_deployments(settings, limit=limit,
                          announce=lambda text: out.print(text, highlight=False, markup=False))
    except StatenotesError as exc:
        _fail(exc)


@app.command()
def sql(
    query: Annotated[Optional[str], typer.Argument(help="SQL to run; none: an interactive read-only shell.")] = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV (every row).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array of objects (every row).")] = False,
    data_dir: DataDir = None,
) -> None:
    """Query the warehouse on a read-only connection (never blocks, and is never blocked by, a run)."""
    from statenotes.flows import sql as analyst

    try:
        with analyst.connect(_settings(data_dir=data_dir).db_path) as con:
            if query is None:
                failures = analyst.shell(con, sys.stdin, out, interactive=sys.stdin.isatty())
                raise typer.Exit(1 if failures else 0)
            result = analyst.run_query(con, query)
    except StatenotesError as exc:
        _fail(exc)
    if as_json:
        print(analyst.as_json(result))
    elif as_csv:
        sys.stdout.write(analyst.as_csv(result))
    else:
        out.print(analyst.as_table(result))


@app.command()
def report(
    output: Annotated[Optional[Path], typer.Option(help="HTML file to write (default: DATA_DIR/report.html).")] = None,
    data_dir: DataDir = None,
) -> None:
    """Write a static HTML report of the warehouse: notes per month, top actors, co-mentions."""
    from statenotes.flows.report import write_report
    from statenotes.flows.sql import connect

    try:
        settings = _settings(data_dir=data_dir)
        connect(settings.db_path).close()  # a clear message when there is no warehouse yet
        path = write_report(settings.db_path, output or settings.data_dir / "report.html")
    except StatenotesError as exc:
        _fail(exc)
    out.print(f"Report: {path.as_uri()}", highlight=False, markup=False)


QUARANTINE_SQL = """select url, stage, reason, attempts, last_seen_at as last_seen
                    from quarantine order by last_seen_at desc, url, stage"""


@app.command()
def quarantine(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array of objects.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Pages that failed (to download or to parse) and have not loaded since; the next runs retry them."""
    from statenotes.flows import sql as analyst
    from statenotes.flows.markup import plain_table

    try:
        with analyst.connect(_settings(data_dir=data_dir).db_path) as con:
            result = analyst.run_query(con, QUARANTINE_SQL)
    except StatenotesError as exc:
        _fail(exc)
    if as_json:
        print(analyst.as_json(result))
    elif not result.rows:
        out.print("nothing is quarantined")
    else:  # URLs and reasons from the web: literal text, never rich markup
        out.print(plain_table(result.columns, result.rows, caption=f"{len(result.rows)} row(s)"))


@app.command()
def docs(output: Annotated[Optional[Path], typer.Option(help="Markdown file to write (default: stdout).")] = None,
         ) -> None:
    """The warehouse's schema as Markdown, from the comments of a freshly published (empty) file."""
    from statenotes.flows.schema_docs import schema_markdown

    text = schema_markdown()
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        out.print(f"wrote {output}", highlight=False, markup=False)


@app.command()
def extract(
    page: Annotated[str, typer.Argument(help="A saved page (path) or a URL to fetch.")],
    url: Annotated[Optional[str], typer.Option(help="The page's URL, when PAGE is a saved file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON object (the default).")] = True,
) -> None:
    """Show exactly what the pipeline would load from one page, as JSON."""
    from statenotes.flows.extract import extract_page

    try:
        result = extract_page(page, url)
    except StatenotesError as exc:
        print(f"statenotes extract: {exc}", file=sys.stderr)
        raise typer.Exit(1)
    print(json.dumps(result, ensure_ascii=False, indent=None if as_json else 2))


@app.command()
def mirror(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: a free one).")] = 8000,
    crawl_delay: Annotated[float, typer.Option(help="Crawl-delay announced in robots.txt.")] = 0.0,
    redesign: Annotated[str | None, typer.Option(
        help="Serve the release pages in a redesigned markup: semantic, cards, opengraph, portal, blog or newsroom.")] = None,
) -> None:
    """Serve the bundled offline copy of state.gov's media notes, until Ctrl-C."""
    from statenotes.mirror.server import MirrorServer

    try:
        site = MirrorServer(port=port, crawl_delay=crawl_delay, redesign=redesign)
    except ValueError as exc:
        print(f"statenotes mirror: {exc}", file=sys.stderr)
        raise typer.Exit(2)
    with site:
        out.print(f"Serving the offline mirror at [bold]{site.base_url}/press-releases/[/] (Ctrl-C stops)")
        out.print(f"Crawl it: STATENOTES_BASE_URL={site.base_url} statenotes backfill --start 2000-01-01 "
                  f"--end {datetime.now(UTC).date()} --crawl-delay 0")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            out.print("stopped")


@app.command()
def demo(data_dir: DataDir = None, verbose: Verbose = False) -> None:
    """Crawl the bundled offline mirror through real HTTP and publish the warehouse."""
    _quiet_prefect(verbose)
    from statenotes.flows.demo import DEMO_START, summarise_warehouse
    from statenotes.flows.pipeline import backfill as backfill_flow
    from statenotes.mirror.server import MirrorServer

    started = time.monotonic()
    try:
        with MirrorServer() as site:
            out.print(f"Offline mirror of state.gov serving at {site.base_url}")
            settings = _settings(base_url=site.base_url, data_dir=data_dir, crawl_delay_s=0.0,
                                 requests_per_minute=0)
            request = _backfill_request(DEMO_START, datetime.now(UTC).date(), None)
            summary = _run_with_progress(lambda: backfill_flow(request), settings)
    except StatenotesError as exc:
        _fail(exc)
    _print_summary(summary)
    summarise_warehouse(out, Path(summary.db_path))
    out.print(f"demo finished in {time.monotonic() - started:.1f} s")


def main() -> None:  # pragma: no cover - console entry point
    app()
