"""The official SDKs judge the fakes' fidelity: if they parse a fake's answers, the shapes are right."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import jwt
import openai
import pytest
from google import genai
from google.auth import exceptions as google_auth_exceptions
from google.genai import errors as genai_errors
from google.genai import types as genai_types
from google.oauth2 import service_account

from tests.fakes import (
    NO_QUOTA,
    NOT_JSON,
    RATE_LIMITED,
    REJECT,
    SLOW,
    UNAVAILABLE,
    UNKNOWN_MODEL,
    FakeProviders,
    make_service_account,
)
from tests.fakes.fixtures import fake_providers  # noqa: F401


@pytest.fixture
def fakes(fake_providers: FakeProviders) -> Iterator[FakeProviders]:  # noqa: F811
    """The session's fakes, reset so scripts, replies and records never leak between tests."""
    fake_providers.reset()
    yield fake_providers
    fake_providers.reset()


KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"
TOOL = {"name": "get_weather", "arguments": {"city": "Paris", "days": 2}}
CLOUD = "https://www.googleapis.com/auth/cloud-platform"


def oai(fakes: FakeProviders, key: str = KEY, **kwargs: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=fakes.env()["BYOK_OPENAI_BASE_URL"], api_key=key, max_retries=0, **kwargs)


def claude(fakes: FakeProviders, key: str = KEY) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=fakes.env()["BYOK_ANTHROPIC_BASE_URL"], api_key=key, max_retries=0)


def gemini(fakes: FakeProviders, key: str = KEY) -> genai.Client:
    options = genai_types.HttpOptions(base_url=fakes.env()["BYOK_GOOGLE_BASE_URL"], api_version="v1beta")
    return genai.Client(api_key=key, http_options=options)


def vertex_client(
    fakes: FakeProviders, sa: dict[str, str], *, project: str = "test-proj", location: str = "europe-west4"
) -> genai.Client:
    info = {**sa, "token_uri": fakes.env()["BYOK_GOOGLE_TOKEN_URL"]}
    creds = service_account.Credentials.from_service_account_info(info, scopes=[CLOUD])
    options = genai_types.HttpOptions(base_url=fakes.env()["BYOK_VERTEX_BASE_URL"], api_version="v1")
    return genai.Client(
        vertexai=True, project=project, location=location, credentials=creds, http_options=options
    )


def weather_tool() -> genai_types.Tool:
    decl = genai_types.FunctionDeclaration(
        name="get_weather", description="Weather", parameters_json_schema={"type": "object"}
    )
    return genai_types.Tool(function_declarations=[decl])


USER = [{"role": "user", "content": "ping"}]


# -- OpenAI ------------------------------------------------------------------------------------


def test_openai_models_list_and_retrieve(fakes: FakeProviders) -> None:
    fakes.openai.script(KEY)
    client = oai(fakes)
    ids = {m.id for m in client.models.list()}
    assert {"gpt-4.1-nano", "gpt-4o", "o3"} <= ids
    assert client.models.retrieve("gpt-4.1-nano").id == "gpt-4.1-nano"
    with pytest.raises(openai.NotFoundError) as caught:
        client.models.retrieve("gpt-nope")
    assert caught.value.code == "model_not_found"
    record = fakes.openai.requests[0]
    assert (record.method, record.path) == ("GET", "/v1/models")
    assert record.headers["authorization"] == f"Bearer {KEY}"
    assert fakes.violations == []


def test_openai_chat_text(fakes: FakeProviders) -> None:
    fakes.openai.script(KEY)
    reply = oai(fakes).chat.completions.create(model="gpt-4.1-nano", messages=USER, max_completion_tokens=1)
    assert reply.choices[0].message.content == "pong"
    assert reply.choices[0].finish_reason == "stop"
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens, reply.usage.total_tokens) == (11, 7, 18)
    assert fakes.openai.requests[-1].json["max_completion_tokens"] == 1
    assert fakes.openai.requests[-1].headers["x-stainless-retry-count"] == "0"


