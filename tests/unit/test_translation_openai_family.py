"""``chat`` and ``stream`` for the OpenAI-shaped providers (OpenAI, Azure, custom), against the fakes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from unittest.mock import ANY

import httpx
import pytest
import respx

from byok.providers.azure import AzureProvider
from byok.providers.base import Credential, KeyConfig, Provider, ProviderContext, ProviderError
from byok.providers.custom import CustomProvider
from byok.providers.openai import OpenAIProvider
from tests.fakes import RATE_LIMITED, REJECT, UNAVAILABLE, FakeProvider, FakeProviders
from tests.unit.chat_helpers import (
    HTTPS_IMAGE,
    PNG_URL,
    TOOL_CONVERSATION,
    WEATHER_TOOL,
    arguments,
    chat_error,
    collect,
    reassemble,
    stream_error,
)

OPENAI_KEY = "sk-proj-Hq3Lw8Zp2Xv6Nb1Tc9Rm4Ks7Yd0Fg5Aj2Ue8Wi3Oo6Pl1"
AZURE_KEY = "4f8c2e9a7b1d6035e4c8a2f9b7d1e6c3"
CUSTOM_KEY = "local-key-Vb7Nq2Wx9Zr4Tk6Mp1Lc8Hd3"
FAKE_USAGE = {
    "prompt_tokens": 11,
    "completion_tokens": 7,
    "total_tokens": 18,
    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
    "completion_tokens_details": {
        "reasoning_tokens": 0,
        "audio_tokens": 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 0,
    },
}


@dataclass
class Case:
    """One OpenAI-shaped provider as the tests drive it."""

    name: str
    model: str
    path: str
    auth: tuple[str, str]
    api_version: str | None = None

    def fake(self, fakes: FakeProviders) -> FakeProvider:
        return fakes.all[self.name]

    def key(self) -> str:
        return {"openai": OPENAI_KEY, "azure": AZURE_KEY, "custom": CUSTOM_KEY}[self.name]

    def credential(self, fakes: FakeProviders) -> Credential:
        base = {"openai": None, "azure": fakes.azure_base_url, "custom": fakes.custom_base_url}[self.name]
        config = KeyConfig(provider=self.name, base_url=base, api_version=self.api_version)
        return Credential(config=config, api_key=self.key())

    def provider(self, ctx: ProviderContext) -> Provider:
        kind = {"openai": OpenAIProvider, "azure": AzureProvider, "custom": CustomProvider}[self.name]
        return kind(ctx)

    @property
    def model_in_body(self) -> dict[str, str]:
        """Azure's dated API names the deployment in the path, not in the body."""
        return {} if self.api_version else {"model": self.model}


OPENAI = Case("openai", "gpt-4.1-mini", "/v1/chat/completions", ("authorization", f"Bearer {OPENAI_KEY}"))
AZURE = Case("azure", "my-gpt-4o", "/openai/v1/chat/completions", ("api-key", AZURE_KEY))
AZURE_DATED = Case(
    "azure",
    "my-gpt-4o",
    "/openai/deployments/my-gpt-4o/chat/completions",
    ("api-key", AZURE_KEY),
    "2024-10-21",
)
CUSTOM = Case(
    "custom", "llama-3.1-8b-instruct", "/v1/chat/completions", ("authorization", f"Bearer {CUSTOM_KEY}")
)
CASES = [OPENAI, AZURE, AZURE_DATED, CUSTOM]
IDS = ["openai", "azure-v1", "azure-dated", "custom"]


@pytest.fixture(params=CASES, ids=IDS)
def case(request: pytest.FixtureRequest, fakes: FakeProviders) -> Case:
    chosen: Case = request.param
    chosen.fake(fakes).script(chosen.key())
    return chosen


def sent(case: Case, fakes: FakeProviders) -> Any:
    """The one generation request the fake saw, after checking its path, auth and query."""
    (record,) = case.fake(fakes).requests
    assert record.method == "POST" and record.path == case.path
    assert record.headers[case.auth[0]] == case.auth[1]
    assert record.query == ({"api-version": case.api_version} if case.api_version else {})
    assert fakes.violations == []
    return record.json


def reply_of(case: Case, message: dict[str, Any], finish: str) -> dict[str, Any]:
    """The fake's completion as the service passes it on: the binding's model, every field kept."""
    choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
    extra: dict[str, Any] = {}
    if case.name == "azure":
        filters = {
            n: {"filtered": False, "severity": "safe"} for n in ("hate", "self_harm", "sexual", "violence")
        }
        choice["content_filter_results"] = filters
        extra["prompt_filter_results"] = [{"prompt_index": 0, "content_filter_results": filters}]
    return {
        "id": ANY,
        "object": "chat.completion",
        "created": ANY,
        "model": case.model,
        "choices": [choice],
        "usage": FAKE_USAGE,
        "system_fingerprint": "fp_fake",
        **extra,
    }


