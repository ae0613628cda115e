"""The exemplar module's own checks, foremost the masked key OpenAI echoes in a 401."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from byok.providers.base import Credential, KeyConfig, ProviderContext, VerifyResult
from byok.providers.openai import OpenAIProvider

KEY = "sk-abc12Qf7Lm3Np9Rt4Vx8Zb2Cd6Gh1Jk5wxyz"
BASE = "https://api.openai.com/v1"
MODELS = f"{BASE}/models"
CHAT = f"{BASE}/chat/completions"
LISTING = {"object": "list", "data": [{"id": "gpt-4.1-nano", "object": "model"}]}
REPLY = {
    "object": "chat.completion",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "p"}}],
}


def credential(model: str | None = None) -> Credential:
    return Credential(config=KeyConfig(provider="openai", default_model=model), api_key=KEY)


def error(code: str, message: str, kind: str = "invalid_request_error") -> dict[str, object]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


@pytest.fixture
def provider(ctx: ProviderContext) -> OpenAIProvider:
    return OpenAIProvider(ctx)


async def test_verify(provider: OpenAIProvider, router: respx.MockRouter) -> None:
    router.get(MODELS).respond(200, json=LISTING)
    chat = router.post(CHAT).respond(200, json=REPLY)
    assert await provider.verify(credential()) == VerifyResult(model="gpt-4.1-nano")
    request = chat.calls.last.request
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert json.loads(request.content)["max_completion_tokens"] == 1


async def test_the_masked_key_in_a_401_is_scrubbed(
    provider: OpenAIProvider, router: respx.MockRouter, verify_error
) -> None:
    message = (
        "Incorrect API key provided: sk-abc12***********wxyz. "
        "You can find your API key at https://platform.openai.com/account/api-keys."
    )
    router.get(MODELS).respond(401, json=error("invalid_api_key", message))
    exc = await verify_error(provider, credential())
    assert (exc.reason, exc.provider_status) == ("invalid_credentials", 401)
    assert "sk-abc12" not in exc.message and "wxyz" not in exc.message and "***" not in exc.message
    assert "Incorrect API key provided" in exc.message


@pytest.mark.parametrize(
    ("status", "body", "headers", "reason", "retry_after"),
    [
        (
            429,
            error("rate_limit_exceeded", "Rate limit reached", "requests"),
            {"retry-after-ms": "250"},
            "rate_limited",
            0.25,
        ),
        (
            429,
            error("insufficient_quota", "You exceeded your current quota", "insufficient_quota"),
            {},
            "quota_exceeded",
            None,
        ),
        (
            403,
            error("unsupported_country_region_territory", "Country not supported"),
            {},
            "permission_denied",
            None,
        ),
        (
            503,
            error("", "The engine is currently overloaded", "server_error"),
            {},
            "provider_unavailable",
            None,
        ),
    ],
)
async def test_generation_failures(
    provider: OpenAIProvider,
    router: respx.MockRouter,
    verify_error,
    status,
    body,
    headers,
    reason,
    retry_after,
) -> None:
    router.get(MODELS).respond(200, json=LISTING)
    router.post(CHAT).respond(status, json=body, headers=headers)
    exc = await verify_error(provider, credential())
    assert (exc.reason, exc.retry_after) == (reason, retry_after)


async def test_named_model_not_found_fails_but_the_cheapest_does_not(
    provider: OpenAIProvider, router: respx.MockRouter, verify_error
) -> None:
    router.get(MODELS).respond(200, json=LISTING)
    router.post(CHAT).respond(404, json=error("model_not_found", "The model `x` does not exist"))
    assert (await verify_error(provider, credential("x"))).reason == "model_not_found"
    assert await provider.verify(credential()) == VerifyResult(model=None)


async def test_timeout(provider: OpenAIProvider, router: respx.MockRouter, verify_error) -> None:
    router.get(MODELS).mock(side_effect=httpx.ReadTimeout)
    assert (await verify_error(provider, credential())).reason == "timeout"
