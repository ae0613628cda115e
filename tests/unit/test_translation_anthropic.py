"""``chat`` and ``stream`` for Anthropic: OpenAI requests to the Messages API and back, against the fake."""

from __future__ import annotations

import json
from typing import Any

import pytest
import respx

from byok.providers.anthropic import AnthropicProvider
from byok.providers.anthropic_format import AnthropicStream, from_message, to_messages_request
from byok.providers.base import Credential, KeyConfig, ProviderContext, ProviderError
from byok.providers.sse import SSEEvent
from tests.fakes import RATE_LIMITED, REJECT, UNAVAILABLE, FakeProviders
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

KEY = "sk-ant-api03-Rt5Yu8Io1Pa4Sd7Fg0Hj3Kl6Zx9Cv2Bn5Mq8We1Er4Ty7Ui0Op-AsDfGh12AA"
MODEL = "claude-sonnet-4-6"
CREDENTIAL = Credential(config=KeyConfig(provider="anthropic"), api_key=KEY)
INPUT_SCHEMA = WEATHER_TOOL["function"]["parameters"]


@pytest.fixture
def provider(fakes: FakeProviders, fake_ctx: ProviderContext) -> AnthropicProvider:
    fakes.anthropic.script(KEY)
    return AnthropicProvider(fake_ctx)


def sent(fakes: FakeProviders) -> Any:
    (record,) = fakes.anthropic.requests
    assert record.method == "POST" and record.path == "/v1/messages" and record.query == {}
    assert record.headers["x-api-key"] == KEY
    assert record.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in record.headers
    assert fakes.violations == []
    return record.json


def text_message(text: str | None, tool_calls: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return message


async def test_plain_text_with_a_system_message(provider: AnthropicProvider, fakes: FakeProviders) -> None:
    fakes.anthropic.queue_reply(text="Hello there", usage=(30, 4))
    request = {
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": [{"type": "text", "text": "Answer in English."}]},
            {"role": "user", "content": "Hi"},
            {"role": "user", "content": [{"type": "text", "text": "Anyone there?"}]},
        ],
        "max_tokens": 100,
        "temperature": 0.5,
        "top_p": 0.9,
        "stop": "END",
        "user": "user-42",
        "seed": 1,
        "logprobs": False,
    }

    reply = await provider.chat(CREDENTIAL, MODEL, request)

    assert reply == completion(MODEL, text_message("Hello there"), "stop", usage(30, 4))
    assert reply["id"].startswith("msg_")
    assert sent(fakes) == {
        "model": MODEL,
        "max_tokens": 100,
        "system": "Be brief.\n\nAnswer in English.",
        "messages": [
            {
                "role": "user",
                "content": [{"type": "text", "text": "Hi"}, {"type": "text", "text": "Anyone there?"}],
            }
        ],
        "temperature": 0.5,  # top_p dropped: current models refuse the pair
        "stop_sequences": ["END"],
        "metadata": {"user_id": "user-42"},
    }


async def test_defaults_and_limits(provider: AnthropicProvider, fakes: FakeProviders) -> None:
    """max_tokens is required: 4096 when absent; temperature is capped at Anthropic's 1."""
    request = {"messages": [{"role": "user", "content": "Hi"}], "temperature": 1.7, "stop": ["a", "b"]}
    reply = await provider.chat(CREDENTIAL, MODEL, request)
    assert reply["choices"][0]["message"]["content"] == "pong"
    assert sent(fakes) == {
        "model": MODEL,
        "max_tokens": 4096,
        "messages": [{"role": "user", "content": "Hi"}],
        "temperature": 1.0,
        "stop_sequences": ["a", "b"],
    }
    fakes.anthropic.requests.clear()
    await provider.chat(
        CREDENTIAL, MODEL, {**request, "temperature": None, "top_p": 0.8, "max_completion_tokens": 9}
    )
    body = sent(fakes)
    assert body["top_p"] == 0.8 and body["max_tokens"] == 9 and "temperature" not in body


async def test_images(provider: AnthropicProvider, fakes: FakeProviders) -> None:
    content = [
        {"type": "text", "text": "What are these?"},
        {"type": "image_url", "image_url": {"url": PNG_URL}},
        {"type": "image_url", "image_url": {"url": HTTPS_IMAGE, "detail": "high"}},
    ]
    await provider.chat(CREDENTIAL, MODEL, {"messages": [{"role": "user", "content": content}]})
    assert sent(fakes)["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What are these?"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
                {"type": "image", "source": {"type": "url", "url": HTTPS_IMAGE}},
            ],
        }
    ]


