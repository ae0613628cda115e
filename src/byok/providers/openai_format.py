"""OpenAI chat-completions shapes: the builders every translation uses, and the passthrough.

The service speaks OpenAI's chat completions to its callers. Providers with their own API
(Anthropic, Gemini) build replies and chunks with :func:`completion`, :class:`Chunks` and
:func:`usage`; OpenAI-shaped providers (OpenAI, Azure, compatible servers) pass the request
through with :func:`passthrough_body` and normalise what comes back with
:func:`normalize_completion` and :class:`PassthroughStream`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import time
from abc import abstractmethod
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from functools import partial
from typing import Any

from byok.providers.base import Credential, Provider, ProviderError
from byok.providers.sse import SSEEvent

#: Builds a ProviderError from an error reported inside a stream: (HTTP-like status, body).
StreamFailure = Callable[[int, Any], ProviderError]

_DATA_URL = re.compile(
    r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(?:;[^,;]*)*?);base64,(?P<data>.*)$", re.S
)


def new_id(prefix: str) -> str:
    return f"{prefix}{secrets.token_urlsafe(18).replace('-', 'x').replace('_', 'y')}"


def unsupported(provider: str, what: str) -> ProviderError:
    """A request feature this provider's API cannot express: refused rather than silently dropped."""
    return ProviderError("invalid_response", f"{provider} cannot take {what} through this service")


def usage(prompt: int, completion: int, *, cached: int = 0, reasoning: int = 0) -> dict[str, Any]:
    """OpenAI's ``usage``; the details appear only when they say something."""
    found: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    if cached:
        found["prompt_tokens_details"] = {"cached_tokens": cached}
    if reasoning:
        found["completion_tokens_details"] = {"reasoning_tokens": reasoning}
    return found


ZERO_USAGE: dict[str, Any] = usage(0, 0)


def completion(ident: str, model: str, choices: list[dict[str, Any]], used: dict[str, Any]) -> dict[str, Any]:
    """A ``chat.completion`` object."""
    return {
        "id": ident,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": choices,
        "usage": used,
    }


def choice(
    text: str | None, tool_calls: list[dict[str, Any]], finish_reason: str, index: int = 0
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {"index": index, "message": message, "logprobs": None, "finish_reason": finish_reason}


def tool_call(ident: str, name: str, arguments: Any) -> dict[str, Any]:
    """An OpenAI tool call; ``arguments`` (an object) becomes the JSON string OpenAI carries."""
    return {
        "id": ident,
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(arguments, ensure_ascii=False)},
    }


class Chunks:
    """Builds the ``chat.completion.chunk`` objects of one streamed reply."""

    def __init__(self, model: str, ident: str | None = None) -> None:
        self.model = model
        self.ident = ident or new_id("chatcmpl-")
        self.created = int(time.time())

    def chunk(
        self, delta: dict[str, Any], finish_reason: str | None = None, index: int = 0
    ) -> dict[str, Any]:
        return {
            "id": self.ident,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": index, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
        }

    def usage_chunk(self, used: dict[str, Any]) -> dict[str, Any]:
        """The last chunk of every stream: no choices, only ``usage``."""
        return {
            "id": self.ident,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [],
            "usage": used,
        }


# -- reading OpenAI requests ------------------------------------------------------------------


def content_parts(content: Any) -> list[dict[str, Any]]:
    """A message's ``content`` as a list of parts (a plain string is one text part)."""
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if isinstance(content, list):
        return [p if isinstance(p, dict) else {"type": "text", "text": str(p)} for p in content]
    return [{"type": "text", "text": str(content)}]


def text_of(content: Any) -> str:
    """The text of a message's content (system prompts, tool results): text parts joined."""
    texts = [str(p.get("text") or p.get("refusal") or "") for p in content_parts(content)]
    return "\n".join(t for t in texts if t)


def data_url(url: str) -> tuple[str, str] | None:
    """``(mime type, base64 data)`` of a ``data:...;base64,`` URL, or None for any other URL."""
    match = _DATA_URL.match(url.strip())
    if not match:
        return None
    data = re.sub(r"\s+", "", match.group("data"))
    try:
        base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None
    return match.group("mime") or "application/octet-stream", data


