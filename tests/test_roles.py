"""Canonical roles (config/roles.toml): one form per office, on titles the rules were not written from."""

from __future__ import annotations

import pytest

from statenotes.extractors.errors import ConfigError
from statenotes.transforms.roles import canonical_role, read_role_rules

RULES = read_role_rules()


@pytest.mark.parametrize(("printed", "iso3", "canonical"), [
    # A U.S. official's short title is the Department's office.
    ("Secretary", "USA", "Secretary of State"),
    ("the Secretary", "USA", "Secretary of State"),
    ("then-Deputy Secretary", "USA", "Deputy Secretary of State"),
    ("Under Secretary for Arms Control and International Security", "USA",
     "Under Secretary of State for Arms Control and International Security"),
    ("Principal Deputy Assistant Secretary for Near Eastern Affairs", "USA",
     "Principal Deputy Assistant Secretary of State for Near Eastern Affairs"),
    ("Acting  Assistant Secretary", "USA", "Acting Assistant Secretary of State"),
    ("U.S. Secretary of State", "USA", "Secretary of State"),
    ("Assistant Secretary of State for Oceans and International Environmental and Scientific Affairs", "USA",
     "Assistant Secretary of State for Oceans and International Environmental and Scientific Affairs"),
    # Other departments and other countries' secretaries are left as they are.
    ("Secretary of Energy", "USA", "Secretary of Energy"),
    ("Deputy Secretary of Homeland Security", "USA", "Deputy Secretary of Homeland Security"),
    ("Secretary", "GBR", "Secretary"),
    ("Foreign Secretary", "GBR", "Foreign Secretary"),
    ("Secretary-General", None, "Secretary-General"),
    ("Cabinet Secretary for Foreign Affairs", "KEN", "Cabinet Secretary for Foreign Affairs"),
    # Tidying applies to anyone.
    ("the Minister of Foreign Affairs", "PER", "Minister of Foreign Affairs"),
    (None, "USA", None),
])
def test_a_printed_role_gets_its_canonical_form(printed, iso3, canonical):
    assert canonical_role(printed, iso3, RULES) == canonical


def test_bad_rules_are_a_config_error(tmp_path):
    path = tmp_path / "roles.toml"
    path.write_text("[[rule]]\npattern = '(unclosed'\nreplace = 'x'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="roles.toml"):
        read_role_rules(path)