def text_message(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": text, "refusal": None, "annotations": []}


async def test_plain_text_with_a_system_message(
    case: Case, fakes: FakeProviders, fake_ctx: ProviderContext
) -> None:
    fakes.all[case.name].queue_reply(text="Hello there")
    request = {
        "model": "whatever-the-caller-says",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
        "temperature": 0.3,
        "seed": 7,
        "metadata": {"trace": "t-1"},
        "stream_options": {"include_usage": True},
    }

    reply = await case.provider(fake_ctx).chat(case.credential(fakes), case.model, request)

    assert reply == reply_of(case, text_message("Hello there"), "stop")
    assert sent(case, fakes) == {
        **case.model_in_body,
        "messages": request["messages"],
        "temperature": 0.3,
        "seed": 7,
        "metadata": {"trace": "t-1"},
    }


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [
        (OPENAI, {"max_completion_tokens": 64}),
        (AZURE, {"max_completion_tokens": 64}),
        (AZURE_DATED, {"max_completion_tokens": 64}),
        (CUSTOM, {"max_tokens": 64}),
        (Case("azure", "my-gpt-4o", AZURE_DATED.path, AZURE_DATED.auth, "2024-06-01"), {"max_tokens": 64}),
    ],
    ids=["openai", "azure-v1", "azure-dated", "custom", "azure-old-dated"],
)
async def test_max_tokens(
    chosen: Case, expected: dict[str, int], fakes: FakeProviders, fake_ctx: ProviderContext
) -> None:
    """OpenAI's deprecated max_tokens becomes max_completion_tokens, except where servers know only it."""
    chosen.fake(fakes).script(chosen.key())
    request = {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 64}
    await chosen.provider(fake_ctx).chat(
        chosen.credential(fakes), "o4-mini" if chosen is OPENAI else chosen.model, request
    )
    body = chosen.fake(fakes).requests[-1].json
    assert {k: v for k, v in body.items() if k.startswith("max_")} == expected


async def test_openai_keeps_an_explicit_max_completion_tokens(
    fakes: FakeProviders, fake_ctx: ProviderContext
) -> None:
    fakes.openai.script(OPENAI_KEY)
    request = {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 64, "max_completion_tokens": 32}
    await OPENAI.provider(fake_ctx).chat(OPENAI.credential(fakes), "gpt-5.4", request)
    body = fakes.openai.requests[-1].json
    assert body["max_completion_tokens"] == 32 and "max_tokens" not in body


async def test_images_pass_through(case: Case, fakes: FakeProviders, fake_ctx: ProviderContext) -> None:
    content = [
        {"type": "text", "text": "What are these?"},
        {"type": "image_url", "image_url": {"url": PNG_URL}},
        {"type": "image_url", "image_url": {"url": HTTPS_IMAGE, "detail": "low"}},
    ]
    request = {"messages": [{"role": "user", "content": content}]}
    reply = await case.provider(fake_ctx).chat(case.credential(fakes), case.model, request)
    assert reply["choices"][0]["message"]["content"] == "pong"
    assert sent(case, fakes) == {**case.model_in_body, "messages": request["messages"]}


async def test_tools_and_tool_choice(case: Case, fakes: FakeProviders, fake_ctx: ProviderContext) -> None:
    case.fake(fakes).queue_reply(
        tool_calls=[{"name": "get_weather", "arguments": {"city": "Paris"}, "id": "call_abc"}]
    )
    choice = {"type": "function", "function": {"name": "get_weather"}}
    request = {
        "messages": [{"role": "user", "content": "Weather?"}],
        "tools": [WEATHER_TOOL],
        "tool_choice": choice,
    }

    reply = await case.provider(fake_ctx).chat(case.credential(fakes), case.model, request)

    call = {
        "id": "call_abc",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
    }
    message = {"role": "assistant", "content": None, "refusal": None, "annotations": [], "tool_calls": [call]}
    assert reply == reply_of(case, message, "tool_calls")
    assert sent(case, fakes) == {
        **case.model_in_body,
        "messages": request["messages"],
        "tools": [WEATHER_TOOL],
        "tool_choice": choice,
    }


async def test_a_conversation_with_tool_results(
    case: Case, fakes: FakeProviders, fake_ctx: ProviderContext
) -> None:
    request = {"messages": TOOL_CONVERSATION, "tools": [WEATHER_TOOL], "parallel_tool_calls": True}
    await case.provider(fake_ctx).chat(case.credential(fakes), case.model, request)
    assert sent(case, fakes) == {**case.model_in_body, **request}