def is_web_url(url: str) -> bool:
    return url.lower().startswith(("https://", "http://"))


def arguments_object(arguments: Any) -> dict[str, Any]:
    """A tool call's ``arguments`` string as the object Anthropic and Gemini want.

    Models now and then produce arguments that are not a JSON object; when a conversation sends
    such a call back, it travels as ``{"arguments": <the original string>}`` rather than failing.
    """
    if isinstance(arguments, dict):
        return arguments
    text = arguments if isinstance(arguments, str) else ""
    if not text.strip():
        return {}
    try:
        parsed = json.loads(text)
    except ValueError:
        return {"arguments": text}
    return parsed if isinstance(parsed, dict) else {"arguments": text}


def stop_list(stop: Any) -> list[str]:
    if isinstance(stop, str):
        return [stop] if stop else []
    if isinstance(stop, list):
        return [s for s in stop if isinstance(s, str) and s]
    return []


def max_output_tokens(request: dict[str, Any]) -> int | None:
    value = request.get("max_completion_tokens")
    if value is None:
        value = request.get("max_tokens")
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def loads_event(provider: str, event: SSEEvent) -> Any:
    try:
        return json.loads(event.data)
    except ValueError:
        raise ProviderError("invalid_response", f"{provider} streamed an event that is not JSON") from None


# -- the passthrough (OpenAI, Azure, compatible servers) ----------------------------------------


def passthrough_body(
    request: dict[str, Any],
    model: str | None,
    *,
    stream: bool,
    completion_tokens: bool,
    include_usage: bool = True,
) -> dict[str, Any]:
    """The caller's request for an OpenAI-shaped API: unknown fields kept, the model replaced.

    ``model`` None leaves the model out (Azure's dated API names the deployment in the path).
    ``completion_tokens`` renames the deprecated ``max_tokens`` to ``max_completion_tokens``,
    which OpenAI's reasoning models require. Streams ask for usage (``include_usage``).
    """
    body = {k: v for k, v in request.items() if k not in ("model", "stream", "stream_options")}
    if model is not None:
        body = {"model": model, **body}
    if completion_tokens and "max_tokens" in body:
        value = body.pop("max_tokens")
        body.setdefault("max_completion_tokens", value)
    if stream:
        body["stream"] = True
        if include_usage:
            options = request.get("stream_options")
            body["stream_options"] = {**(options if isinstance(options, dict) else {}), "include_usage": True}
    return body


def normalize_completion(reply: Any, model: str, provider: str) -> dict[str, Any]:
    """An OpenAI-shaped reply with the binding's model, an id, and always a ``usage``.

    A compatible server that reports no usage gets zeros: the service does not guess token
    counts.
    """
    if not isinstance(reply, dict) or not isinstance(reply.get("choices"), list):
        raise ProviderError("invalid_response", f"{provider}'s chat completion is not in OpenAI's shape")
    out: dict[str, Any] = dict(reply)
    out.setdefault("id", new_id("chatcmpl-"))
    out["object"] = "chat.completion"
    out.setdefault("created", int(time.time()))
    out["model"] = model
    if not isinstance(out.get("usage"), dict):
        out["usage"] = dict(ZERO_USAGE)
    return out


def completion_as_chunks(reply: dict[str, Any], chunks: Chunks) -> list[dict[str, Any]]:
    """The chunks of a whole completion, for a server that answered a stream request with JSON."""
    out: list[dict[str, Any]] = []
    for item in reply.get("choices") or []:
        if not isinstance(item, dict):
            continue
        index = int(item.get("index") or 0)
        message = item.get("message") if isinstance(item.get("message"), dict) else {}
        assert isinstance(message, dict)
        out.append(chunks.chunk({"role": "assistant", "content": message.get("content")}, index=index))
        calls = message.get("tool_calls")
        for position, call in enumerate(calls if isinstance(calls, list) else []):
            out.append(chunks.chunk({"tool_calls": [{"index": position, **call}]}, index=index))
        out.append(chunks.chunk({}, item.get("finish_reason") or "stop", index=index))
    return out


