"""Fake Anthropic API: ``/v1/models``, ``/v1/models/{model}`` and ``/v1/messages`` (JSON or SSE)."""

from __future__ import annotations

import json
import math
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from .base import FakeProvider, Reply, bearer, chunk_text, json_error, new_id, request_id, sse_response

ANTHROPIC_MODELS = frozenset(
    {
        "claude-haiku-4-5",
        "claude-sonnet-4-5",
        "claude-sonnet-4-6",
        "claude-opus-4-5",
        "claude-opus-4-6",
        "claude-opus-4-7",
        "claude-opus-4-1",
        "claude-sonnet-4",
        "claude-opus-4",
    }
)
ANTHROPIC_FINISH = {
    "stop": "end_turn",
    "STOP": "end_turn",
    "length": "max_tokens",
    "MAX_TOKENS": "max_tokens",
    "tool_calls": "tool_use",
}
API_VERSION = "2023-06-01"


class AnthropicFake(FakeProvider):
    name = "anthropic"
    default_models = ANTHROPIC_MODELS
    finish_map = ANTHROPIC_FINISH
    request_id_header = "request-id"

    def _routes(self) -> None:
        app = self.app

        @app.get("/v1/models")
        async def list_models(request: Request) -> Response:
            if denied := await self._gate(request):
                return denied
            limit = int(request.query_params.get("limit", "20"))
            ordered = sorted(self.models, reverse=True)
            after = request.query_params.get("after_id")
            if after in ordered:
                ordered = ordered[ordered.index(after) + 1 :]
            page = ordered[: max(1, min(limit, 1000))]
            return JSONResponse(
                {
                    "data": [self._model(m) for m in page],
                    "has_more": len(ordered) > len(page),
                    "first_id": page[0] if page else None,
                    "last_id": page[-1] if page else None,
                }
            )

        @app.get("/v1/models/{model:path}")
        async def get_model(model: str, request: Request) -> Response:
            if denied := await self._gate(request, model=model):
                return denied
            return JSONResponse(self._model(model))

        @app.post("/v1/messages")
        async def messages(request: Request) -> Response:
            return await self._messages(request)

    async def _gate(self, request: Request, **kwargs: Any) -> Response | None:
        # PROVIDERS.md: x-api-key. anthropic-python >= 2.x sends the key as Authorization: Bearer, so the
        # real API takes both; x-api-key wins when present.
        if denied := await self.check(request.headers.get("x-api-key") or bearer(request), **kwargs):
            return denied
        if not request.headers.get("anthropic-version"):
            return self._error(400, "invalid_request_error", "anthropic-version: header is required")
        return None

    @staticmethod
    def _model(model: str) -> dict[str, Any]:
        display = model.replace("claude-", "Claude ").replace("-", " ").title()
        return {"type": "model", "id": model, "display_name": display, "created_at": "2025-10-01T00:00:00Z"}

    async def _messages(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return self._error(400, "invalid_request_error", "There was an issue with the request body.")
        model = body.get("model") if isinstance(body, dict) else None
        if not model:
            return self._error(400, "invalid_request_error", "model: Field required")
        if denied := await self._gate(request, model=model, generation=True):
            return denied
        if "max_tokens" not in body:
            return self._error(400, "invalid_request_error", "max_tokens: Field required")
        if not body.get("messages"):
            return self._error(400, "invalid_request_error", "messages: Field required")
        reply = self.next_reply()
        stop = self.finish(reply, "tool_use" if reply.tool_calls else "end_turn")
        blocks = self._blocks(reply)
        message: dict[str, Any] = {
            "id": new_id("msg_01"),
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": blocks,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": self._usage(reply.input_tokens, reply.output_tokens),
        }
        if body.get("stream"):
            return sse_response(self._events(message, reply))
        return JSONResponse(message)

    @staticmethod
    def _usage(input_tokens: int, output_tokens: int) -> dict[str, Any]:
        return {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "service_tier": "standard",
        }

    @staticmethod
    def _blocks(reply: Reply) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = []
        if reply.text is not None:
            blocks.append({"type": "text", "text": reply.text})
        for call in reply.tool_calls:
            ident = call.id or new_id("toolu_01")
            blocks.append({"type": "tool_use", "id": ident, "name": call.name, "input": call.arguments})
        return blocks

    def _events(self, message: dict[str, Any], reply: Reply) -> list[tuple[str | None, Any]]:
        start = {
            **message,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": self._usage(reply.input_tokens, 1),
        }
        events: list[tuple[str | None, Any]] = [
            ("message_start", {"type": "message_start", "message": start})
        ]
        for index, block in enumerate(message["content"]):
            if block["type"] == "text":
                head: dict[str, Any] = {"type": "text", "text": ""}
                deltas = [{"type": "text_delta", "text": t} for t in chunk_text(block["text"])]
            else:
                head = {**block, "input": {}}
                raw = json.dumps(block["input"])
                deltas = [{"type": "input_json_delta", "partial_json": p} for p in chunk_text(raw, 2)]
            events.append(
                (
                    "content_block_start",
                    {"type": "content_block_start", "index": index, "content_block": head},
                )
            )
            if index == 0:
                events.append(("ping", {"type": "ping"}))
            for delta in deltas:
                events.append(
                    ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
                )
            events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
        stop = {"stop_reason": message["stop_reason"], "stop_sequence": None}
        usage = {"output_tokens": reply.output_tokens}
        events.append(("message_delta", {"type": "message_delta", "delta": stop, "usage": usage}))
        events.append(("message_stop", {"type": "message_stop"}))
        return events

    # -- errors --------------------------------------------------------------------------------

    @staticmethod
    def _error(status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> Response:
        body = {"type": "error", "error": {"type": kind, "message": message}, "request_id": request_id()}
        return json_error(status, body, headers)

    def error_auth(self, credential: str | None) -> Response:
        message = "invalid x-api-key" if credential else "x-api-key header is required"
        return self._error(401, "authentication_error", message)

    def error_not_found(self, model: str) -> Response:
        return self._error(404, "not_found_error", f"model: {model}")

    def error_no_quota(self, model: str | None) -> Response:
        message = (
            "Your credit balance is too low to access the Anthropic API. "
            "Please go to Plans & Billing to upgrade or purchase credits."
        )
        return self._error(400, "invalid_request_error", message)

    def error_rate_limited(self, retry_after: float, model: str | None) -> Response:
        message = (
            "This request would exceed the rate limit for your organization of 50 requests per minute. "
            "For details, refer to: https://docs.claude.com/en/api/rate-limits."
        )
        headers = {
            "retry-after": str(math.ceil(retry_after)),
            "anthropic-ratelimit-requests-limit": "50",
            "anthropic-ratelimit-requests-remaining": "0",
        }
        return self._error(429, "rate_limit_error", message, headers=headers)

    def error_unavailable(self) -> Response:
        return self._error(529, "overloaded_error", "Overloaded")
