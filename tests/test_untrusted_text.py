"""Issue 15, cases 8 and 5 (second half): text from the web is shown as text. In the Prefect markdown
artifact no title, URL or reason becomes HTML, a link, an image or a broken table; in the terminal
(`statenotes quarantine`, the summary after a run, errors) rich never reads it as markup."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt
from rich.console import Console

from statenotes.flows.summary import RunSummary, markdown, publish_artifacts
from statenotes.warehouse.lake import Lake
from statenotes.warehouse.publish import publish
from statenotes.warehouse.records import QuarantineItem

HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[c](javascript:alert(1))",
    "![i](http://evil.example/pixel.png)",
    "<http://evil.example/autolink> http://evil.example/bare www.evil.example me@evil.example",
    "a | b || c \\| d",
    "line one\nline two\r\n| x | y |\n|---|---|",
    "`code` ``more`` *em* **strong** _u_ ~~s~~ # heading > quote",
    "&lt;script&gt; &#60;b&#62; &amp;",
    "[/] [bold]loud[/bold] [link=https://evil.example]click[/link]",
    "[ref]: javascript:alert(1)",
    "\\<script>escaped? \\\\",
    "tab\there \x00\x1b[31m red",
]


SUMMARY_TAGS = {"h1", "h2", "p", "strong", "code", "table", "thead", "tbody", "tr", "th", "td", "ul", "li"}


def _tags(html: str) -> list[tuple[str, list]]:
    """Every element in `html`, with its attributes."""
    found = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Collect().feed(html)
    return found


def _cells(rendered: str, columns: int) -> list[list[str]]:
    """The table rows of Markdown `rendered` (CommonMark + tables, raw HTML on) as the text their
    cells show; fails on any HTML, link or image token."""
    tokens = MarkdownIt("commonmark").enable("table").parse(rendered)
    rows, row = [], None
    for token in tokens:
        assert token.type not in ("html_block", "html_inline"), token
        if token.type == "tr_open":
            row = []
        elif token.type == "inline" and row is not None:
            for child in token.children or []:
                assert child.type not in ("html_inline", "link_open", "image"), (child.type, child.content)
            row.append("".join(c.content for c in token.children or [] if c.type in ("text", "code_inline")))
        elif token.type == "tr_close":
            assert len(row) == columns, row
            rows.append(row)
            row = None
    return rows


@pytest.mark.parametrize("hostile", HOSTILE)
def test_the_markdown_summary_shows_web_text_as_text(hostile):
    url = f"https://www.state.gov/{hostile}/"
    summary = RunSummary(run_id="r1", flow="backfill", start=date(2020, 1, 1), end=date(2020, 1, 2),
                         base_url="https://www.state.gov", quarantined=[(url, "parse", hostile)],
                         top_actors=[("person:x", hostile, 3)], db_path="/srv/data/statenotes.duckdb")
    rendered = markdown(summary)
    tags = _tags(MarkdownIt("commonmark").enable("table").render(rendered))
    assert {tag for tag, _ in tags} <= SUMMARY_TAGS and not any(attrs for _, attrs in tags), tags
    rows = _cells(rendered, 3)  # header rows included: every row keeps its three cells
    one_line = " ".join(hostile.replace("\x00", "\ufffd").replace("\x1b", "\ufffd").split())
    assert [one_line, "person:x", "3"] in rows, rows
    assert [" ".join(url.split()).replace("\x00", "\ufffd").replace("\x1b", "\ufffd"), "parse", one_line] in rows


@pytest.mark.usefixtures("prefect_harness")
def test_the_published_artifact_is_escaped():
    """Through real Prefect: the artifact a run attaches, read back from the server."""
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    hostile = '<img src=x onerror="alert(1)"> [c](javascript:alert(1)) | [/]'
    summary = RunSummary(run_id="hostile", flow="hostile-test", start=None, end=None,
                         base_url="https://www.state.gov", quarantined=[(f"https://www.state.gov/{hostile}", "fetch",
                                                                         hostile)])

    @flow(name="hostile-artifact")
    def attach() -> None:
        publish_artifacts(summary)

    attach()
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(
            any_=["hostile-test-run-summary"])))
    rows = _cells(found[-1].data, 3)
    assert [f"https://www.state.gov/{hostile}", "fetch", hostile] in rows


# -- rich: the terminal ------------------------------------------------------------------------

MARKUP_REASON = "closing [/] then [bold]bold?[/bold] and [link=https://evil.example]a link[/link] [red"


def test_statenotes_quarantine_prints_markup_literally(tmp_path):
    lake = Lake(tmp_path / "lake")
    url = "https://www.state.gov/[/]odd-[bold]-path/"
    lake.upsert_quarantine([QuarantineItem(url, "parse", MARKUP_REASON, None, datetime(2024, 5, 1, tzinfo=UTC))])
    publish(lake, tmp_path / "statenotes.duckdb")
    result = subprocess.run([sys.executable, "-c", "from statenotes.flows.cli import app; app()", "quarantine",
                             "--data-dir", str(tmp_path)], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "COLUMNS": "400"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert MARKUP_REASON in result.stdout and url in result.stdout


def _printed(monkeypatch, call) -> str:
    from statenotes.flows import cli

    buffer = io.StringIO()
    monkeypatch.setattr(cli, "out", Console(file=buffer, width=400, color_system=None))
    monkeypatch.setattr(cli, "err", Console(file=buffer, width=400, color_system=None))
    try:
        call(cli)
    except BaseException as exc:  # typer.Exit from _fail
        if type(exc).__name__ != "Exit":
            raise
    return buffer.getvalue()


def test_the_summary_after_a_run_prints_markup_literally(monkeypatch):
    url = "https://www.state.gov/[/]/"
    summary = RunSummary(run_id="r1", flow="backfill", start=date(2020, 1, 1), end=date(2020, 1, 2),
                         base_url="https://www.state.gov", quarantined=[(url, "parse", MARKUP_REASON)],
                         db_path="/srv/[data]/statenotes.duckdb")
    printed = _printed(monkeypatch, lambda cli: cli._print_summary(summary))
    assert f"quarantined (parse) {url}: {MARKUP_REASON}" in printed
    assert "/srv/[data]/statenotes.duckdb" in printed


def test_an_error_from_the_web_prints_literally(monkeypatch):
    from statenotes.extractors.errors import FetchError

    printed = _printed(monkeypatch, lambda cli: cli._fail(FetchError("https://www.state.gov/[/]", MARKUP_REASON)))
    assert f"error: https://www.state.gov/[/]: {MARKUP_REASON}" in printed
