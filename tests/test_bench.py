"""The end-to-end benchmark runs at a tiny N and reports what bench/README.md says it reports (no
timing assertions: speed lives in the benchmark), and the synthetic corpus is what it claims."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"
NOTES = 30
STAGES = {"discover", "fetch", "parse", "transform", "rows", "parquet", "publish", "finish"}
KEYS = {"notes", "notes_per_s", "seconds", "requests", "peak_rss_mb", "parse_ms_statenotes",
        "parse_ms_trafilatura", "parse_ms_lxml", "publish_alone_s", "query_p50_ms", "reprocess_s", "delta"}


def test_run_reports_every_figure_for_a_tiny_corpus(tmp_path):
    command = [sys.executable, str(BENCH / "run.py"), "--notes", str(NOTES), "--json", "--work", str(tmp_path),
               "--compare-pages", "10", "--query-runs", "2", "--skip", "nightly"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert KEYS <= set(result), KEYS - set(result)
    assert result["notes"] == NOTES and result["discovered"] == NOTES and result["quarantined"] == 0
    assert set(result["seconds"]) == STAGES and all(result["seconds"][stage] > 0 for stage in STAGES)
    assert all(result["parts"][part] > 0 for part in ("http_get", "archive_put"))
    assert all(result["reprocess"]["seconds"][stage] > 0 for stage in ("parse", "transform", "parquet"))
    assert result["requests"] >= NOTES and result["peak_rss_mb"] > 0
    assert set(result["query_p50_ms"]) == {"by_month", "by_actor", "text_search"}
    assert result["reprocess"]["pages"] == NOTES and result["reprocess"]["unchanged"] == NOTES
    assert "nightly_no_change_wall_s" not in result  # skipped, and said so by its absence
    assert result["delta"]["one_partition_rewritten"] == {"notes": 1, "runs": 1}  # nothing else changed


def test_synthetic_notes_are_seeded_unique_and_spread(tmp_path):
    sys.path.insert(0, str(BENCH))
    try:
        from synthetic import Generator, write_corpus
    finally:
        sys.path.remove(str(BENCH))
    info = write_corpus(tmp_path / "a.jsonl", 300, seed=3, start=date(2010, 1, 1), end=date(2019, 12, 31))
    again = write_corpus(tmp_path / "b.jsonl", 300, seed=3, start=date(2010, 1, 1), end=date(2019, 12, 31))
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes() and again.notes == 300
    notes = [json.loads(line) for line in (tmp_path / "a.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(notes) == info.notes == 300
    assert len({n["url"] for n in notes}) == 300 and len({n["title"] for n in notes}) == 300
    years = Counter(n["published_date"][:4] for n in notes)
    assert set(years) == {str(y) for y in range(2010, 2020)}
    assert {n["release_type"] for n in notes} == {"Media Note"}
    assert len({n["body_lines"][0] for n in notes}) > 100  # 22 templates, their actors swapped
    assert all(n["body_lines"] and all(isinstance(line, str) and line for line in n["body_lines"]) for n in notes)
    other = Generator(seed=4, start=date(2010, 1, 1), end=date(2019, 12, 31)).note(0)
    assert other != notes[0]
