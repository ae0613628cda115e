"""The ``byok`` command on a fresh SQLite deployment."""

from __future__ import annotations

import sqlite3

import pytest
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from byok.cli import app


@pytest.fixture
def env(tmp_path, monkeypatch):
    for name in (
        "BYOK_DATABASE_URL",
        "BYOK_MASTER_KEYS",
        "BYOK_ADMIN_TOKEN",
        "BYOK_INTERNAL_TOKEN",
        "BYOK_ENV",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BYOK_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_generate_key_prints_a_fernet_key(env) -> None:
    result = CliRunner().invoke(app, ["vault", "generate-key"])
    assert result.exit_code == 0
    Fernet(result.stdout.strip().encode())


def test_create_project_then_vault_check_and_rotate(env, monkeypatch) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    created = runner.invoke(app, ["create-project", "acme"])
    assert created.exit_code == 0, created.output
    assert "project_id: prj_" in created.stdout and "api_key:    byok_" in created.stdout
    project_id = created.stdout.split("project_id: ")[1].split()[0]

    clean = runner.invoke(app, ["vault", "check"])
    assert clean.exit_code == 0 and "0 of 0 stored credentials open" in clean.stdout

    db = sqlite3.connect(env / "byok.db")
    db.execute(
        "INSERT INTO provider_keys (id, project_id, key_slug, provider, ciphertext, fingerprint, status, version,"
        " created_at, updated_at) VALUES ('key_x', ?, 'broken', 'openai', 'not-a-token', 'fp_0', 'verified', 1,"
        " '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
        (project_id,),
    )
    db.commit()
    db.close()
    broken = runner.invoke(app, ["vault", "check"])
    assert broken.exit_code == 1
    assert f"cannot open {project_id}/broken" in broken.stdout
    rotate = runner.invoke(app, ["vault", "rotate"])
    assert rotate.exit_code == 1 and "unreadable 1" in rotate.stdout


def test_production_refuses_to_serve_without_its_secrets(env, monkeypatch) -> None:
    monkeypatch.setenv("BYOK_ENV", "production")
    result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code == 2
    assert "BYOK_MASTER_KEYS" in result.output and "BYOK_ADMIN_TOKEN" in result.output
    assert not (env / "master.key").exists()
