"""Azure OpenAI: the resource's own endpoint (user-supplied, so guarded), ``api-key`` header.

``GET /openai/v1/models`` proves the key and the endpoint but lists the model catalogue, not
the resource's deployments; only a one-token completion on the deployment proves it exists.
Without ``api_version`` that goes to the v1 API (deployment as ``model``); with one, to the
dated API (deployment in the path).
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from byok.providers.base import Credential, ProviderError, Reason, VerifyResult
from byok.providers.custom import MESSAGES, classify_compatible, is_chat_completion, is_model_list
from byok.providers.openai_format import PassthroughProvider, passthrough_body

#: The first dated API version that knows ``max_completion_tokens`` and ``stream_options``.
MODERN_API_VERSION = "2024-09-01"


class AzureProvider(PassthroughProvider):
    name = "azure"
    cheapest_model: ClassVar[str | None] = None
    user_supplied_url: ClassVar[bool] = True

    def base_url(self, credential: Credential) -> str:
        """The resource endpoint, also when pasted with its ``/openai`` or ``/openai/v1`` path."""
        base = (credential.config.base_url or "").strip().rstrip("/")
        if not base:
            raise ProviderError("endpoint_not_allowed", "azure needs the resource's endpoint as base_url")
        for suffix in ("/openai/v1", "/openai"):
            if base.endswith(suffix):
                return base[: -len(suffix)]
        return base

    def headers(self, credential: Credential) -> dict[str, str]:
        return {"api-key": credential.api_key or ""}

    def classify(self, response: httpx.Response, body: Any) -> tuple[Reason, str]:
        return classify_compatible(response, body, self.name)

    def chat_call(
        self, credential: Credential, deployment: str, body: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, str] | None, dict[str, Any]]:
        """URL, query and body of a completion on ``deployment``, for either API.

        ``body`` (without ``model``) defaults to a one-token ping; the v1 API gets the
        deployment as ``model``, the dated API in the path.
        """
        base = self.base_url(credential)
        if body is None:
            body = {"messages": MESSAGES, "max_completion_tokens": 1}
        if credential.config.api_version:
            url = f"{base}/openai/deployments/{quote(deployment, safe='')}/chat/completions"
            return url, {"api-version": credential.config.api_version}, body
        return f"{base}/openai/v1/chat/completions", None, {"model": deployment, **body}

    def chat_request(
        self, credential: Credential, model: str, request: dict[str, Any], *, stream: bool
    ) -> tuple[str, dict[str, str] | None, dict[str, Any]]:
        """The request as is on deployment ``model``.

        The v1 API and dated versions from 2024-09-01 get OpenAI's treatment (``max_tokens`` as
        ``max_completion_tokens``, ``stream_options.include_usage``); older dated versions refuse
        both, so their request goes unchanged and their streams end with a usage chunk of zeros.
        """
        version = credential.config.api_version
        modern = not version or version >= MODERN_API_VERSION
        body = passthrough_body(request, None, stream=stream, completion_tokens=modern, include_usage=modern)
        return self.chat_call(credential, model, body)

    async def verify(self, credential: Credential) -> VerifyResult:
        base = self.base_url(credential)
        listing = await self.send(
            credential, "GET", f"{base}/openai/v1/models", headers=self.headers(credential)
        )
        if not is_model_list(listing):
            raise ProviderError("invalid_response", "azure's model list is not in OpenAI's shape")
        deployment = credential.config.default_model
        if not deployment:
            return VerifyResult(model=None)
        url, params, body = self.chat_call(credential, deployment)
        reply = await self.send(
            credential, "POST", url, headers=self.headers(credential), json_body=body, params=params
        )
        if not is_chat_completion(reply):
            raise ProviderError("invalid_response", "azure's chat completion is not in OpenAI's shape")
        return VerifyResult(model=deployment)
