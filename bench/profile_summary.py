"""Summarise a py-spy profile of the end-to-end benchmark: where the samples of each process went,
by stage of the pipeline (inclusive) and by function (self).

    py-spy record --subprocesses --format raw --rate 50 -o prof.txt -- \\
        .venv/bin/python bench/run.py --notes 2000 --json --skip nightly compare queries
    python bench/profile_summary.py prof.txt [--top 25]

py-spy's raw format is one line per distinct stack: `frame;frame;... count`, the first frames
naming the process (and, for a subprocess, its parent first).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

# A stack whose innermost frame is one of these is a thread waiting (for a socket, a lock, a
# queue), which py-spy does not always recognise as idle.
WAITS = ("select (selectors", "Condition.wait", "Event.wait", "SocketIO.readinto", "_read_from_self",
         "_connection_worker_thread (aiosqlite", "_worker (concurrent/futures/thread.py")
# First matching marker (in this order) names the bucket of a stack.
BUCKETS = (
    ("parse_note", "parse (parse_note)"),
    ("normalise_body", "transform (normalise_body)"),
    ("find_actors", "transform (find_actors)"),
    ("RawArchive.put", "fetch: archive write"),
    ("fetch_page", "fetch + discover: HTTP"),
    ("collect_task_run_inputs", "Prefect: walk of task inputs and results"),
    ("resolve_inputs", "Prefect: walk of task inputs and results"),
    ("visit_collection", "Prefect: walk of task inputs and results"),
    ("resolve_to_final_result", "Prefect: walk of task inputs and results"),
    ("prepare (", "publish (DuckDB build)"),
    ("commit_and_publish", "parquet (rows, merge, write)"),
    ("read_pages", "reprocess: archive read"),
    ("_finish", "finish (report, artifacts)"),
    ("TreeMemory", "benchmark: RSS sampler"),
    ("compare_parsers", "benchmark: parser comparison"),
    ("prefect/server/", "Prefect: starting the ephemeral API server"),
    ("prefect/", "Prefect: engine, events, logs"),
    ("importlib", "imports"),
)


def process_of(frames: list[str]) -> str:
    names = [f for f in frames if f.startswith("process ")]
    command = names[-1] if names else "?"
    for role in ("uvicorn", "serve_corpus", "dask", "run.py"):
        if role in command:
            return {"uvicorn": "prefect-server", "serve_corpus": "mirror", "dask": "dask-worker",
                    "run.py": "pipeline"}[role]
    return command[:60]


def summarise(path: Path) -> tuple[Counter, dict[str, Counter], dict[str, Counter]]:
    per_process: Counter = Counter()
    buckets: dict[str, Counter] = {}
    leaves: dict[str, Counter] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames, samples = stack.split(";"), int(count)
        process = process_of(frames)
        per_process[process] += samples
        joined = ";".join(frames)
        if any(wait in frames[-1] for wait in WAITS):
            bucket = "waiting (socket, lock, queue)"
        else:
            bucket = next((name for marker, name in BUCKETS if marker in joined), "other")
        buckets.setdefault(process, Counter())[bucket] += samples
        leaves.setdefault(process, Counter())[frames[-1]] += samples
    return per_process, buckets, leaves


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)
    per_process, buckets, leaves = summarise(args.profile)
    total = sum(per_process.values())
    for process, samples in per_process.most_common():
        print(f"\n## {process}: {samples} samples ({samples / total:.0%} of all)")
        for bucket, count in buckets[process].most_common():
            print(f"  {count / samples:6.1%}  {bucket}")
        print("  top functions (self):")
        for frame, count in leaves[process].most_common(args.top):
            print(f"  {count / samples:6.1%}  {frame[:110]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
