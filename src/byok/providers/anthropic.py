"""Anthropic (api.anthropic.com): ``x-api-key`` plus a pinned API version, Anthropic's error shape."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from functools import partial
from typing import Any, ClassVar

import httpx

from byok.providers.anthropic_format import AnthropicStream, from_message, to_messages_request
from byok.providers.base import (
    Credential,
    Provider,
    ProviderError,
    Reason,
    VerifyResult,
    error_message,
    status_reason,
)

ANTHROPIC_VERSION = "2023-06-01"


def anthropic_error_type(body: Any) -> str:
    """``error.type`` of an Anthropic error body (``{"type": "error", "error": {...}}``), lower-cased."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("type") or "").lower()
    return ""


def classify_anthropic(response: httpx.Response, body: Any) -> tuple[Reason, str]:
    """Anthropic names its errors by ``error.type``; the status is the fallback."""
    status = response.status_code
    kind = anthropic_error_type(body)
    message = error_message(body, f"anthropic answered HTTP {status}")
    if kind == "authentication_error" or status == 401:
        return "invalid_credentials", message
    # Missing credit is a 400 invalid_request_error ("Your credit balance is too low ...");
    # newer API versions also answer 402 billing_error.
    if kind == "billing_error" or status == 402 or "credit balance" in message.lower():
        return "quota_exceeded", message
    if kind == "permission_error" or status == 403:
        return "permission_denied", message
    if kind == "not_found_error" or status == 404:
        return "model_not_found", message
    if kind == "rate_limit_error" or status == 429:
        return "rate_limited", message
    if kind in ("overloaded_error", "api_error"):
        return "provider_unavailable", message
    return status_reason(status), message


class AnthropicProvider(Provider):
    name = "anthropic"
    cheapest_model: ClassVar[str | None] = "claude-haiku-4-5"

    def base_url(self, credential: Credential) -> str:
        return self.settings.anthropic_base_url.rstrip("/")

    def headers(self, credential: Credential) -> dict[str, str]:
        return {"x-api-key": credential.api_key or "", "anthropic-version": ANTHROPIC_VERSION}

    def classify(self, response: httpx.Response, body: Any) -> tuple[Reason, str]:
        return classify_anthropic(response, body)

    async def chat(self, credential: Credential, model: str, request: dict[str, Any]) -> dict[str, Any]:
        body = to_messages_request(request, model)
        reply = await self.send(
            credential,
            "POST",
            f"{self.base_url(credential)}/v1/messages",
            headers=self.headers(credential),
            json_body=body,
            timeout=self.chat_timeout(),
        )
        return from_message(reply, model)

    async def stream(
        self, credential: Credential, model: str, request: dict[str, Any]
    ) -> AsyncIterator[dict[str, Any]]:
        body = {**to_messages_request(request, model), "stream": True}
        translator = AnthropicStream(model, partial(self.event_failure, credential))
        url = f"{self.base_url(credential)}/v1/messages"
        chunks = self.relay(credential, translator, url, headers=self.headers(credential), json_body=body)
        async with aclosing(chunks):
            async for chunk in chunks:
                yield chunk

    async def verify(self, credential: Credential) -> VerifyResult:
        base = self.base_url(credential)
        listing = await self.send(
            credential, "GET", f"{base}/v1/models", headers=self.headers(credential), params={"limit": "1"}
        )
        if not isinstance(listing, dict) or not isinstance(listing.get("data"), list):
            raise ProviderError("invalid_response", "anthropic's model list is not in Anthropic's shape")
        model = credential.config.default_model or self.cheapest_model
        assert model is not None
        try:
            # Only a generation shows a missing credit balance; the model list does not.
            await self.send(
                credential,
                "POST",
                f"{base}/v1/messages",
                headers=self.headers(credential),
                json_body={
                    "model": model,
                    "max_tokens": 1,
                    "messages": [{"role": "user", "content": "ping"}],
                },
            )
        except ProviderError as exc:
            if exc.reason == "model_not_found" and not credential.config.default_model:
                return VerifyResult(model=None)
            raise
        return VerifyResult(model=model)
