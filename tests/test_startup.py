"""What a command loads before it does its work: `--help` and the commands that need no flow never
import Prefect or the data libraries (a cron line or a typo costs a fraction of a second). Speed
itself is measured in bench/, not here."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HEAVY = ["prefect", "duckdb", "pyarrow", "httpx", "bs4", "lxml", "requests"]  # typer itself needs pydantic
# Run the CLI in a new process and report, at exit, which of HEAVY it had imported.
REPORT_MODULES = f"""
import atexit, json, sys
atexit.register(lambda: print("MODULES " + json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)),
                              file=sys.stderr))
from statenotes.flows.cli import app
sys.argv[0] = "statenotes"
app()
"""


def statenotes(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", REPORT_MODULES, *args], capture_output=True, text=True,
                          timeout=120, env=os.environ.copy())


def imported(result: subprocess.CompletedProcess) -> list[str]:
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("MODULES ")]
    return json.loads(line.removeprefix("MODULES "))


@pytest.mark.parametrize("args", [["--help"], ["run", "--help"], ["backfill", "--help"], ["sql", "--help"]])
def test_help_imports_neither_prefect_nor_the_data_libraries(args):
    result = statenotes(*args)
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout
    assert imported(result) == []


def test_sql_without_a_warehouse_needs_no_prefect(tmp_path):
    result = statenotes("sql", "select 1", "--data-dir", str(tmp_path))
    assert result.returncode == 1
    assert "prefect" not in imported(result)
