"""Shared machinery for the fake providers: scripting, recording, queued replies and SSE.

Each fake is one FastAPI app that answers exactly like its real provider (shapes from
/work/shared/PROVIDERS.md, checked against the official SDKs). A test scripts a credential with a
behaviour, optionally queues the next generation's reply, drives the service, then inspects
``requests`` (every request the fake saw) and ``violations`` (things the service must never do,
such as putting a secret in a URL).
"""

from __future__ import annotations

import asyncio
import json
import math
import secrets
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import AsyncIterator, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ACCEPT = "accept"
REJECT = "reject"
UNKNOWN_MODEL = "unknown_model"
NO_QUOTA = "no_quota"
RATE_LIMITED = "rate_limited"
UNAVAILABLE = "unavailable"
SLOW = "slow"
NOT_JSON = "not_json"
BEHAVIOURS: frozenset[str] = frozenset(
    {ACCEPT, REJECT, UNKNOWN_MODEL, NO_QUOTA, RATE_LIMITED, UNAVAILABLE, SLOW, NOT_JSON}
)

NOT_JSON_BODY = (
    "<!DOCTYPE html><html><head><title>Welcome</title></head>"
    "<body><h1>It works!</h1><p>This is not the API you are looking for.</p></body></html>"
)


@dataclass(frozen=True)
class Script:
    behavior: str = ACCEPT
    retry_after: float = 7.0
    delay: float = 3.0


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any = None
    form: dict[str, str] | None = None
    body: bytes = b""


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: dict[str, Any]
    id: str = ""


@dataclass(frozen=True)
class Reply:
    """A generation's answer, provider-neutral; each fake renders it in its native shape."""

    text: str | None = "pong"
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: str | None = None
    usage: tuple[int, int] = (11, 7)

    @property
    def input_tokens(self) -> int:
        return self.usage[0]

    @property
    def output_tokens(self) -> int:
        return self.usage[1]


def new_id(prefix: str, nbytes: int = 12) -> str:
    return f"{prefix}{secrets.token_hex(nbytes)}"


def now() -> int:
    return int(time.time())


_request_id: ContextVar[str | None] = ContextVar("fake_request_id", default=None)


def request_id() -> str:
    """The id the recorder gave the current request (also sent in the provider's request-id header)."""
    return _request_id.get() or new_id("req_")


