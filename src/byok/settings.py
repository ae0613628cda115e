"""Every ``BYOK_*`` setting in one place.

Development mode fills in the three operator secrets (master keys, admin and internal tokens)
from files it generates under ``BYOK_DATA_DIR``; production refuses to start without them, so a
misconfigured deployment fails loudly at boot rather than minting throwaway keys.
"""

from __future__ import annotations

import logging
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography.fernet import Fernet
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger("byok.settings")


class ConfigurationError(RuntimeError):
    """The process cannot start with these settings; the message names what is missing."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BYOK_", extra="ignore", env_ignore_empty=True)

    env: Literal["development", "production"] = "development"
    data_dir: Path = Path(".byok")
    database_url: str | None = None

    master_keys: SecretStr | None = None
    admin_token: SecretStr | None = None
    internal_token: SecretStr | None = None
    # Keyed hash for key fingerprints; derived from the admin token when unset.
    fingerprint_secret: SecretStr | None = None

    default_provider: str | None = None
    default_model: str | None = None
    default_api_key: SecretStr | None = None
    default_base_url: str | None = None

    openai_base_url: str = "https://api.openai.com/v1"
    anthropic_base_url: str = "https://api.anthropic.com"
    google_base_url: str = "https://generativelanguage.googleapis.com"
    # Unset: https://{location}-aiplatform.googleapis.com (aiplatform.googleapis.com for global).
    vertex_base_url: str | None = None
    google_token_url: str = "https://oauth2.googleapis.com/token"

    allow_private_networks: bool = False
    verify_timeout_s: float = Field(default=10.0, gt=0)
    connect_timeout_s: float = Field(default=5.0, gt=0)
    request_timeout_s: float = Field(default=120.0, gt=0)
    task_timeout_s: float = Field(default=300.0, gt=0)

    # Where sessions' browsers are reached (a browser runtime beside this service); unset: none.
    browser_connect_url: str | None = None
    browser_live_view_url: str | None = None

    host: str = "127.0.0.1"
    port: int = 8080
    log_level: str = "info"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'byok.db').resolve()}"


@dataclass(frozen=True)
class Secrets:
    """The operator secrets the running service needs, in plain form, loaded once."""

    master_keys: tuple[str, ...]
    admin_token: str
    internal_token: str
    fingerprint_secret: bytes


_DEV_FILES = {
    "master_keys": "master.key",
    "admin_token": "admin.token",
    "internal_token": "internal.token",
}


def _read_or_create(path: Path, make: str, announce: list[str]) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(make + "\n")
    announce.append(str(path))
    return make


def load_secrets(settings: Settings) -> Secrets:
    """Return the operator secrets, generating development ones on first use.

    In production every missing secret is named in one error, so an operator fixes them
    in a single pass.
    """
    given = {
        "master_keys": settings.master_keys.get_secret_value() if settings.master_keys else None,
        "admin_token": settings.admin_token.get_secret_value() if settings.admin_token else None,
        "internal_token": settings.internal_token.get_secret_value() if settings.internal_token else None,
    }
    missing = [f"BYOK_{name.upper()}" for name, value in given.items() if not value]
    if missing and settings.env == "production":
        raise ConfigurationError(
            "BYOK_ENV=production refuses to start without "
            + ", ".join(missing)
            + " (development mode generates them; production must set them explicitly)"
        )
    created: list[str] = []
    values: dict[str, str] = {}
    for name, value in given.items():
        if value:
            values[name] = value
            continue
        fresh = Fernet.generate_key().decode() if name == "master_keys" else secrets.token_urlsafe(32)
        values[name] = _read_or_create(settings.data_dir / _DEV_FILES[name], fresh, created)
    if created:
        log.warning(
            "development mode: generated %s (mode 0600); set BYOK_MASTER_KEYS, BYOK_ADMIN_TOKEN and "
            "BYOK_INTERNAL_TOKEN for production",
            ", ".join(created),
        )
        # Printed this once, on the terminal of the person who started the service; the files
        # keep them for later (`cat .byok/admin.token`).
        for name in ("admin_token", "internal_token"):
            if str(settings.data_dir / _DEV_FILES[name]) in created:
                sys.stderr.write(f"byok: development {name.replace('_', ' ')}: {values[name]}\n")
    keys = tuple(k.strip() for k in values["master_keys"].split(",") if k.strip())
    if not keys:
        raise ConfigurationError("BYOK_MASTER_KEYS holds no key")
    if settings.fingerprint_secret:
        fp_secret = settings.fingerprint_secret.get_secret_value().encode()
    else:
        fp_secret = ("byok-fingerprint:" + values["admin_token"]).encode()
    return Secrets(
        master_keys=keys,
        admin_token=values["admin_token"],
        internal_token=values["internal_token"],
        fingerprint_secret=fp_secret,
    )
