"""Helpers for the translation tests: reassembling streamed chunks, and common shapes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from unittest.mock import ANY

import pytest

from byok.providers.base import Credential, Provider, ProviderError


async def collect(chunks: AsyncIterator[dict[str, Any]]) -> list[dict[str, Any]]:
    return [chunk async for chunk in chunks]


def reassemble(chunks: list[dict[str, Any]], model: str) -> dict[str, Any]:
    """The message a client would rebuild from the chunks, after checking the stream's shape.

    Every chunk is a ``chat.completion.chunk`` of one id and the binding's model; the first
    delta names the assistant role; the last chunk carries only ``usage``; no other chunk has
    ``usage``; exactly one chunk carries a finish reason, after all content.
    """
    assert chunks, "the stream produced no chunk"
    ids = {c["id"] for c in chunks}
    assert len(ids) == 1, ids
    for chunk in chunks:
        assert chunk["object"] == "chat.completion.chunk"
        assert chunk["model"] == model
        assert isinstance(chunk["created"], int)
    *body, last = chunks
    assert last["choices"] == [] and set(last["usage"]) >= {
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
    }
    assert all("usage" not in c for c in body)
    assert body[0]["choices"][0]["delta"]["role"] == "assistant"
    content: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    finishes = []
    for chunk in body:
        (choice,) = chunk["choices"]
        assert choice["index"] == 0
        assert not finishes, "content after the finish reason"
        delta = choice["delta"]
        if delta.get("content"):
            content.append(delta["content"])
        for call in delta.get("tool_calls") or []:
            slot = calls.setdefault(call["index"], {"id": None, "type": None, "name": "", "arguments": ""})
            if call.get("id"):
                assert slot["id"] is None, "a tool call id sent twice"
                slot["id"] = call["id"]
            if call.get("type"):
                slot["type"] = call["type"]
            function = call.get("function") or {}
            slot["name"] += function.get("name") or ""
            slot["arguments"] += function.get("arguments") or ""
        if choice["finish_reason"] is not None:
            finishes.append(choice["finish_reason"])
    assert len(finishes) == 1, finishes
    tool_calls = [
        {"id": s["id"], "type": s["type"], "function": {"name": s["name"], "arguments": s["arguments"]}}
        for _, s in sorted(calls.items())
    ]
    return {
        "content": "".join(content) if content else None,
        "tool_calls": tool_calls,
        "finish_reason": finishes[0],
        "usage": last["usage"],
    }


def completion(model: str, message: dict[str, Any], finish: str, usage: dict[str, Any]) -> dict[str, Any]:
    """The exact reply the translators build (id and created vary)."""
    return {
        "id": ANY,
        "object": "chat.completion",
        "created": ANY,
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
        "usage": usage,
    }


def usage(prompt: int = 11, completion_tokens: int = 7) -> dict[str, int]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt + completion_tokens,
    }


def arguments(call: dict[str, Any]) -> Any:
    return json.loads(call["function"]["arguments"])


async def chat_error(
    provider: Provider, credential: Credential, model: str, request: dict[str, Any]
) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        await provider.chat(credential, model, request)
    return info.value


async def stream_error(
    provider: Provider, credential: Credential, model: str, request: dict[str, Any]
) -> ProviderError:
    """The error a stream raises from its first ``__anext__``."""
    chunks = provider.stream(credential, model, request)
    with pytest.raises(ProviderError) as info:
        await chunks.__anext__()
    return info.value


# A 1x1 transparent PNG.
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
PNG_URL = f"data:image/png;base64,{PNG}"
HTTPS_IMAGE = "https://example.com/cat.png"
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}
TOOL_CONVERSATION: list[dict[str, Any]] = [
    {"role": "system", "content": "Use tools."},
    {"role": "user", "content": "Weather in Paris and Rome?"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            },
            {
                "id": "call_2",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'},
            },
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": '{"temp": 21}'},
    {"role": "tool", "tool_call_id": "call_2", "content": "sunny"},
    {"role": "user", "content": "Thanks. Which is warmer?"},
]