async def test_streaming_text(case: Case, fakes: FakeProviders, fake_ctx: ProviderContext) -> None:
    case.fake(fakes).queue_reply(text="Hello streaming world", usage=(20, 5))
    request = {"messages": [{"role": "user", "content": "Hi"}], "stream": True, "max_completion_tokens": 10}

    chunks = await collect(case.provider(fake_ctx).stream(case.credential(fakes), case.model, request))

    assert reassemble(chunks, case.model) == {
        "content": "Hello streaming world",
        "tool_calls": [],
        "finish_reason": "stop",
        "usage": {**FAKE_USAGE, "prompt_tokens": 20, "completion_tokens": 5, "total_tokens": 25},
    }
    assert sent(case, fakes) == {
        **case.model_in_body,
        "messages": request["messages"],
        "max_completion_tokens": 10,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


async def test_streaming_a_tool_call(case: Case, fakes: FakeProviders, fake_ctx: ProviderContext) -> None:
    case.fake(fakes).queue_reply(
        tool_calls=[{"name": "get_weather", "arguments": {"city": "Rome"}, "id": "call_x"}]
    )
    request = {
        "messages": [{"role": "user", "content": "Weather?"}],
        "tools": [WEATHER_TOOL],
        "tool_choice": "required",
    }

    chunks = await collect(case.provider(fake_ctx).stream(case.credential(fakes), case.model, request))

    rebuilt = reassemble(chunks, case.model)
    assert rebuilt["tool_calls"] == [
        {
            "id": "call_x",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'},
        }
    ]
    assert rebuilt["finish_reason"] == "tool_calls" and rebuilt["content"] is None
    assert rebuilt["usage"]["total_tokens"] == 18
    body = sent(case, fakes)
    assert body["tool_choice"] == "required" and body["stream"] is True


async def test_an_old_azure_api_version_streams_without_stream_options(
    fakes: FakeProviders, fake_ctx: ProviderContext
) -> None:
    """Versions before 2024-09-01 refuse stream_options: none is sent, and usage comes as zeros."""
    old = Case("azure", "my-gpt-4o", AZURE_DATED.path, AZURE_DATED.auth, "2024-06-01")
    fakes.azure.script(AZURE_KEY)
    request = {"messages": [{"role": "user", "content": "Hi"}]}
    chunks = await collect(old.provider(fake_ctx).stream(old.credential(fakes), old.model, request))
    assert reassemble(chunks, old.model)["usage"] == {
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "total_tokens": 0,
    }
    assert sent(old, fakes) == {"messages": request["messages"], "stream": True}


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
    provider, credential = case.provider(fake_ctx), case.credential(fakes)
    request = {"messages": [{"role": "user", "content": "Hi"}]}
    for error in (
        await chat_error(provider, credential, case.model, request),
        await stream_error(provider, credential, case.model, request),
    ):
        assert error.reason == reason
        assert error.retry_after == retry_after
        assert case.key() not in error.message and case.key()[:8] not in error.message


async def test_a_missing_deployment_is_model_not_found(
    fakes: FakeProviders, fake_ctx: ProviderContext
) -> None:
    fakes.azure.script(AZURE_KEY)
    request = {"messages": [{"role": "user", "content": "Hi"}]}
    error = await chat_error(AZURE.provider(fake_ctx), AZURE.credential(fakes), "no-such-deployment", request)
    assert error.reason == "model_not_found"


# -- compatible servers that bend the rules (respx, since the fakes follow them) ------------------

BASE = "https://llm.example.com/v1"


def custom_credential() -> Credential:
    return Credential(config=KeyConfig(provider="custom", base_url=BASE), api_key=CUSTOM_KEY)


def sse(*payloads: str) -> httpx.Response:
    body = "".join(f"data: {p}\n\n" for p in payloads)
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, text=body)


async def test_a_server_without_usage(router: respx.MockRouter, ctx: ProviderContext) -> None:
    """No usage in the reply or the stream: zeros, never an estimate."""
    reply = {
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}]
    }
    router.post(f"{BASE}/chat/completions").respond(200, json=reply)
    provider = CustomProvider(ctx)
    request = {"messages": [{"role": "user", "content": "Hi"}]}
    assert await provider.chat(custom_credential(), "m", request) == {
        **reply,
        "id": ANY,
        "object": "chat.completion",
        "created": ANY,
        "model": "m",
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }

    chunk = (
        '{"id":"c1","object":"chat.completion.chunk","created":1,"model":"x",'
        '"choices":[{"index":0,"delta":%s,"finish_reason":%s}]}'
    )
    router.post(f"{BASE}/chat/completions").mock(
        return_value=sse(
            chunk % ('{"role":"assistant","content":"h"}', "null"), chunk % ('{"content":"i"}', '"stop"')
        )
    )
    chunks = await collect(provider.stream(custom_credential(), "m", request))
    assert reassemble(chunks, "m") == {
        "content": "hi",
        "tool_calls": [],
        "finish_reason": "stop",
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }


