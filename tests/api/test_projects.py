"""Projects, project API keys, authentication, health and the provider catalogue route."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from byok.projects.models import Project, ProjectApiKey
from tests.api.helpers import key_body
from tests.conftest import INTERNAL_TOKEN, new_project

pytestmark = pytest.mark.usefixtures("fakes")


async def test_create_project_returns_its_api_key_once(client, admin) -> None:
    response = await client.post("/v1/projects", json={"name": "acme"}, headers=admin)
    assert response.status_code == 201
    data = response.json()["data"]
    assert data["name"] == "acme" and data["keys"] == [] and data["api_key"].startswith("byok_")
    assert len(data["api_key"]) >= 43
    project = await client.get(f"/v1/projects/{data['id']}", headers={"anchor-api-key": data["api_key"]})
    assert project.json()["data"] == {"id": data["id"], "name": "acme", "created_at": data["created_at"]}
    listed = await client.get(f"/v1/projects/{data['id']}/api-keys", headers=admin)
    assert data["api_key"] not in listed.text
    assert set(listed.json()["data"][0]) == {"id", "label", "created_at", "last_used_at"}


async def test_project_api_key_works_as_bearer_too(client, project) -> None:
    response = await client.get(
        f"/v1/projects/{project.id}", headers={"Authorization": f"Bearer {project.api_key}"}
    )
    assert response.status_code == 200


async def test_create_project_with_a_model_verifies_first(client, admin, fakes) -> None:
    body = {"name": "with-key", "model": key_body(fakes, "anthropic", slug="main")}
    response = await client.post("/v1/projects", json=body, headers=admin)
    assert response.status_code == 201, response.text
    keys = response.json()["data"]["keys"]
    assert [k["key_slug"] for k in keys] == ["main"] and keys[0]["status"] == "verified"


async def test_create_project_with_a_failing_model_stores_nothing(client, runtime, admin, fakes) -> None:
    async with runtime.sessions() as db:
        before = await db.scalar(select(func.count()).select_from(Project))
    body = {"name": "doomed", "model": key_body(fakes, "openai", slug="main", behavior="no_quota")}
    response = await client.post("/v1/projects", json=body, headers=admin)
    assert response.status_code == 422
    assert response.json()["error"]["details"]["reason"] == "quota_exceeded"
    async with runtime.sessions() as db:
        assert await db.scalar(select(func.count()).select_from(Project)) == before


async def test_only_the_operator_manages_projects(client, project) -> None:
    for method, url in [
        ("POST", "/v1/projects"),
        ("GET", "/v1/projects"),
        ("DELETE", f"/v1/projects/{project.id}"),
    ]:
        response = await client.request(method, url, json={"name": "x"}, headers=project.headers)
        assert response.status_code == 403, (method, url)
        assert response.json()["error"]["type"] == "forbidden"


@pytest.mark.parametrize(
    "headers",
    [{}, {"anchor-api-key": "byok_wrong"}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}],
)
async def test_missing_or_wrong_credentials_are_401(client, project, headers) -> None:
    response = await client.get(project.keys_url(), headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": 401,
        "type": "unauthorized",
        "message": "missing or invalid credentials",
    }


async def test_internal_token_cannot_use_public_routes(client, project) -> None:
    response = await client.get(project.keys_url(), headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"})
    assert response.status_code == 403


async def test_operator_reaches_any_project_but_404_for_unknown(client, admin, project) -> None:
    assert (await client.get(project.keys_url(), headers=admin)).status_code == 200
    missing = await client.get("/v1/projects/prj_missing/keys", headers=admin)
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "not_found"


async def test_api_keys_create_list_and_revoke(client, project) -> None:
    created = await client.post(
        f"/v1/projects/{project.id}/api-keys", json={"label": "ci"}, headers=project.headers
    )
    assert created.status_code == 201
    second = created.json()["data"]
    assert second["label"] == "ci" and second["api_key"].startswith("byok_")
    listed = (await client.get(f"/v1/projects/{project.id}/api-keys", headers=project.headers)).json()["data"]
    assert len(listed) == 2 and all("api_key" not in k for k in listed)
    first_id = next(k["id"] for k in listed if k["id"] != second["id"])
    revoked = await client.delete(f"/v1/projects/{project.id}/api-keys/{first_id}", headers=project.headers)
    assert revoked.status_code == 200
    assert (await client.get(project.keys_url(), headers=project.headers)).status_code == 401
    new_headers = {"anchor-api-key": second["api_key"]}
    last = await client.delete(f"/v1/projects/{project.id}/api-keys/{second['id']}", headers=new_headers)
    assert last.status_code == 409 and last.json()["error"]["type"] == "conflict"
    missing = await client.delete(f"/v1/projects/{project.id}/api-keys/pak_nope", headers=new_headers)
    assert missing.status_code == 404


async def test_api_key_is_stored_as_a_hash_only(client, runtime, project) -> None:
    async with runtime.sessions() as db:
        hashes = (
            (await db.execute(select(ProjectApiKey.key_hash).where(ProjectApiKey.project_id == project.id)))
            .scalars()
            .all()
        )
    assert project.api_key not in hashes and len(hashes[0]) == 64


async def test_delete_project_removes_its_keys(client, admin, fakes) -> None:
    p = await new_project(client, "short-lived")
    await client.post(p.keys_url(), json=key_body(fakes, "openai", slug="k"), headers=p.headers)
    assert (await client.delete(f"/v1/projects/{p.id}", headers=admin)).json() == {
        "data": {"status": "deleted"}
    }
    assert (await client.get(p.keys_url(), headers=admin)).status_code == 404
    assert (await client.get(p.keys_url(), headers=p.headers)).status_code == 401


async def test_audit_trail_records_key_events_newest_first(client, project, fakes) -> None:
    good = key_body(fakes, "openai", slug="audited")
    await client.post(project.keys_url(), json=good, headers=project.headers)
    await client.put(
        project.keys_url("audited"),
        json=key_body(fakes, "openai", behavior="reject"),
        headers=project.headers,
    )
    await client.put(project.keys_url("audited"), json=key_body(fakes, "openai"), headers=project.headers)
    await client.post(project.keys_url("audited") + "/verify", headers=project.headers)
    await client.delete(project.keys_url("audited"), headers=project.headers)
    page = await client.get(f"/v1/projects/{project.id}/audit?limit=3", headers=project.headers)
    body = page.json()
    assert [e["action"] for e in body["data"]] == ["key.deleted", "key.verified", "key.replaced"]
    assert body["data"][0]["actor"].startswith("api_key:") and body["data"][0]["key_slug"] == "audited"
    rest = await client.get(
        f"/v1/projects/{project.id}/audit?cursor={body['next_cursor']}", headers=project.headers
    )
    assert [e["action"] for e in rest.json()["data"]] == [
        "key.verification_failed",
        "key.created",
        "project.created",
    ]
    assert rest.json()["next_cursor"] is None
    assert good["api_key"] not in page.text + rest.text


async def test_health_and_readiness(client) -> None:
    assert (await client.get("/healthz")).json() == {"data": {"status": "ok"}}
    ready = await client.get("/readyz")
    assert ready.status_code == 200


async def test_request_id_is_echoed_or_minted(client) -> None:
    assert (await client.get("/healthz", headers={"x-request-id": "abc-123"})).headers[
        "x-request-id"
    ] == "abc-123"
    minted = (await client.get("/v1/projects")).headers["x-request-id"]
    assert len(minted) >= 16


async def test_providers_route_lists_the_catalogue(client) -> None:
    data = (await client.get("/v1/providers")).json()["data"]
    assert [p["provider"] for p in data] == ["openai", "anthropic", "google", "vertex", "azure", "custom"]
    vertex = next(p for p in data if p["provider"] == "vertex")
    assert {f["name"] for f in vertex["fields"]} == {"credentials", "location", "default_model"}
    assert "gemini-2.5-flash" in vertex["example_models"]


async def test_unknown_route_uses_the_error_envelope(client) -> None:
    response = await client.get("/v1/nope")
    assert response.status_code == 404 and response.json()["error"]["type"] == "not_found"
