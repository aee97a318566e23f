"""The mirror's request handler, the part that answers faults (see `mirror.faults`) and the
routes that are not the site's own (the Wayback Machine, the hops of a redirect loop).

A mixin of the server's handler: it uses the handler's `_send`, `_reset`, `_validators` and
`server.mirror`; what is sent comes from `mirror.fault_answers`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from http import HTTPStatus
from urllib.parse import urlsplit

from statenotes.mirror import fault_answers as answers
from statenotes.mirror import faults as kinds
from statenotes.mirror import wayback
from statenotes.mirror.bad_pages import render_bot_wall
from statenotes.mirror.body import format_long_date
from statenotes.mirror.faults import FaultPlan
from statenotes.mirror.pages import HTML_WITH_CHARSET, ROBOTS_TYPE, Page

REDIRECT = 302


class FaultResponses:
    """Handler methods for the answers a fault plan asks for."""

    def _serve_outside_the_site(self, send_body: bool) -> bool:
        """Answer a Wayback Machine request or a redirect-loop hop (the site's fault plan does not
        count them); False for any other request."""
        mirror = self.server.mirror
        if wayback.is_wayback(self.path):
            page, headers = wayback.answer(self.path, mirror.base_url, lambda path: mirror._lookup(path)[0])
            self._send(page, send_body, headers)
        elif answers.in_loop(self.path):
            self._send(Page(b"", HTML_WITH_CHARSET, REDIRECT), send_body, {"Location": answers.loop_location(self.path)})
        else:
            return False
        return True

    def _refuse(self, fault: str, plan: FaultPlan, send_body: bool) -> bool:
        """Answer a fault that does not need the page asked for; False for the others."""
        if fault == kinds.RESET:
            self.server.mirror._record(self.command, self.path, 0)
            self._reset()
        elif fault in (kinds.RATE_LIMITED, kinds.UNAVAILABLE, kinds.FORBIDDEN):
            status = 403 if fault == kinds.FORBIDDEN else int(fault)
            extra = {"Retry-After": str(plan.retry_after)} if status == 429 else {}
            self._send(Page(answers.FAULT_BODIES[status], HTML_WITH_CHARSET, status), send_body, extra)
        elif fault == kinds.BOT_WALL:
            self._send(Page(render_bot_wall(urlsplit(self.path).path).encode("utf-8"), HTML_WITH_CHARSET), send_body)
        elif fault == kinds.GZIP_BOMB:
            self._send(Page(answers.gzip_bomb(plan.bomb_bytes), answers.GZIP_TYPE), send_body,
                       {"Content-Encoding": "gzip"})
        elif fault == kinds.REDIRECT_LOOP:
            self._send(Page(b"", HTML_WITH_CHARSET, REDIRECT), send_body, {"Location": answers.loop_location(self.path)})
        elif fault == kinds.OFFHOST_REDIRECT:
            self._send(Page(b"", HTML_WITH_CHARSET, REDIRECT), send_body,
                       {"Location": answers.offhost_location(plan.offhost_url, self.path)})
        else:
            return False
        return True

    def _send_robots_fault(self, plan: FaultPlan, send_body: bool) -> None:
        if plan.robots == kinds.ROBOTS_UNAVAILABLE:
            self._send(Page(answers.FAULT_BODIES[503], HTML_WITH_CHARSET, 503), send_body)
        elif plan.robots == kinds.ROBOTS_HUGE:
            self._send(Page(answers.huge_robots(plan.robots_bytes, plan.robots_disallow), ROBOTS_TYPE), send_body)
        else:
            self._send(Page(answers.gzip_bomb(plan.bomb_bytes), ROBOTS_TYPE), send_body, {"Content-Encoding": "gzip"})

    def _listing_loop_page(self, page: Page, path: str) -> Page:
        """A listing page past the last: the last page again, its next link pointing at itself."""
        last = self.server.mirror._pages.past_the_last_listing_page(path)
        if last is None or last[0] is None:
            return page
        return replace(last[0], body=answers.self_linking(last[0].body, self.server.mirror.base_url + path))

    def _with_listing_links(self, page: Page, plan: FaultPlan) -> Page:
        """The first listing page with `plan.listing_links` as more Media Notes, listed today."""
        listed = format_long_date(date.today())
        return replace(page, body=answers.with_listing_links(page.body, plan.listing_links, listed), etag=None,
                       last_modified=None)

    def _send_stalled(self, page: Page, fault: str, plan: FaultPlan, send_body: bool) -> None:
        """A trickle (headers at once, the body a byte at a time) or slow headers (the status line and
        headers a byte at a time, then the body), one byte every `plan.trickle_interval_s`, until the
        client hangs up or the mirror stops."""
        reason = HTTPStatus(page.status).phrase
        head = (f"HTTP/1.1 {page.status} {reason}\r\nContent-Type: {page.content_type}\r\n"
                f"Content-Length: {len(page.body)}\r\nConnection: close\r\n\r\n").encode("latin-1")
        body = page.body if send_body else b""
        self.server.mirror._record(self.command, self.path, page.status)
        self.close_connection = True
        slow, fast = (head, b"") if fault == kinds.SLOW_HEADERS else (b"", head)
        stopping = self.server.mirror._stopping
        try:
            self.wfile.write(fast)
            for i in range(len(slow)):
                if stopping.wait(plan.trickle_interval_s):
                    return
                self.wfile.write(slow[i:i + 1])
            if fault == kinds.SLOW_HEADERS:
                self.wfile.write(body)
                return
            for i in range(len(body)):
                if stopping.wait(plan.trickle_interval_s):
                    return
                self.wfile.write(body[i:i + 1])
        except OSError:
            return  # the client hung up

    def _send_huge(self, page: Page, plan: FaultPlan, send_body: bool) -> None:
        """The page padded past `plan.huge_bytes`: chunked (no Content-Length), or declared."""
        self.send_response(page.status)
        self.send_header("Content-Type", page.content_type)
        if plan.huge_chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(answers.huge_length(page, plan.huge_bytes)))
        self._validators(page)
        self.end_headers()
        self.server.mirror._record(self.command, self.path, page.status)
        if not send_body:
            return
        self.close_connection = True  # a client that stops reading leaves the rest unread
        for chunk in answers.huge_chunks(page, plan.huge_bytes):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if plan.huge_chunked else chunk)
        if plan.huge_chunked:
            self.wfile.write(b"0\r\n\r\n")
