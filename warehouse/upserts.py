"""Keyed writes to the small tables: actors, fetches, quarantine, runs. Each is idempotent: the same
input applied twice leaves the same rows (and so the same bytes)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from .records import RUN_SUCCESS, FetchLog, QuarantineItem, RunRecord
from .rows import utc
from .schema import ACTORS, FETCHES, QUARANTINE, RUNS, TableSpec

if TYPE_CHECKING:
    from .lake import Transaction
    from .spool import CandidateSpool

ACTOR_ATTRIBUTES = ("name", "kind", "iso3", "parent_id")


def _keyed(rows: list[dict[str, Any]], keys: tuple[str, ...]) -> dict[tuple, dict[str, Any]]:
    return {tuple(r[k] for k in keys): r for r in rows}


def _write(tx: Transaction, path: Path, table_spec: TableSpec, rows: list[dict[str, Any]]) -> None:
    tx.put(path, table_spec.name, pa.Table.from_pylist(rows, schema=table_spec.schema))


def upsert_actors(tx: Transaction, actors: pa.Table) -> int:
    """Insert new actors; for known ones the incoming non-null attributes win (the gazetteer is
    the authority) and aliases are the union. Returns how many actors were added or changed."""
    path = tx.path_for("actors")
    stored = _keyed(tx.load(path, "actors").to_pylist(), ACTORS.keys)
    changed = 0
    for actor in actors.to_pylist():
        key = (actor["actor_id"],)
        old = stored.get(key)
        new = dict(actor) if old is None else {
            **old, **{a: actor[a] for a in ACTOR_ATTRIBUTES if actor[a] is not None}}
        new["aliases"] = sorted(set(actor["aliases"] or ()) | set((old or {}).get("aliases") or ()))
        if new != old:
            stored[key] = new
            changed += 1
    _write(tx, path, ACTORS, list(stored.values()))
    return changed


FETCH_LOG_COLUMNS = [name for name in FETCHES.column_names if name != "run_id"]


def fetch_rows(logs: Iterable[FetchLog]) -> pa.Table:
    """Fetch logs as `fetches` rows without their run_id (given when they are appended)."""
    logs = list(logs)
    columns = {name: [getattr(entry, name) for entry in logs] for name in FETCH_LOG_COLUMNS}
    columns["fetched_at"] = [utc(at) for at in columns["fetched_at"]]
    return pa.table(columns, schema=pa.schema([FETCHES.schema.field(name) for name in FETCH_LOG_COLUMNS]))


def _append_fetch_partition(tx: Transaction, year: int, rows: pa.Table, run_id: str) -> None:
    """Add `rows` (fetch_rows of one fetch year, in the order given) to that year's partition;
    a row with the key of an earlier one, stored or given, replaces it."""
    from .lake import last_of_each_key  # the lake imports this module

    path = tx.path_for("fetches", year)
    added = rows.append_column(FETCHES.schema.field("run_id"), pa.array([run_id] * rows.num_rows, pa.string()))
    combined = pa.concat_tables([tx.load(path, "fetches"), added.select(FETCHES.column_names).cast(FETCHES.schema)])
    # Sorted by key (the file's order, so `put` sorts no more), the stable sort keeps stored rows
    # before given ones and given ones in order: the last row of each key is the one to keep.
    keys = list(FETCHES.keys)
    combined = combined.take(pc.sort_indices(combined, sort_keys=[(k, "ascending") for k in keys]))
    last = last_of_each_key(combined, keys)
    if combined.num_rows and not pc.all(last).as_py():
        combined = combined.filter(last)
    tx.put(path, "fetches", combined)


def append_fetches(tx: Transaction, logs: list[FetchLog], run_id: str) -> int:
    """Add fetch rows (a row with the key of a stored one replaces it). Returns rows given."""
    rows = fetch_rows(logs)
    years = pc.year(rows.column("fetched_at"))
    for year in sorted(set(years.to_pylist())):
        _append_fetch_partition(tx, year, rows.filter(pc.equal(years, year)), run_id)
    return len(logs)


def append_spooled_fetches(tx: Transaction, spool: CandidateSpool, run_id: str) -> int:
    """`append_fetches` of a spool's fetch logs, read one fetch year at a time. Returns rows spooled."""
    for year in spool.years("fetches"):
        _append_fetch_partition(tx, year, spool.read("fetches", year), run_id)
    return spool.fetch_count


def upsert_quarantine(tx: Transaction, items: list[QuarantineItem]) -> int:
    """Record failed attempts, one row per (url, stage): attempts += 1 and last_seen_at/reason
    updated per attempt; first_seen_at kept. An item not later than the row's last_seen_at was
    already recorded (a replay) and is ignored. Returns attempts recorded."""
    path = tx.path_for("quarantine")
    stored = _keyed(tx.load(path, "quarantine").to_pylist(), QUARANTINE.keys)
    recorded = 0
    for item in sorted(items, key=lambda i: (utc(i.seen_at), i.url, i.stage)):
        seen_at = utc(item.seen_at)
        old = stored.get((item.url, item.stage))
        if old is not None and seen_at <= old["last_seen_at"]:
            continue
        stored[(item.url, item.stage)] = {
            "url": item.url, "stage": item.stage, "reason": item.reason,
            "raw_sha256": item.raw_sha256,
            "first_seen_at": old["first_seen_at"] if old else seen_at,
            "last_seen_at": seen_at,
            "attempts": old["attempts"] + 1 if old else 1,
        }
        recorded += 1
    _write(tx, path, QUARANTINE, list(stored.values()))
    return recorded


def clear_quarantine(tx: Transaction, urls: set[str]) -> int:
    """Forget every stage's failures of `urls` (they have now loaded). Returns rows removed."""
    path = tx.path_for("quarantine")
    rows = tx.load(path, "quarantine").to_pylist()
    remaining = [r for r in rows if r["url"] not in urls]
    _write(tx, path, QUARANTINE, remaining)
    return len(rows) - len(remaining)


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def upsert_run(tx: Transaction, run: RunRecord) -> None:
    """Insert or replace the row of `run.run_id` (so a run can be recorded as running, then done)."""
    path = tx.path_for("runs")
    stored = _keyed(tx.load(path, "runs").to_pylist(), RUNS.keys)
    stored[(run.run_id,)] = {
        "run_id": run.run_id, "flow": run.flow, "parameters": _json(run.parameters),
        "started_at": utc(run.started_at), "finished_at": utc(run.finished_at),
        "status": run.status, "counts": _json(run.counts), "prefect_flow_run_id": run.prefect_flow_run_id,
    }
    _write(tx, path, RUNS, list(stored.values()))


def last_successful_run(runs: pa.Table, flow: str | None) -> RunRecord | None:
    """The latest-started successful run (of `flow`, if given), from the runs table."""
    rows = [r for r in runs.to_pylist()
            if r["status"] == RUN_SUCCESS and (flow is None or r["flow"] == flow)]
    if not rows:
        return None
    row = max(rows, key=lambda r: (r["started_at"], r["run_id"]))
    return RunRecord(
        run_id=row["run_id"], flow=row["flow"], started_at=row["started_at"], status=row["status"],
        finished_at=row["finished_at"], parameters=json.loads(row["parameters"] or "{}"),
        counts=json.loads(row["counts"] or "{}"), prefect_flow_run_id=row.get("prefect_flow_run_id"),
    )
