"""OpenAI chat completions to Gemini's ``generateContent`` and back: the Gemini API and Vertex AI.

Both speak the same body and reply; only the URL and the auth differ. Notes on the translation:

* Images given as http(s) URLs are never fetched by the service: they go as
  ``fileData: {mimeType, fileUri}`` and Google fetches them (``gs://`` URIs too, for Vertex).
  The MIME type is guessed from the URL's extension, ``image/jpeg`` when it has none known.
* Gemini 3 signs its function calls (``thoughtSignature``) and refuses a replayed call without
  its signature. A reply's signature travels on the tool call as
  ``extra_content.google.thought_signature`` (as in Google's own OpenAI-compatible endpoint) and
  goes back from there; a replayed call without one, on Gemini 3 and later, gets Google's
  documented ``skip_thought_signature_validator`` placeholder.
* Tool schemas and ``json_schema`` response formats pass through :func:`gemini_schema`.
* ``n`` becomes ``candidateCount`` (one choice per candidate). Tools other than functions,
  files by ``file_id``, and images that are neither data: nor http(s)/gs:// URLs are refused with
  a ``ProviderError``. ``logprobs``, ``logit_bias``, ``reasoning_effort``, ``store`` and other
  OpenAI-only fields are ignored.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from byok.providers.base import ProviderError
from byok.providers.gemini_schema import gemini_schema
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
    unsupported,
    usage,
)
from byok.providers.sse import SSEEvent

SKIP_SIGNATURE = "skip_thought_signature_validator"
FILTERED = frozenset({"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY"})
_MIME_BY_EXTENSION = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".heic": "image/heic",
    ".heif": "image/heif",
    ".pdf": "application/pdf",
}
_AUDIO = {"wav": "audio/wav", "mp3": "audio/mp3"}
_GENERATION = re.compile(r"gemini-(\d+)")
_TOOL_MODES = {"auto": "AUTO", "required": "ANY", "none": "NONE"}


def guess_mime(url: str) -> str:
    path = urlsplit(url).path.lower()
    for extension, mime in _MIME_BY_EXTENSION.items():
        if path.endswith(extension):
            return mime
    return "image/jpeg"


def signs_calls(model: str) -> bool:
    """True for Gemini 3 and later, which refuse replayed function calls without a signature."""
    match = _GENERATION.search(model)
    return match is not None and int(match.group(1)) >= 3


# -- request ----------------------------------------------------------------------------------


def _user_parts(content: Any, provider: str) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    for part in content_parts(content):
        kind = part.get("type")
        if kind == "text":
            if text := str(part.get("text") or ""):
                parts.append({"text": text})
        elif kind == "image_url":
            image = part.get("image_url")
            url = str(image.get("url") or "") if isinstance(image, dict) else str(image or "")
            if inline := data_url(url):
                parts.append({"inlineData": {"mimeType": inline[0], "data": inline[1]}})
            elif is_web_url(url) or url.startswith("gs://"):
                parts.append({"fileData": {"mimeType": guess_mime(url), "fileUri": url}})
            else:
                raise unsupported(provider, "an image that is neither a data: URL nor an http(s) URL")
        elif kind == "input_audio":
            audio = part.get("input_audio") if isinstance(part.get("input_audio"), dict) else {}
            assert isinstance(audio, dict)
            mime = _AUDIO.get(str(audio.get("format")), f"audio/{audio.get('format')}")
            parts.append({"inlineData": {"mimeType": mime, "data": str(audio.get("data") or "")}})
        elif kind == "file":
            file = part.get("file") if isinstance(part.get("file"), dict) else {}
            assert isinstance(file, dict)
            inline = data_url(str(file.get("file_data") or ""))
            if inline is None:
                raise unsupported(provider, "files other than data: URLs (file_id)")
            parts.append({"inlineData": {"mimeType": inline[0], "data": inline[1]}})
        else:
            raise unsupported(provider, f"content parts of type {kind!r}")
    return parts


def _model_parts(message: dict[str, Any], names: dict[str, str], model: str) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    if text := text_of(message.get("content")):
        parts.append({"text": text})
    calls = [c for c in message.get("tool_calls") or [] if isinstance(c, dict)]
    signed = False
    for call in calls:
        function = call.get("function") if isinstance(call.get("function"), dict) else {}
        assert isinstance(function, dict)
        name = str(function.get("name") or "")
        if isinstance(call.get("id"), str):
            names[call["id"]] = name
        part: dict[str, Any] = {
            "functionCall": {"name": name, "args": arguments_object(function.get("arguments"))}
        }
        extra = call.get("extra_content")
        google = extra.get("google") if isinstance(extra, dict) else None
        signature = google.get("thought_signature") if isinstance(google, dict) else None
        if isinstance(signature, str) and signature:
            part["thoughtSignature"] = signature
            signed = True
        parts.append(part)
    if calls and not signed and signs_calls(model):
        first = next(p for p in parts if "functionCall" in p)
        first["thoughtSignature"] = SKIP_SIGNATURE
    return parts


def _function_response(message: dict[str, Any], names: dict[str, str], provider: str) -> dict[str, Any]:
    ident = message.get("tool_call_id")
    name = names.get(ident) if isinstance(ident, str) else None
    name = name or (message.get("name") if isinstance(message.get("name"), str) else None)
    if not name:
        raise ProviderError(
            "invalid_response", f"a tool message answers {ident!r}, which no earlier assistant tool call made"
        )
    text = text_of(message.get("content"))
    try:
        result: Any = json.loads(text)
    except ValueError:
        result = text
    return {"functionResponse": {"name": name, "response": {"content": result}}}


def _contents(request: dict[str, Any], model: str, provider: str) -> tuple[list[str], list[dict[str, Any]]]:
    system: list[str] = []
    contents: list[dict[str, Any]] = []
    names: dict[str, str] = {}  # tool_call_id -> function name, from earlier assistant messages
    for message in request.get("messages") or []:
        if not isinstance(message, dict):
            raise ProviderError("invalid_response", "every message must be an object")
        role = message.get("role")
        if role in ("system", "developer"):
            if text := text_of(message.get("content")):
                system.append(text)
            continue
        if role == "user":
            parts = _user_parts(message.get("content"), provider)
        elif role == "assistant":
            role, parts = "model", _model_parts(message, names, model)
        elif role == "tool":
            role, parts = "user", [_function_response(message, names, provider)]
        else:
            raise unsupported(provider, f"messages with role {role!r}")
        if not parts:
            continue
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": role, "parts": parts})
    return system, contents


def _declarations(request: dict[str, Any], provider: str) -> list[dict[str, Any]]:
    declarations: list[dict[str, Any]] = []
    for tool in request.get("tools") or []:
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(tool, dict) or tool.get("type") != "function" or not isinstance(function, dict):
            kind = tool.get("type") if isinstance(tool, dict) else None
            raise unsupported(provider, f"tools of type {kind!r}")
        entry: dict[str, Any] = {"name": str(function.get("name") or "")}
        if function.get("description"):
            entry["description"] = str(function["description"])
        parameters = gemini_schema(function.get("parameters"))
        if parameters.get("properties"):  # Gemini refuses an OBJECT without properties
            entry["parameters"] = parameters
        declarations.append(entry)
    return declarations


def _tool_config(request: dict[str, Any]) -> dict[str, Any] | None:
    wanted = request.get("tool_choice")
    if isinstance(wanted, str) and wanted in _TOOL_MODES:
        return {"functionCallingConfig": {"mode": _TOOL_MODES[wanted]}}
    if isinstance(wanted, dict) and isinstance(wanted.get("function"), dict):
        name = str(wanted["function"].get("name") or "")
        return {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [name]}}
    return None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _generation_config(request: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = {}
    if (limit := max_output_tokens(request)) is not None:
        config["maxOutputTokens"] = limit
    for source, target in (
        ("temperature", "temperature"),
        ("top_p", "topP"),
        ("presence_penalty", "presencePenalty"),
        ("frequency_penalty", "frequencyPenalty"),
    ):
        if (value := _number(request.get(source))) is not None:
            config[target] = value
    if stops := stop_list(request.get("stop")):
        config["stopSequences"] = stops
    if isinstance(request.get("seed"), int) and not isinstance(request.get("seed"), bool):
        config["seed"] = request["seed"]
    if isinstance(request.get("n"), int) and request["n"] > 1:
        config["candidateCount"] = request["n"]
    wanted = request.get("response_format")
    kind = wanted.get("type") if isinstance(wanted, dict) else None
    if kind in ("json_object", "json_schema"):
        config["responseMimeType"] = "application/json"
    if kind == "json_schema" and isinstance(wanted, dict):
        spec = wanted.get("json_schema")
        if isinstance(spec, dict) and isinstance(spec.get("schema"), dict):
            config["responseSchema"] = gemini_schema(spec["schema"])
    return config


def to_generate_request(request: dict[str, Any], model: str, provider: str) -> dict[str, Any]:
    """The ``generateContent`` body for an OpenAI chat-completions ``request``."""
    system, contents = _contents(request, model, provider)
    body: dict[str, Any] = {"contents": contents}
    if system:
        body["systemInstruction"] = {"parts": [{"text": "\n\n".join(system)}]}
    if declarations := _declarations(request, provider):
        body["tools"] = [{"functionDeclarations": declarations}]
        if (config := _tool_config(request)) is not None:
            body["toolConfig"] = config
    if generation := _generation_config(request):
        body["generationConfig"] = generation
    return body


# -- reply ------------------------------------------------------------------------------------


def finish_reason(raw: Any, has_calls: bool) -> str:
    if raw == "MAX_TOKENS":
        return "length"
    if raw in FILTERED:
        return "content_filter"
    return "tool_calls" if has_calls else "stop"


def gemini_usage(raw: Any) -> dict[str, Any]:
    raw = raw if isinstance(raw, dict) else {}

    def count(name: str) -> int:
        value = raw.get(name)
        return int(value) if isinstance(value, int | float) else 0

    thoughts = count("thoughtsTokenCount")
    prompt = count("promptTokenCount") + count("toolUsePromptTokenCount")
    return usage(
        prompt,
        count("candidatesTokenCount") + thoughts,
        cached=count("cachedContentTokenCount"),
        reasoning=thoughts,
    )


def _call(part: dict[str, Any]) -> dict[str, Any]:
    call = part["functionCall"]
    ident = call.get("id") if isinstance(call.get("id"), str) and call.get("id") else new_id("call_")
    args = call.get("args") if isinstance(call.get("args"), dict) else {}
    out: dict[str, Any] = {
        "id": ident,
        "type": "function",
        "function": {"name": str(call.get("name") or ""), "arguments": json.dumps(args, ensure_ascii=False)},
    }
    if isinstance(part.get("thoughtSignature"), str):
        out["extra_content"] = {"google": {"thought_signature": part["thoughtSignature"]}}
    return out


def _parts(candidate: dict[str, Any]) -> list[dict[str, Any]]:
    content = candidate.get("content")
    parts = content.get("parts") if isinstance(content, dict) else None
    usable = [p for p in parts if isinstance(p, dict)] if isinstance(parts, list) else []
    return [p for p in usable if not p.get("thought")]


def _index(candidate: dict[str, Any], position: int) -> int:
    index = candidate.get("index")
    return index if isinstance(index, int) else position


def _candidates(body: dict[str, Any]) -> list[dict[str, Any]]:
    found = body.get("candidates")
    return [c for c in found if isinstance(c, dict)] if isinstance(found, list) else []


def from_generate_response(body: Any, model: str, provider: str) -> dict[str, Any]:
    """The OpenAI ``chat.completion`` for a ``GenerateContentResponse``."""
    if not isinstance(body, dict):
        raise ProviderError("invalid_response", f"{provider}'s reply is not a GenerateContentResponse")
    choices: list[dict[str, Any]] = []
    for position, candidate in enumerate(_candidates(body)):
        parts = _parts(candidate)
        texts = [str(p["text"]) for p in parts if isinstance(p.get("text"), str)]
        calls = [_call(p) for p in parts if isinstance(p.get("functionCall"), dict)]
        index = _index(candidate, position)
        finish = finish_reason(candidate.get("finishReason"), bool(calls))
        choices.append(choice("".join(texts) if texts else None, calls, finish, index))
    if not choices:  # the prompt itself was blocked
        feedback = body.get("promptFeedback")
        blocked = isinstance(feedback, dict) and feedback.get("blockReason")
        choices.append(choice(None, [], "content_filter" if blocked else "stop"))
    ident = str(body.get("responseId") or new_id("chatcmpl-"))
    return completion(ident, model, choices, gemini_usage(body.get("usageMetadata")))


class GeminiStream:
    """``streamGenerateContent?alt=sse`` events (each a GenerateContentResponse) as OpenAI chunks."""

    def __init__(self, model: str, provider: str, fail: StreamFailure) -> None:
        self.chunks = Chunks(model)
        self.provider = provider
        self.fail = fail
        self.done = False  # Gemini has no closing event: the stream just ends
        self.started = False
        self.finishes: dict[int, Any] = {}
        self.calls: dict[int, int] = {}  # candidate index -> tool calls so far
        self.counts: Any = None

    def feed(self, event: SSEEvent) -> list[dict[str, Any]]:
        data = loads_event(self.provider, event)
        out: list[dict[str, Any]] = []
        for item in data if isinstance(data, list) else [data]:
            if not isinstance(item, dict):
                raise ProviderError(
                    "invalid_response", f"{self.provider} streamed an event that is not an object"
                )
            out += self._response(item)
        return out

    def _response(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        error = data.get("error")
        if isinstance(error, dict):
            code = error.get("code")
            raise self.fail(code if isinstance(code, int) and 400 <= code < 600 else 500, data)
        out: list[dict[str, Any]] = []
        if not self.started:
            self.started = True
            if data.get("responseId"):
                self.chunks.ident = str(data["responseId"])
            out.append(self.chunks.chunk({"role": "assistant", "content": ""}))
        if data.get("usageMetadata") is not None:
            self.counts = data["usageMetadata"]
        for position, candidate in enumerate(_candidates(data)):
            index = _index(candidate, position)
            for part in _parts(candidate):
                if isinstance(part.get("text"), str) and part["text"]:
                    out.append(self.chunks.chunk({"content": part["text"]}, index=index))
                elif isinstance(part.get("functionCall"), dict):
                    number = self.calls.get(index, 0)
                    self.calls[index] = number + 1
                    delta = {"tool_calls": [{"index": number, **_call(part)}]}
                    out.append(self.chunks.chunk(delta, index=index))
            if candidate.get("finishReason"):
                self.finishes[index] = candidate["finishReason"]
        feedback = data.get("promptFeedback")
        if not _candidates(data) and isinstance(feedback, dict) and feedback.get("blockReason"):
            self.finishes.setdefault(0, "SAFETY")  # the prompt itself was blocked
        return out

    def close(self) -> list[dict[str, Any]]:
        if not self.started:
            raise ProviderError("invalid_response", f"{self.provider} ended the stream without a response")
        if not self.finishes:
            raise ProviderError(
                "provider_unavailable", f"{self.provider}'s stream ended before a finish reason"
            )
        out = [
            self.chunks.chunk({}, finish_reason(raw, bool(self.calls.get(index))), index=index)
            for index, raw in sorted(self.finishes.items())
        ]
        return [*out, self.chunks.usage_chunk(gemini_usage(self.counts))]
