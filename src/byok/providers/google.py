"""Google AI Studio (the Gemini API): ``x-goog-api-key``, Google's RPC error shape.

The key always travels in the header: the API also takes ``?key=``, but URLs end up in logs,
exception messages and tracebacks. The error classification lives here as a function because
Vertex AI answers in the same shape.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import aclosing
from functools import partial
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from byok.providers.base import (
    Credential,
    Provider,
    ProviderError,
    Reason,
    VerifyResult,
    error_message,
    status_reason,
)
from byok.providers.gemini_format import GeminiStream, from_generate_response, to_generate_request

#: ``ErrorInfo.reason`` values that mean the key itself is bad, whatever the HTTP status.
_BAD_KEY_REASONS = frozenset({"API_KEY_INVALID", "API_KEY_EXPIRED"})
_BAD_KEY_MESSAGES = ("api key not valid", "api key expired")
#: "Quota exceeded for metric: ..., limit: 0" — the project has no quota at all, not a burst.
_ZERO_LIMIT = re.compile(r"\blimit:\s*0(?![\d.])")

PING = [{"role": "user", "parts": [{"text": "ping"}]}]


def google_error(body: Any) -> dict[str, Any]:
    """The ``error`` object of a Google RPC error body, or an empty dict."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return dict(body["error"])
    return {}


def google_details(error: dict[str, Any]) -> list[dict[str, Any]]:
    details = error.get("details")
    return [d for d in details if isinstance(d, dict)] if isinstance(details, list) else []


def _no_quota_at_all(details: list[dict[str, Any]], message: str) -> bool:
    """True when a 429 means "this project has a quota of zero", which waiting will not fix."""
    if _ZERO_LIMIT.search(message):
        return True
    for detail in details:
        violations = detail.get("violations")
        for violation in violations if isinstance(violations, list) else []:
            if not isinstance(violation, dict):
                continue
            if str(violation.get("quotaValue", "")).strip() == "0":
                return True
            if _ZERO_LIMIT.search(str(violation.get("description", ""))):
                return True
    return False


def classify_google_shaped(response: httpx.Response, body: Any, provider: str) -> tuple[Reason, str]:
    """Classification shared by the Gemini API and Vertex AI (``{"error": {code, status, details}}``)."""
    status = response.status_code
    error = google_error(body)
    state = str(error.get("status") or "").upper()
    details = google_details(error)
    reasons = {str(d.get("reason") or "").upper() for d in details}
    message = error_message(body, f"{provider} answered HTTP {status}")
    lowered = message.lower()
    # A bad Gemini key is a 400 INVALID_ARGUMENT (sometimes a 403), told apart only by its reason.
    if reasons & _BAD_KEY_REASONS or any(text in lowered for text in _BAD_KEY_MESSAGES):
        return "invalid_credentials", message
    if status == 401 or state == "UNAUTHENTICATED":
        return "invalid_credentials", message
    if status == 429 or state == "RESOURCE_EXHAUSTED":
        return ("quota_exceeded" if _no_quota_at_all(details, message) else "rate_limited"), message
    # FAILED_PRECONDITION: "User location is not supported", free tier not offered in the country.
    if status == 403 or state in ("PERMISSION_DENIED", "FAILED_PRECONDITION"):
        return "permission_denied", message
    if status == 404 or state == "NOT_FOUND":
        return "model_not_found", message
    return status_reason(status), message


class GoogleProvider(Provider):
    name = "google"
    cheapest_model: ClassVar[str | None] = "gemini-2.5-flash-lite"

    def base_url(self, credential: Credential) -> str:
        return self.settings.google_base_url.rstrip("/")

    def headers(self, credential: Credential) -> dict[str, str]:
        return {"x-goog-api-key": credential.api_key or ""}

    def model_url(self, credential: Credential, model: str, verb: str) -> str:
        """``.../v1beta/models/{model}:{verb}``; the model is quoted so it stays one path segment."""
        segment = quote(model.removeprefix("models/"), safe="")
        return f"{self.base_url(credential)}/v1beta/models/{segment}:{verb}"

    def classify(self, response: httpx.Response, body: Any) -> tuple[Reason, str]:
        return classify_google_shaped(response, body, self.name)

    async def chat(self, credential: Credential, model: str, request: dict[str, Any]) -> dict[str, Any]:
        body = to_generate_request(request, model, self.name)
        reply = await self.send(
            credential,
            "POST",
            self.model_url(credential, model, "generateContent"),
            headers=self.headers(credential),
            json_body=body,
            timeout=self.chat_timeout(),
        )
        return from_generate_response(reply, model, self.name)

    async def stream(
        self, credential: Credential, model: str, request: dict[str, Any]
    ) -> AsyncIterator[dict[str, Any]]:
        body = to_generate_request(request, model, self.name)
        translator = GeminiStream(model, self.name, partial(self.event_failure, credential))
        chunks = self.relay(
            credential,
            translator,
            self.model_url(credential, model, "streamGenerateContent"),
            headers=self.headers(credential),
            json_body=body,
            params={"alt": "sse"},
        )
        async with aclosing(chunks):
            async for chunk in chunks:
                yield chunk

    async def verify(self, credential: Credential) -> VerifyResult:
        base = self.base_url(credential)
        listing = await self.send(
            credential,
            "GET",
            f"{base}/v1beta/models",
            headers=self.headers(credential),
            params={"pageSize": "1"},
        )
        if not isinstance(listing, dict) or not isinstance(listing.get("models"), list):
            raise ProviderError("invalid_response", "google's model list is not in the Gemini API's shape")
        model = credential.config.default_model or self.cheapest_model
        assert model is not None
        try:
            # Only a generation shows a project without quota; the model list does not.
            await self.send(
                credential,
                "POST",
                self.model_url(credential, model, "generateContent"),
                headers=self.headers(credential),
                json_body={"contents": PING, "generationConfig": {"maxOutputTokens": 1}},
            )
        except ProviderError as exc:
            if exc.reason == "model_not_found" and not credential.config.default_model:
                return VerifyResult(model=None)
            raise
        return VerifyResult(model=model)
