"""Extraction evaluation: statenotes on every corpus note in every layout and markup variant, scored
against the expected output, side by side with trafilatura (body token F1 and speed) and a raw
lxml.html parse (the speed floor), on the same pages in one run.

    uv run --group bench python bench/extraction_eval.py [--variants N] [--show N] [--json PATH]

Scores (see bench/README.md, section "Extraction"):
- fields: per page and field the layout carries, exact equality (title, type, office, dates,
  dateline, tags, quoted-text span, site, layout, canonical url, modified time);
- paragraphs: a paragraph is exact when the one at the same seq has the same label and text and
  its kind agrees (the first plain paragraph must be "lead", later plain ones "body" or "closing");
  extra or missing paragraphs count as misses;
- body token F1: multiset overlap of word tokens (lower-cased `\\w+`) with the expected
  paragraphs; trafilatura's text is scored against the body as printed (dateline, "Begin Text:",
  numbers and bullets included: what a generic extractor should keep) and against the paragraphs.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import lxml.html
import trafilatura

sys.path.insert(0, str(Path(__file__).parent))
from eval_cases import (  # noqa: E402
    EVAL_VARIANTS,
    LAYOUTS,
    REST_LAYOUT,
    Case,
    actual_fields,
    build_cases,
    f1,
    paragraph_hits,
    run_statenotes,
    tokens,
)

from statenotes.extractors.errors import ParseError  # noqa: E402

TARGETS = {"fields": 1.0, "paragraphs": 0.99, "f1": 0.995, "speed_ratio": 0.5}
WARMUP_CASES = 60


def run_trafilatura(case: Case) -> str:
    html = json.loads(case.payload)["content"]["rendered"] if case.layout == REST_LAYOUT else case.payload
    return trafilatura.extract(html, url=case.url, include_tables=True, include_comments=False) or ""


def run_lxml(case: Case) -> None:
    html = json.loads(case.payload)["content"]["rendered"] if case.layout == REST_LAYOUT else case.payload
    lxml.html.fromstring(html)


def timed(function, case: Case):
    started = time.perf_counter_ns()
    result = function(case)
    return result, (time.perf_counter_ns() - started) / 1e6


def evaluate(cases: list[Case], show: int) -> dict:
    for case in cases[:WARMUP_CASES]:  # imports, caches, lazily compiled selectors
        run_trafilatura(case), run_lxml(case)
        try:
            run_statenotes(case)
        except ParseError:
            pass
    gc.collect()
    by_layout: dict[str, dict] = defaultdict(lambda: defaultdict(list))
    failures = []
    for case in cases:
        row = by_layout[case.layout]
        try:
            (note, body), ms = timed(run_statenotes, case)
            got, paragraphs = actual_fields(note, body), body.paragraphs
        except ParseError as error:
            ms, got, paragraphs = 0.0, {}, []
            failures.append((case, f"ParseError: {error.reason}"))
        text, traf_ms = timed(run_trafilatura, case)
        _, lxml_ms = timed(run_lxml, case)
        wrong = [name for name, value in case.expected.fields.items() if got.get(name, object()) != value]
        hits, total, misses = paragraph_hits(case.expected.rows, paragraphs)
        reference = tokens(" ".join(text for _, _, text in case.expected.rows))
        row["pages"].append(1)
        row["bytes"].append(len(case.payload))
        row["field_hits"].append(len(case.expected.fields) - len(wrong))
        row["field_total"].append(len(case.expected.fields))
        row["para_hits"].append(hits)
        row["para_total"].append(total)
        row["f1"].append(f1(tokens(" ".join(p.text for p in paragraphs)), reference))
        row["traf_f1_printed"].append(f1(tokens(text), tokens(case.expected.printed)))
        row["traf_f1_paragraphs"].append(f1(tokens(text), reference))
        row["ms"].append(ms), row["traf_ms"].append(traf_ms), row["lxml_ms"].append(lxml_ms)
        if wrong or misses:
            failures.append((case, f"fields {[(n, got.get(n), case.expected.fields[n]) for n in wrong]}; "
                                   f"paragraph seqs {misses[:5]}"))
    for case, what in failures[:show]:
        print(f"MISS {case.layout} {case.note} variant {case.variant} ({EVAL_VARIANTS[case.variant]}): {what}",
              file=sys.stderr)
    return {layout: dict(values) for layout, values in by_layout.items()} | {"_failures": len(failures)}


def summarise(rows: list[dict]) -> dict[str, float]:
    merged: dict[str, list] = defaultdict(list)
    for row in rows:
        for key, values in row.items():
            merged[key] += values
    return {"pages": len(merged["pages"]), "kb": statistics.fmean(merged["bytes"]) / 1024,
            "fields": sum(merged["field_hits"]) / sum(merged["field_total"]),
            "paragraphs": sum(merged["para_hits"]) / sum(merged["para_total"]),
            "f1": statistics.fmean(merged["f1"]), "f1_min": min(merged["f1"]),
            "traf_f1_printed": statistics.fmean(merged["traf_f1_printed"]),
            "traf_f1_paragraphs": statistics.fmean(merged["traf_f1_paragraphs"]),
            "ms": statistics.fmean(merged["ms"]), "traf_ms": statistics.fmean(merged["traf_ms"]),
            "lxml_ms": statistics.fmean(merged["lxml_ms"])}


def report(results: dict, variant_count: int) -> dict:
    html_layouts = [layout for layout in LAYOUTS if layout != REST_LAYOUT and layout in results]
    lines = [f"{variant_count} variants per note and layout; trafilatura {trafilatura.__version__}",
             "", "| layout | pages | KB/page | fields exact | paragraphs exact | body F1 statenotes (min) "
             "| body F1 trafilatura: printed / paragraphs | ms/page statenotes | trafilatura | lxml.html |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    summaries = {layout: summarise([results[layout]]) for layout in LAYOUTS if layout in results}
    summaries["all HTML pages"] = summarise([results[layout] for layout in html_layouts])
    summaries["all pages"] = summarise([results[layout] for layout in LAYOUTS if layout in results])
    for name, s in summaries.items():
        lines.append(f"| {name} | {s['pages']} | {s['kb']:.1f} | {s['fields']:.2%} | {s['paragraphs']:.2%} "
                     f"| {s['f1']:.4f} ({s['f1_min']:.4f}) | {s['traf_f1_printed']:.4f} / {s['traf_f1_paragraphs']:.4f} "
                     f"| {s['ms']:.2f} | {s['traf_ms']:.2f} | {s['lxml_ms']:.2f} |")
    overall, html = summaries["all pages"], summaries["all HTML pages"]
    ratio = html["ms"] / html["traf_ms"]
    checks = {"fields": overall["fields"] >= TARGETS["fields"], "paragraphs": overall["paragraphs"] >= TARGETS["paragraphs"],
              "f1": overall["f1"] >= TARGETS["f1"], "speed_ratio": ratio <= TARGETS["speed_ratio"]}
    lines += ["", f"statenotes / trafilatura time on HTML pages: {ratio:.2f} (target <= {TARGETS['speed_ratio']})",
              "targets: " + ", ".join(f"{k} {'PASS' if ok else 'FAIL'}" for k, ok in checks.items()),
              f"pages with any miss: {results['_failures']}"]
    print("\n".join(lines))
    return {"summaries": summaries, "speed_ratio": ratio, "targets_met": checks}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", type=int, default=None, help="only the first N variants (each plain and with additions)")
    parser.add_argument("--show", type=int, default=10, help="print up to N misses to stderr")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    cases = build_cases(args.variants)
    outcome = report(evaluate(cases, args.show), len({c.variant for c in cases}))
    if args.json:
        args.json.write_text(json.dumps(outcome, indent=2, default=str), encoding="utf-8")
    return 0 if all(outcome["targets_met"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
