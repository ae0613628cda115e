"""Fake OpenAI-compatible server (vLLM / LiteLLM / OpenRouter style) under ``/v1``.

Its errors are only loosely OpenAI-shaped (vLLM's flat ``{"object": "error", ...}``, a bare
``{"error": "Unauthorized"}``, OpenRouter's 402 for credit), so the service has to fall back on
the HTTP status. With ``require_key = False`` it accepts any or no ``Authorization`` header.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from .base import ACCEPT, Script, bearer, json_error
from .chat import CREATED, ChatCompletionsFake

CUSTOM_MODELS = frozenset({"llama-3.1-8b-instruct", "qwen2.5-7b-instruct", "mistral-small"})


def _vllm_error(status: int, message: str, kind: str, headers: dict[str, str] | None = None) -> Response:
    body = {"object": "error", "message": message, "type": kind, "param": None, "code": status}
    return json_error(status, body, headers)


class CustomFake(ChatCompletionsFake):
    name = "custom"
    default_models = CUSTOM_MODELS

    def __init__(self) -> None:
        self.require_key = True
        super().__init__()

    def reset(self) -> None:
        super().reset()
        self.require_key = True

    def script_for(self, credential: str | None) -> Script | None:
        script = super().script_for(credential if credential is not None else "")
        if script is None and not self.require_key:
            return Script(ACCEPT)
        return script

    def _routes(self) -> None:
        app = self.app

        @app.get("/v1/models")
        async def list_models(request: Request) -> Response:
            if denied := await self.check(bearer(request)):
                return denied
            data = [self._model(m) for m in sorted(self.models)]
            return JSONResponse({"object": "list", "data": data})

        @app.post("/v1/chat/completions")
        async def chat_completions(request: Request) -> Response:
            return await self.chat(request, bearer(request))

    @staticmethod
    def _model(model: str) -> dict[str, Any]:
        return {"id": model, "object": "model", "created": CREATED, "owned_by": "vllm", "root": model}

    def error_bad_request(self, message: str, param: str | None, code: str | None) -> Response:
        return _vllm_error(400, message, "BadRequestError")

    def error_auth(self, credential: str | None) -> Response:
        return json_error(401, {"error": "Unauthorized"})

    def error_not_found(self, model: str) -> Response:
        return _vllm_error(404, f"The model `{model}` does not exist.", "NotFoundError")

    def error_no_quota(self, model: str | None) -> Response:
        message = "Insufficient credits. Add more using https://example.invalid/credits"
        return json_error(402, {"error": {"code": 402, "message": message}})

    def error_rate_limited(self, retry_after: float, model: str | None) -> Response:
        headers = {"retry-after": str(math.ceil(retry_after))}
        return _vllm_error(429, "Rate limit exceeded. Please slow down.", "RateLimitError", headers)

    def error_unavailable(self) -> Response:
        return _vllm_error(
            503, "Service Unavailable: the model server is loading.", "ServiceUnavailableError"
        )
