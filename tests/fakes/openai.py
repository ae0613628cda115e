"""Fake OpenAI API under ``/v1``: models, chat completions (JSON and SSE) and a minimal Responses API."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from .base import bearer, json_error, new_id, now, retry_headers
from .chat import CREATED, ChatCompletionsFake, tool_calls_of

OPENAI_MODELS = frozenset(
    {
        "gpt-4.1-nano",
        "gpt-4.1-mini",
        "gpt-4.1",
        "gpt-4o",
        "gpt-4o-mini",
        "o3",
        "o4-mini",
        "gpt-5.4",
        "gpt-5.4-mini",
        "gpt-5.5",
        "gpt-5.6-mini",
        "computer-use-preview",
        "computer-use-preview-2025-03-11",
    }
)


def mask_key(key: str) -> str:
    """OpenAI's masked echo of a key in a 401 message, e.g. ``sk-abc***...wxyz``."""
    if len(key) <= 10:
        return f"{key[:2]}***"
    return f"{key[:6]}***...{key[-4:]}"


class OpenAIFake(ChatCompletionsFake):
    name = "openai"
    default_models = OPENAI_MODELS
    refuse_max_tokens = True
    request_id_header = "x-request-id"

    def _routes(self) -> None:
        app = self.app

        @app.get("/v1/models")
        async def list_models(request: Request) -> Response:
            if denied := await self.check(bearer(request)):
                return denied
            data = [self._model(m) for m in sorted(self.models)]
            return JSONResponse({"object": "list", "data": data})

        @app.get("/v1/models/{model:path}")
        async def get_model(model: str, request: Request) -> Response:
            if denied := await self.check(bearer(request), model=model):
                return denied
            return JSONResponse(self._model(model))

        @app.post("/v1/chat/completions")
        async def chat_completions(request: Request) -> Response:
            return await self.chat(request, bearer(request))

        @app.post("/v1/responses")
        async def responses(request: Request) -> Response:
            return await self._responses(request)

    @staticmethod
    def _model(model: str) -> dict[str, Any]:
        return {"id": model, "object": "model", "created": CREATED, "owned_by": "system"}

    async def _responses(self, request: Request) -> Response:
        body = await request.json()
        model = body.get("model") if isinstance(body, dict) else None
        if not model:
            return self.error_bad_request(
                "Missing required parameter: 'model'.", "model", "missing_required_parameter"
            )
        if denied := await self.check(bearer(request), model=model, generation=True):
            return denied
        reply = self.next_reply()
        output: list[dict[str, Any]] = []
        if reply.text is not None:
            content = [{"type": "output_text", "text": reply.text, "annotations": [], "logprobs": []}]
            output.append(
                {
                    "type": "message",
                    "id": new_id("msg_"),
                    "status": "completed",
                    "role": "assistant",
                    "content": content,
                }
            )
        for call in tool_calls_of(reply):
            output.append(
                {
                    "type": "function_call",
                    "id": new_id("fc_"),
                    "call_id": call["id"],
                    "name": call["function"]["name"],
                    "arguments": call["function"]["arguments"],
                    "status": "completed",
                }
            )
        incomplete = self.finish(reply, "stop") == "length"
        return JSONResponse(
            {
                "id": new_id("resp_"),
                "object": "response",
                "created_at": now(),
                "status": "incomplete" if incomplete else "completed",
                "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
                "error": None,
                "model": model,
                "output": output,
                "parallel_tool_calls": True,
                "tool_choice": body.get("tool_choice", "auto"),
                "tools": body.get("tools", []),
                "instructions": body.get("instructions"),
                "metadata": {},
                "temperature": 1.0,
                "top_p": 1.0,
                "usage": {
                    "input_tokens": reply.input_tokens,
                    "input_tokens_details": {"cached_tokens": 0},
                    "output_tokens": reply.output_tokens,
                    "output_tokens_details": {"reasoning_tokens": 0},
                    "total_tokens": reply.input_tokens + reply.output_tokens,
                },
            }
        )

    # -- errors --------------------------------------------------------------------------------

    @staticmethod
    def _error(
        status: int, message: str, type_: str, code: str | None, headers: dict[str, str] | None = None
    ) -> Response:
        body = {"error": {"message": message, "type": type_, "param": None, "code": code}}
        return json_error(status, body, headers)

    def error_auth(self, credential: str | None) -> Response:
        if not credential:
            return self._error(
                401,
                "You didn't provide an API key. You need to provide your API key in an Authorization header "
                "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY). You can obtain an API key from "
                "https://platform.openai.com/account/api-keys.",
                "invalid_request_error",
                None,
            )
        return self._error(
            401,
            f"Incorrect API key provided: {mask_key(credential)}. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            "invalid_api_key",
        )

    def error_not_found(self, model: str) -> Response:
        message = f"The model `{model}` does not exist or you do not have access to it."
        return self._error(404, message, "invalid_request_error", "model_not_found")

    def error_no_quota(self, model: str | None) -> Response:
        message = (
            "You exceeded your current quota, please check your plan and billing details. For more "
            "information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors."
        )
        return self._error(429, message, "insufficient_quota", "insufficient_quota")

    def error_rate_limited(self, retry_after: float, model: str | None) -> Response:
        message = (
            f"Rate limit reached for {model or 'requests'} in organization org-fake on requests per min "
            f"(RPM): Limit 3, Used 3, Requested 1. Please try again in {retry_after:g}s."
        )
        headers = {
            **retry_headers(retry_after),
            "x-ratelimit-limit-requests": "3",
            "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-reset-requests": f"{retry_after:g}s",
        }
        return self._error(429, message, "requests", "rate_limit_exceeded", headers)

    def error_unavailable(self) -> Response:
        return self._error(503, "The server is overloaded or not ready yet.", "server_error", None)