async def test_usage_on_a_content_chunk_is_moved_to_the_end(
    router: respx.MockRouter, ctx: ProviderContext
) -> None:
    usage = {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}
    final = {
        "id": "c1",
        "choices": [{"index": 0, "delta": {"content": "x"}, "finish_reason": "stop"}],
        "usage": usage,
    }
    first = {"id": "c1", "choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]}
    router.post(f"{BASE}/chat/completions").mock(
        return_value=sse(json.dumps(first), json.dumps(final), "[DONE]")
    )
    chunks = await collect(CustomProvider(ctx).stream(custom_credential(), "m", {"messages": []}))
    assert reassemble(chunks, "m")["usage"] == usage
    assert chunks[-1]["id"] == "c1"


async def test_a_server_that_ignores_stream(router: respx.MockRouter, ctx: ProviderContext) -> None:
    """A JSON completion in answer to a stream request still comes out as chunks."""
    call = {"id": "call_9", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    message = {"role": "assistant", "content": "ok", "tool_calls": [call]}
    usage = {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
    reply = {
        "id": "r1",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}],
        "usage": usage,
    }
    router.post(f"{BASE}/chat/completions").respond(200, json=reply)
    chunks = await collect(CustomProvider(ctx).stream(custom_credential(), "m", {"messages": []}))
    assert reassemble(chunks, "m") == {
        "content": "ok",
        "tool_calls": [call],
        "finish_reason": "tool_calls",
        "usage": usage,
    }


async def test_an_error_inside_the_stream(router: respx.MockRouter, ctx: ProviderContext) -> None:
    first = (
        '{"id":"c1","choices":[{"index":0,"delta":{"role":"assistant","content":"a"},"finish_reason":null}]}'
    )
    error = '{"error":{"message":"upstream overloaded","type":"server_error","code":null}}'
    router.post(f"{BASE}/chat/completions").mock(return_value=sse(first, error))
    chunks = CustomProvider(ctx).stream(custom_credential(), "m", {"messages": []})
    assert (await chunks.__anext__())["choices"][0]["delta"]["content"] == "a"
    with pytest.raises(ProviderError) as info:
        await chunks.__anext__()
    assert info.value.reason == "provider_unavailable"
    assert info.value.message == "upstream overloaded"


async def test_arguments_survive_reassembly_for_every_case(
    case: Case, fakes: FakeProviders, fake_ctx: ProviderContext
) -> None:
    args = {"city": "Zürich", "days": [1, 2], "nested": {"a": None}}
    case.fake(fakes).queue_reply(tool_calls=[{"name": "get_weather", "arguments": args}])
    chunks = await collect(
        case.provider(fake_ctx).stream(
            case.credential(fakes), case.model, {"messages": [{"role": "user", "content": "x"}]}
        )
    )
    (call,) = reassemble(chunks, case.model)["tool_calls"]
    assert arguments(call) == args


async def test_azure_opens_its_stream_with_prompt_filter_results(
    router: respx.MockRouter, ctx: ProviderContext
) -> None:
    """Azure's first chunk has no id and no choices: not relayed, and it does not name the stream."""
    base = "https://acme.openai.azure.com"
    filters = {"prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {}}]}
    opening = {"choices": [], "created": 0, "id": "", "model": "", "object": "", **filters}
    delta = {"role": "assistant", "content": "hi"}
    content = {
        "id": "chatcmpl-az",
        "created": 5,
        "model": "gpt-4o",
        "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
    }
    finish = {
        "id": "chatcmpl-az",
        "created": 5,
        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
    }
    usage = {"prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 3}
    tail = {"id": "chatcmpl-az", "choices": [], "usage": usage}
    payloads = [json.dumps(p) for p in (opening, content, finish, tail)]
    route = router.post(f"{base}/openai/v1/chat/completions").mock(return_value=sse(*payloads, "[DONE]"))
    credential = Credential(config=KeyConfig(provider="azure", base_url=base), api_key=AZURE_KEY)

    chunks = await collect(AzureProvider(ctx).stream(credential, "my-gpt-4o", {"messages": []}))

    assert reassemble(chunks, "my-gpt-4o") == {
        "content": "hi",
        "tool_calls": [],
        "finish_reason": "stop",
        "usage": usage,
    }
    assert {c["id"] for c in chunks} == {"chatcmpl-az"}
    assert route.calls.last.request.headers["api-key"] == AZURE_KEY
