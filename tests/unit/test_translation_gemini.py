"""``chat`` and ``stream`` for Google AI Studio and Vertex AI (one Gemini translation), against the fakes."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pytest

from byok.providers.base import Credential, KeyConfig, Provider, ProviderContext, ProviderError
from byok.providers.gemini_format import (
    SKIP_SIGNATURE,
    GeminiStream,
    from_generate_response,
    to_generate_request,
)
from byok.providers.gemini_schema import gemini_schema
from byok.providers.google import GoogleProvider
from byok.providers.sse import SSEEvent
from byok.providers.vertex import VertexProvider
from tests.fakes import RATE_LIMITED, REJECT, UNAVAILABLE, FakeProvider, FakeProviders, make_service_account
from tests.unit.chat_helpers import (
    HTTPS_IMAGE,
    PNG,
    PNG_URL,
    TOOL_CONVERSATION,
    WEATHER_TOOL,
    chat_error,
    collect,
    completion,
    reassemble,
    stream_error,
    usage,
)

GOOGLE_KEY = "AIzaSyD-Fq9Wm2Xr7Tn4Lp8Zs1Vb6Kc3Hj0Ye5U"
MODEL = "gemini-2.5-flash"
CALL_ID = re.compile(r"^call_\w+$")
WEATHER_DECLARATION = {
    "name": "get_weather",
    "description": "The weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
SERVICE_ACCOUNT = make_service_account("test-proj")


@dataclass
class Case:
    name: str

    def fake(self, fakes: FakeProviders) -> FakeProvider:
        return fakes.google if self.name == "google" else fakes.vertex

    def key(self) -> str:
        return GOOGLE_KEY if self.name == "google" else SERVICE_ACCOUNT["client_email"]

    def credential(self) -> Credential:
        if self.name == "google":
            return Credential(config=KeyConfig(provider="google"), api_key=GOOGLE_KEY)
        config = KeyConfig(provider="vertex", location="us-central1")
        return Credential(config=config, service_account=SERVICE_ACCOUNT)

    def provider(self, ctx: ProviderContext) -> Provider:
        return GoogleProvider(ctx) if self.name == "google" else VertexProvider(ctx)

    def path(self, model: str, verb: str) -> str:
        if self.name == "google":
            return f"/v1beta/models/{model}:{verb}"
        return f"/v1/projects/test-proj/locations/us-central1/publishers/google/models/{model}:{verb}"


@pytest.fixture(params=["google", "vertex"])
def case(request: pytest.FixtureRequest, fakes: FakeProviders) -> Case:
    chosen = Case(request.param)
    chosen.fake(fakes).script(chosen.key())
    return chosen


def sent(case: Case, fakes: FakeProviders, model: str = MODEL, verb: str = "generateContent") -> Any:
    """The one generation request the fake saw, after checking its path, auth and query."""
    (record,) = [r for r in case.fake(fakes).requests if ":" in r.path]
    assert record.method == "POST" and record.path == case.path(model, verb)
    assert record.query == ({"alt": "sse"} if verb == "streamGenerateContent" else {})
    if case.name == "google":
        assert record.headers["x-goog-api-key"] == GOOGLE_KEY
        assert "authorization" not in record.headers
    else:
        assert record.headers["authorization"].startswith("Bearer ya29.fake-")
    assert fakes.violations == []
    return record.json


def message(text: str | None, tool_calls: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None}
    if tool_calls:
        found["tool_calls"] = tool_calls
    return found


async def test_plain_text_with_a_system_message(
    case: Case, fakes: FakeProviders, fake_ctx: ProviderContext
) -> None:
    case.fake(fakes).queue_reply(text="Hello there", usage=(12, 3))
    request = {
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": "Answer in English."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello! How can I help?"},
            {"role": "user", "content": [{"type": "text", "text": "Say hello"}]},
        ],
        "max_completion_tokens": 200,
        "temperature": 0.4,
        "top_p": 0.9,
        "stop": ["END"],
        "seed": 3,
        "logit_bias": {"1": 2},
    }

    reply = await case.provider(fake_ctx).chat(case.credential(), MODEL, request)

    assert reply == completion(MODEL, message("Hello there"), "stop", usage(12, 3))
    assert sent(case, fakes) == {
        "contents": [
            {"role": "user", "parts": [{"text": "Hi"}]},
            {"role": "model", "parts": [{"text": "Hello! How can I help?"}]},
            {"role": "user", "parts": [{"text": "Say hello"}]},
        ],
        "systemInstruction": {"parts": [{"text": "Be brief.\n\nAnswer in English."}]},
        "generationConfig": {
            "maxOutputTokens": 200,
            "temperature": 0.4,
            "topP": 0.9,
            "stopSequences": ["END"],
            "seed": 3,
        },
    }


async def test_images(case: Case, fakes: FakeProviders, fake_ctx: ProviderContext) -> None:
    content = [
        {"type": "text", "text": "What are these?"},
        {"type": "image_url", "image_url": {"url": PNG_URL}},
        {"type": "image_url", "image_url": {"url": HTTPS_IMAGE}},
        {"type": "image_url", "image_url": {"url": "https://example.com/photo?id=1"}},
    ]
    await case.provider(fake_ctx).chat(
        case.credential(), MODEL, {"messages": [{"role": "user", "content": content}]}
    )
    assert sent(case, fakes)["contents"] == [
        {
            "role": "user",
            "parts": [
                {"text": "What are these?"},
                {"inlineData": {"mimeType": "image/png", "data": PNG}},
                {"fileData": {"mimeType": "image/png", "fileUri": HTTPS_IMAGE}},
                {"fileData": {"mimeType": "image/jpeg", "fileUri": "https://example.com/photo?id=1"}},
            ],
        }
    ]


async def test_tools_and_tool_choice(case: Case, fakes: FakeProviders, fake_ctx: ProviderContext) -> None:
    case.fake(fakes).queue_reply(
        text="Checking.", tool_calls=[{"name": "get_weather", "arguments": {"city": "Paris"}}]
    )
    request = {
        "messages": [{"role": "user", "content": "Weather in Paris?"}],
        "tools": [
            WEATHER_TOOL,
            {"type": "function", "function": {"name": "now", "parameters": {"type": "object"}}},
        ],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
    }

    reply = await case.provider(fake_ctx).chat(case.credential(), MODEL, request)

    (call,) = reply["choices"][0]["message"]["tool_calls"]
    assert CALL_ID.match(call["id"])
    expected_call = {
        "id": call["id"],
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
    }
    assert reply == completion(MODEL, message("Checking.", [expected_call]), "tool_calls", usage())
    assert sent(case, fakes) == {
        "contents": [{"role": "user", "parts": [{"text": "Weather in Paris?"}]}],
        "tools": [{"functionDeclarations": [WEATHER_DECLARATION, {"name": "now"}]}],
        "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}},
    }


@pytest.mark.parametrize(("choice", "mode"), [("auto", "AUTO"), ("required", "ANY"), ("none", "NONE")])
def test_tool_choice_modes(choice: str, mode: str) -> None:
    request = {"messages": [{"role": "user", "content": "x"}], "tools": [WEATHER_TOOL], "tool_choice": choice}
    assert to_generate_request(request, MODEL, "google")["toolConfig"] == {
        "functionCallingConfig": {"mode": mode}
    }


async def test_a_conversation_with_tool_results(
    case: Case, fakes: FakeProviders, fake_ctx: ProviderContext
) -> None:
    case.fake(fakes).queue_reply(text="Paris.", finish_reason="length")
    reply = await case.provider(fake_ctx).chat(
        case.credential(), MODEL, {"messages": TOOL_CONVERSATION, "tools": [WEATHER_TOOL]}
    )
    assert reply["choices"][0]["finish_reason"] == "length"
    body = sent(case, fakes)
    assert body["systemInstruction"] == {"parts": [{"text": "Use tools."}]}
    assert body["contents"] == [
        {"role": "user", "parts": [{"text": "Weather in Paris and Rome?"}]},
        {
            "role": "model",
            "parts": [
                {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}},
                {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}}},
            ],
        },
        {
            "role": "user",
            "parts": [
                {"functionResponse": {"name": "get_weather", "response": {"content": {"temp": 21}}}},
                {"functionResponse": {"name": "get_weather", "response": {"content": "sunny"}}},
                {"text": "Thanks. Which is warmer?"},
            ],
        },
    ]


async def test_gemini_3_thought_signatures(
    case: Case, fakes: FakeProviders, fake_ctx: ProviderContext
) -> None:
    """A call's own signature goes back; a call without one gets Google's documented placeholder."""
    model = "gemini-3.5-flash"
    signed = {
        "id": "call_s",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
        "extra_content": {"google": {"thought_signature": "c2lnbmF0dXJl"}},
    }
    messages = [
        *TOOL_CONVERSATION,
        {"role": "assistant", "content": None, "tool_calls": [signed]},
        {"role": "tool", "tool_call_id": "call_s", "content": "cold"},
    ]
    await case.provider(fake_ctx).chat(
        case.credential(), model, {"messages": messages, "tools": [WEATHER_TOOL]}
    )
    contents = sent(case, fakes, model)["contents"]
    assert contents[1]["parts"] == [
        {
            "functionCall": {"name": "get_weather", "args": {"city": "Paris"}},
            "thoughtSignature": SKIP_SIGNATURE,
        },
        {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}}},
    ]
    assert contents[3]["parts"] == [
        {
            "functionCall": {"name": "get_weather", "args": {"city": "Oslo"}},
            "thoughtSignature": "c2lnbmF0dXJl",
        }
    ]


def test_a_signature_in_a_reply_travels_on_the_tool_call() -> None:
    body = {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [
                        {"text": "secret musings", "thought": True},
                        {"functionCall": {"name": "f", "args": {"a": 1}}, "thoughtSignature": "c2ln"},
                    ],
                },
                "finishReason": "STOP",
            }
        ],
        "usageMetadata": {"promptTokenCount": 4, "candidatesTokenCount": 2, "thoughtsTokenCount": 5},
    }
    reply = from_generate_response(body, "gemini-3.5-flash", "google")
    (call,) = reply["choices"][0]["message"]["tool_calls"]
    assert call["extra_content"] == {"google": {"thought_signature": "c2ln"}}
    assert reply["choices"][0]["message"]["content"] is None
    assert reply["usage"] == {
        "prompt_tokens": 4,
        "completion_tokens": 7,
        "total_tokens": 11,
        "completion_tokens_details": {"reasoning_tokens": 5},
    }


@pytest.mark.parametrize(
    ("raw", "finish"),
    [
        ("SAFETY", "content_filter"),
        ("RECITATION", "content_filter"),
        ("PROHIBITED_CONTENT", "content_filter"),
        ("BLOCKLIST", "content_filter"),
        ("MAX_TOKENS", "length"),
        ("STOP", "stop"),
        ("OTHER", "stop"),
    ],
)
def test_finish_reasons(raw: str, finish: str) -> None:
    body = {"candidates": [{"content": {"parts": [{"text": "x"}]}, "finishReason": raw}]}
    assert from_generate_response(body, MODEL, "google")["choices"][0]["finish_reason"] == finish


def test_a_blocked_prompt() -> None:
    reply = from_generate_response({"promptFeedback": {"blockReason": "SAFETY"}}, MODEL, "google")
    assert reply["choices"] == [
        {"index": 0, "message": message(None), "logprobs": None, "finish_reason": "content_filter"}
    ]
    assert reply["usage"] == usage(0, 0)


def test_response_formats_and_n() -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {"answer": {"type": "string"}},
        "required": ["answer"],
        "additionalProperties": False,
    }
    request = {
        "messages": [{"role": "user", "content": "x"}],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "a", "schema": schema, "strict": True},
        },
        "n": 2,
        "presence_penalty": 0.5,
    }
    assert to_generate_request(request, MODEL, "google")["generationConfig"] == {
        "presencePenalty": 0.5,
        "candidateCount": 2,
        "responseMimeType": "application/json",
        "responseSchema": {
            "type": "object",
            "properties": {"answer": {"type": "string"}},
            "required": ["answer"],
        },
    }
    request["response_format"] = {"type": "json_object"}
    assert (
        to_generate_request(request, MODEL, "google")["generationConfig"]["responseMimeType"]
        == "application/json"
    )


def test_schemas_are_rebuilt_for_gemini() -> None:
    schema = {
        "$schema": "x",
        "$defs": {
            "Place": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "format": "uri"},
                    "near": {"$ref": "#/$defs/Place"},
                },
                "additionalProperties": False,
            }
        },
        "type": "object",
        "properties": {
            "additionalProperties": {"type": ["string", "null"], "default": "x"},  # a property NAME: kept
            "place": {"$ref": "#/$defs/Place", "description": "where"},
            "when": {"type": "string", "format": "date-time"},
            "kind": {"const": "trip"},
            "either": {"oneOf": [{"type": "integer"}, {"type": "null"}]},
            "tags": {"type": "array", "items": {"type": "string", "examples": ["a"]}},
        },
        "required": ["place", "missing"],
        "additionalProperties": False,
    }
    assert gemini_schema(schema) == {
        "type": "object",
        "properties": {
            "additionalProperties": {"type": "string", "nullable": True},
            "place": {
                "type": "object",
                "description": "where",
                "properties": {"name": {"type": "string"}, "near": {"type": "object"}},
            },
            "when": {"type": "string", "format": "date-time"},
            "kind": {"type": "string", "enum": ["trip"]},
            "either": {"type": "integer", "nullable": True},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["place"],
    }


@pytest.mark.parametrize(
    "part",
    [
        {"type": "image_url", "image_url": {"url": "file:///etc/passwd"}},
        {"type": "file", "file": {"file_id": "file-123"}},
        {"type": "video", "video": {}},
    ],
)
def test_what_cannot_be_translated_is_refused(part: dict[str, Any]) -> None:
    with pytest.raises(ProviderError) as info:
        to_generate_request({"messages": [{"role": "user", "content": [part]}]}, MODEL, "google")
    assert info.value.reason == "invalid_response"


def test_a_tool_result_for_an_unknown_call_is_refused() -> None:
    with pytest.raises(ProviderError):
        to_generate_request(
            {"messages": [{"role": "tool", "tool_call_id": "x", "content": "1"}]}, MODEL, "google"
        )


def test_audio_and_files_go_inline() -> None:
    parts = [
        {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
        {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBERi0="}},
    ]
    body = to_generate_request({"messages": [{"role": "user", "content": parts}]}, MODEL, "google")
    assert body["contents"][0]["parts"] == [
        {"inlineData": {"mimeType": "audio/wav", "data": "UklGRg=="}},
        {"inlineData": {"mimeType": "application/pdf", "data": "JVBERi0="}},
    ]


async def test_streaming_text(case: Case, fakes: FakeProviders, fake_ctx: ProviderContext) -> None:
    case.fake(fakes).queue_reply(text="Hello streaming world", usage=(21, 8))
    request = {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 50}

    chunks = await collect(case.provider(fake_ctx).stream(case.credential(), MODEL, request))

    assert reassemble(chunks, MODEL) == {
        "content": "Hello streaming world",
        "tool_calls": [],
        "finish_reason": "stop",
        "usage": usage(21, 8),
    }
    assert len(chunks) == 6  # role, three text pieces, finish, usage
    assert sent(case, fakes, verb="streamGenerateContent") == {
        "contents": [{"role": "user", "parts": [{"text": "Hi"}]}],
        "generationConfig": {"maxOutputTokens": 50},
    }


async def test_streaming_a_tool_call(case: Case, fakes: FakeProviders, fake_ctx: ProviderContext) -> None:
    args = {"city": "Rome", "days": 2}
    case.fake(fakes).queue_reply(
        tool_calls=[{"name": "get_weather", "arguments": args}, {"name": "now", "arguments": {}}]
    )
    request = {
        "messages": [{"role": "user", "content": "Weather?"}],
        "tools": [WEATHER_TOOL],
        "tool_choice": "auto",
    }

    chunks = await collect(case.provider(fake_ctx).stream(case.credential(), MODEL, request))

    rebuilt = reassemble(chunks, MODEL)
    first, second = rebuilt["tool_calls"]
    assert CALL_ID.match(first["id"]) and CALL_ID.match(second["id"]) and first["id"] != second["id"]
    assert first["function"] == {"name": "get_weather", "arguments": json.dumps(args)}
    assert second["function"] == {"name": "now", "arguments": "{}"}
    assert (
        rebuilt["content"] is None
        and rebuilt["finish_reason"] == "tool_calls"
        and rebuilt["usage"] == usage()
    )
    assert sent(case, fakes, verb="streamGenerateContent")["toolConfig"] == {
        "functionCallingConfig": {"mode": "AUTO"}
    }


@pytest.mark.parametrize(
    ("behaviour", "reason", "retry_after"),
    [
        (REJECT, "invalid_credentials", None),
        (RATE_LIMITED, "rate_limited", 7.0),
        (UNAVAILABLE, "provider_unavailable", None),
    ],
)
async def test_errors(
    case: Case,
    behaviour: str,
    reason: str,
    retry_after: float | None,
    fakes: FakeProviders,
    fake_ctx: ProviderContext,
) -> None:
    case.fake(fakes).script(case.key(), behaviour)
    provider = case.provider(fake_ctx)
    request = {"messages": [{"role": "user", "content": "Hi"}]}
    for error in (
        await chat_error(provider, case.credential(), MODEL, request),
        await stream_error(provider, case.credential(), MODEL, request),
    ):
        assert error.reason == reason
        assert error.retry_after == retry_after
        assert GOOGLE_KEY not in error.message


async def test_vertex_retries_once_with_a_fresh_token(
    fakes: FakeProviders, fake_ctx: ProviderContext
) -> None:
    """A cached token the API refuses (revoked, expired early) is replaced once, for chat and stream."""
    case = Case("vertex")
    fakes.vertex.script(case.key())
    provider, credential = case.provider(fake_ctx), case.credential()
    request = {"messages": [{"role": "user", "content": "Hi"}]}
    await provider.chat(credential, MODEL, request)
    fakes.vertex.expire_tokens()
    assert (await provider.chat(credential, MODEL, request))["choices"][0]["message"]["content"] == "pong"
    fakes.vertex.expire_tokens()
    chunks = await collect(provider.stream(credential, MODEL, request))
    assert reassemble(chunks, MODEL)["content"] == "pong"
    tokens = [r for r in fakes.vertex.requests if r.path == "/token"]
    assert len(tokens) == 3


def test_an_error_event_mid_stream() -> None:
    def fail(status: int, body: Any) -> ProviderError:
        return ProviderError("provider_unavailable", f"{status}")

    translator = GeminiStream(MODEL, "google", fail)
    first = {"candidates": [{"content": {"parts": [{"text": "a"}]}}], "responseId": "r1"}
    assert [c["choices"][0]["delta"] for c in translator.feed(SSEEvent(None, json.dumps(first)))] == [
        {"role": "assistant", "content": ""},
        {"content": "a"},
    ]
    with pytest.raises(ProviderError) as info:
        translator.feed(
            SSEEvent(None, json.dumps({"error": {"code": 503, "status": "UNAVAILABLE", "message": "x"}}))
        )
    assert info.value.message == "503"


def test_a_stream_without_a_finish_reason_is_broken() -> None:
    translator = GeminiStream(MODEL, "google", lambda s, b: ProviderError("invalid_response", "x"))
    translator.feed(SSEEvent(None, json.dumps({"candidates": [{"content": {"parts": [{"text": "a"}]}}]})))
    with pytest.raises(ProviderError) as info:
        translator.close()
    assert info.value.reason == "provider_unavailable"
