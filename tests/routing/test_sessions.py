"""The sessions routes: the stored binding, tenancy, ending a session."""

from __future__ import annotations

import pytest

from tests.api.helpers import key_body
from tests.conftest import new_project

pytestmark = pytest.mark.usefixtures("fakes")


async def test_session_stores_its_binding(client, project, fakes) -> None:
    await client.post(project.keys_url(), json=key_body(fakes, "openai", slug="oa"), headers=project.headers)
    created = await client.post(
        "/v1/sessions",
        json={
            "key_slug": "oa",
            "model": "gpt-5.4",
            "agent": "openai-cua",
            "session": {"timeout": 5},
            "browser": {"headless": True},
        },
        headers=project.headers,
    )
    assert created.status_code == 200, created.text
    data = created.json()["data"]
    assert set(data) == {"id", "cdp_url", "live_view_url", "model"}
    assert data["model"] == {
        "source": "byok",
        "key_slug": "oa",
        "provider": "openai",
        "model": "gpt-5.4",
        "agent": "openai-cua",
    }
    got = (await client.get(f"/v1/sessions/{data['id']}", headers=project.headers)).json()["data"]
    assert got["status"] == "running" and got["model"] == data["model"]
    assert got["session"] == {"timeout": 5} and got["browser"] == {"headless": True}
    listed = (await client.get("/v1/sessions", headers=project.headers)).json()["data"]
    assert [s["session_id"] for s in listed] == [data["id"]]
    ended = await client.delete(f"/v1/sessions/{data['id']}", headers=project.headers)
    assert ended.json() == {"data": {"status": "ended"}}
    assert (await client.get(f"/v1/sessions/{data['id']}", headers=project.headers)).json()["data"][
        "status"
    ] == "ended"


@pytest.mark.parametrize(
    ("body", "status", "type_"),
    [
        ({"key_slug": "missing"}, 404, "key_not_found"),
        ({"key_slug": "an", "provider": "openai"}, 400, "provider_mismatch"),
        ({"key_slug": "an", "provider": "gemini"}, 400, "provider_mismatch"),
        ({"key_slug": "an", "agent": "openai-cua"}, 400, "provider_not_supported"),
        ({"key_slug": "an", "agent": "anthropic-cua", "model": "claude-3-5-haiku"}, 400, "model_not_capable"),
        ({}, 503, "default_model_unavailable"),
        ({"key_slug": "Bad Slug"}, 422, "invalid_request"),
    ],
)
async def test_session_resolution_errors(client, project, fakes, body, status, type_) -> None:
    await client.post(
        project.keys_url(), json=key_body(fakes, "anthropic", slug="an"), headers=project.headers
    )
    response = await client.post("/v1/sessions", json=body, headers=project.headers)
    assert response.status_code == status, response.text
    assert response.json()["error"]["type"] == type_


async def test_another_projects_session_is_404(client, project, fakes) -> None:
    await client.post(project.keys_url(), json=key_body(fakes, "openai", slug="oa"), headers=project.headers)
    session_id = (await client.post("/v1/sessions", json={"key_slug": "oa"}, headers=project.headers)).json()[
        "data"
    ]["id"]
    other = await new_project(client, "other")
    assert (await client.get(f"/v1/sessions/{session_id}", headers=other.headers)).status_code == 404
    assert (await client.delete(f"/v1/sessions/{session_id}", headers=other.headers)).status_code == 404
    assert (await client.get("/v1/sessions", headers=other.headers)).json()["data"] == []


async def test_sessions_need_a_project_key(client, admin) -> None:
    response = await client.post("/v1/sessions", json={}, headers=admin)
    assert response.status_code == 403