def test_openai_chat_tool_call(fakes: FakeProviders) -> None:
    fakes.openai.script(KEY)
    fakes.openai.queue_reply(tool_calls=[TOOL], usage=(30, 5))
    reply = oai(fakes).chat.completions.create(model="gpt-4.1-nano", messages=USER)
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    call = choice.message.tool_calls[0]
    assert call.type == "function" and call.id.startswith("call_")
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == TOOL["arguments"]
    assert reply.usage.prompt_tokens == 30


def test_openai_stream_with_usage(fakes: FakeProviders) -> None:
    fakes.openai.script(KEY)
    fakes.openai.queue_reply(text="Hello there, world")
    stream = oai(fakes).chat.completions.create(
        model="gpt-4.1-nano", messages=USER, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello there, world"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 7


def test_openai_stream_tool_call_accumulates(fakes: FakeProviders) -> None:
    fakes.openai.script(KEY)
    fakes.openai.queue_reply(tool_calls=[TOOL])
    with oai(fakes).chat.completions.stream(model="gpt-4.1-nano", messages=USER) as stream:
        final = stream.get_final_completion()
    call = final.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == TOOL["arguments"]
    assert final.choices[0].finish_reason == "tool_calls"


def test_openai_bad_key_echoes_masked_key(fakes: FakeProviders) -> None:
    with pytest.raises(openai.AuthenticationError) as caught:
        oai(fakes, key="sk-abcdefghijklmnopqrstuvwxyz").models.list()  # unscripted = bad key
    assert caught.value.code == "invalid_api_key"
    assert "sk-abc***...wxyz" in caught.value.message
    fakes.openai.script(KEY, REJECT)
    with pytest.raises(openai.AuthenticationError):
        oai(fakes).chat.completions.create(model="gpt-4.1-nano", messages=USER)


def test_openai_no_quota_only_on_generation(fakes: FakeProviders) -> None:
    fakes.openai.script(KEY, NO_QUOTA)
    client = oai(fakes)
    assert client.models.retrieve("gpt-4.1-nano").id == "gpt-4.1-nano"
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="gpt-4.1-nano", messages=USER)
    assert caught.value.code == "insufficient_quota"
    assert caught.value.type == "insufficient_quota"


def test_openai_rate_limited_headers(fakes: FakeProviders) -> None:
    fakes.openai.script(KEY, RATE_LIMITED, retry_after=2.5)
    with pytest.raises(openai.RateLimitError) as caught:
        oai(fakes).chat.completions.create(model="gpt-4.1-nano", messages=USER)
    assert caught.value.code == "rate_limit_exceeded"
    headers = caught.value.response.headers
    assert (headers["retry-after-ms"], headers["retry-after"]) == ("2500", "3")
    assert headers["x-request-id"].startswith("req_")


def test_openai_unavailable_unknown_model_and_max_tokens(fakes: FakeProviders) -> None:
    fakes.openai.script(KEY, UNAVAILABLE)
    with pytest.raises(openai.InternalServerError):
        oai(fakes).models.list()
    fakes.openai.script(KEY, UNKNOWN_MODEL)
    with pytest.raises(openai.NotFoundError):
        oai(fakes).chat.completions.create(model="gpt-4.1-nano", messages=USER)
    fakes.openai.script(KEY)
    with pytest.raises(openai.BadRequestError) as caught:
        oai(fakes).chat.completions.create(model="o4-mini", messages=USER, max_tokens=1)
    assert caught.value.code == "unsupported_parameter"


