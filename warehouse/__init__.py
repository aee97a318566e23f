"""The load stage: candidate rows from loaded notes, the Parquet lake (source of truth, atomic
commits) and the DuckDB file published from it for analysts."""

from .lake import Lake, MergeCounts, Transaction
from .publish import DB_FILENAME, PublishResult, describe_schema, publish
from .records import FetchLog, LoadedNote, QuarantineItem, RunRecord
from .rows import note_tables

__all__ = [
    "DB_FILENAME", "FetchLog", "Lake", "LoadedNote", "MergeCounts", "PublishResult", "QuarantineItem",
    "RunRecord", "Transaction", "describe_schema", "note_tables", "publish",
]
