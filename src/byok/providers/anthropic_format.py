"""OpenAI chat completions to Anthropic's Messages API and back, streamed or not.

What does not translate:

* ``response_format`` has no Messages API equivalent: ``json_object`` and ``json_schema`` become
  an instruction appended to the system prompt (with the schema), so the model answers JSON,
  but nothing enforces it.
* ``temperature`` above 1 (OpenAI's range reaches 2) is capped at 1, Anthropic's maximum; when
  both ``temperature`` and ``top_p`` are given only ``temperature`` is sent, since current
  models refuse the pair.
* ``n`` above 1, audio input, files other than PDFs given as data URLs, images that are neither
  data URLs nor http(s) URLs, and tools other than functions are refused with a
  ``ProviderError`` rather than silently dropped.
* Sampling and logging fields Anthropic lacks (``seed``, ``logprobs``, ``frequency_penalty``,
  ``presence_penalty``, ``logit_bias``, ``reasoning_effort``, ``store``, ...) are ignored.
"""

from __future__ import annotations

import json
from typing import Any

from byok.providers.base import ProviderError
from byok.providers.openai_format import (
    Chunks,
    StreamFailure,
    arguments_object,
    choice,
    completion,
    content_parts,
    data_url,
    is_web_url,
    loads_event,
    max_output_tokens,
    new_id,
    stop_list,
    text_of,
    tool_call,
    unsupported,
    usage,
)
from byok.providers.sse import SSEEvent

PROVIDER = "anthropic"
#: Anthropic requires ``max_tokens``; this is sent when the request names no limit.
DEFAULT_MAX_TOKENS = 4096
FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
#: The HTTP status of each error type, for errors that arrive inside a stream.
ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}
JSON_OBJECT_INSTRUCTION = "Answer with a single valid JSON object and nothing else."
JSON_SCHEMA_INSTRUCTION = (
    "Answer with a single valid JSON object that conforms to this JSON schema, and nothing else:\n"
)


# -- request ----------------------------------------------------------------------------------


def _image_block(part: dict[str, Any]) -> dict[str, Any]:
    image = part.get("image_url")
    url = str(image.get("url") or "") if isinstance(image, dict) else str(image or "")
    if inline := data_url(url):
        mime, data = inline
        return {"type": "image", "source": {"type": "base64", "media_type": mime, "data": data}}
    if is_web_url(url):
        return {"type": "image", "source": {"type": "url", "url": url}}
    raise unsupported(PROVIDER, "an image that is neither a data: URL nor an http(s) URL")


def _file_block(part: dict[str, Any]) -> dict[str, Any]:
    file = part.get("file") if isinstance(part.get("file"), dict) else {}
    assert isinstance(file, dict)
    inline = data_url(str(file.get("file_data") or ""))
    if inline is None or inline[0] != "application/pdf":
        raise unsupported(PROVIDER, "files other than PDFs given as data: URLs")
    return {"type": "document", "source": {"type": "base64", "media_type": inline[0], "data": inline[1]}}


def _user_blocks(content: Any) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for part in content_parts(content):
        kind = part.get("type")
        if kind == "text":
            if text := str(part.get("text") or ""):
                blocks.append({"type": "text", "text": text})
        elif kind == "image_url":
            blocks.append(_image_block(part))
        elif kind == "file":
            blocks.append(_file_block(part))
        elif kind == "input_audio":
            raise unsupported(PROVIDER, "audio input")
        else:
            raise unsupported(PROVIDER, f"content parts of type {kind!r}")
    return blocks


def _assistant_blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if text := text_of(message.get("content")):
        blocks.append({"type": "text", "text": text})
    calls = message.get("tool_calls")
    for call in calls if isinstance(calls, list) else []:
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict):
            continue
        blocks.append(
            {
                "type": "tool_use",
                "id": str(call.get("id") or new_id("toolu_")),
                "name": str(function.get("name") or ""),
                "input": arguments_object(function.get("arguments")),
            }
        )
    return blocks


def _tool_result(message: dict[str, Any]) -> dict[str, Any]:
    ident = message.get("tool_call_id")
    if not isinstance(ident, str) or not ident:
        raise ProviderError("invalid_response", "a tool message needs the tool_call_id it answers")
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": ident}
    if text := text_of(message.get("content")):
        block["content"] = text
    return block


