"""Shared fixtures: a fresh database per run (PostgreSQL when reachable, else SQLite), the fake
providers on loopback, and the service in-process behind an httpx client.

``BYOK_TEST_DB=sqlite`` forces SQLite; ``BYOK_TEST_DB=postgres`` requires PostgreSQL.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from byok.app import create_app
from byok.cli import alembic_config
from byok.runtime import Runtime
from byok.settings import Settings
from tests.fakes.fixtures import fake_providers, fakes  # noqa: F401  (fixtures, registered here)

PG_HOST, PG_PORT = "127.0.0.1", 5432
ADMIN_TOKEN = "test-admin-" + secrets.token_hex(8)
INTERNAL_TOKEN = "test-internal-" + secrets.token_hex(8)


def _postgres_reachable() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=1):
            return True
    except OSError:
        return False


async def _create_pg_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user="postgres", database="postgres")
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _drop_pg_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user="postgres", database="postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    choice = os.environ.get("BYOK_TEST_DB", "auto")
    use_pg = choice == "postgres" or (choice == "auto" and _postgres_reachable())
    if not use_pg:
        yield f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'byok.db'}"
        return
    name = f"byok_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_create_pg_database(name))
    try:
        yield f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        asyncio.run(_drop_pg_database(name))


@pytest.fixture(scope="session")
def migrated(database_url: str) -> str:
    from alembic import command

    command.upgrade(alembic_config(database_url), "head")
    return database_url


@pytest.fixture(scope="session")
def master_key() -> str:
    return Fernet.generate_key().decode()


def make_settings(
    database_url: str, data_dir: Path, master_keys: str, fakes_env: dict[str, str], **overrides: object
) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "data_dir": data_dir,
        "master_keys": master_keys,
        "admin_token": ADMIN_TOKEN,
        "internal_token": INTERNAL_TOKEN,
        "allow_private_networks": True,
        "verify_timeout_s": 2.0,
        "connect_timeout_s": 2.0,
        **{k.removeprefix("BYOK_").lower(): v for k, v in fakes_env.items()},
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def settings(migrated: str, master_key: str, fake_providers, tmp_path_factory) -> Settings:  # noqa: F811
    return make_settings(migrated, tmp_path_factory.mktemp("data"), master_key, fake_providers.env())


@pytest.fixture(scope="session")
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    rt = Runtime.build(settings)
    await rt.start()
    yield rt
    await rt.aclose()


@pytest.fixture(scope="session")
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(runtime=runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://byok.test") as c:
        yield c


@pytest.fixture
def admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@dataclass
class ProjectHandle:
    id: str
    api_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"anchor-api-key": self.api_key}

    def keys_url(self, slug: str | None = None) -> str:
        base = f"/v1/projects/{self.id}/keys"
        return f"{base}/{slug}" if slug else base


async def new_project(client: httpx.AsyncClient, name: str = "acme") -> ProjectHandle:
    response = await client.post(
        "/v1/projects", json={"name": name}, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    return ProjectHandle(id=data["id"], api_key=data["api_key"])


@pytest.fixture
async def project(client: httpx.AsyncClient) -> ProjectHandle:
    return await new_project(client)


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture(autouse=True)
def _quiet_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)


@pytest.fixture(scope="session")
def served(settings: Settings) -> Iterator[str]:
    """The service under uvicorn on loopback, for clients that need a real socket (SDKs, browsers).

    It builds its own runtime in its own thread and event loop, on the same database.
    """
    from tests.fakes.server import serve

    server = serve(create_app(settings), lifespan="on")
    try:
        yield server.url
    finally:
        server.stop()
