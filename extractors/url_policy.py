"""Which URLs the crawler may request: one rule for every URL, whatever brought it (a listing link,
a sitemap, a REST item, a redirect, the Wayback Machine, a quarantined URL of an earlier run).

A URL is admitted when it is http(s), names no user or password, and its origin (scheme, host and
port, the default port made explicit) is on the allow-list: the configured site's origin, each
allowed host on the site's scheme and that scheme's default port (or an origin written out in full,
`http://127.0.0.1:8001`), and the Wayback Machine's origin when the fallback is on. Everything else
came from the web and must not choose where we connect: it is refused before any connection.

A policy built without a site (`UrlPolicy.open`) admits any http(s) URL without credentials (the
operator named it, as in `statenotes extract URL`); its redirects may still only stay on their origin
or go to an allowed host."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from statenotes.extractors.credentials import redact

DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int]  # scheme, host, port


def origin_of(url: str) -> Origin | None:
    """(scheme, host, port) of an http(s) URL, lowercased with the default port filled in; None
    when the URL has no usable origin (another scheme, no host, a port that is not a number)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if scheme not in DEFAULT_PORTS or not host:
        return None
    return scheme, host, port if port is not None else DEFAULT_PORTS[scheme]


def origin_url(origin: Origin) -> str:
    scheme, host, port = origin
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}" + ("" if DEFAULT_PORTS[scheme] == port else f":{port}")


def _has_userinfo(url: str) -> bool:
    try:
        return "@" in urlsplit(url.strip()).netloc
    except ValueError:
        return True


@dataclass(frozen=True, slots=True)
class UrlPolicy:
    origins: frozenset[Origin]
    open: bool = False  # no site configured: any http(s) origin without credentials

    @classmethod
    def for_site(cls, base_url: str, hosts: Iterable[str] = (), extra_origins: Iterable[str] = ()) -> UrlPolicy:
        """The site's origin, each of `hosts` (a bare name: on the site's scheme and default port;
        a URL: its own origin) and each of `extra_origins` (URLs, e.g. the Wayback Machine)."""
        base = origin_of(base_url)
        if base is None:
            raise ValueError(f"not an http(s) site URL: {redact(base_url)}")
        origins = {base}
        for entry in (*hosts, *extra_origins):
            origins.add(_entry_origin(entry, base[0]))
        return cls(frozenset(o for o in origins if o is not None))

    @classmethod
    def open_to_any(cls, hosts: Iterable[str] = ()) -> UrlPolicy:
        """Any http(s) URL; redirects stay on their origin or go to `hosts` (on either scheme)."""
        origins = {o for entry in hosts for scheme in DEFAULT_PORTS if (o := _entry_origin(entry, scheme))}
        return cls(frozenset(origins), open=True)

    def refusal(self, url: str) -> str | None:
        """Why `url` may not be requested (one line, the URL redacted), or None when it may."""
        origin = origin_of(url)
        if origin is None:
            return f"not an http(s) URL with a host: {redact(url)}"
        if _has_userinfo(url):
            return f"URL with credentials refused: {redact(url)}"
        if not self.open and origin not in self.origins:
            return f"URL outside the allowed origins refused: {redact(url)} ({origin_url(origin)} is not allowed)"
        return None

    def redirect_refusal(self, from_url: str, to_url: str) -> str | None:
        """Why a redirect from `from_url` to `to_url` may not be followed, or None: the target must
        be admitted, and stay on the origin it comes from or go to an allowed origin."""
        refused = self.refusal(to_url)
        if refused:
            return f"redirect refused: {refused}"
        target, here = origin_of(to_url), origin_of(from_url)
        if target == here or target in self.origins:
            return None
        if here is not None and target[1] == here[1]:
            return f"redirect to another port or scheme refused: {redact(to_url)}"
        return f"redirect to another host refused: {redact(to_url)}"

    def admits(self, url: str) -> bool:
        return self.refusal(url) is None


def _entry_origin(entry: str, scheme: str) -> Origin | None:
    entry = entry.strip()
    if not entry:
        return None
    if "://" in entry:
        return origin_of(entry)
    return origin_of(f"{scheme}://{entry}")
