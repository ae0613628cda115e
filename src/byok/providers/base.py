"""The small interface every provider client implements, and the failure it raises.

A provider module knows its own API (paths, headers, error shapes) and nothing of routes or
the database. Everything it needs arrives in a :class:`ProviderContext` and a
:class:`Credential`; every failure leaves it as a :class:`ProviderError` with a ``reason``
from the contract's table, already scrubbed of the secret.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import aclosing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar, Literal

import httpx

from byok.netguard import EndpointNotAllowed, check_url
from byok.outbound import Outbound
from byok.providers.sse import MAX_EVENT_CHARS, EventTooLarge, SSEEvent, StreamTranslator, parse_sse
from byok.redact import scrub
from byok.settings import Settings

Reason = Literal[
    "invalid_credentials",
    "permission_denied",
    "model_not_found",
    "quota_exceeded",
    "endpoint_not_allowed",
    "invalid_response",
    "rate_limited",
    "provider_unavailable",
    "endpoint_unreachable",
    "timeout",
]

REASON_STATUS: dict[str, int] = {
    "invalid_credentials": 422,
    "permission_denied": 422,
    "model_not_found": 422,
    "quota_exceeded": 422,
    "endpoint_not_allowed": 422,
    "invalid_response": 422,
    "rate_limited": 429,
    "provider_unavailable": 502,
    "endpoint_unreachable": 502,
    "timeout": 504,
}


class ProviderError(Exception):
    """A provider call failed for ``reason``; ``message`` is safe to show and to log."""

    def __init__(
        self,
        reason: Reason,
        message: str,
        *,
        provider_status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.reason: Reason = reason
        self.message = message
        self.provider_status = provider_status
        self.retry_after = retry_after

    @property
    def status(self) -> int:
        return REASON_STATUS[self.reason]

    @property
    def transient(self) -> bool:
        return self.reason in ("provider_unavailable", "endpoint_unreachable")


@dataclass(frozen=True)
class KeyConfig:
    """The non-secret part of a stored key."""

    provider: str
    base_url: str | None = None
    location: str | None = None
    api_version: str | None = None
    default_model: str | None = None


@dataclass(frozen=True)
class Credential:
    """A key's configuration with its secret, in memory only, on its way to the provider."""

    config: KeyConfig
    api_key: str | None = None
    service_account: dict[str, Any] | None = field(default=None, repr=False)

    def __repr__(self) -> str:  # never print the secret, even in a traceback
        return f"Credential(provider={self.config.provider!r})"

    @property
    def secrets(self) -> list[str]:
        found = [self.api_key] if self.api_key else []
        if self.service_account:
            found += [str(self.service_account.get(k) or "") for k in ("private_key", "private_key_id")]
        return [s for s in found if s]


@dataclass(frozen=True)
class VerifyResult:
    """What a successful live check learnt: the account (vertex) and the model it generated on."""

    account: str | None = None
    model: str | None = None


@dataclass
class ProviderContext:
    settings: Settings
    outbound: Outbound
    # Shared caches a provider may keep (e.g. vertex access tokens), keyed as it likes.
    caches: dict[str, Any] = field(default_factory=dict)


def _seconds(value: str, scale: float = 1.0) -> float | None:
    try:
        return max(0.0, float(value) * scale)
    except ValueError:
        return None


def _until(http_date: str) -> float | None:
    try:
        when = parsedate_to_datetime(http_date)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def parse_retry_after(headers: httpx.Headers, body: Any = None) -> float | None:
    """``retry-after-ms``, then ``retry-after`` (seconds or HTTP date), then Google's RetryInfo."""
    if (ms := headers.get("retry-after-ms")) and (delay := _seconds(ms, 0.001)) is not None:
        return delay
    if value := headers.get("retry-after"):
        delay = _seconds(value)
        if delay is None:
            delay = _until(value)
        if delay is not None:
            return delay
    if isinstance(body, dict):
        error = body.get("error")
        details = error.get("details") if isinstance(error, dict) else None
        for detail in details if isinstance(details, list) else []:
            retry = detail.get("retryDelay") if isinstance(detail, dict) else None
            if isinstance(retry, str) and retry.endswith("s") and (delay := _seconds(retry[:-1])) is not None:
                return delay
    return None


