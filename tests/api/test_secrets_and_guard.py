"""Secrets never leave the vault, and user-supplied URLs never reach internal addresses."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text

from byok.app import create_app
from byok.keys.models import ProviderKey
from byok.models import Base
from byok.runtime import Runtime
from tests.api.helpers import key_body
from tests.conftest import ADMIN_TOKEN, make_settings

pytestmark = pytest.mark.usefixtures("fakes")

CANARY = "sk-proj-CANARY" + "x7Qm2Lr9Tz4Wb8Nc3Vd6Kf1Hj5Gp0Sa"


async def database_text(runtime: Runtime) -> str:
    """Every stored value of every table, as text, plus SQLite's raw file bytes."""
    chunks: list[str] = []
    async with runtime.sessions() as db:
        for table in Base.metadata.sorted_tables:
            for row in (await db.execute(select(table))).all():
                chunks.append(repr(tuple(row)))
        if db.bind.dialect.name == "postgresql":
            rows = await db.execute(text("SELECT string_agg(t::text, '|') FROM provider_keys t"))
            chunks.append(str(rows.scalar()))
    url = runtime.settings.resolved_database_url
    if url.startswith("sqlite"):
        path = Path(url.split(":///", 1)[1])
        for candidate in (path, Path(f"{path}-wal")):
            if candidate.exists():
                chunks.append(candidate.read_bytes().decode("latin-1"))
    return "\n".join(chunks)


async def test_canary_secret_never_leaves_the_vault(client, runtime, admin, fakes, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[httpx.Response] = []

    async def call(method: str, url: str, **kwargs) -> httpx.Response:
        response = await client.request(method, url, **kwargs)
        seen.append(response)
        return response

    canary_sa_body = key_body(fakes, "vertex", slug="vx")
    created = await call(
        "POST",
        "/v1/projects",
        json={"name": "canary", "model": key_body(fakes, "openai", slug="main", secret=CANARY)},
        headers=admin,
    )
    assert created.status_code == 201
    project_id, api_key = created.json()["data"]["id"], created.json()["data"]["api_key"]
    headers = {"anchor-api-key": api_key}
    keys = f"/v1/projects/{project_id}/keys"
    fakes.openai.script(CANARY + "-2", "accept")
    assert (
        await call(
            "POST",
            keys,
            json={**key_body(fakes, "openai", slug="second", secret=CANARY + "-2")},
            headers=headers,
        )
    ).status_code == 201
    assert (await call("POST", keys, json=canary_sa_body, headers=headers)).status_code == 201
    await call("GET", keys, headers=headers)
    await call("GET", f"{keys}/main", headers=headers)
    await call("PUT", f"{keys}/main", json=key_body(fakes, "openai", secret=CANARY + "-3"), headers=headers)
    await call("POST", f"{keys}/main/verify", headers=headers)
    fakes.openai.script(CANARY + "-3", "reject")
    failed = await call("POST", f"{keys}/main/verify", headers=headers)
    assert failed.json()["data"]["status"] == "failing"
    rejected = await call(
        "PUT",
        f"{keys}/second",
        json=key_body(fakes, "openai", secret=CANARY + "-4", behavior="reject"),
        headers=headers,
    )
    assert rejected.status_code == 422
    await call("DELETE", f"{keys}/second", headers=headers)
    await call("GET", f"/v1/projects/{project_id}/audit", headers=headers)

    # The fake echoed a masked form of the key in its 401; none of it may come back.
    private_key = canary_sa_body["credentials"]["private_key"]
    pem_body = private_key.split("-----")[2].strip().splitlines()[1]
    for response in seen:
        blob = response.text + repr(response.headers.raw)
        assert "CANARY" not in blob, response.request.url
        assert pem_body not in blob
    logs = caplog.text + repr([r.__dict__ for r in caplog.records])
    assert "CANARY" not in logs and pem_body not in logs
    stored = await database_text(runtime)
    assert "CANARY" not in stored and pem_body not in stored
    assert CANARY[-4:] not in failed.text


@pytest.fixture
async def strict_client(settings, master_key, fake_providers, tmp_path):
    """The service with the private-address guard on (the tests' default allows loopback fakes)."""
    strict = make_settings(
        settings.database_url, tmp_path, master_key, fake_providers.env(), allow_private_networks=False
    )
    runtime = Runtime.build(strict)
    transport = httpx.ASGITransport(app=create_app(runtime=runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://byok.test") as c:
        yield c
    await runtime.aclose()


@pytest.mark.parametrize(
    "base_url",
    [
        "https://127.0.0.1/v1",
        "https://10.0.0.1/v1",
        "https://169.254.169.254/latest",
        "https://[::ffff:127.0.0.1]/v1",
        "https://localhost:9/v1",
        "http://api.example.com/v1",
    ],
)
@pytest.mark.parametrize("provider", ["azure", "custom"])
async def test_internal_base_urls_are_refused_and_nothing_is_stored(
    strict_client, runtime, fakes, provider, base_url
) -> None:
    created = await strict_client.post(
        "/v1/projects", json={"name": "guarded"}, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    project_id = created.json()["data"]["id"]
    body = key_body(fakes, provider, slug="internal", base_url=base_url)
    response = await strict_client.post(
        f"/v1/projects/{project_id}/keys",
        json=body,
        headers={"anchor-api-key": created.json()["data"]["api_key"]},
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["type"] == "verification_failed" and error["details"]["reason"] == "endpoint_not_allowed"
    async with runtime.sessions() as db:
        count = await db.scalar(
            select(func.count()).select_from(ProviderKey).where(ProviderKey.project_id == project_id)
        )
    assert count == 0
    assert not getattr(fakes, provider).requests