async def test_tools_and_tool_choice(provider: AnthropicProvider, fakes: FakeProviders) -> None:
    fakes.anthropic.queue_reply(
        text="Let me check.",
        tool_calls=[{"name": "get_weather", "arguments": {"city": "Paris"}, "id": "toolu_01A"}],
    )
    request = {
        "messages": [{"role": "user", "content": "Weather in Paris?"}],
        "tools": [WEATHER_TOOL, {"type": "function", "function": {"name": "now"}}],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "parallel_tool_calls": False,
    }

    reply = await provider.chat(CREDENTIAL, MODEL, request)

    call = {
        "id": "toolu_01A",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
    }
    assert reply == completion(MODEL, text_message("Let me check.", [call]), "tool_calls", usage())
    assert sent(fakes) == {
        "model": MODEL,
        "max_tokens": 4096,
        "messages": [{"role": "user", "content": "Weather in Paris?"}],
        "tools": [
            {"name": "get_weather", "description": "The weather in a city", "input_schema": INPUT_SCHEMA},
            {"name": "now", "input_schema": {"type": "object", "properties": {}}},
        ],
        "tool_choice": {"type": "tool", "name": "get_weather", "disable_parallel_tool_use": True},
    }


@pytest.mark.parametrize(
    ("choice", "expected"),
    [("auto", {"type": "auto"}), ("required", {"type": "any"}), ("none", {"type": "none"}), (None, None)],
)
def test_tool_choice_modes(choice: str | None, expected: dict[str, Any] | None) -> None:
    request = {"messages": [{"role": "user", "content": "x"}], "tools": [WEATHER_TOOL], "tool_choice": choice}
    assert to_messages_request(request, MODEL).get("tool_choice") == expected


async def test_a_conversation_with_tool_results(provider: AnthropicProvider, fakes: FakeProviders) -> None:
    fakes.anthropic.queue_reply(text="Paris.", finish_reason="max_tokens")
    reply = await provider.chat(CREDENTIAL, MODEL, {"messages": TOOL_CONVERSATION, "tools": [WEATHER_TOOL]})
    assert reply["choices"][0]["finish_reason"] == "length"
    assert sent(fakes)["messages"] == [
        {"role": "user", "content": "Weather in Paris and Rome?"},
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "call_2", "name": "get_weather", "input": {"city": "Rome"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "call_1", "content": '{"temp": 21}'},
                {"type": "tool_result", "tool_use_id": "call_2", "content": "sunny"},
                {"type": "text", "text": "Thanks. Which is warmer?"},
            ],
        },
    ]
    assert sent(fakes)["system"] == "Use tools."


def test_assistant_text_with_tool_calls_and_odd_arguments() -> None:
    request = {
        "messages": [
            {"role": "user", "content": "go"},
            {
                "role": "assistant",
                "content": "Calling.",
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "f", "arguments": ""}},
                    {"id": "c2", "type": "function", "function": {"name": "g", "arguments": "not json"}},
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": [{"type": "text", "text": "one"}]},
            {"role": "tool", "tool_call_id": "c2", "content": ""},
        ]
    }
    assert to_messages_request(request, MODEL)["messages"][1:] == [
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Calling."},
                {"type": "tool_use", "id": "c1", "name": "f", "input": {}},
                {"type": "tool_use", "id": "c2", "name": "g", "input": {"arguments": "not json"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "c1", "content": "one"},
                {"type": "tool_result", "tool_use_id": "c2"},
            ],
        },
    ]


def test_response_format_becomes_an_instruction() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    request = {
        "messages": [{"role": "system", "content": "Sys."}, {"role": "user", "content": "x"}],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "r", "schema": schema, "strict": True},
        },
    }
    assert to_messages_request(request, MODEL)["system"] == (
        "Sys.\n\nAnswer with a single valid JSON object that conforms to this JSON schema, "
        "and nothing else:\n"
        '{"properties": {"a": {"type": "integer"}}, "type": "object"}'
    )
    request["response_format"] = {"type": "json_object"}
    assert to_messages_request(request, MODEL)["system"].endswith(
        "single valid JSON object and nothing else."
    )


