"""``POST /v1/tools/perform-web-task`` end to end: the three session cases, the default model,
output schemas, async runs, interruptions, and every resolution error, for several providers."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from byok.app import create_app
from byok.db import utcnow
from byok.runtime import Runtime
from byok.webtasks.models import WebTaskRun
from tests.api.helpers import key_body, secret_of
from tests.conftest import make_settings, new_project

pytestmark = pytest.mark.usefixtures("fakes")
TASK = "/v1/tools/perform-web-task"


def script_browse(fake, answer="Founded in 1999 by Ada Lovelace.") -> None:
    fake.queue_reply(tool_calls=[{"name": "open_page", "arguments": {"url": "/about"}}])
    fake.queue_reply(tool_calls=[{"name": "finish", "arguments": {"answer": answer}}])


async def add_key(client, project, fakes, provider: str, slug: str) -> dict:
    body = key_body(fakes, provider, slug=slug)
    response = await client.post(project.keys_url(), json=body, headers=project.headers)
    assert response.status_code == 201, response.text
    return body


@pytest.mark.parametrize("provider", ["openai", "anthropic", "google"])
async def test_task_without_session_creates_one_with_its_binding(
    client, project, fakes, site, provider
) -> None:
    body = await add_key(client, project, fakes, provider, "mine")
    script_browse(getattr(fakes, provider))
    response = await client.post(
        TASK,
        json={"prompt": "Who founded Acme?", "url": site.url("/"), "key_slug": "mine"},
        headers=project.headers,
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["result"]["output"] == "Founded in 1999 by Ada Lovelace."
    assert data["result"]["pages"] == [site.url("/"), site.url("/about")]
    assert data["model"]["key_slug"] == "mine" and data["model"]["provider"] == provider
    assert data["usage"]["input_tokens"] > 0 and data["usage"]["output_tokens"] > 0
    assert data["workflow_id"].startswith("wf_")
    session = (await client.get(f"/v1/sessions/{data['session_id']}", headers=project.headers)).json()["data"]
    assert session["model"] == data["model"]
    assert secret_of(body) not in response.text


async def test_per_task_key_leaves_the_sessions_binding_unchanged(client, project, fakes, site) -> None:
    await add_key(client, project, fakes, "openai", "session-key")
    await add_key(client, project, fakes, "anthropic", "task-key")
    session = (
        await client.post("/v1/sessions", json={"key_slug": "session-key"}, headers=project.headers)
    ).json()["data"]
    script_browse(fakes.anthropic, "from anthropic")
    response = await client.post(
        f"{TASK}?sessionId={session['id']}",
        json={"prompt": "Who?", "url": site.url("/"), "key_slug": "task-key"},
        headers=project.headers,
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["model"]["key_slug"] == "task-key" and data["result"]["output"] == "from anthropic"
    assert data["session_id"] == session["id"]
    after = (await client.get(f"/v1/sessions/{session['id']}", headers=project.headers)).json()["data"]
    assert after["model"] == session["model"] and after["model"]["key_slug"] == "session-key"


async def test_session_alone_uses_its_binding_and_a_model_override(client, project, fakes, site) -> None:
    await add_key(client, project, fakes, "google", "gem")
    session = (await client.post("/v1/sessions", json={"key_slug": "gem"}, headers=project.headers)).json()[
        "data"
    ]
    script_browse(fakes.google, "gemini says hi")
    response = await client.post(
        f"{TASK}?sessionId={session['id']}",
        json={"prompt": "Who?", "url": site.url("/")},
        headers=project.headers,
    )
    data = response.json()["data"]
    assert data["model"] == session["model"] and data["result"]["output"] == "gemini says hi"
    fakes.google.queue_reply(tool_calls=[{"name": "finish", "arguments": {"answer": "pro"}}])
    override = await client.post(
        f"{TASK}?sessionId={session['id']}",
        json={"prompt": "Who?", "model": "gemini-2.5-pro"},
        headers=project.headers,
    )
    assert override.json()["data"]["model"]["model"] == "gemini-2.5-pro"
    assert "models/gemini-2.5-pro:generateContent" in fakes.google.requests[-1].path
    after = (await client.get(f"/v1/sessions/{session['id']}", headers=project.headers)).json()["data"]
    assert after["model"]["model"] == "gemini-2.5-flash"


@pytest.fixture
async def default_client(settings, master_key, fake_providers, tmp_path):
    """The service with the operator's default model: an OpenAI key of the platform."""
    fake_providers.openai.script("sk-platform-default-key", "accept")
    configured = make_settings(
        settings.database_url,
        tmp_path,
        master_key,
        fake_providers.env(),
        default_provider="openai",
        default_model="gpt-4o-mini",
        default_api_key="sk-platform-default-key",
    )
    runtime = Runtime.build(configured)
    await runtime.start()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(runtime=runtime)), base_url="http://t"
    ) as c:
        yield c
    await runtime.aclose()


