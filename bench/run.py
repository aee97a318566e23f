"""End-to-end benchmark: a synthetic corpus of N notes served by the offline mirror (its own process,
crawl delay 0, no rate cap), a full `backfill` with the real flow (ephemeral Prefect), then, on the
same data: parsers side by side on the run's pages, publishing alone, analyst queries, a no-change
nightly run (`statenotes run` in a new process) and `reprocess` of the archived pages.

    uv run --group bench python bench/run.py --notes 10000 --json

The last line of the output is one JSON object (see bench/README.md, "End to end"); progress goes
to stderr. Peak RSS covers this process and every descendant (the mirror, Prefect's API server,
the nightly run), sampled every 0.25 s with psutil.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

COMPARE_PAGES = 200  # pages parsed side by side by statenotes, trafilatura and lxml
QUERY_RUNS = 7
SKIPPABLE = ("compare", "publish", "queries", "nightly", "delta", "reprocess")
MIRROR_START_TIMEOUT_S = 120
PREFECT_START_TIMEOUT_S = 120


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def prefect_environment(work: Path) -> None:
    """Ephemeral Prefect with its state under the work directory; set before Prefect is imported."""
    os.environ["PREFECT_HOME"] = str(work / "prefect-home")
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    # Prefect's default (20 s) is too short on a busy 2-core machine; the start stays in the figures.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", str(PREFECT_START_TIMEOUT_S))
    os.environ.pop("PREFECT_API_URL", None)
    for name in [n for n in os.environ if n.startswith("STATENOTES_")]:
        del os.environ[name]


def corpus_for(args: argparse.Namespace, work: Path, memory) -> tuple[Path, dict]:
    """The corpus file for (N, seed, end), generated unless a previous run left it."""
    from synthetic import DEFAULT_START, write_corpus

    path = work / f"corpus-{args.notes}-seed{args.seed}-to{args.end}.jsonl"
    info = {"generate_s": None}
    if not path.exists():
        memory.phase = "generate"
        started = time.perf_counter()
        write_corpus(path, args.notes, args.seed, DEFAULT_START, args.end)
        info["generate_s"] = round(time.perf_counter() - started, 2)
        log(f"generated {args.notes} notes in {info['generate_s']} s: {path}")
    info["corpus_mb"] = round(path.stat().st_size / 1e6, 1)
    return path, info


def start_mirror(corpus: Path) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, str(BENCH_DIR / "serve_corpus.py"), str(corpus)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + MIRROR_START_TIMEOUT_S
    line = process.stdout.readline().strip()
    if not line.startswith("http://") or time.monotonic() > deadline:
        process.kill()
        raise RuntimeError(f"the mirror did not start (said {line!r})")
    return process, line


def stop_mirror(process: subprocess.Popen) -> dict:
    try:
        output, _ = process.communicate(input="", timeout=30)  # closing stdin stops it
        return json.loads(output.strip().splitlines()[-1])
    except (subprocess.TimeoutExpired, ValueError, IndexError):
        process.kill()
        process.wait()
        return {}


def cpu_seconds(pid: int) -> float:
    import psutil

    try:
        times = psutil.Process(pid).cpu_times()
        return times.user + times.system + times.children_user + times.children_system
    except psutil.Error:
        return 0.0


def measure_delta(lake, uri: str) -> dict:
    """The lake published as Delta tables to a local directory (the last measurement): first (every
    table, every partition), then after a one-partition change (the last notes partition's file
    rewritten with its rows reversed, restored afterwards), then with that partition back as it was."""
    import pyarrow.parquet as pq
    from statenotes.warehouse.delta import publish as publish_delta

    Path(uri.removeprefix("file://")).parent.mkdir(parents=True, exist_ok=True)
    figures = {}
    started = time.perf_counter()
    publish_delta(lake, uri, "bench-first")
    figures["first_s"] = round(time.perf_counter() - started, 2)
    newest = lake.committed_files(lake.root, "notes")[-1]
    original = newest.read_bytes()
    table = pq.read_table(newest)
    pq.write_table(table.take(list(range(table.num_rows - 1, -1, -1))), newest, compression="zstd")
    try:
        started = time.perf_counter()
        done = publish_delta(lake, uri, "bench-incremental")
        figures["one_partition_s"] = round(time.perf_counter() - started, 2)
    finally:
        newest.write_bytes(original)  # the lake as the run left it
    figures["one_partition_rewritten"] = {t: len(p) for t, p in done.rewritten.items()}
    started = time.perf_counter()
    publish_delta(lake, uri, "bench-restored")
    figures["restored_s"] = round(time.perf_counter() - started, 2)
    return figures


def run(args: argparse.Namespace, work: Path) -> dict:
    from measures import analyst_queries, compare_parsers, nightly_subprocess, sample_pages
    from probes import SAMPLE_EVERY_S, StageTimes, TreeMemory, part_timers

    memory = TreeMemory(report_every=round(args.rss_log_every / SAMPLE_EVERY_S)).start()
    corpus, result = corpus_for(args, work, memory)
    from statenotes.flows.parameters import BackfillRequest
    from statenotes.flows.pipeline import backfill, reprocess
    from statenotes.flows.settings import load_settings, run_with
    from statenotes.warehouse.lake import Lake
    from statenotes.warehouse.publish import publish

    data_dir = work / f"data-{args.notes}"
    shutil.rmtree(data_dir, ignore_errors=True)
    mirror, base_url = start_mirror(corpus)
    memory.label(mirror.pid, "mirror")
    times = StageTimes()
    try:
        settings = load_settings(base_url=base_url, data_dir=data_dir, crawl_delay_s=0.0, requests_per_minute=0,
                                 task_runner=args.task_runner)
        request = BackfillRequest(start=date(2000, 1, 1), end=datetime.now(UTC).date())
        log(f"backfill of {args.notes} notes from {base_url} into {data_dir}")
        memory.phase = "backfill"
        cpu_before, mirror_cpu_before = cpu_seconds(os.getpid()), cpu_seconds(mirror.pid)
        with part_timers(times):
            started = time.perf_counter()
            summary = run_with(settings, backfill, request)
            wall = time.perf_counter() - started
        loaded = summary.new + summary.updated + summary.unchanged
        result.update({
            "notes": loaded, "notes_requested": args.notes, "discovered": summary.discovered,
            "quarantined": len(summary.quarantined), "seconds_total": round(wall, 2),
            "notes_per_s": round(loaded / wall, 1), "seconds": summary.stage_seconds, "parts": times.snapshot(),
            "task_runner": settings.task_runner, "requests": summary.requests, "mb_downloaded": round(summary.bytes / 1e6, 1),
            "cpu_s": {"pipeline": round(cpu_seconds(os.getpid()) - cpu_before, 1),
                      "mirror": round(cpu_seconds(mirror.pid) - mirror_cpu_before, 1)},
        })
        log(f"backfill: {loaded} notes in {wall:.1f} s ({loaded / wall:.1f}/s); stages {result['seconds']}")
        if "compare" not in args.skip:
            memory.phase = "compare"
            result.update(compare_parsers(sample_pages(settings.db_path, settings.raw_dir, args.compare_pages)))
            log(f"parsers: {result['parse_ms_statenotes']} ms statenotes, {result['parse_ms_trafilatura']} ms "
                f"trafilatura, {result['parse_ms_lxml']} ms lxml per page")
        if "publish" not in args.skip:
            memory.phase = "publish"
            started = time.perf_counter()
            publish(Lake(settings.lake_dir), settings.db_path)
            result["publish_alone_s"] = round(time.perf_counter() - started, 2)
            log(f"publish alone: {result['publish_alone_s']} s")
        if "queries" not in args.skip:
            memory.phase = "queries"
            result["queries"] = analyst_queries(settings.db_path, args.query_runs)
            result["query_p50_ms"] = {name: q["p50_ms"] for name, q in result["queries"].items()}
            log(f"queries p50 ms: {result['query_p50_ms']}")
        if "nightly" not in args.skip:
            memory.phase = "nightly"
            env = {"STATENOTES_BASE_URL": base_url, "STATENOTES_DATA_DIR": str(data_dir),
                   "STATENOTES_CRAWL_DELAY_S": "0", "STATENOTES_REQUESTS_PER_MINUTE": "0",
                   "STATENOTES_TASK_RUNNER": settings.task_runner}
            nightly = nightly_subprocess(env, on_start=lambda pid: memory.label(pid, "nightly"))
            last = Lake(settings.lake_dir).last_successful_run("nightly")
            result["nightly_no_change_wall_s"] = nightly.wall_s
            result["nightly"] = {"returncode": nightly.returncode, **(last.counts if last else {})}
            if nightly.returncode != 0:
                log(f"nightly failed:\n{nightly.output_tail}")
            log(f"no-change nightly: {nightly.wall_s} s wall, {result['nightly']}")
        if "reprocess" not in args.skip:
            memory.phase = "reprocess"
            times.reset()
            with part_timers(times):
                started = time.perf_counter()
                again = run_with(settings, reprocess)
                result["reprocess_s"] = round(time.perf_counter() - started, 2)
            result["reprocess"] = {"pages": again.discovered, "unchanged": again.unchanged, "new": again.new,
                                   "updated": again.updated, "quarantined": len(again.quarantined),
                                   "seconds": again.stage_seconds}
            log(f"reprocess: {result['reprocess_s']} s, {result['reprocess']}")
        if "delta" not in args.skip:
            memory.phase = "delta"
            result["delta"] = measure_delta(Lake(settings.lake_dir), (work / f"delta-{args.notes}").as_uri())
            log(f"delta publish (file://): {result['delta']}")
    finally:
        memory.phase = "stop"
        result["mirror_answers"] = stop_mirror(mirror).get("answers")
        memory.stop()
    result["peak_rss_mb"] = round(memory.peak_total, 1)
    result["peak_rss_mb_without_mirror"] = round(memory.peak_without.get("mirror", memory.peak_total), 1)
    result["peak_rss_mb_by_process"] = {k: round(v, 1) for k, v in sorted(memory.peak_by_role.items())}
    result["peak_rss_mb_by_phase"] = {k: round(v, 1) for k, v in memory.peak_by_phase.items()}
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notes", type=int, required=True, help="synthetic notes to generate and load")
    parser.add_argument("--json", action="store_true", help="print only progress (stderr) and the JSON line")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--end", type=date.fromisoformat, default=datetime.now(UTC).date() - timedelta(days=1),
                        help="newest publication date (default yesterday, so the nightly window has notes)")
    parser.add_argument("--work", type=Path, help="keep corpus, data and Prefect state here (default: a temp dir)")
    parser.add_argument("--compare-pages", type=int, default=COMPARE_PAGES)
    parser.add_argument("--query-runs", type=int, default=QUERY_RUNS)
    parser.add_argument("--task-runner", choices=("thread", "dask"), default=None,
                        help="where parsing runs (default: the settings')")
    parser.add_argument("--rss-log-every", type=int, default=0, metavar="S",
                        help="log the process tree's memory every S seconds (stderr)")
    parser.add_argument("--switch-interval", type=float, default=None, metavar="S",
                        help="sys.setswitchinterval for this process (an experiment: how long an I/O thread "
                             "waits for the GIL held by parsing threads; Python's default is 0.005)")
    parser.add_argument("--skip", nargs="*", default=[], choices=SKIPPABLE, help="measurements to leave out")
    args = parser.parse_args(argv)
    if args.rss_log_every:
        logging.basicConfig(level=logging.WARNING, format="[bench %(asctime)s] %(message)s", datefmt="%H:%M:%S")
        logging.getLogger("probes").setLevel(logging.INFO)
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)
    work = args.work or Path(tempfile.mkdtemp(prefix="statenotes-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    prefect_environment(work)
    try:
        result = {"notes_requested": args.notes, **run(args, work)}
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    result.update({"seed": args.seed, "switch_interval_s": sys.getswitchinterval(), "python": sys.version.split()[0], "cpus": os.cpu_count(),
                   "measured_at": datetime.now(UTC).isoformat(timespec="seconds")})
    if not args.json:
        print(json.dumps(result, indent=2))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
