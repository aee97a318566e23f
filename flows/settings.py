"""One Settings object for a run: config/settings.toml, overridden by STATENOTES_* environment
variables, overridden by CLI flags. Built once and passed down; stages get the parts they need.

Settings are never a Prefect flow parameter (Prefect stores and shows parameters): a flow reads them
with `settings_for_run()`, which is the object a caller put in place with `running_with(settings)`
(the CLI, with its flags applied; tests), else the process's own (TOML + environment: a deployment's
run). Credentials for the site (`http_user`, `http_password`, or user:password@ in base_url, moved
out of it here) stay in a SecretStr and reach only the Fetcher's auth."""

from __future__ import annotations

import os
import re
import tomllib
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, PrivateAttr, SecretStr, ValidationError, field_validator, model_validator

from statenotes.extractors.credentials import SiteCredentials, origin, redact, split_userinfo
from statenotes.extractors.errors import ConfigError
from statenotes.extractors.http import WAYBACK_BASE, FetchPolicy

T = TypeVar("T")
ENV_PREFIX = "STATENOTES_"
CRON_FIELDS = 5
CRON_FIELD = re.compile(r"^[0-9A-Za-z*/,?#-]+$")
SETTINGS_ENV = "STATENOTES_SETTINGS"  # path to an alternative settings.toml
LIST_SETTINGS = frozenset({"release_types", "allowed_hosts"})  # comma-separated in the environment
RENAMED = {"lake_replica_uri": "delta_uri"}  # old name -> new; the old one still works, with a warning
# Bounds of the time settings: finite, and short of what would make a run look hung.
HOUR_S, DAY_S = 3600.0, 86400.0


def _seconds(least: float, most: float, strict: bool = False, **kwargs: Any) -> Any:
    """A duration setting: a finite number of seconds within [least, most] (least excluded if strict)."""
    bound = {"gt": least} if strict else {"ge": least}
    return Field(le=most, allow_inf_nan=False, **bound, **kwargs)