def _messages(request: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """The system texts, and the turns with consecutive same-role messages merged."""
    system: list[str] = []
    turns: list[dict[str, Any]] = []
    for message in request.get("messages") or []:
        if not isinstance(message, dict):
            raise ProviderError("invalid_response", "every message must be an object")
        role = message.get("role")
        if role in ("system", "developer"):
            if text := text_of(message.get("content")):
                system.append(text)
            continue
        if role == "user":
            blocks = _user_blocks(message.get("content"))
        elif role == "assistant":
            blocks = _assistant_blocks(message)
        elif role == "tool":
            role, blocks = "user", [_tool_result(message)]
        else:
            raise unsupported(PROVIDER, f"messages with role {role!r}")
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    for turn in turns:
        # Tool results must lead their user message; a lone text block goes as a plain string.
        turn["content"].sort(key=lambda block: block["type"] != "tool_result")
        if len(turn["content"]) == 1 and turn["content"][0]["type"] == "text":
            turn["content"] = turn["content"][0]["text"]
    return system, turns


def _tools(request: dict[str, Any]) -> list[dict[str, Any]]:
    tools: list[dict[str, Any]] = []
    for tool in request.get("tools") or []:
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(tool, dict) or tool.get("type") != "function" or not isinstance(function, dict):
            kind = tool.get("type") if isinstance(tool, dict) else None
            raise unsupported(PROVIDER, f"tools of type {kind!r}")
        entry: dict[str, Any] = {"name": str(function.get("name") or "")}
        if function.get("description"):
            entry["description"] = str(function["description"])
        schema = function.get("parameters")
        entry["input_schema"] = schema if isinstance(schema, dict) else {"type": "object", "properties": {}}
        tools.append(entry)
    return tools


def _tool_choice(request: dict[str, Any]) -> dict[str, Any] | None:
    wanted = request.get("tool_choice")
    chosen: dict[str, Any] | None = None
    if wanted == "none":
        return {"type": "none"}
    if wanted == "required":
        chosen = {"type": "any"}
    elif isinstance(wanted, dict) and isinstance(wanted.get("function"), dict):
        chosen = {"type": "tool", "name": str(wanted["function"].get("name") or "")}
    elif wanted == "auto" or request.get("parallel_tool_calls") is False:
        chosen = {"type": "auto"}
    if chosen is not None and request.get("parallel_tool_calls") is False:
        chosen["disable_parallel_tool_use"] = True
    return chosen


def _format_instruction(request: dict[str, Any]) -> str | None:
    wanted = request.get("response_format")
    kind = wanted.get("type") if isinstance(wanted, dict) else None
    if kind == "json_object":
        return JSON_OBJECT_INSTRUCTION
    if kind == "json_schema" and isinstance(wanted, dict):
        spec = wanted.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
        return JSON_SCHEMA_INSTRUCTION + json.dumps(schema if schema is not None else {}, sort_keys=True)
    return None


def to_messages_request(request: dict[str, Any], model: str) -> dict[str, Any]:
    """The ``POST /v1/messages`` body for an OpenAI chat-completions ``request``."""
    if int(request.get("n") or 1) > 1:
        raise unsupported(PROVIDER, "n > 1 (several choices)")
    system, turns = _messages(request)
    if instruction := _format_instruction(request):
        system.append(instruction)
    limit = max_output_tokens(request)
    body: dict[str, Any] = {"model": model, "max_tokens": limit if limit is not None else DEFAULT_MAX_TOKENS}
    if system:
        body["system"] = "\n\n".join(system)
    body["messages"] = turns
    if tools := _tools(request):
        body["tools"] = tools
        if (chosen := _tool_choice(request)) is not None:
            body["tool_choice"] = chosen
    temperature, top_p = request.get("temperature"), request.get("top_p")
    if isinstance(temperature, int | float) and not isinstance(temperature, bool):
        body["temperature"] = min(float(temperature), 1.0)
    elif isinstance(top_p, int | float) and not isinstance(top_p, bool):
        body["top_p"] = float(top_p)
    if stops := stop_list(request.get("stop")):
        body["stop_sequences"] = stops
    if isinstance(request.get("user"), str) and request["user"]:
        body["metadata"] = {"user_id": request["user"]}
    return body


# -- reply ------------------------------------------------------------------------------------


def _usage(raw: Any) -> dict[str, Any]:
    raw = raw if isinstance(raw, dict) else {}

    def count(name: str) -> int:
        value = raw.get(name)
        return int(value) if isinstance(value, int | float) else 0

    cached = count("cache_read_input_tokens")
    prompt = count("input_tokens") + count("cache_creation_input_tokens") + cached
    return usage(prompt, count("output_tokens"), cached=cached)


def from_message(message: Any, model: str) -> dict[str, Any]:
    """The OpenAI ``chat.completion`` for an Anthropic message."""
    if not isinstance(message, dict) or not isinstance(message.get("content"), list):
        raise ProviderError("invalid_response", "anthropic's reply is not a message")
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    for block in message["content"]:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text":
            texts.append(str(block.get("text") or ""))
        elif block.get("type") == "tool_use":
            ident = str(block.get("id") or new_id("toolu_"))
            calls.append(tool_call(ident, str(block.get("name") or ""), block.get("input") or {}))
    finish = FINISH.get(str(message.get("stop_reason")), "stop")
    ident = str(message.get("id") or new_id("chatcmpl-"))
    text = "".join(texts) if texts else None
    return completion(ident, model, [choice(text, calls, finish)], _usage(message.get("usage")))


class AnthropicStream:
    """Anthropic's stream events (message_start ... message_stop) as OpenAI chunks."""

    def __init__(self, model: str, fail: StreamFailure) -> None:
        self.chunks = Chunks(model)
        self.fail = fail
        self.done = False
        self.started = False
        self.tools: dict[int, int] = {}  # Anthropic content-block index -> OpenAI tool-call index
        self.silent: set[int] = set()  # tool calls whose arguments have not streamed yet
        self.finish: str | None = None
        self.counts: dict[str, Any] = {}

    def _begin(self, message: Any = None) -> list[dict[str, Any]]:
        if self.started:
            return []
        self.started = True
        if isinstance(message, dict) and message.get("id"):
            self.chunks.ident = str(message["id"])
        return [self.chunks.chunk({"role": "assistant", "content": ""})]

    def feed(self, event: SSEEvent) -> list[dict[str, Any]]:
        data = loads_event(PROVIDER, event)
        if not isinstance(data, dict):
            raise ProviderError("invalid_response", "anthropic streamed an event that is not an object")
        kind = data.get("type") or event.event
        if kind == "error":
            error = data.get("error")
            status = ERROR_STATUS.get(str(error.get("type")) if isinstance(error, dict) else "", 500)
            raise self.fail(status, data)
        if kind == "message_start":
            message = data.get("message")
            if isinstance(message, dict) and isinstance(message.get("usage"), dict):
                self.counts.update(message["usage"])
            return self._begin(message)
        if kind == "message_delta":
            delta = data.get("delta") if isinstance(data.get("delta"), dict) else {}
            assert isinstance(delta, dict)
            if delta.get("stop_reason"):
                self.finish = FINISH.get(str(delta["stop_reason"]), "stop")
            if isinstance(data.get("usage"), dict):
                self.counts.update({k: v for k, v in data["usage"].items() if v is not None})
            return []
        if kind == "message_stop":
            self.done = True
            return []
        if kind == "content_block_start":
            return self._begin() + self._block_start(data)
        if kind == "content_block_delta":
            return self._begin() + self._block_delta(data)
        if kind == "content_block_stop":
            index = self.tools.get(int(data.get("index") or 0))
            if index in self.silent:  # a call without arguments: "{}", which clients can parse
                self.silent.discard(index)
                return [
                    self.chunks.chunk({"tool_calls": [{"index": index, "function": {"arguments": "{}"}}]})
                ]
        return []  # ping, and event types added later

    def _block_start(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        block = data.get("content_block")
        if not isinstance(block, dict):
            return []
        if block.get("type") == "text" and block.get("text"):
            return [self.chunks.chunk({"content": str(block["text"])})]
        if block.get("type") != "tool_use":
            return []
        index = self.tools.setdefault(int(data.get("index") or 0), len(self.tools))
        given = block.get("input")
        if not given:
            self.silent.add(index)
        head = {
            "index": index,
            "id": str(block.get("id") or new_id("toolu_")),
            "type": "function",
            "function": {
                "name": str(block.get("name") or ""),
                "arguments": json.dumps(given) if given else "",
            },
        }
        return [self.chunks.chunk({"tool_calls": [head]})]

    def _block_delta(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        delta = data.get("delta")
        if not isinstance(delta, dict):
            return []
        if delta.get("type") == "text_delta" and delta.get("text"):
            return [self.chunks.chunk({"content": str(delta["text"])})]
        if delta.get("type") == "input_json_delta" and delta.get("partial_json"):
            index = self.tools.get(int(data.get("index") or 0))
            if index is not None:
                self.silent.discard(index)
                piece = {"index": index, "function": {"arguments": str(delta["partial_json"])}}
                return [self.chunks.chunk({"tool_calls": [piece]})]
        return []  # thinking, signature and citation deltas have no OpenAI counterpart

    def close(self) -> list[dict[str, Any]]:
        if not self.started:
            raise ProviderError("invalid_response", "anthropic ended the stream without a message")
        if not self.done:
            raise ProviderError("provider_unavailable", "anthropic's stream ended before message_stop")
        finish = self.finish or "stop"
        return [self.chunks.chunk({}, finish), self.chunks.usage_chunk(_usage(self.counts))]