def test_openai_slow_and_not_json(fakes: FakeProviders) -> None:
    fakes.openai.script(KEY, SLOW, delay=1.0)
    with pytest.raises(openai.APITimeoutError):
        oai(fakes, timeout=0.3).models.list()
    fakes.openai.script(KEY, NOT_JSON)
    response = httpx.get(
        f"{fakes.env()['BYOK_OPENAI_BASE_URL']}/models", headers={"authorization": f"Bearer {KEY}"}
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")


def test_openai_responses_api(fakes: FakeProviders) -> None:
    fakes.openai.script(KEY)
    response = oai(fakes).responses.create(model="computer-use-preview", input="ping")
    assert response.output_text == "pong"
    assert response.usage.input_tokens == 11
    fakes.openai.queue_reply(tool_calls=[TOOL])
    response = oai(fakes).responses.create(model="gpt-4.1", input="ping")
    call = response.output[0]
    assert call.type == "function_call" and json.loads(call.arguments) == TOOL["arguments"]


# -- Azure -------------------------------------------------------------------------------------


def test_azure_v1_api(fakes: FakeProviders) -> None:
    fakes.azure.script(KEY)
    client = openai.OpenAI(
        base_url=f"{fakes.azure_base_url}/openai/v1",
        api_key=KEY,
        default_headers={"api-key": KEY},
        max_retries=0,
    )
    assert "gpt-4.1-nano" in {m.id for m in client.models.list()}
    reply = client.chat.completions.create(model="my-gpt-4o", messages=USER)
    assert reply.choices[0].message.content == "pong"
    assert reply.model_extra is not None and "prompt_filter_results" in reply.model_extra
    assert fakes.azure.requests[-1].path == "/openai/v1/chat/completions"
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="no-such-deployment", messages=USER)
    assert caught.value.code == "DeploymentNotFound"


def test_azure_dated_api_and_errors(fakes: FakeProviders) -> None:
    fakes.azure.script(KEY)
    client = openai.AzureOpenAI(
        azure_endpoint=fakes.azure_base_url, api_key=KEY, api_version="2024-10-21", max_retries=0
    )
    reply = client.chat.completions.create(model="gpt-4.1-nano", messages=USER)
    assert reply.choices[0].message.content == "pong"
    record = fakes.azure.requests[-1]
    assert record.path == "/openai/deployments/gpt-4.1-nano/chat/completions"
    assert record.query == {"api-version": "2024-10-21"} and record.headers["api-key"] == KEY
    bad = openai.AzureOpenAI(
        azure_endpoint=fakes.azure_base_url, api_key="wrong-key", api_version="2024-10-21", max_retries=0
    )
    with pytest.raises(openai.AuthenticationError) as caught:
        bad.chat.completions.create(model="gpt-4.1-nano", messages=USER)
    assert caught.value.code == "401"
    fakes.azure.script(KEY, RATE_LIMITED, retry_after=4)
    with pytest.raises(openai.RateLimitError) as limited:
        client.chat.completions.create(model="gpt-4.1-nano", messages=USER)
    assert limited.value.response.headers["retry-after-ms"] == "4000"


# -- Custom (OpenAI-compatible) ----------------------------------------------------------------


