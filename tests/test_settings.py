from pathlib import Path

import pytest

from statenotes.extractors.errors import ConfigError
from statenotes.flows.settings import load_settings


def test_defaults_come_from_the_bundled_toml():
    settings = load_settings()
    assert settings.base_url == "https://www.state.gov"
    assert settings.data_dir == Path("./data")
    assert settings.db_path == Path("data/statenotes.duckdb")
    assert settings.release_types == ["Media Note"]


def test_environment_overrides_toml_and_flags_override_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("STATENOTES_BASE_URL", "http://127.0.0.1:9/")
    monkeypatch.setenv("STATENOTES_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("STATENOTES_CRAWL_DELAY_S", "0.5")
    monkeypatch.setenv("STATENOTES_RELEASE_TYPES", "Media Note, Press Statement")
    settings = load_settings()
    assert settings.base_url == "http://127.0.0.1:9"  # trailing slash dropped
    assert settings.db_path == tmp_path / "statenotes.duckdb"
    assert settings.crawl_delay_s == 0.5
    assert settings.release_types == ["Media Note", "Press Statement"]
    assert load_settings(crawl_delay_s=0.0, base_url=None).crawl_delay_s == 0.0


def test_alternative_settings_file(monkeypatch, tmp_path):
    text = (Path(__file__).parents[1] / "config" / "settings.toml").read_text()
    alt = tmp_path / "settings.toml"
    alt.write_text(text.replace('base_url = "https://www.state.gov"', 'base_url = "https://2017-2021.state.gov"'))
    monkeypatch.setenv("STATENOTES_SETTINGS", str(alt))
    assert load_settings().base_url == "https://2017-2021.state.gov"


@pytest.mark.parametrize("key,value,needle", [
    ("STATENOTES_BASE_URL", "www.state.gov", "base_url"),
    ("STATENOTES_CRAWL_DELAY_S", "-1", "crawl_delay_s"),
    ("STATENOTES_BATCH_SIZE", "many", "batch_size"),
])
def test_bad_settings_say_which_key(monkeypatch, key, value, needle):
    monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError, match=needle):
        load_settings()
