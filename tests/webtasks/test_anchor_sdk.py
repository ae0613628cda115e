"""The official ``anchorbrowser`` SDK against this service: sessions and perform-web-task,
with ``key_slug`` in ``extra_body`` as Anchor clients send it."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tests.api.helpers import key_body
from tests.conftest import ADMIN_TOKEN

anchorbrowser = pytest.importorskip("anchorbrowser")


async def test_anchor_sdk_creates_sessions_and_runs_web_tasks(served, fakes, site) -> None:
    async with httpx.AsyncClient(base_url=served) as http:
        created = await http.post(
            "/v1/projects", json={"name": "anchor"}, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        )
        project = created.json()["data"]
        body = key_body(fakes, "anthropic", slug="claude")
        added = await http.post(
            f"/v1/projects/{project['id']}/keys", json=body, headers={"anchor-api-key": project["api_key"]}
        )
        assert added.status_code == 201
    client = anchorbrowser.Anchorbrowser(api_key=project["api_key"], base_url=served, max_retries=0)
    create = getattr(client.sessions, "create", None) or client.sessions.create_session

    session = await asyncio.to_thread(
        create, browser={"headless": {"active": True}}, extra_body={"key_slug": "claude"}
    )
    session_id = session.data.id
    assert session_id.startswith("ses_")

    fakes.anthropic.queue_reply(tool_calls=[{"name": "open_page", "arguments": {"url": "/about"}}])
    fakes.anthropic.queue_reply(tool_calls=[{"name": "finish", "arguments": {"answer": "Ada Lovelace"}}])
    result = await asyncio.to_thread(
        client.tools.perform_web_task,
        prompt="Who founded Acme?",
        url=site.url("/"),
        session_id=session_id,
        extra_body={"key_slug": "claude"},
    )
    data = result.data if hasattr(result, "data") else result
    assert (
        data.result["output"] == "Ada Lovelace"
        if isinstance(data.result, dict)
        else data.result.output == "Ada Lovelace"
    )

    fakes.anthropic.queue_reply(tool_calls=[{"name": "finish", "arguments": {"answer": "later"}}])
    started = await asyncio.to_thread(
        client.tools.perform_web_task, prompt="Anything", async_=True, extra_body={"key_slug": "claude"}
    )
    workflow_id = (started.data if hasattr(started, "data") else started).workflow_id
    deadline = time.monotonic() + 10
    while True:
        status = await asyncio.to_thread(client.tools.get_perform_web_task_status, workflow_id)
        state = (status.data if hasattr(status, "data") else status).status
        if state != "RUNNING" or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    assert state == "COMPLETED"
    assert body["api_key"] not in str(status.model_dump())
