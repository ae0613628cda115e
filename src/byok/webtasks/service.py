"""perform-web-task: pick the binding (the three session cases), store the run, and execute
the built-in agent on it — inline with a timeout, or in the background for ``async`` runs.

The agent's model calls go through the gateway's own path (retries, scrubbing, usage per key).
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from byok.catalog import COMPUTER_USE_AGENTS
from byok.db import new_id, utcnow
from byok.errors import APIError, not_found
from byok.gateway import service as gateway
from byok.gateway.service import CallTarget, GatewayError
from byok.keys.models import ProviderKey
from byok.providers.base import REASON_STATUS, Credential, ProviderError
from byok.resolution import Binding, bind_key, check_agent, resolve
from byok.runtime import Runtime
from byok.sessions.models import BrowserSession
from byok.sessions.schemas import SessionCreateIn
from byok.sessions.service import create_session
from byok.webtasks.agent import AgentError, WebAgent
from byok.webtasks.models import WebTaskRun
from byok.webtasks.runs import INTERRUPTED, STALE_AFTER
from byok.webtasks.schemas import PerformWebTaskIn


async def _session_binding(
    db: AsyncSession, project_id: str, session: BrowserSession, body: PerformWebTaskIn
) -> Binding:
    """``sessionId`` without ``key_slug``: the session's binding, a request model overriding it."""
    saved = Binding.from_dict(session.binding)
    if body.model is None and body.agent is None:
        return saved
    agent = body.agent or saved.agent
    if saved.source == "default" or saved.key_slug is None:
        binding = Binding("default", None, saved.provider, body.model or saved.model, agent)
        check_agent(binding.provider, binding.model, agent)
        return binding
    row = (
        await db.execute(
            select(ProviderKey).where(
                ProviderKey.project_id == project_id, ProviderKey.key_slug == saved.key_slug
            )
        )
    ).scalar_one_or_none()
    if row is None:
        raise APIError(404, "key_not_found", f"the session's key {saved.key_slug!r} no longer exists")
    return bind_key(row, provider=body.provider, model=body.model or saved.model, agent=agent)


async def task_binding(
    runtime: Runtime, db: AsyncSession, project_id: str, session_id: str | None, body: PerformWebTaskIn
) -> tuple[Binding, str]:
    """The binding of this task and the session it runs in (created on the fly when none is named)."""

    async def from_request() -> Binding:
        return await resolve(
            db,
            runtime.settings,
            project_id=project_id,
            key_slug=body.key_slug,
            provider=body.provider,
            model=body.model,
            agent=body.agent,
            surface="web_task",
        )

    if session_id is not None:
        session = await db.get(BrowserSession, session_id)
        if session is None or session.project_id != project_id or session.status != "running":
            raise not_found("session")
        if body.key_slug is not None:  # this task only; the session keeps its own binding
            return await from_request(), session.id
        return await _session_binding(db, project_id, session, body), session.id
    binding = await from_request()
    _refuse_browserless_agents(binding)
    session = await create_session(
        runtime, db, project_id, SessionCreateIn(key_slug=body.key_slug), binding=binding
    )
    return binding, session.id


def _refuse_browserless_agents(binding: Binding) -> None:
    if binding.agent in COMPUTER_USE_AGENTS:
        raise APIError(
            400,
            "agent_unavailable",
            f"this deployment has no browser runtime for the {binding.agent} agent; "
            "the built-in agent runs browser-use",
            {"agent": binding.agent},
        )


class _RoutedChat:
    """What the agent sees as its provider: every call goes through the gateway's path."""

    def __init__(self, runtime: Runtime, target: CallTarget) -> None:
        self.runtime = runtime
        self.target = target
        self.name = target.binding.provider

    async def chat(self, credential: Credential, model: str, request: dict[str, Any]) -> dict[str, Any]:
        return await gateway.complete(self.runtime, self.target, request)


def provider_failure(exc: ProviderError | GatewayError, workflow_id: str) -> APIError:
    if isinstance(exc, ProviderError):
        exc = GatewayError.from_provider(exc)
    headers = exc.headers()
    status = REASON_STATUS.get(exc.code, exc.status)
    return APIError(
        status,
        "provider_error",
        exc.message,
        {"reason": exc.code, "workflow_id": workflow_id},
        headers,
    )


