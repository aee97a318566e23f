"""`statenotes doctor` against the mirror on 127.0.0.1: as it is (exit 0), behind a bot wall (200
"Technical Difficulties" page, or 403: exit 1, says bot wall), redesigned (exit 2: the generic
fallback reads the note pages), and its verdicts as pure functions."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from statenotes.flows.cli import app
from statenotes.flows.doctor import EXIT_BROKEN, EXIT_CHANGED, EXIT_OK, FAIL, INFO, OK, WARN, Check, verdict
from statenotes.mirror import faults as kinds
from statenotes.mirror.faults import FOREVER, FaultPlan, exactly
from statenotes.mirror.redesign import REDESIGNS
from statenotes.mirror.server import MirrorServer

MAX_REQUESTS = 5  # robots.txt, the listing, one note page, the REST API, the sitemap index


def doctor(site: MirrorServer, monkeypatch) -> tuple[int, str]:
    monkeypatch.setenv("STATENOTES_REQUESTS_PER_MINUTE", "0")
    result = CliRunner().invoke(app, ["doctor", "--site", site.base_url, "--crawl-delay", "0"],
                                terminal_width=200)
    return result.exit_code, result.output


def said(output: str) -> str:
    """The output with rich's line wrapping undone."""
    return " ".join(output.split())


def rows(output: str) -> dict[str, str]:
    """check -> state, from the table's lines."""
    found = {}
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.strip("│ ").split("│")]
        if len(cells) == 3 and cells[1] in (OK, WARN, FAIL, INFO):
            found[cells[0]] = cells[1]
    return found


def test_doctor_on_the_mirror_as_it_is(monkeypatch):
    with MirrorServer() as site:
        code, output = doctor(site, monkeypatch)
        served = site.requests
    assert code == EXIT_OK, output
    assert rows(output) == {"site": INFO, "User-Agent": INFO, "robots.txt": OK, "listing page": OK,
                            "note page": OK, "REST API": OK, "sitemaps": OK, "bot wall": OK}
    assert "layout wordpress" in said(output) and "verdict: the site looks as statenotes expects" in said(output)
    assert len(served) <= MAX_REQUESTS


@pytest.mark.parametrize("kind,reason", [(kinds.BOT_WALL, "bot wall: 'Technical Difficulties' page (HTTP 200)"),
                                         (kinds.FORBIDDEN, "bot wall: HTTP 403")])
def test_doctor_behind_a_bot_wall(monkeypatch, kind, reason):
    with MirrorServer() as site:
        site.faults = FaultPlan.always(kind, times=FOREVER, paths=exactly(site.note_paths))
        code, output = doctor(site, monkeypatch)
        served = site.requests
    assert code == EXIT_BROKEN, output
    assert rows(output)["bot wall"] == FAIL and rows(output)["note page"] == FAIL
    assert "verdict: BLOCKED: the site answers this client with a bot wall" in said(output)
    assert reason in said(output) and "next: do not start a backfill now" in said(output)
    assert len(served) <= MAX_REQUESTS


def test_doctor_on_a_site_that_is_not_there(monkeypatch, routes_site):
    base_url, routes, _ = routes_site  # robots.txt only: every other path is a 404
    monkeypatch.setenv("STATENOTES_REQUESTS_PER_MINUTE", "0")
    result = CliRunner().invoke(app, ["doctor", "--site", base_url, "--crawl-delay", "0"], terminal_width=200)
    assert result.exit_code == EXIT_BROKEN, result.output
    assert rows(result.output)["listing page"] == FAIL
    assert "listing page and note page not readable" in said(result.output) and "check base_url" in said(result.output)


def test_doctor_refuses_a_site_that_is_not_a_url():
    result = CliRunner().invoke(app, ["doctor", "--site", "ftp.state.gov"])
    assert result.exit_code == 1 and "--site must be one of www" in said(result.output)


def checks(**states: str) -> list[Check]:
    return [Check(area.replace("_", " "), state, "") for area, state in states.items()]


def test_the_verdict_is_the_worst_finding():
    assert verdict(checks(robots_txt=OK, bot_wall=OK)).exit_code == EXIT_OK
    assert verdict(checks(robots_txt=OK, sitemaps=WARN)).exit_code == EXIT_CHANGED
    changed = verdict([Check("note page", WARN, "read only by a fallback: layout generic")])
    assert changed.exit_code == EXIT_CHANGED and "note page" in changed.summary
    assert verdict(checks(bot_wall=FAIL, sitemaps=WARN)).summary.startswith("BLOCKED")
    broken = verdict([Check("note page", FAIL, ""), Check("REST API", OK, "")])
    assert broken.exit_code == EXIT_BROKEN and "--discovery rest" in broken.next_step


@pytest.mark.parametrize("redesign", REDESIGNS)
def test_doctor_on_a_redesigned_mirror_says_the_note_pages_changed(monkeypatch, redesign):
    with MirrorServer(redesign=redesign) as site:
        code, output = doctor(site, monkeypatch)
    assert code == EXIT_CHANGED, output
    states = rows(output)
    assert states["note page"] == WARN and states["bot wall"] == OK and states["listing page"] == OK
    assert "read only by a fallback" in said(output) and "generic:" in output
    assert "verdict: the note pages changed: the known layouts no longer read them" in said(output)


def test_doctor_when_robots_txt_is_unavailable(monkeypatch, routes_site):
    base_url, routes, paths = routes_site
    routes["/robots.txt"] = (503, {}, b"busy")  # RFC 9309: the crawler may fetch nothing this run
    monkeypatch.setenv("STATENOTES_REQUESTS_PER_MINUTE", "0")
    monkeypatch.setenv("STATENOTES_BACKOFF_FACTOR_S", "0.01")
    result = CliRunner().invoke(app, ["doctor", "--site", base_url, "--crawl-delay", "0"], terminal_width=200)
    assert result.exit_code == EXIT_BROKEN, result.output
    assert rows(result.output)["robots.txt"] == FAIL and "robots.txt unavailable" in said(result.output)
    assert set(paths) == {"/robots.txt"}  # nothing else was asked
