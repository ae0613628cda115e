"""``create_app``: wiring only (routers, middleware, error handlers, lifespan)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from byok import __version__
from byok.audit.routes import router as audit_router
from byok.dashboard import mount_dashboard
from byok.errors import install_error_handlers
from byok.gateway.routes import router as internal_router
from byok.keys.routes import router as keys_router
from byok.projects.routes import router as projects_router
from byok.providers.routes import router as providers_router
from byok.runtime import Runtime
from byok.sessions.routes import router as sessions_router
from byok.settings import Settings
from byok.usage.routes import router as usage_router
from byok.webtasks.routes import router as webtasks_router

log = logging.getLogger("byok")


class RequestIdMiddleware:
    """Echo the caller's ``x-request-id`` or mint one, on every response (errors included)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                if 0 < len(candidate) <= 200 and candidate.isprintable():
                    request_id = candidate
                break
        if request_id is None:
            request_id = secrets.token_hex(12)
            scope["headers"] = [*scope["headers"], (b"x-request-id", request_id.encode())]
        encoded = request_id.encode("latin-1")

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-request-id", encoded)]
            await send(message)

        await self.app(scope, receive, send_with_id)


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    settings = settings or (runtime.settings if runtime else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = runtime is None
        app.state.runtime = runtime or Runtime.build(settings)
        if own:
            await app.state.runtime.start()
        try:
            yield
        finally:
            if own:
                await app.state.runtime.aclose()

    app = FastAPI(title="byok", version=__version__, lifespan=lifespan)
    if runtime is not None:
        app.state.runtime = runtime
    install_error_handlers(app)
    app.add_middleware(RequestIdMiddleware)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, Any]:
        return {"data": {"status": "ok"}}

    @app.get("/readyz", tags=["health"], response_model=None)
    async def readyz() -> dict[str, Any] | JSONResponse:
        problems = []
        rt: Runtime | None = getattr(app.state, "runtime", None)
        if rt is None:
            problems.append("the service is starting")
        else:
            try:
                async with rt.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
            except Exception:
                problems.append("the database does not answer")
        if problems:
            body = {"error": {"code": 503, "type": "not_ready", "message": "; ".join(problems)}}
            return JSONResponse(body, status_code=503)
        return {"data": {"status": "ready"}}

    # The gateway's routes first: the hot path matches on its first try.
    for router in (
        internal_router,
        projects_router,
        keys_router,
        audit_router,
        usage_router,
        providers_router,
        sessions_router,
        webtasks_router,
    ):
        app.include_router(router)
    mount_dashboard(app)
    return app