@pytest.mark.parametrize(
    "request_",
    [
        {
            "messages": [
                {
                    "role": "user",
                    "content": [{"type": "input_audio", "input_audio": {"data": "", "format": "wav"}}],
                }
            ]
        },
        {
            "messages": [
                {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "ftp://x/y.png"}}]}
            ]
        },
        {"messages": [{"role": "user", "content": "x"}], "n": 2},
        {
            "messages": [{"role": "user", "content": "x"}],
            "tools": [{"type": "custom", "custom": {"name": "x"}}],
        },
        {"messages": [{"role": "tool", "content": "no id"}]},
    ],
    ids=["audio", "ftp-image", "n", "custom-tool", "tool-without-id"],
)
def test_what_cannot_be_translated_is_refused(request_: dict[str, Any]) -> None:
    with pytest.raises(ProviderError) as info:
        to_messages_request(request_, MODEL)
    assert info.value.reason == "invalid_response"


def test_a_pdf_file_becomes_a_document() -> None:
    part = {
        "type": "file",
        "file": {"filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBERi0="},
    }
    body = to_messages_request({"messages": [{"role": "user", "content": [part]}]}, MODEL)
    document = {
        "type": "document",
        "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="},
    }
    assert body["messages"] == [{"role": "user", "content": [document]}]


async def test_streaming_text(provider: AnthropicProvider, fakes: FakeProviders) -> None:
    fakes.anthropic.queue_reply(text="Hello streaming world", usage=(25, 6))
    request = {"messages": [{"role": "user", "content": "Hi"}], "stream_options": {"include_usage": False}}

    chunks = await collect(provider.stream(CREDENTIAL, MODEL, request))

    assert reassemble(chunks, MODEL) == {
        "content": "Hello streaming world",
        "tool_calls": [],
        "finish_reason": "stop",
        "usage": usage(25, 6),
    }
    assert chunks[0]["id"].startswith("msg_")
    assert sent(fakes) == {
        "model": MODEL,
        "max_tokens": 4096,
        "messages": [{"role": "user", "content": "Hi"}],
        "stream": True,
    }


async def test_streaming_a_tool_call(provider: AnthropicProvider, fakes: FakeProviders) -> None:
    args = {"city": "Rome", "units": "metric"}
    fakes.anthropic.queue_reply(
        text="Checking.",
        tool_calls=[
            {"name": "get_weather", "arguments": args, "id": "toolu_01B"},
            {"name": "now", "arguments": {}},
        ],
    )
    request = {
        "messages": [{"role": "user", "content": "Weather?"}],
        "tools": [WEATHER_TOOL],
        "tool_choice": "required",
    }

    chunks = await collect(provider.stream(CREDENTIAL, MODEL, request))

    rebuilt = reassemble(chunks, MODEL)
    assert rebuilt["content"] == "Checking."
    first, second = rebuilt["tool_calls"]
    assert first == {
        "id": "toolu_01B",
        "type": "function",
        "function": {"name": "get_weather", "arguments": json.dumps(args)},
    }
    assert second["function"] == {"name": "now", "arguments": "{}"} and second["id"].startswith("toolu_")
    assert rebuilt["finish_reason"] == "tool_calls"
    assert rebuilt["usage"] == usage()
    assert sent(fakes)["tool_choice"] == {"type": "any"}


@pytest.mark.parametrize(
    ("behaviour", "reason", "retry_after"),
    [
        (REJECT, "invalid_credentials", None),
        (RATE_LIMITED, "rate_limited", 7.0),
        (UNAVAILABLE, "provider_unavailable", None),
    ],
)
async def test_errors(
    provider: AnthropicProvider, fakes: FakeProviders, behaviour: str, reason: str, retry_after: float | None
) -> None:
    fakes.anthropic.script(KEY, behaviour)
    request = {"messages": [{"role": "user", "content": "Hi"}]}
    for error in (
        await chat_error(provider, CREDENTIAL, MODEL, request),
        await stream_error(provider, CREDENTIAL, MODEL, request),
    ):
        assert error.reason == reason
        assert error.retry_after == retry_after
        assert KEY not in error.message


async def test_an_unknown_model(provider: AnthropicProvider) -> None:
    error = await chat_error(
        provider, CREDENTIAL, "claude-nope", {"messages": [{"role": "user", "content": "Hi"}]}
    )
    assert error.reason == "model_not_found"


