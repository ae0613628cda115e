from __future__ import annotations

import logging
import stat

import pytest

from byok.settings import ConfigurationError, Settings, load_secrets


def test_production_refuses_to_start_naming_what_is_missing(tmp_path) -> None:
    settings = Settings(env="production", data_dir=tmp_path, admin_token="x" * 40)
    with pytest.raises(ConfigurationError) as err:
        load_secrets(settings)
    assert "BYOK_MASTER_KEYS" in str(err.value)
    assert "BYOK_INTERNAL_TOKEN" in str(err.value)
    assert "BYOK_ADMIN_TOKEN" not in str(err.value)
    assert not list(tmp_path.iterdir())


def test_development_generates_secrets_once_with_private_files(tmp_path, caplog, capsys) -> None:
    caplog.set_level(logging.WARNING)
    settings = Settings(data_dir=tmp_path)
    first = load_secrets(settings)
    master = tmp_path / "master.key"
    assert stat.S_IMODE(master.stat().st_mode) == 0o600
    assert "development mode: generated" in caplog.text
    assert first.master_keys[0] not in caplog.text
    assert first.admin_token in capsys.readouterr().err
    caplog.clear()
    second = load_secrets(settings)
    assert second == first
    assert "generated" not in caplog.text
    assert first.admin_token not in capsys.readouterr().err


def test_default_database_is_sqlite_under_the_data_dir(tmp_path) -> None:
    url = Settings(data_dir=tmp_path).resolved_database_url
    assert url.startswith("sqlite+aiosqlite:///") and str(tmp_path) in url
