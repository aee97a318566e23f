"""The crawled site's credentials: sent as HTTP Basic auth to that site's origin only, and never part
of a URL that is requested, stored, logged or shown.

`redact` is the one function that takes credentials out of text: every `scheme://user:pass@` in it
loses its userinfo. Everything that shows or stores a URL (or a message that may hold one) goes
through it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit, urlunsplit

import requests
from requests.auth import AuthBase, HTTPBasicAuth

# scheme://userinfo@ : the userinfo runs up to the last "@" before the host's end (a password may hold
# an unencoded "@"), and never past "/", "?", "#" or whitespace (an "@" there belongs to the path/query).
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#\s]*@")


def redact(text: str) -> str:
    """`text` with the userinfo (user:password@) of every URL in it removed."""
    return _USERINFO.sub(r"\1", str(text))


def origin(url: str) -> str:
    """scheme://host[:port] of `url`, lower-cased, without userinfo and with the default port dropped."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = parts.port
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}" if port in (None, default) else f"{scheme}://{host}:{port}"


def split_userinfo(url: str) -> tuple[str, str | None, str | None]:
    """(url without userinfo, user, password): user and password percent-decoded, None when absent."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None, None
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, has_password, password = userinfo.partition(":")
    bare = urlunsplit((parts.scheme, hostport, parts.path, parts.query, parts.fragment))
    return bare, unquote(user), unquote(password) if has_password else None


@dataclass(frozen=True, slots=True)
class SiteCredentials:
    """A user name and password for one origin (scheme://host[:port]); the password never in a repr."""

    origin: str
    user: str
    password: str = field(repr=False)

    def auth(self) -> OriginAuth:
        return OriginAuth(self)


class OriginAuth(AuthBase):
    """Basic auth added to requests for the credentials' origin only: not to robots.txt or pages of
    other hosts, ports or schemes, nor to the Wayback Machine. (requests itself drops the
    Authorization header when a redirect leaves the host.)"""

    def __init__(self, credentials: SiteCredentials):
        self._credentials = credentials
        self._basic = HTTPBasicAuth(credentials.user, credentials.password)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if origin(request.url or "") == self._credentials.origin:
            return self._basic(request)
        return request

    def __repr__(self) -> str:
        return f"OriginAuth({self._credentials.origin!r}, user={self._credentials.user!r})"
