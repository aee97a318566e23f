"""What an operator asks a run for: the `backfill` deployment's form, validated with clear messages.

Prefect renders `BackfillRequest` (types, descriptions, the site and discovery choices) as the form
of the backfill deployment, and validates it again when the run starts; the CLI builds the same
model, so a bad range reads the same wherever it was typed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

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


class Site(str, Enum):
    """Which site a backfill crawls: the configured one, a state.gov site by name, or a URL."""

    CONFIGURED = "configured"  # settings.base_url of the process running the flow
    WWW = "www"
    SITE_2017_2021 = "2017-2021"
    SITE_2021_2025 = "2021-2025"
    CUSTOM = "custom"  # custom_site_url


# A URL with a host and no user:password@ (the form's values are stored and shown by Prefect), or
# nothing: JSON Schema enforces it in the form; an empty string reads better there than a null toggle.
CUSTOM_URL_PATTERN = r"^(https?://[^\s/@]+(/\S*)?)?$"


class BackfillRequest(BaseModel):
    """The backfill form: a window of listed dates, the site, and how its notes are found.

    Field constraints (dates, the choices, the URL's shape) are JSON Schema, so the form itself
    enforces them; what JSON Schema cannot say (start after end, end in the future) is checked when
    the run starts, which then ends Failed with that one reason."""

    model_config = ConfigDict(extra="forbid", use_enum_values=False)

    start: date = Field(title="Start", description="First listed date to load, inclusive.")
    end: date = Field(title="End", description="Last listed date to load, inclusive: today (UTC) at the latest.")
    site: Site = Field(
        Site.CONFIGURED, title="Site to crawl",
        description="The site to crawl: configured (the base_url of the serving process, STATENOTES_BASE_URL), "
                    "www (www.state.gov), 2017-2021 or 2021-2025 (the archived administrations' sites), or "
                    "custom (the URL below).")
    custom_site_url: str = Field(
        "", title="Custom site URL", pattern=CUSTOM_URL_PATTERN,
        description="Only with site = custom: the site's URL, e.g. http://127.0.0.1:8000 (a mirror). "
                    "No user name or password in it: set STATENOTES_HTTP_USER / STATENOTES_HTTP_PASSWORD "
                    "where the runs are served.")
    discovery: DiscoveryMode = Field(
        DiscoveryMode.LISTING, title="Discovery",
        description="How notes are found: listing (the press-release listing pages), rest (the WordPress "
                    "REST API), sitemap (the sitemaps; windows up to today), auto (the cheapest that "
                    "covers the window, falling back when one fails).")

    @model_validator(mode="before")
    @classmethod
    def _site_as_one_value(cls, values: Any) -> Any:
        """`site="http://..."` (the CLI's --site, older callers) means site=custom with that URL;
        an empty site means the configured one."""
        if not isinstance(values, dict):
            return values
        site = values.get("site")
        if site is None or (isinstance(site, str) and not site.strip()):
            return {**values, "site": Site.CONFIGURED}
        if isinstance(site, str) and not isinstance(site, Site) and "://" in site:
            if values.get("custom_site_url"):
                raise ValueError("give the URL once: site = custom and custom_site_url")
            return {**values, "site": Site.CUSTOM, "custom_site_url": site.strip()}
        return values

    @field_validator("site", mode="before")
    @classmethod
    def _known_site(cls, value: Any) -> Any:
        if isinstance(value, str) and not isinstance(value, Site):
            value = value.strip()
            if value not in {s.value for s in Site}:
                raise ValueError(f"site must be one of {', '.join(SITE_URLS)}, configured or a URL starting with "
                                 f"http(s)://, got {redact(value)!r}")
        return value

    @field_validator("custom_site_url", mode="before")
    @classmethod
    def _no_credentials(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if value and not value.startswith(("http://", "https://")):
                raise ValueError(f"custom_site_url must start with http:// or https://, got {redact(value)!r}")
            if split_userinfo(value)[1] is not None:
                # the form's values are stored and shown by Prefect: a password there would leak
                raise ValueError(f"site must not carry a user name or password ({redact(value)}): set "
                                 "STATENOTES_HTTP_USER and STATENOTES_HTTP_PASSWORD where the runs are served")
        return value

    @model_validator(mode="after")
    def _window(self) -> BackfillRequest:
        if self.site is Site.CUSTOM and not self.custom_site_url:
            raise ValueError("site is custom but custom_site_url is empty: give the site's URL")
        if self.site is not Site.CUSTOM and self.custom_site_url:
            raise ValueError(f"custom_site_url is only read with site = custom (site is {self.site.value})")
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
        if self.site is Site.CONFIGURED:
            return None
        if self.site is Site.CUSTOM:
            return self.custom_site_url.rstrip("/")
        return SITE_URLS[self.site.value]

    @property
    def site_label(self) -> str:
        """The site as the runs table records it: its name, or the custom URL (redacted)."""
        return redact(self.base_url) if self.site is Site.CUSTOM else self.site.value


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
