"""Bad key bodies: clear 422s in the contract's envelope, and nothing stored or called."""

from __future__ import annotations

import pytest

from tests.api.helpers import key_body

pytestmark = pytest.mark.usefixtures("fakes")


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"key_slug": "Bad_Slug"}, "key_slug"),
        ({"key_slug": "-lead"}, "key_slug"),
        ({"key_slug": "trail-"}, "key_slug"),
        ({"key_slug": "x" * 65}, "key_slug"),
        ({"key_slug": ""}, "key_slug"),
        ({"provider": "mistral"}, "provider"),
        ({"base_url": "https://example.com/v1"}, "base_url"),
        ({"location": "us-central1"}, "location"),
        ({"api_version": "2024-10-21"}, "api_version"),
        ({"credentials": {"type": "service_account"}}, "credentials"),
        ({"api_key": None}, "api_key"),
    ],
)
async def test_invalid_openai_key_bodies(client, project, fakes, patch, field) -> None:
    body = {**key_body(fakes, "openai", slug="good-slug"), **patch}
    if body.get("api_key") is None:
        body.pop("api_key", None)
    response = await client.post(project.keys_url(), json=body, headers=project.headers)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request"
    assert any(field in d["loc"] for d in error["details"]), error
    assert "detail" not in response.json()
    assert not fakes.openai.requests


@pytest.mark.parametrize(
    "credentials",
    [
        "not json",
        '["a list"]',
        {"type": "authorized_user", "project_id": "p", "private_key": "k", "client_email": "e"},
        {"type": "service_account", "project_id": "p", "client_email": "e"},
    ],
)
async def test_malformed_vertex_credentials(client, project, fakes, credentials) -> None:
    body = {"key_slug": "vx", "provider": "vertex", "credentials": credentials}
    response = await client.post(project.keys_url(), json=body, headers=project.headers)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["loc"] == ["body", "credentials"]


async def test_vertex_credentials_may_be_a_string(client, project, fakes) -> None:
    import json

    body = key_body(fakes, "vertex", slug="vx-string")
    body["credentials"] = json.dumps(body["credentials"])
    response = await client.post(project.keys_url(), json=body, headers=project.headers)
    assert response.status_code == 201, response.text


async def test_azure_needs_a_base_url(client, project, fakes) -> None:
    body = key_body(fakes, "azure", slug="az")
    del body["base_url"]
    response = await client.post(project.keys_url(), json=body, headers=project.headers)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["loc"] == ["body", "base_url"]


async def test_custom_key_without_api_key_is_allowed(client, project, fakes) -> None:
    fakes.custom.require_key = False
    body = {"key_slug": "local", "provider": "custom", "base_url": fakes.custom_base_url}
    response = await client.post(project.keys_url(), json=body, headers=project.headers)
    assert response.status_code == 201, response.text


async def test_unknown_fields_are_ignored(client, project, fakes) -> None:
    body = {**key_body(fakes, "openai", slug="extra"), "anchor_session_hint": {"x": 1}}
    assert (await client.post(project.keys_url(), json=body, headers=project.headers)).status_code == 201


async def test_validation_errors_never_echo_the_secret(client, project, fakes) -> None:
    body = {**key_body(fakes, "openai", slug="BAD SLUG")}
    response = await client.post(project.keys_url(), json=body, headers=project.headers)
    assert response.status_code == 422
    assert body["api_key"] not in response.text
