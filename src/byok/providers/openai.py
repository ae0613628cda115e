"""OpenAI (api.openai.com): bearer key, OpenAI's own error shape."""

from __future__ import annotations

from typing import Any, ClassVar

import httpx

from byok.providers.base import (
    Credential,
    ProviderError,
    Reason,
    VerifyResult,
    error_message,
    status_reason,
)
from byok.providers.openai_format import PassthroughProvider, passthrough_body


def openai_error_code(body: Any) -> str:
    """``error.code`` or ``error.type`` of an OpenAI-shaped error body, lower-cased."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        return str(error.get("code") or error.get("type") or "").lower()
    return ""


def classify_openai_shaped(response: httpx.Response, body: Any, provider: str) -> tuple[Reason, str]:
    """Classification shared by every OpenAI-shaped API (OpenAI, Azure, compatible servers)."""
    status = response.status_code
    code = openai_error_code(body)
    message = error_message(body, f"{provider} answered HTTP {status}")
    if status == 429 or code == "insufficient_quota":
        quota = code == "insufficient_quota" or "exceeded your current quota" in message.lower()
        return ("quota_exceeded" if quota else "rate_limited"), message
    if code in ("model_not_found", "deploymentnotfound") or status == 404:
        return "model_not_found", message
    if status == 401 or code == "invalid_api_key":
        return "invalid_credentials", message
    if status == 403:
        return "permission_denied", message
    return status_reason(status), message


class OpenAIProvider(PassthroughProvider):
    name = "openai"
    cheapest_model: ClassVar[str | None] = "gpt-4.1-nano"

    def base_url(self, credential: Credential) -> str:
        return self.settings.openai_base_url.rstrip("/")

    def headers(self, credential: Credential) -> dict[str, str]:
        return {"Authorization": f"Bearer {credential.api_key or ''}"}

    def classify(self, response: httpx.Response, body: Any) -> tuple[Reason, str]:
        return classify_openai_shaped(response, body, self.name)

    def chat_request(
        self, credential: Credential, model: str, request: dict[str, Any], *, stream: bool
    ) -> tuple[str, dict[str, str] | None, dict[str, Any]]:
        """The request as is, ``max_tokens`` (refused by reasoning models) as ``max_completion_tokens``."""
        body = passthrough_body(request, model, stream=stream, completion_tokens=True)
        return f"{self.base_url(credential)}/chat/completions", None, body

    async def verify(self, credential: Credential) -> VerifyResult:
        base = self.base_url(credential)
        listing = await self.send(credential, "GET", f"{base}/models", headers=self.headers(credential))
        if not isinstance(listing, dict) or not isinstance(listing.get("data"), list):
            raise ProviderError("invalid_response", "openai's model list is not in OpenAI's shape")
        model = credential.config.default_model or self.cheapest_model
        assert model is not None
        try:
            await self.send(
                credential,
                "POST",
                f"{base}/chat/completions",
                headers=self.headers(credential),
                json_body={
                    "model": model,
                    "messages": [{"role": "user", "content": "ping"}],
                    "max_completion_tokens": 1,
                },
            )
        except ProviderError as exc:
            if exc.reason == "model_not_found" and not credential.config.default_model:
                return VerifyResult(model=None)
            raise
        return VerifyResult(model=model)