def bearer(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    value = request.headers.get("authorization")
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def chunk_text(text: str, pieces: int = 3) -> list[str]:
    """Split text into up to ``pieces`` non-empty consecutive parts (for streamed deltas)."""
    if not text:
        return []
    size = max(1, math.ceil(len(text) / pieces))
    return [text[i : i + size] for i in range(0, len(text), size)]


def json_error(status: int, body: Any, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


def retry_headers(retry_after: float) -> dict[str, str]:
    """The OpenAI-style pair: ``retry-after-ms`` (exact) and ``retry-after`` (whole seconds)."""
    return {"retry-after-ms": str(round(retry_after * 1000)), "retry-after": str(math.ceil(retry_after))}


def sse_response(
    events: Iterable[tuple[str | None, Any]], headers: Mapping[str, str] | None = None
) -> Response:
    """Server-sent events; each item is (event name or None, data). Dicts become JSON, strings go as is."""
    items = list(events)

    async def body() -> AsyncIterator[bytes]:
        for event, data in items:
            payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
            prefix = f"event: {event}\n" if event else ""
            yield f"{prefix}data: {payload}\n\n".encode()
            await asyncio.sleep(0)

    return StreamingResponse(
        body(), media_type="text/event-stream", headers={"cache-control": "no-cache", **(headers or {})}
    )


class _Recorder:
    """ASGI middleware: records every HTTP request (even unrouted ones) before the app sees it."""

    def __init__(self, app: ASGIApp, provider: FakeProvider) -> None:
        self.app = app
        self.provider = provider

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        request_id = new_id("req_")
        _request_id.set(request_id)
        self.provider._record(scope, body)
        replayed = False
        header = self.provider.request_id_header

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def send_with_id(message: Message) -> None:
            if header and message["type"] == "http.response.start":
                raw = list(message.get("headers", []))
                raw.append((header.encode(), request_id.encode()))
                message = {**message, "headers": raw}
            await send(message)

        await self.app(scope, replay, send_with_id)


def _decode_body(headers: Mapping[str, str], body: bytes) -> tuple[Any, dict[str, str] | None]:
    ctype = headers.get("content-type", "")
    if "application/x-www-form-urlencoded" in ctype:
        return None, dict(parse_qsl(body.decode("latin-1"), keep_blank_values=True))
    if body:
        try:
            return json.loads(body), None
        except ValueError:
            return None, None
    return None, None


class FakeProvider(ABC):
    """Base of the six fakes: one FastAPI app, scripted credentials, recorded requests.

    Subclasses set ``name`` and ``default_models``, add their routes in ``_routes`` and render
    their errors in ``error_auth``, ``error_not_found``, ``error_no_quota``, ``error_rate_limited``
    and ``error_unavailable``. Handlers call ``await self.check(credential, model=..., generation=...)``
    and return its response when it is not None.
    """

    name: ClassVar[str] = "fake"
    default_models: ClassVar[frozenset[str]] = frozenset()
    finish_map: ClassVar[dict[str, str]] = {}
    request_id_header: ClassVar[str | None] = None

    def __init__(self) -> None:
        self.models: set[str] = set(self.default_models)
        self.requests: list[RecordedRequest] = []
        self.violations: list[str] = []
        self._scripts: dict[str, Script] = {}
        self._replies: deque[Reply] = deque()
        self.app = FastAPI(title=f"fake {self.name}", docs_url=None, redoc_url=None, openapi_url=None)
        self.app.add_middleware(_Recorder, provider=self)
        self._routes()

    # -- scripting -----------------------------------------------------------------------------

    def script(
        self, credential: str, behavior: str = ACCEPT, *, retry_after: float = 7.0, delay: float = 3.0
    ) -> None:
        if behavior not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {behavior!r}; expected one of {sorted(BEHAVIOURS)}")
        self._scripts[credential] = Script(behavior, retry_after, delay)

    def queue_reply(
        self,
        *,
        text: str | None = None,
        tool_calls: list[dict[str, Any]] | None = None,
        finish_reason: str | None = None,
        usage: tuple[int, int] = (11, 7),
    ) -> None:
        calls = tuple(
            ToolCall(c["name"], dict(c.get("arguments") or {}), c.get("id") or "") for c in tool_calls or ()
        )
        self._replies.append(Reply(text, calls, finish_reason, usage))

    def reset(self) -> None:
        self._scripts.clear()
        self._replies.clear()
        self.requests.clear()
        self.violations.clear()
        self.models = set(self.default_models)

    # -- helpers for subclasses and tests ------------------------------------------------------

    def next_reply(self) -> Reply:
        return self._replies.popleft() if self._replies else Reply()

    def finish(self, reply: Reply, default: str) -> str:
        """The reply's finish reason in this provider's vocabulary, or ``default``."""
        if reply.finish_reason is None:
            return default
        return self.finish_map.get(reply.finish_reason, reply.finish_reason)

    def script_for(self, credential: str | None) -> Script | None:
        """The credential's script; None means: reject it like a bad key."""
        return self._scripts.get(credential) if credential is not None else None

    def requests_to(self, path_fragment: str) -> list[RecordedRequest]:
        return [r for r in self.requests if path_fragment in r.path]

    def url_secrets(self) -> Iterable[str]:
        """Strings that must never appear in a URL (scripted keys by default)."""
        return (c for c in self._scripts if len(c) >= 8)

    async def check(
        self, credential: str | None, *, model: str | None = None, generation: bool = False
    ) -> Response | None:
        """Apply the credential's script; returns the error/odd response to send, or None to proceed."""
        script = self.script_for(credential)
        if script is None or script.behavior == REJECT:
            return self.error_auth(credential)
        behavior = script.behavior
        if behavior == SLOW:
            await asyncio.sleep(script.delay)
        if behavior == NOT_JSON:
            return HTMLResponse(NOT_JSON_BODY, status_code=200)
        if behavior == UNAVAILABLE:
            return self.error_unavailable()
        if behavior == RATE_LIMITED:
            return self.error_rate_limited(script.retry_after, model)
        if model is not None and (behavior == UNKNOWN_MODEL or model not in self.models):
            return self.error_not_found(model)
        if generation and behavior == NO_QUOTA:
            return self.error_no_quota(model)
        return None

    # -- hooks: routes and the provider's own error shapes -----------------------------------------

    @abstractmethod
    def _routes(self) -> None: ...
    @abstractmethod
    def error_auth(self, credential: str | None) -> Response: ...
    @abstractmethod
    def error_not_found(self, model: str) -> Response: ...
    @abstractmethod
    def error_no_quota(self, model: str | None) -> Response: ...
    @abstractmethod
    def error_rate_limited(self, retry_after: float, model: str | None) -> Response: ...
    @abstractmethod
    def error_unavailable(self) -> Response: ...

    def inspect(self, record: RecordedRequest) -> None:
        """Subclass hook run on every recorded request; append to ``violations`` on misuse."""

    # -- recording -----------------------------------------------------------------------------

    def _record(self, scope: Scope, body: bytes) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        raw_query = scope.get("query_string", b"").decode("latin-1")
        payload, form = _decode_body(headers, body)
        record = RecordedRequest(
            method=scope["method"],
            path=scope["path"],
            query=dict(parse_qsl(raw_query, keep_blank_values=True)),
            headers=headers,
            json=payload,
            form=form,
            body=body,
        )
        self.requests.append(record)
        url = scope.get("raw_path", b"").decode("latin-1") + "?" + raw_query
        for secret in self.url_secrets():
            if secret in url:
                self.violations.append(f"{self.name}: secret in URL {record.method} {record.path}")
        self.inspect(record)
