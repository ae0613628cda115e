"""The internal OpenAI-compatible gateway, driven by the official ``openai`` SDK, for all six providers."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import openai
import pytest

from tests.api.helpers import PROVIDERS, SERVED_MODEL, key_body, secret_of
from tests.conftest import INTERNAL_TOKEN, ProjectHandle

INTERNAL = {"Authorization": f"Bearer {INTERNAL_TOKEN}"}
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather in a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
]


async def api(served: str, method: str, path: str, **kwargs) -> httpx.Response:
    async with httpx.AsyncClient(base_url=served, timeout=30) as http:
        return await http.request(method, path, **kwargs)


async def project_on(served: str, admin: dict[str, str], name: str = "gw") -> ProjectHandle:
    response = await api(served, "POST", "/v1/projects", json={"name": name}, headers=admin)
    data = response.json()["data"]
    return ProjectHandle(data["id"], data["api_key"])


async def session_for(served: str, project: ProjectHandle, fakes, provider: str, **extra) -> tuple[str, dict]:
    body = key_body(
        fakes,
        provider,
        slug=f"{provider}-key",
        **({"default_model": SERVED_MODEL[provider]} if provider in SERVED_MODEL else {}),
    )
    created = await api(served, "POST", project.keys_url(), json=body, headers=project.headers)
    assert created.status_code == 201, created.text
    session = await api(
        served, "POST", "/v1/sessions", json={"key_slug": f"{provider}-key", **extra}, headers=project.headers
    )
    assert session.status_code == 200, session.text
    return session.json()["data"]["id"], body


def sdk(served: str, session_id: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{served}/internal/v1/sessions/{session_id}",
        api_key=INTERNAL_TOKEN,
        max_retries=0,
        timeout=30,
    )


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_openai_sdk_runs_on_every_providers_key(served, admin, fakes, provider: str) -> None:
    project = await project_on(served, admin)
    session_id, body = await session_for(served, project, fakes, provider)
    binding = (await api(served, "GET", f"/v1/sessions/{session_id}", headers=project.headers)).json()[
        "data"
    ]["model"]
    client = sdk(served, session_id)

    fakes.reset_records() if hasattr(fakes, "reset_records") else None
    getattr(fakes, provider).queue_reply(text="Hello from the fake")
    reply = await asyncio.to_thread(
        client.chat.completions.create,
        model="whatever-the-agent-says",
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
    )
    assert reply.choices[0].message.content == "Hello from the fake"
    assert reply.model == binding["model"]
    assert reply.usage is not None and reply.usage.prompt_tokens > 0

    getattr(fakes, provider).queue_reply(tool_calls=[{"name": "get_weather", "arguments": {"city": "Paris"}}])
    tooled = await asyncio.to_thread(
        client.chat.completions.create,
        model="x",
        messages=[{"role": "user", "content": "Weather in Paris?"}],
        tools=TOOLS,
    )
    call = tooled.choices[0].message.tool_calls[0]
    assert tooled.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Paris"}

    getattr(fakes, provider).queue_reply(text="streamed words here")
    stream = await asyncio.to_thread(
        lambda: list(
            client.chat.completions.create(
                model="x",
                messages=[{"role": "user", "content": "stream please"}],
                stream=True,
                stream_options={"include_usage": True},
            )
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "streamed words here"
    assert stream[-1].usage is not None and stream[-1].usage.completion_tokens > 0

    getattr(fakes, provider).queue_reply(tool_calls=[{"name": "get_weather", "arguments": {"city": "Oslo"}}])
    chunks = await asyncio.to_thread(
        lambda: list(
            client.chat.completions.create(
                model="x", messages=[{"role": "user", "content": "Oslo?"}], tools=TOOLS, stream=True
            )
        )
    )
    assert all(c.usage is None for c in chunks)  # not asked for
    arguments = "".join(
        tc.function.arguments or ""
        for c in chunks
        if c.choices
        for tc in (c.choices[0].delta.tool_calls or [])
    )
    assert json.loads(arguments) == {"city": "Oslo"}
    assert secret_of(body) not in json.dumps([c.model_dump() for c in chunks])


async def wait_for_usage(served: str, project: ProjectHandle, predicate, timeout: float = 5.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        data = (await api(served, "GET", f"/v1/projects/{project.id}/usage", headers=project.headers)).json()[
            "data"
        ]
        if predicate(data) or time.monotonic() > deadline:
            return data
        await asyncio.sleep(0.1)


async def test_usage_is_recorded_per_key_and_model(served, admin, fakes) -> None:
    project = await project_on(served, admin)
    session_id, _ = await session_for(served, project, fakes, "anthropic")
    fakes.anthropic.queue_reply(text="one", usage=(100, 5))
    fakes.anthropic.queue_reply(text="two", usage=(50, 3))
    client = sdk(served, session_id)
    for _ in range(2):
        await asyncio.to_thread(
            client.chat.completions.create, model="x", messages=[{"role": "user", "content": "hi"}]
        )
    usage = await wait_for_usage(served, project, lambda d: d["totals"]["requests"] >= 2)
    assert usage["totals"] == {"requests": 2, "errors": 0, "input_tokens": 150, "output_tokens": 8}
    assert usage["by_key"] == [
        {
            "key_slug": "anthropic-key",
            "provider": "anthropic",
            "model": "claude-sonnet-4-6",
            "requests": 2,
            "errors": 0,
            "input_tokens": 150,
            "output_tokens": 8,
        }
    ]
    key = (await api(served, "GET", project.keys_url("anthropic-key"), headers=project.headers)).json()[
        "data"
    ]
    assert key["last_used_at"] is not None
    filtered = (
        await api(served, "GET", f"/v1/projects/{project.id}/usage?key_slug=other", headers=project.headers)
    ).json()
    assert filtered["data"]["totals"]["requests"] == 0
    future = (
        await api(
            served,
            "GET",
            f"/v1/projects/{project.id}/usage?since=2999-01-01T00:00:00",
            headers=project.headers,
        )
    ).json()
    assert future["data"]["totals"]["requests"] == 0


ERRORS = [
    ("reject", 422, "invalid_credentials"),
    ("rate_limited", 429, "rate_limited"),
    ("unavailable", 502, "provider_unavailable"),
    ("no_quota", 422, "quota_exceeded"),
]


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(("behavior", "status", "reason"), ERRORS)
async def test_provider_failures_come_back_in_openais_shape(
    served, admin, fakes, provider, behavior, status, reason
) -> None:
    project = await project_on(served, admin)
    session_id, body = await session_for(served, project, fakes, provider)
    fake = getattr(fakes, provider)
    credential = body["credentials"]["client_email"] if provider == "vertex" else body["api_key"]
    fake.script(credential, behavior)
    response = await api(
        served,
        "POST",
        f"/internal/v1/sessions/{session_id}/chat/completions",
        json={"model": "x", "messages": [{"role": "user", "content": "hi"}]},
        headers=INTERNAL,
    )
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == reason and error["type"] == "provider_error" and error["message"]
    assert secret_of(body) not in response.text
    if reason == "rate_limited":
        assert response.headers["retry-after"] == "7"
    usage = await wait_for_usage(served, project, lambda d: d["totals"]["errors"] >= 1)
    assert usage["totals"]["errors"] >= 1


async def test_transient_failures_are_retried(served, admin, fakes) -> None:
    project = await project_on(served, admin)
    session_id, body = await session_for(served, project, fakes, "openai")
    fakes.openai.script(body["api_key"], "unavailable")
    before = len(fakes.openai.requests)
    response = await api(
        served,
        "POST",
        f"/internal/v1/sessions/{session_id}/chat/completions",
        json={"messages": [{"role": "user", "content": "hi"}]},
        headers=INTERNAL,
    )
    assert response.status_code == 502
    attempts = [r for r in fakes.openai.requests[before:] if r.path.endswith("/chat/completions")]
    assert len(attempts) == 3


async def test_rate_limits_are_not_retried(served, admin, fakes) -> None:
    project = await project_on(served, admin)
    session_id, body = await session_for(served, project, fakes, "openai")
    fakes.openai.script(body["api_key"], "rate_limited")
    before = len(fakes.openai.requests)
    await api(
        served,
        "POST",
        f"/internal/v1/sessions/{session_id}/chat/completions",
        json={"messages": [{"role": "user", "content": "hi"}]},
        headers=INTERNAL,
    )
    assert len([r for r in fakes.openai.requests[before:] if r.path.endswith("/chat/completions")]) == 1


async def test_a_replaced_key_is_used_by_the_very_next_call(served, admin, fakes) -> None:
    project = await project_on(served, admin)
    session_id, body = await session_for(served, project, fakes, "openai")
    client = sdk(served, session_id)
    await asyncio.to_thread(
        client.chat.completions.create, model="x", messages=[{"role": "user", "content": "hi"}]
    )
    replacement = key_body(fakes, "openai")
    assert (
        await api(served, "PUT", project.keys_url("openai-key"), json=replacement, headers=project.headers)
    ).status_code == 200
    fakes.openai.script(body["api_key"], "reject")
    await asyncio.to_thread(
        client.chat.completions.create, model="x", messages=[{"role": "user", "content": "hi"}]
    )
    last = [r for r in fakes.openai.requests if r.path.endswith("/chat/completions")][-1]
    assert last.headers["authorization"] == f"Bearer {replacement['api_key']}"


async def test_a_deleted_key_fails_the_next_call_with_key_not_found(served, admin, fakes) -> None:
    project = await project_on(served, admin)
    session_id, _ = await session_for(served, project, fakes, "google")
    client = sdk(served, session_id)
    await asyncio.to_thread(
        client.chat.completions.create, model="x", messages=[{"role": "user", "content": "hi"}]
    )
    assert (
        await api(served, "DELETE", project.keys_url("google-key"), headers=project.headers)
    ).status_code == 200
    with pytest.raises(openai.NotFoundError) as err:
        await asyncio.to_thread(
            client.chat.completions.create, model="x", messages=[{"role": "user", "content": "hi"}]
        )
    assert err.value.code == "key_not_found"
    assert err.value.body["type"] == "provider_error"


async def test_a_key_replaced_through_another_process_is_dropped_at_once(
    served, client, admin, fakes, database_url
) -> None:
    """The in-process app and the served app are two processes of one deployment."""
    if not database_url.startswith("postgresql"):
        pytest.skip("cross-process invalidation rides on PostgreSQL LISTEN/NOTIFY")
    project = await project_on(served, admin)
    session_id, body = await session_for(served, project, fakes, "openai")
    sdk_client = sdk(served, session_id)
    await asyncio.to_thread(
        sdk_client.chat.completions.create, model="x", messages=[{"role": "user", "content": "hi"}]
    )
    replacement = key_body(fakes, "openai")
    replaced = await client.put(project.keys_url("openai-key"), json=replacement, headers=project.headers)
    assert replaced.status_code == 200
    await asyncio.sleep(0.2)  # the notification's trip
    await asyncio.to_thread(
        sdk_client.chat.completions.create, model="x", messages=[{"role": "user", "content": "hi"}]
    )
    last = [r for r in fakes.openai.requests if r.path.endswith("/chat/completions")][-1]
    assert last.headers["authorization"] == f"Bearer {replacement['api_key']}"


async def test_ended_or_unknown_sessions_are_404(served, admin, fakes) -> None:
    project = await project_on(served, admin)
    session_id, _ = await session_for(served, project, fakes, "openai")
    assert (await api(served, "DELETE", f"/v1/sessions/{session_id}", headers=project.headers)).json() == {
        "data": {"status": "ended"}
    }
    for sid in (session_id, "ses_unknown"):
        response = await api(
            served,
            "POST",
            f"/internal/v1/sessions/{sid}/chat/completions",
            json={"messages": [{"role": "user", "content": "hi"}]},
            headers=INTERNAL,
        )
        assert response.status_code == 404
        assert response.json()["error"]["type"] == "not_found"


async def test_bad_chat_bodies_are_400_in_openais_shape(served, admin, fakes) -> None:
    project = await project_on(served, admin)
    session_id, _ = await session_for(served, project, fakes, "openai")
    for content in (b"not json", b"{}", b'{"messages": []}'):
        response = await api(
            served,
            "POST",
            f"/internal/v1/sessions/{session_id}/chat/completions",
            content=content,
            headers={**INTERNAL, "content-type": "application/json"},
        )
        assert response.status_code == 400
        assert response.json()["error"]["type"] == "invalid_request_error"