async def test_no_key_slug_runs_on_the_operators_default(default_client, fakes, site) -> None:
    project = await new_project(default_client, "default-user")
    script_browse(fakes.openai, "default answer")
    response = await default_client.post(
        TASK, json={"prompt": "Who?", "url": site.url("/")}, headers=project.headers
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["model"] == {
        "source": "default",
        "key_slug": None,
        "provider": "openai",
        "model": "gpt-4o-mini",
        "agent": "browser-use",
    }
    assert fakes.openai.requests[-1].headers["authorization"] == "Bearer sk-platform-default-key"
    assert "sk-platform-default-key" not in response.text
    usage = (await default_client.get(f"/v1/projects/{project.id}/usage", headers=project.headers)).json()[
        "data"
    ]
    for _ in range(50):
        if usage["totals"]["requests"] >= 2:
            break
        await asyncio.sleep(0.05)
        usage = (
            await default_client.get(f"/v1/projects/{project.id}/usage", headers=project.headers)
        ).json()["data"]
    assert usage["by_key"][0]["key_slug"] is None and usage["by_key"][0]["requests"] == 2


async def test_without_key_and_without_a_default_is_503(client, project) -> None:
    response = await client.post(TASK, json={"prompt": "x"}, headers=project.headers)
    assert response.status_code == 503 and response.json()["error"]["type"] == "default_model_unavailable"


SCHEMA = {
    "type": "object",
    "properties": {"founder": {"type": "string"}, "year": {"type": "integer"}},
    "required": ["founder", "year"],
    "additionalProperties": False,
}


async def test_output_schema_success_repair_and_failure(client, project, fakes, site) -> None:
    await add_key(client, project, fakes, "openai", "oa")
    fakes.openai.queue_reply(
        tool_calls=[{"name": "finish", "arguments": {"answer": {"founder": "Ada", "year": 1999}}}]
    )
    ok = await client.post(
        TASK, json={"prompt": "Founder?", "key_slug": "oa", "output_schema": SCHEMA}, headers=project.headers
    )
    assert ok.json()["data"]["result"]["output"] == {"founder": "Ada", "year": 1999}

    fakes.openai.queue_reply(tool_calls=[{"name": "finish", "arguments": {"answer": {"founder": "Ada"}}}])
    fakes.openai.queue_reply(
        tool_calls=[{"name": "finish", "arguments": {"answer": {"founder": "Ada", "year": 1999}}}]
    )
    repaired = await client.post(
        TASK, json={"prompt": "Founder?", "key_slug": "oa", "output_schema": SCHEMA}, headers=project.headers
    )
    assert repaired.status_code == 200 and repaired.json()["data"]["result"]["output"]["year"] == 1999
    repair_request = fakes.openai.requests[-1].json["messages"]
    assert any("year" in str(m.get("content")) for m in repair_request[-2:])

    for _ in range(2):
        fakes.openai.queue_reply(tool_calls=[{"name": "finish", "arguments": {"answer": {"founder": 7}}}])
    failed = await client.post(
        TASK, json={"prompt": "Founder?", "key_slug": "oa", "output_schema": SCHEMA}, headers=project.headers
    )
    assert failed.status_code == 422
    error = failed.json()["error"]
    assert error["type"] == "task_failed" and "output_schema" in error["message"]
    status = (
        await client.get(f"{TASK}/{error['details']['workflow_id']}/status", headers=project.headers)
    ).json()["data"]
    assert status["status"] == "FAILED" and "output_schema" in status["error"]


async def test_an_invalid_output_schema_is_refused(client, project) -> None:
    response = await client.post(
        TASK, json={"prompt": "x", "output_schema": {"type": 12}}, headers=project.headers
    )
    assert response.status_code == 422 and response.json()["error"]["type"] == "invalid_request"


async def test_max_steps_exhausted(client, project, fakes, site) -> None:
    await add_key(client, project, fakes, "anthropic", "an")
    for _ in range(3):
        fakes.anthropic.queue_reply(
            tool_calls=[{"name": "open_page", "arguments": {"url": site.url("/about")}}]
        )
    response = await client.post(
        TASK, json={"prompt": "Loop", "key_slug": "an", "max_steps": 2}, headers=project.headers
    )
    assert response.status_code == 422
    assert "max_steps (2)" in response.json()["error"]["message"]


async def wait_status(client, project, workflow_id: str, timeout: float = 10) -> dict:
    for _ in range(int(timeout / 0.05)):
        data = (await client.get(f"{TASK}/{workflow_id}/status", headers=project.headers)).json()["data"]
        if data["status"] != "RUNNING":
            return data
        await asyncio.sleep(0.05)
    raise AssertionError("still running")


async def test_async_run_to_completed_and_to_failed(client, project, fakes, site) -> None:
    await add_key(client, project, fakes, "openai", "oa")
    script_browse(fakes.openai, "async answer")
    started = await client.post(
        TASK,
        json={"prompt": "Who?", "url": site.url("/"), "key_slug": "oa", "async": True},
        headers=project.headers,
    )
    assert started.status_code == 200
    assert started.json()["data"]["status"] == "running"
    done = await wait_status(client, project, started.json()["data"]["workflow_id"])
    assert done["status"] == "COMPLETED" and done["result"]["output"] == "async answer"
    assert done["model"]["key_slug"] == "oa" and done["usage"]["output_tokens"] > 0

    failing = await client.post(
        TASK,
        json={"prompt": "Who?", "url": "http://127.0.0.1:9/", "key_slug": "oa", "async": True},
        headers=project.headers,
    )
    failed = await wait_status(client, project, failing.json()["data"]["workflow_id"])
    assert failed["status"] == "FAILED" and "cannot be opened" in failed["error"]


async def test_an_interrupted_run_is_failed_at_the_next_start(client, runtime, project, settings) -> None:
    async with runtime.sessions() as db:
        stale = WebTaskRun(
            id="wf_interrupted" + project.id[-6:],
            project_id=project.id,
            binding={
                "source": "default",
                "key_slug": None,
                "provider": "openai",
                "model": "m",
                "agent": "browser-use",
            },
            status="RUNNING",
            request={"prompt": "x"},
            heartbeat_at=utcnow() - timedelta(minutes=5),
        )
        db.add(stale)
        await db.commit()
    restarted = Runtime.build(settings)
    await restarted.start()  # a new process starting: its sweep finds the orphan
    await restarted.aclose()
    async with runtime.sessions() as db:
        row = (await db.execute(select(WebTaskRun).where(WebTaskRun.id == stale.id))).scalar_one()
    assert row.status == "FAILED" and "interrupted" in row.error
    status = (await client.get(f"{TASK}/{stale.id}/status", headers=project.headers)).json()["data"]
    assert status["status"] == "FAILED"


@pytest.mark.parametrize(
    ("body", "status", "type_"),
    [
        ({"key_slug": "an", "provider": "openai"}, 400, "provider_mismatch"),
        ({"key_slug": "missing"}, 404, "key_not_found"),
        (
            {"key_slug": "an", "agent": "anthropic-cua", "model": "claude-3-haiku-20240307"},
            400,
            "model_not_capable",
        ),
        ({"key_slug": "an", "agent": "openai-cua"}, 400, "provider_not_supported"),
        ({"key_slug": "an", "agent": "anthropic-cua"}, 400, "agent_unavailable"),
    ],
)
async def test_resolution_errors(client, project, fakes, body, status, type_) -> None:
    await add_key(client, project, fakes, "anthropic", "an")
    response = await client.post(TASK, json={"prompt": "x", **body}, headers=project.headers)
    assert response.status_code == status, response.text
    assert response.json()["error"]["type"] == type_


async def test_provider_failures_are_provider_errors(client, project, fakes, site) -> None:
    body = await add_key(client, project, fakes, "openai", "oa")
    fakes.openai.script(body["api_key"], "rate_limited")
    response = await client.post(TASK, json={"prompt": "x", "key_slug": "oa"}, headers=project.headers)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    error = response.json()["error"]
    assert error["type"] == "provider_error" and error["details"]["reason"] == "rate_limited"
    assert body["api_key"] not in response.text


async def test_a_refused_page_is_a_clear_4xx(client, project, fakes) -> None:
    await add_key(client, project, fakes, "openai", "oa")
    response = await client.post(
        TASK, json={"prompt": "x", "key_slug": "oa", "url": "file:///etc/passwd"}, headers=project.headers
    )
    assert 400 <= response.status_code < 500
    assert response.json()["error"]["type"] == "task_failed"


async def test_usage_rows_are_written_for_the_tasks_key(client, runtime, project, fakes, site) -> None:
    await add_key(client, project, fakes, "anthropic", "an")
    script_browse(fakes.anthropic)
    await client.post(
        TASK, json={"prompt": "Who?", "url": site.url("/"), "key_slug": "an"}, headers=project.headers
    )
    await runtime.usage.flush()
    usage = (
        await client.get(f"/v1/projects/{project.id}/usage?key_slug=an", headers=project.headers)
    ).json()["data"]
    assert usage["by_key"][0]["key_slug"] == "an" and usage["by_key"][0]["requests"] == 2


async def test_ended_or_foreign_sessions_are_404(client, project, fakes) -> None:
    await add_key(client, project, fakes, "openai", "oa")
    session = (await client.post("/v1/sessions", json={"key_slug": "oa"}, headers=project.headers)).json()[
        "data"
    ]
    other = await new_project(client, "other")
    foreign = await client.post(
        f"{TASK}?sessionId={session['id']}", json={"prompt": "x"}, headers=other.headers
    )
    assert foreign.status_code == 404
    await client.delete(f"/v1/sessions/{session['id']}", headers=project.headers)
    ended = await client.post(
        f"{TASK}?sessionId={session['id']}", json={"prompt": "x"}, headers=project.headers
    )
    assert ended.status_code == 404
    assert (await client.get(f"{TASK}/wf_nope/status", headers=project.headers)).status_code == 404