def agent_failure(exc: AgentError, workflow_id: str) -> APIError:
    details = {"reason": exc.reason, "workflow_id": workflow_id, "steps": exc.steps, "pages": list(exc.pages)}
    return APIError(exc.status, "task_failed", exc.message, {**exc.details, **details})


async def _finish(runtime: Runtime, run_id: str, **values: Any) -> None:
    async with runtime.sessions() as db:
        await db.execute(
            update(WebTaskRun).where(WebTaskRun.id == run_id).values(finished_at=utcnow(), **values)
        )
        await db.commit()


async def execute(
    runtime: Runtime, run_id: str, project_id: str, binding: Binding, body: PerformWebTaskIn
) -> dict[str, Any]:
    """Run the agent and store the outcome; returns the result or raises the reply's APIError."""
    target = CallTarget(project_id, binding, workflow_id=run_id)
    try:
        credential = await gateway.open_credential(runtime, target)
        agent = WebAgent(
            _RoutedChat(runtime, target),
            credential,
            binding.model,
            runtime.outbound,
            runtime.settings,
        )
        result = await agent.run(
            prompt=body.prompt, url=body.url, max_steps=body.max_steps, output_schema=body.output_schema
        )
    except (ProviderError, GatewayError) as exc:
        error = provider_failure(exc, run_id)
    except AgentError as exc:
        error = agent_failure(exc, run_id)
    except asyncio.CancelledError:
        await asyncio.shield(_finish(runtime, run_id, status="FAILED", error=INTERRUPTED))
        raise
    else:
        payload = result.as_dict()
        stored = {"output": payload["output"], "pages": payload["pages"], "steps": payload["steps"]}
        data = {"result": stored, "model": binding.as_dict(), "usage": payload["usage"]}
        await _finish(runtime, run_id, status="COMPLETED", result=data)
        return data
    await _finish(runtime, run_id, status="FAILED", error=error.message, error_details=error.body()["error"])
    raise error


async def perform(
    runtime: Runtime, db: AsyncSession, project_id: str, session_id: str | None, body: PerformWebTaskIn
) -> dict[str, Any]:
    binding, task_session = await task_binding(runtime, db, project_id, session_id, body)
    _refuse_browserless_agents(binding)
    run = WebTaskRun(
        id=new_id("wf"),
        project_id=project_id,
        session_id=task_session,
        binding=binding.as_dict(),
        status="RUNNING",
        request={
            "prompt": body.prompt,
            "url": body.url,
            "max_steps": body.max_steps,
            "output_schema": body.output_schema,
            "async": body.run_async,
        },
    )
    db.add(run)
    await db.commit()
    if body.run_async:
        runtime.runs.track(run.id, _background(runtime, run.id, project_id, binding, body))
        return {"status": "running", "workflow_id": run.id, "session_id": task_session}
    runtime.runs.adopt(run.id)
    try:
        async with asyncio.timeout(runtime.settings.task_timeout_s):
            data = await execute(runtime, run.id, project_id, binding, body)
    except TimeoutError:
        message = f"the task did not finish within {runtime.settings.task_timeout_s:g} s"
        await _finish(runtime, run.id, status="FAILED", error=message)
        raise APIError(504, "timeout", message, {"workflow_id": run.id}) from None
    finally:
        runtime.runs.release(run.id)
    return {**data, "session_id": task_session, "workflow_id": run.id}


async def _background(
    runtime: Runtime, run_id: str, project_id: str, binding: Binding, body: PerformWebTaskIn
) -> None:
    try:
        await execute(runtime, run_id, project_id, binding, body)
    except APIError:
        pass  # stored on the run; the status route reports it


async def run_status(db: AsyncSession, project_id: str, workflow_id: str) -> WebTaskRun:
    run = await db.get(WebTaskRun, workflow_id)
    if run is None or run.project_id != project_id:
        raise not_found("workflow")
    if run.status == "RUNNING" and run.heartbeat_at < utcnow() - STALE_AFTER:
        await db.execute(
            update(WebTaskRun)
            .where(WebTaskRun.id == run.id, WebTaskRun.status == "RUNNING")
            .values(status="FAILED", error=INTERRUPTED, finished_at=utcnow())
        )
        await db.commit()
        await db.refresh(run)
    return run
