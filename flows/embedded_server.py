"""The embedded Prefect server dies with the command that started it.

Without PREFECT_API_URL, Prefect 3 starts a temporary API server at the first client call
(`prefect.server.api.server.SubprocessASGIServer`: `python -m uvicorn ...` as a child process) and
stops it from an `atexit` hook. A process killed by SIGKILL (or SIGTERM, which skips atexit) never
runs that hook, and the server (about 220 MB) lives on. So the CLI starts the server itself (Prefect
reuses that instance) and, beside it, a tiny watchdog process holding the read end of a pipe whose
write end only the CLI has. When the CLI dies, however it dies, the kernel closes the write end; the
watchdog reads EOF, sends the server SIGTERM and, after `STOP_GRACE_S`, SIGKILL. A pidfd names the
server, so a recycled pid is never signalled. Bound: the server is gone within STOP_GRACE_S (plus
its own shutdown) of the CLI's death."""

from __future__ import annotations

import subprocess
import sys

STOP_GRACE_S = 5.0

# Standard library only, run with -I: the watchdog costs a bare interpreter (a few MB).
WATCHDOG = f"""
import os, select, signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the CLI, which stops the server itself
pid = int(sys.argv[1])
try:
    pidfd = os.pidfd_open(pid)
except ProcessLookupError:
    sys.exit(0)
sys.stdin.buffer.read()  # returns at EOF: the CLI has exited or was killed
def send(sig):
    try:
        signal.pidfd_send_signal(pidfd, sig)
    except ProcessLookupError:
        sys.exit(0)
send(signal.SIGTERM)
if not select.select([pidfd], [], [], {STOP_GRACE_S})[0]:  # readable once the process has exited
    send(signal.SIGKILL)
"""

_watchdogs: list[subprocess.Popen] = []  # kept referenced: their pipes must stay open while we live


def bind_embedded_server() -> int | None:
    """Start Prefect's embedded server now, watched; returns its pid (None: a server is configured
    at PREFECT_API_URL, or the server was already started by someone else in this process)."""
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL

    if PREFECT_API_URL.value():
        return None
    server = SubprocessASGIServer()  # the instance Prefect's clients use (one per port; None: any)
    if server.running:
        return None
    server.start()
    pid = server.server_process.pid
    _watchdogs.append(subprocess.Popen(
        [sys.executable, "-I", "-c", WATCHDOG, str(pid)], stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return pid