def test_custom_with_and_without_key(fakes: FakeProviders) -> None:
    fakes.custom.script(KEY)
    client = openai.OpenAI(base_url=fakes.custom_base_url, api_key=KEY, max_retries=0)
    reply = client.chat.completions.create(model="llama-3.1-8b-instruct", messages=USER, max_tokens=1)
    assert reply.choices[0].message.content == "pong"
    stream = client.chat.completions.create(model="mistral-small", messages=USER, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream) == "pong"
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-4o", messages=USER)
    assert caught.value.status_code == 404
    anon = openai.OpenAI(base_url=fakes.custom_base_url, api_key="anything", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        anon.models.list()
    fakes.custom.require_key = False
    assert anon.models.list().data
    fakes.custom.script(KEY, NO_QUOTA)
    with pytest.raises(openai.APIStatusError) as broke:
        client.chat.completions.create(model="mistral-small", messages=USER)
    assert broke.value.status_code == 402


# -- Anthropic ---------------------------------------------------------------------------------


def test_anthropic_models_and_text(fakes: FakeProviders) -> None:
    fakes.anthropic.script(KEY)
    client = claude(fakes)
    page = client.models.list(limit=1)
    assert len(page.data) == 1 and page.has_more
    assert client.models.retrieve("claude-haiku-4-5").id == "claude-haiku-4-5"
    message = client.messages.create(model="claude-haiku-4-5", max_tokens=1, messages=USER)
    assert message.content[0].type == "text" and message.content[0].text == "pong"
    assert message.stop_reason == "end_turn"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (11, 7)
    record = fakes.anthropic.requests[-1]
    # anthropic-python 2.x sends the key as a Bearer token and its own (newer) anthropic-version.
    assert record.headers["authorization"] == f"Bearer {KEY}" and record.headers["anthropic-version"]
    assert record.query == {} and fakes.anthropic.requests[0].query == {"limit": "1"}


def test_anthropic_tool_use(fakes: FakeProviders) -> None:
    fakes.anthropic.script(KEY)
    fakes.anthropic.queue_reply(text="Let me check.", tool_calls=[TOOL])
    message = claude(fakes).messages.create(model="claude-haiku-4-5", max_tokens=50, messages=USER)
    assert message.stop_reason == "tool_use"
    block = message.content[1]
    assert block.type == "tool_use" and block.id.startswith("toolu_")
    assert block.name == "get_weather" and block.input == TOOL["arguments"]


def test_anthropic_streaming(fakes: FakeProviders) -> None:
    fakes.anthropic.script(KEY)
    fakes.anthropic.queue_reply(text="Hello from Claude")
    with claude(fakes).messages.stream(model="claude-haiku-4-5", max_tokens=50, messages=USER) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "Hello from Claude"
    assert final.stop_reason == "end_turn" and final.usage.output_tokens == 7
    fakes.anthropic.queue_reply(tool_calls=[TOOL], finish_reason="length")
    with claude(fakes).messages.stream(model="claude-haiku-4-5", max_tokens=50, messages=USER) as stream:
        final = stream.get_final_message()
    assert final.content[0].type == "tool_use" and final.content[0].input == TOOL["arguments"]
    assert final.stop_reason == "max_tokens"
    raw = fakes.anthropic.requests[-1]
    assert raw.json["stream"] is True


def test_anthropic_errors(fakes: FakeProviders) -> None:
    with pytest.raises(anthropic.AuthenticationError) as caught:
        claude(fakes).models.list()
    assert caught.value.body["error"]["type"] == "authentication_error"
    assert caught.value.body["request_id"] == caught.value.response.headers["request-id"]
    fakes.anthropic.script(KEY, UNAVAILABLE)
    with pytest.raises(anthropic.InternalServerError) as overloaded:
        claude(fakes).messages.create(model="claude-haiku-4-5", max_tokens=1, messages=USER)
    assert overloaded.value.status_code == 529
    fakes.anthropic.script(KEY, NO_QUOTA)
    assert claude(fakes).models.list(limit=1).data
    with pytest.raises(anthropic.BadRequestError) as broke:
        claude(fakes).messages.create(model="claude-haiku-4-5", max_tokens=1, messages=USER)
    assert "credit balance is too low" in broke.value.message
    fakes.anthropic.script(KEY, RATE_LIMITED, retry_after=3)
    with pytest.raises(anthropic.RateLimitError) as limited:
        claude(fakes).messages.create(model="claude-haiku-4-5", max_tokens=1, messages=USER)
    assert limited.value.response.headers["retry-after"] == "3"
    fakes.anthropic.script(KEY)
    with pytest.raises(anthropic.NotFoundError):
        claude(fakes).models.retrieve("claude-nope")


# -- Google AI Studio --------------------------------------------------------------------------


def test_gemini_text_and_headers(fakes: FakeProviders) -> None:
    fakes.google.script(KEY)
    client = gemini(fakes)  # keep a reference: genai.Client.__del__ closes the shared HTTP client
    response = client.models.generate_content(model="gemini-2.5-flash-lite", contents="ping")
    assert response.text == "pong"
    assert response.candidates[0].finish_reason == genai_types.FinishReason.STOP
    usage = response.usage_metadata
    assert (usage.prompt_token_count, usage.candidates_token_count, usage.total_token_count) == (11, 7, 18)
    record = fakes.google.requests[-1]
    assert record.path == "/v1beta/models/gemini-2.5-flash-lite:generateContent"
    assert record.headers["x-goog-api-key"] == KEY and "key" not in record.query
    assert fakes.violations == []


def test_gemini_function_call_and_stream(fakes: FakeProviders) -> None:
    fakes.google.script(KEY)
    fakes.google.queue_reply(tool_calls=[TOOL])
    config = genai_types.GenerateContentConfig(tools=[weather_tool()])
    client = gemini(fakes)
    response = client.models.generate_content(model="gemini-2.5-flash", contents="ping", config=config)
    call = response.function_calls[0]
    assert call.name == "get_weather" and call.args == TOOL["arguments"]
    fakes.google.queue_reply(text="streamed words here")
    chunks = list(client.models.generate_content_stream(model="gemini-2.5-flash", contents="ping"))
    assert "".join(c.text or "" for c in chunks) == "streamed words here"
    assert chunks[-1].usage_metadata.candidates_token_count == 7
    assert fakes.google.requests[-1].query == {"alt": "sse"}


def test_gemini_models_pagination_and_count_tokens(fakes: FakeProviders) -> None:
    fakes.google.script(KEY, NO_QUOTA)
    client = gemini(fakes)
    names = [m.name for m in client.models.list(config={"page_size": 2})]
    assert "models/gemini-2.5-flash-lite" in names and len(names) == len(fakes.google.models)
    assert client.models.get(model="gemini-2.5-pro").name == "models/gemini-2.5-pro"
    assert client.models.count_tokens(model="gemini-2.5-flash", contents="one two three").total_tokens == 3
    with pytest.raises(genai_errors.ClientError) as caught:
        client.models.generate_content(model="gemini-2.5-flash", contents="ping")
    assert caught.value.code == 429 and caught.value.status == "RESOURCE_EXHAUSTED"
    failure = caught.value.details["error"]["details"][0]
    assert failure["violations"][0]["quotaValue"] == "0"


def test_gemini_errors(fakes: FakeProviders) -> None:
    client = gemini(fakes)
    with pytest.raises(genai_errors.ClientError) as caught:
        client.models.generate_content(model="gemini-2.5-flash", contents="ping")
    assert caught.value.code == 400 and caught.value.status == "INVALID_ARGUMENT"
    assert caught.value.details["error"]["details"][0]["reason"] == "API_KEY_INVALID"
    fakes.google.script(KEY, RATE_LIMITED, retry_after=7)
    with pytest.raises(genai_errors.ClientError) as limited:
        client.models.generate_content(model="gemini-2.5-flash", contents="ping")
    retry = [d for d in limited.value.details["error"]["details"] if d["@type"].endswith("RetryInfo")]
    assert retry[0]["retryDelay"] == "7s"
    fakes.google.script(KEY, UNAVAILABLE)
    with pytest.raises(genai_errors.ServerError) as down:
        client.models.generate_content(model="gemini-2.5-flash", contents="ping")
    assert down.value.code == 503 and down.value.status == "UNAVAILABLE"
    fakes.google.script(KEY)
    with pytest.raises(genai_errors.ClientError) as missing:
        client.models.get(model="gemini-0-nope")
    assert missing.value.code == 404


def test_gemini_key_in_url_is_a_violation(fakes: FakeProviders) -> None:
    fakes.google.script(KEY)
    response = httpx.get(f"{fakes.env()['BYOK_GOOGLE_BASE_URL']}/v1beta/models", params={"key": KEY})
    assert response.status_code == 400
    assert len(fakes.google.violations) == 2  # the ?key= itself, and the secret appearing in a URL
    fakes.google.violations.clear()


# -- Vertex AI ---------------------------------------------------------------------------------


def test_vertex_token_exchange_and_generation(fakes: FakeProviders) -> None:
    sa = make_service_account()
    fakes.vertex.script(sa["client_email"])
    client = vertex_client(fakes, sa)
    response = client.models.generate_content(model="gemini-2.5-flash", contents="ping")
    assert response.text == "pong"
    chunks = list(client.models.generate_content_stream(model="gemini-2.5-flash", contents="ping"))
    assert "".join(c.text or "" for c in chunks) == "pong"
    assert client.models.count_tokens(model="gemini-2.5-flash", contents="a b").total_tokens == 2
    token_calls = fakes.vertex.requests_to("/token")
    assert len(token_calls) == 1  # the SDK caches the token
    assert token_calls[0].form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    api = fakes.vertex.requests[-1]
    model_path = "/v1/projects/test-proj/locations/europe-west4/publishers/google/models/gemini-2.5-flash"
    assert api.path == f"{model_path}:countTokens"
    assert api.headers["authorization"].startswith("Bearer ya29.")
    assert fakes.vertex.locations == ["europe-west4"] * 3
    assert fakes.violations == []


def test_vertex_rejects_revoked_and_forged_keys(fakes: FakeProviders) -> None:
    sa, other = make_service_account(), make_service_account()
    fakes.vertex.script(sa["client_email"], REJECT)
    revoked = vertex_client(fakes, sa)
    with pytest.raises(google_auth_exceptions.RefreshError, match="invalid_grant"):
        revoked.models.generate_content(model="gemini-2.5-flash", contents="ping")
    fakes.vertex.script(sa["client_email"])
    forged = vertex_client(fakes, {**sa, "private_key": other["private_key"]})
    with pytest.raises(google_auth_exceptions.RefreshError, match="Invalid JWT Signature"):
        forged.models.generate_content(model="gemini-2.5-flash", contents="ping")
    elsewhere = vertex_client(fakes, sa, project="other-proj")
    with pytest.raises(genai_errors.ClientError) as denied:
        elsewhere.models.generate_content(model="gemini-2.5-flash", contents="ping")
    assert denied.value.code == 403 and denied.value.status == "PERMISSION_DENIED"


def test_vertex_token_endpoint_checks_claims(fakes: FakeProviders) -> None:
    sa = make_service_account()
    fakes.vertex.script(sa["client_email"])
    token_url = fakes.env()["BYOK_GOOGLE_TOKEN_URL"]

    def exchange(**overrides: Any) -> httpx.Response:
        iat = int(time.time())
        claims = {"iss": sa["client_email"], "scope": CLOUD, "aud": token_url, "iat": iat, "exp": iat + 3600}
        claims.update(overrides)
        assertion = jwt.encode(
            claims, sa["private_key"], algorithm="RS256", headers={"kid": sa["private_key_id"]}
        )
        form = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion}
        return httpx.post(token_url, data=form)

    good = exchange()
    assert good.status_code == 200
    assert good.json()["expires_in"] == 3600 and good.json()["token_type"] == "Bearer"
    assert exchange(aud="https://oauth2.googleapis.com/token").status_code == 200
    for bad in (
        {"aud": "https://elsewhere.invalid/token"},
        {"exp": int(time.time()) - 10},
        {"scope": "email"},
    ):
        response = exchange(**bad)
        assert response.status_code == 400 and response.json()["error"] in {"invalid_grant", "invalid_scope"}
    base = fakes.env()["BYOK_VERTEX_BASE_URL"]
    model = "gemini-2.5-flash"
    url = f"{base}/v1/projects/test-proj/locations/us-central1/publishers/google/models/{model}:countTokens"
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    assert httpx.post(url, json=body).json()["error"]["status"] == "UNAUTHENTICATED"
    authorized = {"authorization": f"Bearer {good.json()['access_token']}"}
    assert httpx.post(url, json=body, headers=authorized).json() == {
        "totalTokens": 1,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 1}],
    }
    fakes.vertex.expire_tokens()
    assert httpx.post(url, json=body, headers=authorized).status_code == 401