class PassthroughStream:
    """Relays an OpenAI-shaped SSE stream: the binding's model on every chunk, usage held to the end.

    Usage is taken from wherever the server put it (OpenAI's own ``choices: []`` chunk, or a
    field on content chunks) and sent once, as the last chunk. A server that ignored
    ``stream_options`` gets a usage chunk of zeros: token counts are never estimated.
    """

    def __init__(self, provider: str, model: str, fail: StreamFailure) -> None:
        self.provider = provider
        self.model = model
        self.fail = fail
        self.done = False
        self.used: dict[str, Any] | None = None
        self.chunks = Chunks(model)
        self.seen = False
        # Every chunk carries the id of the first chunk that has one (Azure opens its streams
        # with an id-less chunk of prompt filter results and no choices, which is not relayed).
        self.named = False

    def feed(self, event: SSEEvent) -> list[dict[str, Any]]:
        if event.data.strip() == "[DONE]":
            self.done = True
            return []
        data = loads_event(self.provider, event)
        if not isinstance(data, dict):
            raise ProviderError("invalid_response", f"{self.provider} streamed a chunk that is not an object")
        if data.get("error") is not None or event.event == "error":
            raise self.fail(_error_status(data), data)
        self.seen = True
        if not self.named and data.get("id"):
            self.chunks.ident, self.named = str(data["id"]), True
        if isinstance(data.get("usage"), dict):
            self.used = data["usage"]
        if data.get("object") == "chat.completion":  # the server ignored "stream"
            self.done = True
            return completion_as_chunks(data, self.chunks)
        choices = data.get("choices")
        if not isinstance(choices, list):
            raise ProviderError("invalid_response", f"{self.provider} streamed a chunk without choices")
        if not choices:
            return []
        self.named = True
        chunk = {k: v for k, v in data.items() if k != "usage"}
        chunk["id"] = self.chunks.ident
        chunk["object"] = "chat.completion.chunk"
        chunk["created"] = data.get("created") or self.chunks.created
        chunk["model"] = self.model
        return [chunk]

    def close(self) -> list[dict[str, Any]]:
        if not self.seen:
            raise ProviderError("invalid_response", f"{self.provider} ended the stream without a chunk")
        return [self.chunks.usage_chunk(self.used if self.used is not None else dict(ZERO_USAGE))]


def _error_status(data: dict[str, Any]) -> int:
    """The HTTP status an error inside an OpenAI-shaped stream would have had."""
    error = data.get("error")
    code = error.get("code") if isinstance(error, dict) else None
    if isinstance(code, int) and 400 <= code < 600:
        return code
    if isinstance(code, str) and code.isdigit() and 400 <= int(code) < 600:
        return int(code)
    if str(code) in ("rate_limit_exceeded", "insufficient_quota"):
        return 429
    return 500


class PassthroughProvider(Provider):
    """``chat`` and ``stream`` for the OpenAI-shaped APIs; a subclass says where a request goes."""

    @abstractmethod
    def chat_request(
        self, credential: Credential, model: str, request: dict[str, Any], *, stream: bool
    ) -> tuple[str, dict[str, str] | None, dict[str, Any]]:
        """URL, query and body of a chat completion for ``request`` on ``model``."""

    @abstractmethod
    def headers(self, credential: Credential) -> dict[str, str]: ...

    async def chat(self, credential: Credential, model: str, request: dict[str, Any]) -> dict[str, Any]:
        url, params, body = self.chat_request(credential, model, request, stream=False)
        reply = await self.send(
            credential,
            "POST",
            url,
            headers=self.headers(credential),
            json_body=body,
            params=params,
            timeout=self.chat_timeout(),
        )
        return normalize_completion(reply, model, self.name)

    async def stream(
        self, credential: Credential, model: str, request: dict[str, Any]
    ) -> AsyncIterator[dict[str, Any]]:
        url, params, body = self.chat_request(credential, model, request, stream=True)
        translator = PassthroughStream(self.name, model, partial(self.event_failure, credential))
        chunks = self.relay(
            credential, translator, url, headers=self.headers(credential), json_body=body, params=params
        )
        async with aclosing(chunks):
            async for chunk in chunks:
                yield chunk
