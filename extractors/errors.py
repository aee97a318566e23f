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


class ArchiveError(StatenotesError):
    """A raw page cannot be read back from the archive; `sha256` names it."""

    def __init__(self, sha256: str, message: str):
        super().__init__(message)
        self.sha256 = sha256


class ArchiveMissingError(ArchiveError):
    """The archive has no file for this sha256."""


class ArchiveDamagedError(ArchiveError):
    """The file is there but unusable: truncated, not gzip, or its content does not hash to its name."""


class ConfigError(StatenotesError):
    """Settings or the gazetteer are invalid."""
