"""The internal routes of the session service: resolve, and the OpenAI-compatible chat endpoints.

The chat endpoints speak OpenAI's wire format (errors included), so any agent written
against the ``openai`` SDK runs on any provider's key without ever holding it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import ConfigDict

from byok.auth import InternalDep, check_internal
from byok.errors import APIError, not_found
from byok.gateway import service
from byok.gateway.service import CallTarget, GatewayError
from byok.projects.models import Project
from byok.resolution import Surface, resolve
from byok.runtime import DbDep, Runtime, RuntimeDep
from byok.sessions.schemas import BindingRequest

router = APIRouter(prefix="/internal/v1", tags=["internal"])


class ResolveIn(BindingRequest):
    model_config = ConfigDict(extra="ignore")

    project_id: str
    surface: Surface = "session"


@router.post("/resolve")
async def resolve_binding(body: ResolveIn, _: InternalDep, runtime: RuntimeDep, db: DbDep) -> dict[str, Any]:
    if await db.get(Project, body.project_id) is None:
        raise not_found("project")
    binding = await resolve(
        db,
        runtime.settings,
        project_id=body.project_id,
        key_slug=body.key_slug,
        provider=body.provider,
        model=body.model,
        agent=body.agent,
        surface=body.surface,
    )
    return {"data": binding.as_dict()}


def _error(exc: GatewayError) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers())


def _sse(chunk: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n"


async def _chat_request(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise GatewayError(
            400, "invalid_json", "the body is not JSON", type="invalid_request_error"
        ) from None
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list) or not body["messages"]:
        raise GatewayError(
            400, "invalid_request", "messages must be a non-empty list", type="invalid_request_error"
        )
    return body


async def _chat(
    runtime: Runtime, request: Request, target_of: Callable[[], Awaitable[CallTarget]]
) -> Response:
    try:
        check_internal(request, runtime)
    except APIError as exc:
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)
    try:
        body = await _chat_request(request)
        target = await target_of()
        if not body.get("stream"):
            return JSONResponse(await service.complete(runtime, target, body))
        chunks = await service.open_stream(runtime, target, body)
    except GatewayError as exc:
        return _error(exc)
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))

    async def events() -> AsyncIterator[bytes]:
        try:
            async for chunk in chunks:
                if chunk.get("usage") and not chunk.get("choices") and not include_usage:
                    continue
                yield _sse(chunk)
        except GatewayError as exc:
            # Headers are gone: the failure travels as an error event, as OpenAI's own stream does.
            yield _sse(exc.body())
        yield b"data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


# The two chat routes are plain Starlette routes: no dependency solving or body validation by
# FastAPI on the hot path (the body is checked by ``_chat_request``, the token by ``check_internal``).


async def session_chat(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    session_id: str = request.path_params["session_id"]
    return await _chat(runtime, request, lambda: service.session_target(runtime, session_id))


async def workflow_chat(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    workflow_id: str = request.path_params["workflow_id"]
    return await _chat(runtime, request, lambda: service.workflow_target(runtime, workflow_id))


router.add_route(router.prefix + "/sessions/{session_id}/chat/completions", session_chat, methods=["POST"])
router.add_route(router.prefix + "/workflows/{workflow_id}/chat/completions", workflow_chat, methods=["POST"])