class Provider(ABC):
    """One provider's API. Subclasses live one per module under ``byok.providers``."""

    name: ClassVar[str]
    #: The model a key is proved on when the user names none: the provider's cheapest current one.
    cheapest_model: ClassVar[str | None] = None
    #: True when ``base_url`` comes from the user and must pass the private-address guard.
    user_supplied_url: ClassVar[bool] = False

    def __init__(self, ctx: ProviderContext) -> None:
        self.ctx = ctx

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    def http(self) -> httpx.AsyncClient:
        return self.ctx.outbound.client(user_supplied=self.user_supplied_url)

    @abstractmethod
    async def verify(self, credential: Credential) -> VerifyResult:
        """Prove the credential works: the auth check, then a one-token generation."""

    @abstractmethod
    def classify(self, response: httpx.Response, body: Any) -> tuple[Reason, str]:
        """Map an error response of this provider to a reason and a message."""

    @abstractmethod
    async def chat(self, credential: Credential, model: str, request: dict[str, Any]) -> dict[str, Any]:
        """Run an OpenAI chat-completions ``request`` on ``model`` with this provider's own API.

        Returns an OpenAI ``chat.completion`` object whose ``model`` is ``model`` and which
        always carries ``usage``. The request's own ``model`` and ``stream`` are ignored.
        """

    @abstractmethod
    def stream(
        self, credential: Credential, model: str, request: dict[str, Any]
    ) -> AsyncIterator[dict[str, Any]]:
        """The streaming form of :meth:`chat`: OpenAI ``chat.completion.chunk`` objects.

        The last chunk always carries ``usage`` (with ``choices: []``), whatever the request's
        ``stream_options``; the gateway drops it when the caller did not ask for it. A failure
        before the first chunk raises :class:`ProviderError` from the first ``__anext__``.
        """

    async def send(
        self,
        credential: Credential,
        method: str,
        url: str,
        *,
        headers: dict[str, str],
        json_body: Any = None,
        params: dict[str, str] | None = None,
        timeout: httpx.Timeout | None = None,
        form: dict[str, str] | None = None,
    ) -> Any:
        """Make one call and return its JSON body, or raise a scrubbed :class:`ProviderError`."""
        request_timeout = timeout or self.ctx.outbound.verify_timeout()
        self.check_endpoint(url)
        with self.connecting(credential):
            response = await self.http().request(
                method,
                url,
                headers=headers,
                json=json_body,
                params=params,
                data=form,
                timeout=request_timeout,
            )
        return self.decode(credential, response)

    def chat_timeout(self) -> httpx.Timeout:
        """Generations may think for a while: the request timeout, with the usual connect timeout."""
        return httpx.Timeout(self.settings.request_timeout_s, connect=self.settings.connect_timeout_s)

    def check_endpoint(self, url: str) -> None:
        """The private-address guard on a user-supplied URL, before any connection."""
        if not self.user_supplied_url:
            return
        try:
            check_url(url, allow_private=self.settings.allow_private_networks)
        except EndpointNotAllowed as exc:
            raise ProviderError("endpoint_not_allowed", str(exc)) from None
        except ValueError:  # urlsplit refuses e.g. "https://[::1" or a bad port
            raise ProviderError("endpoint_not_allowed", "the URL is not valid") from None

    @contextmanager
    def connecting(self, credential: Credential) -> Iterator[None]:
        """Map what can go wrong while connecting and sending to a scrubbed :class:`ProviderError`."""
        try:
            yield
        except EndpointNotAllowed as exc:
            raise ProviderError("endpoint_not_allowed", str(exc)) from None
        except httpx.InvalidURL:  # not a TransportError: it would escape as a 500
            raise ProviderError("endpoint_not_allowed", "the URL is not valid") from None
        except httpx.TimeoutException:
            raise ProviderError("timeout", f"{self.name} did not answer in time") from None
        except (httpx.TransportError, OSError) as exc:
            raise ProviderError(
                "endpoint_unreachable",
                f"cannot reach {self.name}: "
                + scrub(type(exc).__name__ + " " + str(exc), credential.secrets),
            ) from None

    async def open_stream(
        self,
        credential: Credential,
        method: str,
        url: str,
        *,
        headers: dict[str, str],
        json_body: Any = None,
        params: dict[str, str] | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> AsyncGenerator[SSEEvent, None]:
        """Make one streaming call and yield its server-sent events; the response is always closed.

        Errors map exactly as in :meth:`send`: an error status goes through ``classify`` to a
        scrubbed :class:`ProviderError` before the first event. A stream that stalls for the read
        timeout raises ``timeout``; a connection that breaks mid-stream ``provider_unavailable``.
        A success answered with a JSON body instead of an event stream (a server that ignores
        ``stream``) comes through as one event whose data is that body.
        Use it under ``contextlib.aclosing`` so an abandoned stream closes its connection at once.
        """
        self.check_endpoint(url)
        client = self.http()
        with self.connecting(credential):
            request = client.build_request(
                method,
                url,
                headers=headers,
                json=json_body,
                params=params,
                timeout=timeout or self.chat_timeout(),
            )
            response = await client.send(request, stream=True)
        try:
            if not response.is_success or "json" in response.headers.get("content-type", ""):
                with self.connecting(credential):
                    await response.aread()
                if len(response.content) > MAX_EVENT_CHARS:
                    raise ProviderError("invalid_response", f"{self.name} answered with an oversized body")
                body = self.decode(credential, response)  # raises on an error status
                yield SSEEvent(None, json.dumps(body))
                return
            async for event in parse_sse(response.aiter_text()):
                yield event
        except EventTooLarge:
            raise ProviderError(
                "invalid_response", f"{self.name} sent an oversized server-sent event"
            ) from None
        except httpx.TimeoutException:
            raise ProviderError("timeout", f"{self.name} stopped answering mid-stream") from None
        except (httpx.TransportError, OSError) as exc:
            raise ProviderError(
                "provider_unavailable",
                f"the stream from {self.name} broke off: "
                + scrub(type(exc).__name__ + " " + str(exc), credential.secrets),
            ) from None
        finally:
            await response.aclose()

    async def relay(
        self,
        credential: Credential,
        translator: StreamTranslator,
        url: str,
        *,
        headers: dict[str, str],
        json_body: Any,
        params: dict[str, str] | None = None,
    ) -> AsyncGenerator[dict[str, Any], None]:
        """POST a streaming request and yield the OpenAI chunks ``translator`` makes of its events."""
        events = self.open_stream(
            credential, "POST", url, headers=headers, json_body=json_body, params=params
        )
        async with aclosing(events):
            async for event in events:
                for chunk in translator.feed(event):
                    yield chunk
                if translator.done:
                    break
        for chunk in translator.close():
            yield chunk

    def event_failure(self, credential: Credential, status: int, body: Any) -> ProviderError:
        """An error the provider reported inside a stream (after its 200), classified like a response.

        ``status`` is the one the error would have had as a response (from its code or type).
        """
        response = httpx.Response(status, json=body, request=httpx.Request("POST", "https://stream.invalid"))
        return self.failure(credential, response, body)

    def decode(self, credential: Credential, response: httpx.Response) -> Any:
        body: Any
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if response.is_success:
            if body is None:
                raise ProviderError(
                    "invalid_response",
                    f"{self.name} answered with a body that is not JSON",
                    provider_status=response.status_code,
                )
            return body
        raise self.failure(credential, response, body)

    def failure(self, credential: Credential, response: httpx.Response, body: Any) -> ProviderError:
        status = response.status_code
        if 300 <= status < 400:
            return ProviderError(
                "invalid_response",
                f"{self.name} answered with a redirect, which is never followed",
                provider_status=status,
            )
        reason, message = self.classify(response, body)
        retry_after = parse_retry_after(response.headers, body) if reason == "rate_limited" else None
        return ProviderError(
            reason,
            scrub(message, credential.secrets),
            provider_status=status,
            retry_after=retry_after,
        )


def error_message(body: Any, fallback: str) -> str:
    """The ``error.message`` most providers use, else ``fallback``."""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
        if isinstance(error, str):
            description = body.get("error_description")
            return f"{error}: {description}" if isinstance(description, str) else error
        if isinstance(body.get("message"), str):
            return str(body["message"])
    return fallback


def status_reason(status: int) -> Reason:
    """The fallback classification by HTTP status alone."""
    if status in (401, 403):
        return "invalid_credentials" if status == 401 else "permission_denied"
    if status == 404:
        return "model_not_found"
    if status == 402:  # Payment Required: out of credit (OpenRouter-style gateways, Anthropic billing)
        return "quota_exceeded"
    if status == 429:
        return "rate_limited"
    if status == 408:
        return "timeout"
    if status >= 500:
        return "provider_unavailable"
    return "invalid_response"
