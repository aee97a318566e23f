"""Canonical roles: a person's title as printed ("Secretary", "Under Secretary for Political
Affairs") written in full ("Secretary of State", ...), by the rules of config/roles.toml. Pure:
the rules are data, read once; `canonical_role` applies them."""

from __future__ import annotations

import importlib.resources
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from statenotes.extractors.errors import ConfigError

CONFIG_PACKAGE = "statenotes.config"
CONFIG_FILE = "roles.toml"


@dataclass(frozen=True, slots=True)
class RoleRule:
    pattern: re.Pattern[str]  # matched against the whole role, ignoring case
    replace: str
    iso3: str | None  # the person's country the rule is for; None: any


def read_role_rules(path: Path | None = None) -> tuple[RoleRule, ...]:
    """The rules at `path`, or the ones bundled with statenotes, in order."""
    if path is None:
        raw = importlib.resources.files(CONFIG_PACKAGE).joinpath(CONFIG_FILE).read_bytes()
        where = f"{CONFIG_PACKAGE}/{CONFIG_FILE}"
    else:
        raw, where = Path(path).read_bytes(), str(path)
    try:
        data = tomllib.loads(raw.decode("utf-8"))
        return tuple(RoleRule(re.compile(rule["pattern"], re.IGNORECASE), rule["replace"], rule.get("iso3"))
                     for rule in data.get("rule", []))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, KeyError, TypeError, re.error) as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def canonical_role(role: str | None, iso3: str | None, rules: tuple[RoleRule, ...]) -> str | None:
    """`role` after every rule that applies to it, in order; None stays None."""
    if role is None:
        return None
    text = " ".join(role.split())
    for rule in rules:
        if rule.iso3 is not None and rule.iso3 != iso3:
            continue
        match = rule.pattern.fullmatch(text)
        if match:
            text = match.expand(rule.replace).strip()
    return text
