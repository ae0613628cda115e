"""OpenAI chat completions (JSON and SSE), shared by the OpenAI, Azure and custom fakes."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from .base import FakeProvider, Reply, chunk_text, json_error, new_id, now, sse_response

OPENAI_FINISH = {
    "end_turn": "stop",
    "STOP": "stop",
    "max_tokens": "length",
    "MAX_TOKENS": "length",
    "tool_use": "tool_calls",
}
CREATED = 1_700_000_000


def tool_calls_of(reply: Reply) -> list[dict[str, Any]]:
    return [
        {
            "id": call.id or new_id("call_"),
            "type": "function",
            "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
        }
        for call in reply.tool_calls
    ]


def usage_of(reply: Reply) -> dict[str, Any]:
    return {
        "prompt_tokens": reply.input_tokens,
        "completion_tokens": reply.output_tokens,
        "total_tokens": reply.input_tokens + reply.output_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


class ChatCompletionsFake(FakeProvider):
    """A provider speaking OpenAI chat completions; subclasses choose auth and error shapes."""

    finish_map = OPENAI_FINISH
    # OpenAI refuses the deprecated max_tokens for reasoning models (o-series, gpt-5).
    refuse_max_tokens: ClassVar[bool] = False
    extra_choice: ClassVar[dict[str, Any]] = {}
    extra_completion: ClassVar[dict[str, Any]] = {}

    def error_bad_request(self, message: str, param: str | None, code: str | None) -> Response:
        body = {"message": message, "type": "invalid_request_error", "param": param, "code": code}
        return json_error(400, {"error": body})

    async def chat(self, request: Request, credential: str | None, model: str | None = None) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return self.error_bad_request("We could not parse the JSON body of your request.", None, None)
        if not isinstance(body, dict):
            return self.error_bad_request("Invalid type for body: expected an object.", None, None)
        model = model or body.get("model")
        if not model:
            return self.error_bad_request("you must provide a model parameter", None, None)
        if denied := await self.check(credential, model=model, generation=True):
            return denied
        if not body.get("messages"):
            return self.error_bad_request("[] is too short - 'messages'", "messages", "empty_array")
        if self.refuse_max_tokens and "max_tokens" in body and model.startswith(("o", "gpt-5")):
            return self.error_bad_request(
                "Unsupported parameter: 'max_tokens' is not supported with this model. "
                "Use 'max_completion_tokens' instead.",
                "max_tokens",
                "unsupported_parameter",
            )
        reply = self.next_reply()
        finish = self.finish(reply, "tool_calls" if reply.tool_calls else "stop")
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return sse_response(self._chunks(reply, model, finish, include_usage))
        message: dict[str, Any] = {
            "role": "assistant",
            "content": reply.text,
            "refusal": None,
            "annotations": [],
        }
        if reply.tool_calls:
            message["tool_calls"] = tool_calls_of(reply)
        choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
        return JSONResponse(
            {
                "id": new_id("chatcmpl-"),
                "object": "chat.completion",
                "created": now(),
                "model": model,
                "choices": [{**choice, **self.extra_choice}],
                "usage": usage_of(reply),
                "system_fingerprint": "fp_fake",
                **self.extra_completion,
            }
        )

    def _chunks(
        self, reply: Reply, model: str, finish: str, include_usage: bool
    ) -> list[tuple[str | None, Any]]:
        ident, created = new_id("chatcmpl-"), now()

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> tuple[None, dict[str, Any]]:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            data: dict[str, Any] = {
                "id": ident,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": "fp_fake",
                "choices": [choice],
            }
            if include_usage:
                data["usage"] = None
            return None, data

        events = [chunk({"role": "assistant", "content": "" if reply.text is not None else None})]
        events += [chunk({"content": piece}) for piece in chunk_text(reply.text or "")]
        for index, call in enumerate(tool_calls_of(reply)):
            head = {**call, "function": {"name": call["function"]["name"], "arguments": ""}}
            events.append(chunk({"tool_calls": [{"index": index, **head}]}))
            for piece in chunk_text(call["function"]["arguments"], 2):
                events.append(chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}))
        events.append(chunk({}, finish))
        if include_usage:
            _, last = chunk({})
            events.append((None, {**last, "choices": [], "usage": usage_of(reply)}))
        events.append((None, "[DONE]"))
        return events
