"""What an operator asks a run for: the `backfill` deployment's form, validated with clear messages.

Prefect renders `BackfillRequest` (types, descriptions, the site and discovery choices) as the form
of the backfill deployment, and validates it again when the run starts; the CLI builds the same
model, so a bad range reads the same wherever it was typed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import Enum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from statenotes.extractors.credentials import redact, split_userinfo

# Short names for the state.gov sites an operator can pick instead of typing a URL.
SITE_URLS = {
    "www": "https://www.state.gov",
    "2017-2021": "https://2017-2021.state.gov",
    "2021-2025": "https://2021-2025.state.gov",
}


class DiscoveryMode(str, Enum):
    """How a run finds the notes of its window (see extractors/discover_modes.py)."""

    LISTING = "listing"  # the press-release listing pages, newest first, paged until the window ends
    REST = "rest"  # the WordPress REST API, 100 releases a request
    SITEMAP = "sitemap"  # the sitemaps: releases changed in the window (covers windows up to today)
    AUTO = "auto"  # the cheapest of the three that covers the window, falling back when one fails


def today_utc() -> date:
    return datetime.now(UTC).date()


class BackfillRequest(BaseModel):
    """The backfill form: a window of listed dates, and optionally another site."""

    model_config = ConfigDict(extra="forbid", use_enum_values=False)

    start: date = Field(description="First listed date to load, inclusive (YYYY-MM-DD).")
    end: date = Field(description="Last listed date to load, inclusive (YYYY-MM-DD); today at the latest (UTC).")
    site: str | None = Field(
        None,
        description="Site to crawl: www, 2017-2021, 2021-2025, or a URL (http://...). "
                    "Empty: the configured base_url (STATENOTES_BASE_URL).")
    discovery: DiscoveryMode = Field(
        DiscoveryMode.LISTING,
        description="How notes are found: listing (the press-release listing pages), rest (the WordPress "
                    "REST API), sitemap (the sitemaps; windows up to today), auto (the cheapest that "
                    "covers the window, falling back when one fails).")

    @field_validator("site")
    @classmethod
    def _known_site(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if value.startswith(("http://", "https://")) and split_userinfo(value)[1] is not None:
            # the form's values are stored and shown by Prefect: a password there would leak
            raise ValueError(f"site must not carry a user name or password ({redact(value)}): set "
                             "STATENOTES_HTTP_USER and STATENOTES_HTTP_PASSWORD where the runs are served")
        if value in SITE_URLS or value.startswith(("http://", "https://")):
            return value
        raise ValueError(f"site must be one of {', '.join(SITE_URLS)} or a URL starting with http(s)://, "
                         f"got {redact(value)!r}")

    @model_validator(mode="after")
    def _window(self) -> BackfillRequest:
        if self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}")
        today = today_utc()
        if self.end > today:
            raise ValueError(f"end {self.end} is in the future (today is {today} UTC): "
                             "nothing can be listed after today")
        return self

    @property
    def base_url(self) -> str | None:
        """The site's URL, or None for the configured one."""
        return None if self.site is None else SITE_URLS.get(self.site, self.site).rstrip("/")


def request_problems(error: Exception) -> str:
    """One line from a pydantic ValidationError (or any error), for the CLI and the logs."""
    errors = getattr(error, "errors", None)
    if not callable(errors):
        return redact(str(error))
    parts = []
    for item in errors():
        where = ".".join(str(p) for p in item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return redact("; ".join(parts))
