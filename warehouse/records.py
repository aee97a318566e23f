"""Typed records the load stage accepts: what the flow hands the lake, one object per row or note."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from statenotes.extractors.records import MediaNote
from statenotes.transforms.records import ActorFindings, NoteBody

# `runs.status` values. Only RUN_SUCCESS counts for the incremental watermark.
RUN_RUNNING = "running"
RUN_SUCCESS = "success"
RUN_FAILED = "failed"


@dataclass(slots=True)
class LoadedNote:
    """One parsed and transformed release, ready to load. `fetched_at` is UTC (naive = UTC)."""

    note: MediaNote
    body: NoteBody
    findings: ActorFindings
    url: str
    fetched_at: datetime
    raw_sha256: str
    parser_version: str
    content_source: str = "page"  # page / rest / wayback: where the content came from


@dataclass(frozen=True, slots=True)
class FetchLog:
    """One HTTP exchange, successful or not (`status` None when no response came back)."""

    url: str
    status: int | None
    etag: str | None
    last_modified: str | None  # the header as sent; servers do not all send valid HTTP dates
    bytes: int | None
    sha256: str | None
    elapsed_ms: int | None
    error: str | None
    fetched_at: datetime


@dataclass(frozen=True, slots=True)
class QuarantineItem:
    """A URL some stage could not handle; `seen_at` is when this attempt happened."""

    url: str
    stage: str
    reason: str
    raw_sha256: str | None
    seen_at: datetime


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One flow run; `parameters` and `counts` are stored as JSON objects."""

    run_id: str
    flow: str
    started_at: datetime
    status: str = RUN_RUNNING
    finished_at: datetime | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, Any] = field(default_factory=dict)
    prefect_flow_run_id: str | None = None
