"""Serve a JSON Lines corpus with the offline mirror until standard input closes: the end-to-end
benchmark's site, in a process of its own so that rendering pages does not share the pipeline's GIL.

    python bench/serve_corpus.py NOTES.jsonl [--cache-pages N]

Prints the base URL on its first line of standard output once it is serving; on exit, a JSON
line with the number of answers given.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from statenotes.mirror.pages import DEFAULT_CACHE_PAGES
from statenotes.mirror.server import MirrorServer
from statenotes.mirror.sources import NotesFile


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notes", type=Path)
    parser.add_argument("--cache-pages", type=int, default=DEFAULT_CACHE_PAGES)
    args = parser.parse_args(argv)
    source = NotesFile(args.notes)
    try:
        with MirrorServer(source, crawl_delay=0.0, cache_pages=args.cache_pages, log_requests=False) as mirror:
            print(mirror.base_url, flush=True)
            sys.stdin.read()  # the benchmark closes our stdin (or ends) to stop us
            print(json.dumps({"answers": mirror.request_count, "notes": len(source)}), flush=True)
    finally:
        source.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
