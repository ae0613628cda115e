"""The key routes, for every provider: Verify & Save, its failures, and what is stored."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from byok.keys.models import ProviderKey
from tests.api.helpers import PROVIDERS, SERVED_MODEL, key_body, secret_of
from tests.conftest import new_project

pytestmark = pytest.mark.usefixtures("fakes")


async def count_keys(runtime, project_id: str) -> int:
    async with runtime.sessions() as db:
        return int(
            await db.scalar(
                select(func.count()).select_from(ProviderKey).where(ProviderKey.project_id == project_id)
            )
        )


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_key_lifecycle(client, project, fakes, provider: str) -> None:
    body = key_body(fakes, provider, slug=f"my-{provider}-key")
    created = await client.post(project.keys_url(), json=body, headers=project.headers)
    assert created.status_code == 201, created.text
    view = created.json()["data"]
    assert view["key_slug"] == f"my-{provider}-key"
    assert view["provider"] == provider
    assert view["status"] == "verified"
    assert view["fingerprint"].startswith("fp_")
    assert view["verified_at"] and view["created_at"].endswith("Z")
    assert "api_key" not in view and "credentials" not in view
    if provider == "vertex":
        assert view["account"] == body["credentials"]["client_email"]
        assert view["location"] == "global"
    else:
        assert view["account"] is None

    listed = await client.get(project.keys_url(), headers=project.headers)
    assert [k["key_slug"] for k in listed.json()["data"]] == [f"my-{provider}-key"]
    got = await client.get(project.keys_url(f"my-{provider}-key"), headers=project.headers)
    assert got.json()["data"] == view

    replacement = key_body(fakes, provider)
    replaced = await client.put(
        project.keys_url(f"my-{provider}-key"), json=replacement, headers=project.headers
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["data"]["fingerprint"] != view["fingerprint"]

    verified = await client.post(project.keys_url(f"my-{provider}-key") + "/verify", headers=project.headers)
    assert verified.status_code == 200 and verified.json()["data"]["status"] == "verified"

    deleted = await client.delete(project.keys_url(f"my-{provider}-key"), headers=project.headers)
    assert deleted.json() == {"data": {"status": "deleted"}}
    gone = await client.get(project.keys_url(f"my-{provider}-key"), headers=project.headers)
    assert gone.status_code == 404 and gone.json()["error"]["type"] == "not_found"


FAILURES = [
    ("reject", "invalid_credentials", 422),
    ("unknown_model", "model_not_found", 422),
    ("no_quota", "quota_exceeded", 422),
    ("rate_limited", "rate_limited", 429),
    ("unavailable", "provider_unavailable", 502),
    ("not_json", "invalid_response", 422),
    ("slow", "timeout", 504),
]


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(("behavior", "reason", "status"), FAILURES)
async def test_failed_verification_names_its_reason_and_stores_nothing(
    client, runtime, project, fakes, provider: str, behavior: str, reason: str, status: int
) -> None:
    if provider == "custom" and behavior == "reject":
        pass  # the compatible server answers 401 like OpenAI
    model = SERVED_MODEL.get(provider, None)
    extra = {"default_model": model or "named-model"} if behavior == "unknown_model" or model else {}
    if behavior == "slow":
        getattr(fakes, provider)  # the fake sleeps past the 2 s verification timeout of the tests
    body = key_body(fakes, provider, slug="doomed", behavior=behavior, **extra)
    response = await client.post(project.keys_url(), json=body, headers=project.headers)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["type"] == "verification_failed"
    assert error["code"] == status
    assert error["details"]["reason"] == reason
    assert secret_of(body) not in response.text
    if reason == "rate_limited":
        assert response.headers["retry-after"] == "7"
    if reason in ("timeout",):
        assert error["details"]["provider_status"] is None
    else:
        assert isinstance(error["details"]["provider_status"], int)
    assert await count_keys(runtime, project.id) == 0


async def test_cheapest_model_missing_does_not_fail_the_key(client, project, fakes) -> None:
    fakes.openai.models.discard("gpt-4.1-nano")
    body = key_body(fakes, "openai", slug="no-nano")
    response = await client.post(project.keys_url(), json=body, headers=project.headers)
    assert response.status_code == 201, response.text


async def test_a_named_default_model_that_does_not_exist_fails(client, project, fakes) -> None:
    body = key_body(fakes, "anthropic", slug="bad-model", default_model="claude-nonexistent-9")
    response = await client.post(project.keys_url(), json=body, headers=project.headers)
    assert response.status_code == 422
    assert response.json()["error"]["details"]["reason"] == "model_not_found"


async def test_the_check_generates_one_token_on_the_default_model(client, project, fakes) -> None:
    body = key_body(fakes, "openai", slug="gen", default_model="gpt-4o")
    assert (await client.post(project.keys_url(), json=body, headers=project.headers)).status_code == 201
    generations = [r for r in fakes.openai.requests if r.path.endswith("/chat/completions")]
    assert generations[-1].json["model"] == "gpt-4o"
    assert generations[-1].json["max_completion_tokens"] == 1
    assert generations[-1].headers["authorization"] == f"Bearer {body['api_key']}"


async def test_vertex_never_follows_the_token_uri_of_the_json(client, project, fakes) -> None:
    body = key_body(fakes, "vertex", slug="vx", location="us-central1")
    response = await client.post(project.keys_url(), json=body, headers=project.headers)
    assert response.status_code == 201, response.text
    assert response.json()["data"]["location"] == "us-central1"
    paths = [r.path for r in fakes.vertex.requests]
    assert "/token" in paths
    assert any("/locations/us-central1/" in p for p in paths)


async def test_duplicate_slug_is_a_conflict(client, project, fakes) -> None:
    first = await client.post(
        project.keys_url(), json=key_body(fakes, "openai", slug="dup"), headers=project.headers
    )
    assert first.status_code == 201
    second = await client.post(
        project.keys_url(), json=key_body(fakes, "anthropic", slug="dup"), headers=project.headers
    )
    assert second.status_code == 409 and second.json()["error"]["type"] == "conflict"


async def test_several_keys_for_one_provider_listed_in_creation_order(client, project, fakes) -> None:
    for slug in ("b-key", "a-key", "c-key"):
        response = await client.post(
            project.keys_url(), json=key_body(fakes, "openai", slug=slug), headers=project.headers
        )
        assert response.status_code == 201
    listed = (await client.get(project.keys_url(), headers=project.headers)).json()["data"]
    assert [k["key_slug"] for k in listed] == ["b-key", "a-key", "c-key"]


async def test_twenty_concurrent_creates_of_one_slug_give_one_key(client, runtime, project, fakes) -> None:
    bodies = [key_body(fakes, "openai", slug="race") for _ in range(20)]
    responses = await asyncio.gather(
        *(client.post(project.keys_url(), json=b, headers=project.headers) for b in bodies)
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 1, [r.text for r in responses if r.status_code not in (201, 409)]
    assert statuses.count(409) == 19
    assert await count_keys(runtime, project.id) == 1


async def test_put_that_fails_verification_keeps_the_old_key(client, runtime, project, fakes) -> None:
    good = key_body(fakes, "openai", slug="keep")
    created = (await client.post(project.keys_url(), json=good, headers=project.headers)).json()["data"]
    bad = key_body(fakes, "openai", behavior="reject", default_model="gpt-4o")
    response = await client.put(project.keys_url("keep"), json=bad, headers=project.headers)
    assert response.status_code == 422
    assert response.json()["error"]["details"]["reason"] == "invalid_credentials"
    after = (await client.get(project.keys_url("keep"), headers=project.headers)).json()["data"]
    assert after == created
    async with runtime.sessions() as db:
        row = (await db.execute(select(ProviderKey).where(ProviderKey.project_id == project.id))).scalar_one()
        assert (
            runtime.vault.open(row.ciphertext, project_id=project.id, key_slug="keep")["api_key"]
            == good["api_key"]
        )
    reverified = await client.post(project.keys_url("keep") + "/verify", headers=project.headers)
    assert reverified.json()["data"]["status"] == "verified"


async def test_reverify_flips_to_failing_with_the_reason(client, project, fakes) -> None:
    body = key_body(fakes, "anthropic", slug="flaky")
    await client.post(project.keys_url(), json=body, headers=project.headers)
    fakes.anthropic.script(body["api_key"], "reject")
    response = await client.post(project.keys_url("flaky") + "/verify", headers=project.headers)
    assert response.status_code == 200
    view = response.json()["data"]
    assert view["status"] == "failing"
    assert view["last_error"]["reason"] == "invalid_credentials"
    assert body["api_key"] not in response.text
    fakes.anthropic.script(body["api_key"], "accept")
    healed = (await client.post(project.keys_url("flaky") + "/verify", headers=project.headers)).json()[
        "data"
    ]
    assert healed["status"] == "verified" and "last_error" not in healed


async def test_put_on_a_missing_key_is_404_without_a_provider_call(client, project, fakes) -> None:
    body = key_body(fakes, "openai")
    response = await client.put(project.keys_url("nope"), json=body, headers=project.headers)
    assert response.status_code == 404
    assert not fakes.openai.requests


async def test_verify_and_delete_of_a_missing_key_are_404(client, project) -> None:
    assert (
        await client.post(project.keys_url("nope") + "/verify", headers=project.headers)
    ).status_code == 404
    assert (await client.delete(project.keys_url("nope"), headers=project.headers)).status_code == 404


async def test_another_projects_key_gets_404_on_every_route(client, fakes) -> None:
    a = await new_project(client, "a")
    b = await new_project(client, "b")
    body = key_body(fakes, "openai", slug="secret-of-a")
    assert (await client.post(a.keys_url(), json=body, headers=a.headers)).status_code == 201
    for method, url, payload in [
        ("GET", a.keys_url(), None),
        ("GET", a.keys_url("secret-of-a"), None),
        ("PUT", a.keys_url("secret-of-a"), key_body(fakes, "openai")),
        ("DELETE", a.keys_url("secret-of-a"), None),
        ("POST", a.keys_url("secret-of-a") + "/verify", None),
        ("POST", a.keys_url(), key_body(fakes, "openai", slug="intruder")),
        ("GET", f"/v1/projects/{a.id}", None),
        ("GET", f"/v1/projects/{a.id}/audit", None),
        ("GET", f"/v1/projects/{a.id}/api-keys", None),
    ]:
        response = await client.request(method, url, json=payload, headers=b.headers)
        assert response.status_code == 404, (method, url, response.text)
        assert response.json()["error"]["type"] == "not_found"
    assert (await client.get(a.keys_url("secret-of-a"), headers=a.headers)).status_code == 200
