"""Screenshots of what an operator sees, taken in headless Chromium with Playwright: the backfill
form, a refused (bad-range) run, a completed run's artifacts, and the report its link opens.

Starts everything it needs on 127.0.0.1 (a Prefect server with a temporary PREFECT_HOME, the
mirror, `statenotes serve` with the report server) and stops it all at the end.

    apt-get install -y chromium        # Debian's; never `playwright install`
    uv run --with playwright python bench/screenshots.py --out /tmp/statenotes-screens
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

from statenotes.mirror.server import MirrorServer

BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(what: str, check, timeout_s: float = 180):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            found = check()
        except requests.RequestException:
            found = None
        if found:
            return found
        time.sleep(1)
    raise SystemExit(f"{what}: not within {timeout_s} s")


def start(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=5)


def run_deployment(api: str, deployment_id: str, request: dict) -> dict:
    for _ in range(20):  # a fresh server answers 503 while its own services hold its SQLite file
        created = requests.post(f"{api}/deployments/{deployment_id}/create_flow_run",
                                json={"parameters": {"request": request}}, timeout=10)
        if created.status_code not in (429, 502, 503):
            break
        time.sleep(0.5)
    created.raise_for_status()
    run_id = created.json()["id"]
    return wait_for("flow run", lambda: (r := requests.get(f"{api}/flow_runs/{run_id}", timeout=5).json())
                    and r.get("state") and r["state"]["type"] in FINAL and r)


def shoot(out: Path, ui: str, backfill_id: str, good: dict, bad: dict, report_url: str) -> list[Path]:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    # name, page, a tab to click, text to wait for
    shots = [("1-backfill-form.png", f"{ui}/deployments/deployment/{backfill_id}/run", None, "Site to crawl"),
             ("2-bad-range-run.png", f"{ui}/runs/flow-run/{bad['id']}", None, "Finished in state Failed"),
             ("3-artifacts.png", f"{ui}/runs/flow-run/{good['id']}", "Artifacts", "backfill-run-report"),
             ("4-report.png", report_url, None, None)]
    taken = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        for name, url, tab, expect in shots:
            page.goto(url, wait_until="networkidle", timeout=60_000)
            if tab:
                page.get_by_text(tab, exact=True).first.click()
            if expect:
                try:
                    page.get_by_text(expect).first.wait_for(timeout=30_000)
                except PlaywrightTimeout:
                    print(f"{name}: {expect!r} not shown within 30 s; taken as it is", file=sys.stderr)
            page.wait_for_timeout(1500)  # the UI's last fetches and transitions
            page.screenshot(path=str(out / name), full_page=True)
            taken.append(out / name)
        browser.close()
    return taken


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "statenotes-screens")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    today = datetime.now(UTC).date()
    with tempfile.TemporaryDirectory(prefix="statenotes-screens-") as tmp:
        tmp = Path(tmp)
        port, report_port = free_port(), free_port()
        api, ui = f"http://127.0.0.1:{port}/api", f"http://127.0.0.1:{port}"
        env = {**os.environ, "PREFECT_HOME": str(tmp / "prefect"), "PREFECT_API_URL": api,
               "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "STATENOTES_DATA_DIR": str(tmp / "data"),
               "STATENOTES_CRAWL_DELAY_S": "0", "STATENOTES_REQUESTS_PER_MINUTE": "0",
               "STATENOTES_REPORT_ADDRESS": f"127.0.0.1:{report_port}", "PREFECT_RUNNER_POLL_FREQUENCY": "1"}
        processes = [start([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                           env, tmp / "server.log")]
        try:
            wait_for("prefect server", lambda: requests.get(f"{api}/health", timeout=2).ok)
            with MirrorServer() as site:
                processes.append(start([str(BIN / "statenotes"), "serve"], env, tmp / "serve.log"))
                backfill = wait_for("backfill deployment", lambda: (
                    r := requests.get(f"{api}/deployments/name/backfill/backfill", timeout=5)).ok and r.json())
                good = run_deployment(api, backfill["id"], {"start": "2000-01-01", "end": today.isoformat(),
                                                            "site": "custom", "custom_site_url": site.base_url})
                bad = run_deployment(api, backfill["id"], {"start": "2020-01-01",
                                                           "end": (today + timedelta(days=400)).isoformat()})
                print(f"completed run: {good['state']['type']}; bad range: {bad['state']['type']}: "
                      f"{bad['state']['message']}")
                taken = shoot(out, ui, backfill["id"], good, bad, f"http://127.0.0.1:{report_port}/report.html")
        finally:
            for process in reversed(processes):
                stop(process)
    for path in taken:
        print(path)


if __name__ == "__main__":
    main()
