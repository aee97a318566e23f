"""The mirror's request handler, the part that answers faults (see `mirror.faults`) and the
routes that are not the site's own (the Wayback Machine, the hops of a redirect loop).

A mixin of the server's handler: it uses the handler's `_send`, `_reset`, `_validators` and
`server.mirror`; what is sent comes from `mirror.fault_answers`.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from statenotes.mirror import fault_answers as answers
from statenotes.mirror import faults as kinds
from statenotes.mirror import wayback
from statenotes.mirror.bad_pages import render_bot_wall
from statenotes.mirror.faults import FaultPlan
from statenotes.mirror.pages import HTML_WITH_CHARSET, Page

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
