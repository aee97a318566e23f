"""What a run did, said once and shown three ways: the `runs` row's counts, the Prefect artifacts of
the run (a table of counts and a markdown summary) and the CLI's table."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from statenotes.extractors.credentials import redact
from statenotes.flows.markup import escape_markdown
from statenotes.warehouse.records import LoadedNote

TOP_ACTORS = 10  # actors listed in a run's markdown summary
QUARANTINE_SHOWN = 25  # quarantined URLs listed there; the rest are in the quarantine table
ARTIFACT_KEY = "{flow}-run"  # Prefect keeps each key's history: one series per flow


@dataclass(slots=True)
class RunSummary:
    run_id: str
    flow: str
    start: date | None  # the window of listed dates; None for reprocess
    end: date | None
    base_url: str
    discovered: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: list[tuple[str, str, str]] = field(default_factory=list)  # url, stage, reason
    requests: int = 0
    bytes: int = 0
    refused_urls: int = 0  # URLs (links, redirects) the URL policy refused: never requested
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)  # see flows/stages.py
    top_actors: list[tuple[str, str, int]] = field(default_factory=list)  # actor_id, name, notes
    db_path: str = ""
    report_path: str = ""

    def counts(self) -> dict[str, int | float | dict[str, float]]:
        return {"discovered": self.discovered, "new": self.new, "updated": self.updated,
                "unchanged": self.unchanged, "quarantined": len(self.quarantined),
                "requests": self.requests, "bytes": self.bytes, "refused_urls": self.refused_urls,
                "seconds": self.seconds,
                "stage_seconds": dict(self.stage_seconds)}

    @property
    def window(self) -> str:
        return "" if self.start is None else f"{self.start} .. {self.end}"


class ActorTally:
    """How many notes of a run name each actor, counted batch by batch (the notes are not kept)."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.notes: Counter[str] = Counter()

    def add(self, loaded: list[LoadedNote]) -> None:
        for note in loaded:
            for actor in note.findings.actors:
                self.names[actor.actor_id] = actor.name
            self.notes.update({m.actor_id for m in note.findings.mentions})

    def top(self, limit: int = TOP_ACTORS) -> list[tuple[str, str, int]]:
        """The actors named in the most notes: (actor_id, name, notes)."""
        ranked = sorted(self.notes.items(), key=lambda item: (-item[1], self.names.get(item[0], item[0])))
        return [(actor_id, self.names.get(actor_id, actor_id), count) for actor_id, count in ranked[:limit]]


def counts_table(summary: RunSummary) -> list[dict[str, object]]:
    """The artifact table: one row per count, in the order an operator reads them."""
    rows = [("notes new", summary.new), ("notes updated", summary.updated),
            ("notes unchanged", summary.unchanged), ("pages quarantined", len(summary.quarantined)),
            ("notes discovered", summary.discovered), ("HTTP requests", summary.requests),
            ("bytes downloaded", summary.bytes), ("URLs refused", summary.refused_urls), ("duration (s)", round(summary.seconds, 1))]
    # stages overlap (parsing runs while the next batch downloads): they need not add up to the duration
    rows += [(f"seconds in {stage}", round(seconds, 1)) for stage, seconds in summary.stage_seconds.items()]
    return [{"what": label, "count": value} for label, value in rows]


def markdown(summary: RunSummary) -> str:
    """The artifact summary: top actors of the run, quarantined URLs with reasons, where to look.
    Every value goes through `escape_markdown` (URLs, reasons and names may come from the web)."""
    md = escape_markdown
    lines = [f"# {md(summary.flow)} {md(summary.window)}".rstrip(), "",
             f"Run {md(summary.run_id)} from {md(redact(summary.base_url))}: **{summary.new}** new, "
             f"**{summary.updated}** updated, **{summary.unchanged}** unchanged, "
             f"**{len(summary.quarantined)}** quarantined, {summary.requests} requests in {summary.seconds:.1f} s.", ""]
    if summary.top_actors:
        lines += ["## Top actors of the run", "", "| actor | id | notes |", "|---|---|---|"]
        lines += [f"| {md(name)} | {md(actor_id)} | {count} |" for actor_id, name, count in summary.top_actors]
        lines.append("")
    if summary.quarantined:
        lines += ["## Quarantined", "", "| url | stage | reason |", "|---|---|---|"]
        lines += [f"| {md(redact(url))} | {md(stage)} | {md(redact(reason))} |"
                  for url, stage, reason in summary.quarantined[:QUARANTINE_SHOWN]]
        if len(summary.quarantined) > QUARANTINE_SHOWN:
            lines.append(f"\n... and {len(summary.quarantined) - QUARANTINE_SHOWN} more: "
                         "`statenotes sql \"select * from quarantine order by last_seen_at desc\"`")
        lines += ["", "Quarantined pages are retried by the next run that lists them; `statenotes reprocess` "
                  "re-parses the archived ones without the network.", ""]
    lines += ["## Warehouse", "", f"- DuckDB file: {md(summary.db_path)}"]
    if summary.report_path:
        # our own file (as_uri percent-encodes whatever could end the link)
        lines.append(f"- Report: [{md(Path(summary.report_path).name)}]({Path(summary.report_path).as_uri()}) "
                     f"({md(summary.report_path)})")
    return "\n".join(lines) + "\n"


def publish_artifacts(summary: RunSummary) -> None:
    """Attach the table and the markdown summary (and the report's link) to the current Prefect run."""
    from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact

    key = ARTIFACT_KEY.format(flow=summary.flow)
    create_table_artifact(counts_table(summary), key=f"{key}-counts",
                          description=f"{summary.flow} {summary.window}: what the run did")
    create_markdown_artifact(markdown(summary), key=f"{key}-summary",
                             description=f"{summary.flow} {summary.window}: top actors and quarantined pages")
    if summary.report_path:
        create_link_artifact(Path(summary.report_path).as_uri(), link_text="warehouse report (HTML)",
                             key=f"{key}-report", description="statenotes report of the published warehouse")