# -- stream events the fake does not send --------------------------------------------------------


def events(*items: tuple[str, dict[str, Any]]) -> list[SSEEvent]:
    return [SSEEvent(name, json.dumps(data)) for name, data in items]


def fail(status: int, body: Any) -> ProviderError:
    return ProviderError("provider_unavailable" if status >= 500 else "invalid_response", f"{status}: {body}")


def test_an_error_event_mid_stream() -> None:
    translator = AnthropicStream(MODEL, fail)
    start = {"type": "message_start", "message": {"id": "msg_1", "usage": {"input_tokens": 3}}}
    assert translator.feed(events(("message_start", start))[0])[0]["choices"][0]["delta"] == {
        "role": "assistant",
        "content": "",
    }
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    with pytest.raises(ProviderError) as info:
        translator.feed(events(("error", error))[0])
    assert info.value.message.startswith("529:")


async def test_an_overloaded_event_through_the_provider(
    router: respx.MockRouter, ctx: ProviderContext
) -> None:
    body = (
        "event: message_start\n"
        'data: {"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":3}}}\n\n'
        'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'
    )
    router.post("https://api.anthropic.com/v1/messages").respond(
        200, headers={"content-type": "text/event-stream"}, text=body
    )
    chunks = AnthropicProvider(ctx).stream(
        CREDENTIAL, MODEL, {"messages": [{"role": "user", "content": "x"}]}
    )
    await chunks.__anext__()
    with pytest.raises(ProviderError) as info:
        await chunks.__anext__()
    assert (info.value.reason, info.value.message, info.value.provider_status) == (
        "provider_unavailable",
        "Overloaded",
        529,
    )


def test_cache_tokens_count_as_prompt_tokens() -> None:
    translator = AnthropicStream(MODEL, fail)
    usage_start = {
        "input_tokens": 5,
        "cache_creation_input_tokens": 10,
        "cache_read_input_tokens": 100,
        "output_tokens": 1,
    }
    stream = events(
        ("message_start", {"type": "message_start", "message": {"id": "msg_1", "usage": usage_start}}),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "thinking", "thinking": ""},
            },
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "thinking_delta", "thinking": "hm"},
            },
        ),
        (
            "message_delta",
            {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 9}},
        ),
        ("message_stop", {"type": "message_stop"}),
    )
    chunks = [c for e in stream for c in translator.feed(e)] + translator.close()
    assert translator.done
    assert chunks[-1]["usage"] == {
        "prompt_tokens": 115,
        "completion_tokens": 9,
        "total_tokens": 124,
        "prompt_tokens_details": {"cached_tokens": 100},
    }
    assert [c["choices"][0]["delta"] for c in chunks[:-1]] == [{"role": "assistant", "content": ""}, {}]


def test_a_stream_cut_before_message_stop() -> None:
    translator = AnthropicStream(MODEL, fail)
    translator.feed(events(("message_start", {"type": "message_start", "message": {"id": "m"}}))[0])
    with pytest.raises(ProviderError) as info:
        translator.close()
    assert info.value.reason == "provider_unavailable"


def test_an_invalid_reply_shape() -> None:
    with pytest.raises(ProviderError):
        from_message({"type": "message"}, MODEL)


def test_a_tool_call_without_arguments_streams_an_empty_object() -> None:
    """Anthropic streams one empty input_json_delta for a call without input; clients need "{}"."""
    translator = AnthropicStream(MODEL, fail)
    block = {"type": "tool_use", "id": "toolu_1", "name": "now", "input": {}}
    stream = events(
        (
            "message_start",
            {"type": "message_start", "message": {"id": "msg_1", "usage": {"input_tokens": 3}}},
        ),
        ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": block}),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "input_json_delta", "partial_json": ""},
            },
        ),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 2}},
        ),
        ("message_stop", {"type": "message_stop"}),
    )
    chunks = [c for e in stream for c in translator.feed(e)] + translator.close()
    rebuilt = reassemble(chunks, MODEL)
    assert rebuilt["tool_calls"] == [
        {"id": "toolu_1", "type": "function", "function": {"name": "now", "arguments": "{}"}}
    ]
    assert rebuilt["finish_reason"] == "tool_calls" and rebuilt["usage"] == usage(3, 2)