class Settings(BaseModel):
    base_url: str = Field(description="The site to crawl, e.g. https://www.state.gov or the mirror.")
    data_dir: Path = Field(description="Raw archive, Parquet lake and DuckDB file live here.")
    user_agent: str
    crawl_delay_s: float = _seconds(0, HOUR_S)
    connect_timeout_s: float = _seconds(0, HOUR_S, strict=True)
    read_timeout_s: float = _seconds(0, HOUR_S, strict=True)
    response_deadline_s: float = _seconds(0, HOUR_S, strict=True, default=60.0,
                                          description="Most seconds one response (headers and body) may take.")
    max_retries: int = Field(ge=0, le=100)
    backoff_factor_s: float = _seconds(0, HOUR_S)
    max_retry_after_s: float = _seconds(0, DAY_S)
    max_page_bytes: int = Field(gt=0)
    allowed_hosts: list[str] = Field(default_factory=list)
    max_redirects: int = Field(default=5, ge=0)
    requests_per_minute: float = Field(default=0.0, ge=0, le=1_000_000, allow_inf_nan=False)
    release_types: list[str]
    lookback_days: int = Field(ge=1)
    overlap_days: int = Field(ge=0)
    batch_size: int = Field(ge=1)
    nightly_cron: str = Field("0 6 * * *", description="When the nightly deployment runs (cron).")
    nightly_timezone: str = Field("UTC", description="Time zone of nightly_cron.")
    http_concurrency: int = Field(2, ge=1, description="Requests in flight at once, per run.")
    task_retries: int = Field(2, ge=0, description="Retries of the network-facing tasks.")
    task_retry_delay_s: float = _seconds(0, DAY_S, default=10.0)
    flow_retries: int = Field(1, ge=0, le=100, description="Retries of a deployment's flow run that failed on the "
                                                           "network (the site unreachable); not of other failures, "
                                                           "nor of CLI runs.")
    flow_retry_delay_s: float = _seconds(0, DAY_S, default=600.0)
    task_runner: Literal["thread", "dask"] = Field("thread", description="Where parsing runs.")
    dask_address: str = Field("", description="A running Dask scheduler; empty: a LocalCluster.")
    report_address: str = Field("127.0.0.1:8765", description="host:port where `statenotes serve` serves the "
                                "HTML report over HTTP; empty: not served.")
    report_base_url: str = Field("", description="URL the report is reachable at, for the runs' artifact links "
                                 "(e.g. http://reports.example:8765/); empty: the address serve serves it on, "
                                 "or no link.")
    alert_webhook_url: SecretStr = Field(SecretStr(""), description="`statenotes serve` makes Prefect POST here when "
                                         "a statenotes run fails (an automation and a webhook block); empty: no "
                                         "alert. A secret: webhook URLs often carry a token.")
    delta_uri: str = Field("", description="Where the lake is published as Delta tables after each run "
                           "(s3://, gs://, az://, file://); empty: not published.")
    wayback_fallback: bool = Field(False, description="Fetch a page the site blocks from the Wayback Machine.")
    wayback_base: str = Field(WAYBACK_BASE, description="The Wayback Machine (or a mirror imitating it).")
    rest_fallback: bool = Field(True, description="Read a page the parsers reject from its REST API item.")
    max_quarantine_share: float = Field(0.5, ge=0, le=1, description=(
        "A crawl that quarantines more than this share of the pages it attempted ends Failed."))
    quarantine_min_pages: int = Field(5, ge=1, description=(
        "Fewer attempted pages than this never fail a run by max_quarantine_share."))
    fallback_jump: float = Field(0.25, ge=0, le=1, description=(
        "A run whose share of notes read by a fallback layout exceeds the previous runs' by this is flagged."))
    http_user: str = Field("", description="User name for the site (HTTP Basic auth, its origin only).")
    http_password: SecretStr = Field(SecretStr(""), description="Its password; never shown or stored.")

    # The origin the credentials belong to: base_url's when the settings were loaded. A run on
    # another site (the backfill form's `site`) does not send them there.
    _credentials_origin: str = PrivateAttr("")

    @model_validator(mode="before")
    @classmethod
    def _credentials_out_of_base_url(cls, values: Any) -> Any:
        """user:password@ in base_url becomes http_user / http_password; the URL keeps no secret."""
        if not isinstance(values, dict) or not isinstance(values.get("base_url"), str):
            return values
        bare, user, password = split_userinfo(values["base_url"].strip())
        if user is None:
            return values
        if values.get("http_user") or _secret(values.get("http_password")):
            raise ValueError("base_url carries a user name and password and http_user/http_password are set "
                             "too: keep one (STATENOTES_HTTP_USER and STATENOTES_HTTP_PASSWORD are preferred)")
        return {**values, "base_url": bare, "http_user": user, "http_password": password or ""}

    def model_post_init(self, context: Any) -> None:
        if self.http_user or self.http_password.get_secret_value():
            self._credentials_origin = origin(self.base_url)

    @field_validator("nightly_cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        # The shape only: importing Prefect to parse it would slow every command down by seconds.
        # `statenotes serve` builds the schedule, and Prefect's parser rejects what is left.
        fields = value.split()
        if len(fields) != CRON_FIELDS or not all(CRON_FIELD.match(f) for f in fields):
            raise ValueError(f"not a cron line (minute hour day month weekday): {value!r}")
        return " ".join(fields)

    @field_validator("nightly_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (an IANA name like 'UTC' or 'America/New_York')") from exc
        return value

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {redact(value)!r}")
        return value.rstrip("/")

    @field_validator("report_base_url")
    @classmethod
    def _http_base(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("http://", "https://")):
            raise ValueError(f"must be an http(s) URL (a file:// link does not open from the Prefect UI), got {value!r}")
        return value.rstrip("/") + "/" if value else ""

    @field_validator("wayback_base")
    @classmethod
    def _no_credentials(cls, value: str) -> str:
        if split_userinfo(value)[1] is not None:
            raise ValueError(f"must not carry a user name or password: {redact(value)!r}")
        return value

    @property
    def db_path(self) -> Path:
        return self.data_dir / "statenotes.duckdb"

    @property
    def lake_dir(self) -> Path:
        return self.data_dir / "lake"

    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "raw"

    def fetch_policy(self) -> FetchPolicy:
        return FetchPolicy(
            user_agent=self.user_agent,
            crawl_delay_s=self.crawl_delay_s,
            connect_timeout_s=self.connect_timeout_s,
            read_timeout_s=self.read_timeout_s,
            response_deadline_s=self.response_deadline_s,
            base_url=self.base_url,
            max_retries=self.max_retries,
            backoff_factor_s=self.backoff_factor_s,
            max_retry_after_s=self.max_retry_after_s,
            max_page_bytes=self.max_page_bytes,
            allowed_hosts=frozenset(self.allowed_hosts),
            max_redirects=self.max_redirects,
            requests_per_minute=self.requests_per_minute,
            wayback_fallback=self.wayback_fallback,
            wayback_base=self.wayback_base.rstrip("/"),
            credentials=self.site_credentials(),
        )

    def site_credentials(self) -> SiteCredentials | None:
        if not self._credentials_origin:
            return None
        return SiteCredentials(self._credentials_origin, self.http_user, self.http_password.get_secret_value())


def _secret(value: Any) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else (value or "")


def _read_toml() -> dict[str, Any]:
    override = os.environ.get(SETTINGS_ENV)
    try:
        if override:
            return tomllib.loads(Path(override).read_text(encoding="utf-8"))
        text = resources.files("statenotes.config").joinpath("settings.toml").read_text("utf-8")
        return tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read settings: {exc}") from exc


def _from_environment(fields: set[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in fields:
        raw = os.environ.get(ENV_PREFIX + name.upper())
        if raw is None:
            continue
        # Lists come as comma-separated text; pydantic casts the rest.
        values[name] = [item.strip() for item in raw.split(",")] if name in LIST_SETTINGS else raw
    return values


def _renamed(values: dict[str, Any]) -> dict[str, Any]:
    for old, new in RENAMED.items():
        if old in values:
            value = values.pop(old)
            if value and not values.get(new):
                warnings.warn(f"setting {old} (STATENOTES_{old.upper()}) is deprecated: use {new} "
                              f"(STATENOTES_{new.upper()}); the target now receives Delta tables",
                              FutureWarning, stacklevel=3)
                values[new] = value
    return values


def load_settings(**overrides: Any) -> Settings:
    """Settings from the TOML file, then the environment, then `overrides` (CLI flags; None = unset)."""
    values = _renamed(_read_toml())
    values.update(_renamed(_from_environment(set(Settings.model_fields) | set(RENAMED))))
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Settings(**values)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" if e["loc"] else e["msg"]
                             for e in exc.errors())
        raise ConfigError(f"invalid settings: {redact(problems)}") from None


_RUN_SETTINGS: ContextVar[Settings | None] = ContextVar("statenotes_run_settings", default=None)


@contextmanager
def running_with(settings: Settings) -> Iterator[Settings]:
    """Flows started inside this block (in this process) use `settings` instead of loading their own."""
    token = _RUN_SETTINGS.set(settings)
    try:
        yield settings
    finally:
        _RUN_SETTINGS.reset(token)


def run_with(settings: Settings, flow: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`flow(*args, **kwargs)` run in this process with `settings` (e.g. flags applied)."""
    with running_with(settings):
        return flow(*args, **kwargs)


def settings_for_run() -> Settings:
    """The settings a flow runs with: those of `running_with`, else the process's (TOML + environment)."""
    return _RUN_SETTINGS.get() or load_settings()
