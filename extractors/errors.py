"""One error root for statenotes; each stage raises a specific child."""


class StatenotesError(Exception):
    """Root of every error statenotes raises on purpose."""


class FetchError(StatenotesError):
    """A page could not be fetched (after retries), or the answer was unusable."""

    def __init__(self, url: str, reason: str):
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


class ParseError(StatenotesError):
    """A page is not a media note this parser can read; `reason` is one line, for humans."""

    def __init__(self, reason: str, url: str | None = None):
        super().__init__(reason if url is None else f"{url}: {reason}")
        self.url = url
        self.reason = reason


class ConfigError(StatenotesError):
    """Settings or the gazetteer are invalid."""
