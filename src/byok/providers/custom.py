"""Any OpenAI-compatible server at a user-supplied ``base_url`` (vLLM, Ollama, LM Studio, gateways).

The URL is the user's, so every call goes through the private-address guard. Such servers are
only loosely OpenAI-shaped: classification falls back on the HTTP status, and a 404 that does
not speak of a model means the ``base_url`` is wrong rather than the model missing.
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx

from byok.providers.base import Credential, ProviderError, Reason, VerifyResult
from byok.providers.openai import classify_openai_shaped, openai_error_code
from byok.providers.openai_format import PassthroughProvider, passthrough_body

MESSAGES = [{"role": "user", "content": "ping"}]


def classify_compatible(response: httpx.Response, body: Any, provider: str) -> tuple[Reason, str]:
    """OpenAI-shaped classification for user endpoints: a 404 naming no model is a wrong URL."""
    reason, message = classify_openai_shaped(response, body, provider)
    if reason == "model_not_found":
        lowered = message.lower()
        names_a_model = "model" in lowered or "deployment" in lowered
        if openai_error_code(body) not in ("model_not_found", "deploymentnotfound") and not names_a_model:
            return "invalid_response", f"{message} (is base_url the address of the API?)"
    return reason, message


def is_model_list(body: Any) -> bool:
    """``{"object": "list", "data": [{"id": ...}, ...]}``, as OpenAI's ``GET /models`` answers."""
    if not isinstance(body, dict) or body.get("object", "list") != "list":
        return False
    data = body.get("data")
    return isinstance(data, list) and all(isinstance(m, dict) and isinstance(m.get("id"), str) for m in data)


def is_chat_completion(body: Any) -> bool:
    return isinstance(body, dict) and isinstance(body.get("choices"), list)


class CustomProvider(PassthroughProvider):
    name = "custom"
    cheapest_model: ClassVar[str | None] = None
    user_supplied_url: ClassVar[bool] = True

    def base_url(self, credential: Credential) -> str:
        base = (credential.config.base_url or "").strip().rstrip("/")
        if not base:
            raise ProviderError("endpoint_not_allowed", "custom needs a base_url")
        return base.removesuffix("/chat/completions")

    def headers(self, credential: Credential) -> dict[str, str]:
        return {"Authorization": f"Bearer {credential.api_key}"} if credential.api_key else {}

    def classify(self, response: httpx.Response, body: Any) -> tuple[Reason, str]:
        return classify_compatible(response, body, self.name)

    def chat_request(
        self, credential: Credential, model: str, request: dict[str, Any], *, stream: bool
    ) -> tuple[str, dict[str, str] | None, dict[str, Any]]:
        """The request as is (``max_tokens`` stays: compatible servers know it best).

        Streams still ask for ``include_usage``; a server that ignores it ends with a usage chunk
        of zeros (see :class:`~byok.providers.openai_format.PassthroughStream`).
        """
        body = passthrough_body(request, model, stream=stream, completion_tokens=False)
        return f"{self.base_url(credential)}/chat/completions", None, body

    async def verify(self, credential: Credential) -> VerifyResult:
        base = self.base_url(credential)
        model = credential.config.default_model
        if model:
            # The robust check: some servers leave GET /models unguarded, none a completion.
            reply = await self.send(
                credential,
                "POST",
                f"{base}/chat/completions",
                headers=self.headers(credential),
                json_body={"model": model, "messages": MESSAGES, "max_tokens": 1},
            )
            if not is_chat_completion(reply):
                raise ProviderError("invalid_response", "custom's chat completion is not in OpenAI's shape")
            return VerifyResult(model=model)
        listing = await self.send(credential, "GET", f"{base}/models", headers=self.headers(credential))
        if not is_model_list(listing):
            raise ProviderError(
                "invalid_response",
                "GET /models did not answer an OpenAI-shaped model list; "
                "name a default model to check with a chat completion instead",
            )
        return VerifyResult(model=None)
