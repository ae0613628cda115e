"""The gateway's hot path: find the binding, open the key (cached), call the provider with
bounded retries, record usage off the critical path.

Everything here is shared by the internal chat routes and the built-in web agent, so a task's
model calls are retried, scrubbed and accounted exactly like a session's.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import select

from byok.gateway.cache import OpenedKey, SessionEntry
from byok.keys.credentials import credential_from_row
from byok.keys.models import ProviderKey
from byok.providers.base import Credential, KeyConfig, ProviderError
from byok.resolution import Binding
from byok.runtime import Runtime
from byok.sessions.models import BrowserSession
from byok.usage.ledger import UsageRecord
from byok.vault import VaultError
from byok.webtasks.models import WebTaskRun

log = logging.getLogger("byok.gateway")
T = TypeVar("T")

MAX_ATTEMPTS = 3
#: A provider's retry delay longer than this is not waited out: the caller gets the error.
MAX_RETRY_WAIT_S = 4.0


class GatewayError(Exception):
    """A failure of a routed call, rendered in OpenAI's error shape."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        type: str = "provider_error",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.type = type
        self.retry_after = retry_after

    @classmethod
    def from_provider(cls, exc: ProviderError) -> GatewayError:
        return cls(exc.status, exc.reason, exc.message, retry_after=exc.retry_after)

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "code": self.code, "param": None}}

    def headers(self) -> dict[str, str]:
        if self.retry_after is None:
            return {}
        return {"Retry-After": str(max(1, round(self.retry_after)))}


@dataclass(frozen=True)
class CallTarget:
    project_id: str
    binding: Binding
    session_id: str | None = None
    workflow_id: str | None = None


async def session_target(runtime: Runtime, session_id: str) -> CallTarget:
    cache = runtime.caches.sessions
    entry = cache.get(session_id)
    if entry is None:
        generation = cache.generation(session_id)
        async with runtime.sessions() as db:
            row = await db.get(BrowserSession, session_id)
        if row is None:
            raise GatewayError(404, "session_not_found", "no such session", type="not_found")
        entry = SessionEntry(row.project_id, Binding.from_dict(row.binding), row.status == "running")
        cache.put(session_id, entry, generation=generation)
    if not entry.running:
        raise GatewayError(404, "session_ended", "this session has ended", type="not_found")
    return CallTarget(entry.project_id, entry.binding, session_id=session_id)


async def workflow_target(runtime: Runtime, workflow_id: str) -> CallTarget:
    cache = runtime.caches.workflows
    entry = cache.get(workflow_id)
    if entry is None:
        generation = cache.generation(workflow_id)
        async with runtime.sessions() as db:
            row = await db.get(WebTaskRun, workflow_id)
        if row is None:
            raise GatewayError(404, "workflow_not_found", "no such workflow", type="not_found")
        entry = SessionEntry(row.project_id, Binding.from_dict(row.binding), True)
        cache.put(workflow_id, entry, generation=generation)
    return CallTarget(entry.project_id, entry.binding, workflow_id=workflow_id)


def default_credential(runtime: Runtime, binding: Binding) -> Credential:
    settings = runtime.settings
    secret = settings.default_api_key.get_secret_value() if settings.default_api_key else None
    service_account = None
    if binding.provider == "vertex" and secret:
        service_account, secret = json.loads(secret), None
    return Credential(
        config=KeyConfig(
            provider=binding.provider, base_url=settings.default_base_url, default_model=binding.model
        ),
        api_key=secret,
        service_account=service_account,
    )


async def open_credential(runtime: Runtime, target: CallTarget) -> Credential:
    """The binding's credential: from memory when warm, else one read and one decrypt."""
    binding = target.binding
    if binding.source == "default" or binding.key_slug is None:
        return default_credential(runtime, binding)
    key = (target.project_id, binding.key_slug)
    cache = runtime.caches.keys
    opened = cache.get(key)
    if opened is not None:
        return opened.credential
    generation = cache.generation(key)
    async with runtime.sessions() as db:
        row = (
            await db.execute(
                select(ProviderKey).where(
                    ProviderKey.project_id == target.project_id, ProviderKey.key_slug == binding.key_slug
                )
            )
        ).scalar_one_or_none()
    if row is None:
        raise GatewayError(404, "key_not_found", f"key {binding.key_slug!r} no longer exists in this project")
    if row.provider != binding.provider:
        raise GatewayError(409, "provider_mismatch", f"key {binding.key_slug!r} is now a {row.provider} key")
    try:
        credential = credential_from_row(row, runtime.vault)
    except VaultError:
        log.error("stored credential %s/%s cannot be opened", target.project_id, binding.key_slug)
        raise GatewayError(
            500, "credential_unreadable", f"the stored credential of {binding.key_slug!r} cannot be opened"
        ) from None
    cache.put(key, OpenedKey(row.id, credential), generation=generation)
    return credential


async def with_retries(call: Callable[[], Awaitable[T]]) -> T:
    """Retry transient failures (5xx, overloaded, connect errors) with jittered backoff.

    Rate limits (429) and timeouts are passed on at once: the caller owns that budget.
    """
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return await call()
        except ProviderError as exc:
            if not exc.transient or attempt == MAX_ATTEMPTS:
                raise
            delay = exc.retry_after if exc.retry_after is not None else random.uniform(0.1, 0.3 * 2**attempt)  # noqa: S311
            if delay > MAX_RETRY_WAIT_S:
                raise
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")


def _record(
    runtime: Runtime, target: CallTarget, started: float, outcome: str, usage: dict[str, Any] | None
) -> None:
    usage = usage or {}
    runtime.usage.record(
        UsageRecord(
            project_id=target.project_id,
            source=target.binding.source,
            key_slug=target.binding.key_slug,
            provider=target.binding.provider,
            model=target.binding.model,
            outcome=outcome,
            input_tokens=int(usage.get("prompt_tokens") or 0),
            output_tokens=int(usage.get("completion_tokens") or 0),
            latency_ms=round((time.perf_counter() - started) * 1000),
            session_id=target.session_id,
            workflow_id=target.workflow_id,
        )
    )


async def complete(runtime: Runtime, target: CallTarget, request: dict[str, Any]) -> dict[str, Any]:
    """One chat completion on the target's binding; the reply is OpenAI-shaped."""
    started = time.perf_counter()
    try:
        credential = await open_credential(runtime, target)
        provider = runtime.provider(target.binding.provider)
        reply = await with_retries(lambda: provider.chat(credential, target.binding.model, request))
    except ProviderError as exc:
        _record(runtime, target, started, exc.reason, None)
        raise GatewayError.from_provider(exc) from None
    except GatewayError as exc:
        _record(runtime, target, started, exc.code, None)
        raise
    _record(runtime, target, started, "ok", reply.get("usage"))
    return reply


async def open_stream(
    runtime: Runtime, target: CallTarget, request: dict[str, Any]
) -> AsyncIterator[dict[str, Any]]:
    """Start a streamed completion; failures before the first chunk raise :class:`GatewayError`.

    The returned iterator yields OpenAI chunks, the usage chunk last, and records usage when done.
    """
    started = time.perf_counter()
    try:
        credential = await open_credential(runtime, target)
        provider = runtime.provider(target.binding.provider)

        async def first() -> tuple[AsyncIterator[dict[str, Any]], dict[str, Any] | None]:
            chunks = provider.stream(credential, target.binding.model, request)
            try:
                return chunks, await chunks.__anext__()
            except StopAsyncIteration:
                return chunks, None

        chunks, head = await with_retries(first)
    except ProviderError as exc:
        _record(runtime, target, started, exc.reason, None)
        raise GatewayError.from_provider(exc) from None
    except GatewayError as exc:
        _record(runtime, target, started, exc.code, None)
        raise

    async def rest() -> AsyncIterator[dict[str, Any]]:
        usage: dict[str, Any] | None = None
        outcome = "ok"
        try:
            if head is not None:
                usage = head.get("usage") or usage
                yield head
            async for chunk in chunks:
                usage = chunk.get("usage") or usage
                yield chunk
        except ProviderError as exc:
            outcome = exc.reason
            raise GatewayError.from_provider(exc) from None
        except (asyncio.CancelledError, GeneratorExit):
            outcome = "cancelled"
            raise
        finally:
            _record(runtime, target, started, outcome, usage)

    return rest()
