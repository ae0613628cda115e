from __future__ import annotations

import json

import httpx
import pytest
import respx

from byok.providers.base import Credential, KeyConfig, ProviderContext, VerifyResult
from byok.providers.custom import CustomProvider

KEY = "sk-local-7Hq2Wm9Zr4Tx8Vb1Nc6Ly3Pd5Kf0Gs"
BASE = "https://llm.acme.example/v1"
CHAT = f"{BASE}/chat/completions"
MODELS = f"{BASE}/models"
LISTING = {"object": "list", "data": [{"id": "llama-3.3-70b", "object": "model"}]}
REPLY = {
    "object": "chat.completion",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "p"}}],
}


def credential(
    model: str | None = "llama-3.3-70b", api_key: str | None = KEY, base_url: str = BASE
) -> Credential:
    return Credential(
        config=KeyConfig(provider="custom", base_url=base_url, default_model=model), api_key=api_key
    )


@pytest.fixture
def provider(ctx: ProviderContext) -> CustomProvider:
    return CustomProvider(ctx)


async def test_verify_with_a_model_makes_a_completion(
    provider: CustomProvider, router: respx.MockRouter
) -> None:
    chat = router.post(CHAT).respond(200, json=REPLY)
    models = router.get(MODELS)

    assert await provider.verify(credential()) == VerifyResult(model="llama-3.3-70b")

    request = chat.calls.last.request
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert KEY not in str(request.url)
    assert json.loads(request.content) == {
        "model": "llama-3.3-70b",
        "messages": [{"role": "user", "content": "ping"}],
        "max_tokens": 1,
    }
    assert not models.called


async def test_no_key_means_no_authorization_header(
    provider: CustomProvider, router: respx.MockRouter
) -> None:
    chat = router.post(CHAT).respond(200, json=REPLY)
    await provider.verify(credential(api_key=None))
    assert "authorization" not in chat.calls.last.request.headers


async def test_a_pasted_completions_path_is_tolerated(
    provider: CustomProvider, router: respx.MockRouter
) -> None:
    chat = router.post(CHAT).respond(200, json=REPLY)
    await provider.verify(credential(base_url=f"{CHAT}/"))
    assert chat.called


async def test_verify_without_a_model_reads_the_model_list(
    provider: CustomProvider, router: respx.MockRouter
) -> None:
    models = router.get(MODELS).respond(200, json=LISTING)
    assert await provider.verify(credential(model=None)) == VerifyResult(model=None)
    assert models.calls.last.request.headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize(
    "body",
    [
        {"models": ["a"]},
        {"object": "page", "data": [{"id": "a"}]},
        {"object": "list", "data": [{"name": "a"}]},
        {"object": "list", "data": "a"},
        ["a", "b"],
    ],
)
async def test_a_model_list_not_shaped_like_openai_is_invalid_response(
    provider: CustomProvider, router: respx.MockRouter, verify_error, body: object
) -> None:
    router.get(MODELS).respond(200, json=body)
    exc = await verify_error(provider, credential(model=None))
    assert exc.reason == "invalid_response"


async def test_a_reply_not_shaped_like_a_completion_is_invalid_response(
    provider: CustomProvider, router: respx.MockRouter, verify_error
) -> None:
    router.post(CHAT).respond(200, json={"status": "ok"})
    exc = await verify_error(provider, credential())
    assert exc.reason == "invalid_response"


async def test_non_json_is_invalid_response(
    provider: CustomProvider, router: respx.MockRouter, verify_error
) -> None:
    router.get(MODELS).respond(200, text="<!doctype html><title>router admin</title>")
    exc = await verify_error(provider, credential(model=None))
    assert exc.reason == "invalid_response"


@pytest.mark.parametrize(
    ("status", "body", "headers", "reason", "retry_after"),
    [
        (
            401,
            {"error": {"message": "Invalid API key", "type": "invalid_request_error"}},
            {},
            "invalid_credentials",
            None,
        ),
        (403, {"error": {"message": "forbidden"}}, {}, "permission_denied", None),
        # vLLM: not wrapped in "error"
        (
            404,
            {
                "object": "error",
                "message": "The model `nope` does not exist.",
                "type": "NotFoundError",
                "code": 404,
            },
            {},
            "model_not_found",
            None,
        ),
        (
            404,
            {"error": {"message": 'model "nope" not found, try pulling it first'}},
            {},
            "model_not_found",
            None,
        ),
        # a wrong base_url (FastAPI's default 404), not a missing model
        (404, {"detail": "Not Found"}, {}, "invalid_response", None),
        (429, {"error": {"message": "slow down"}}, {"retry-after": "3"}, "rate_limited", 3.0),
        (429, {"error": {"message": "quota", "code": "insufficient_quota"}}, {}, "quota_exceeded", None),
        (402, {"error": {"message": "Insufficient credits", "code": 402}}, {}, "quota_exceeded", None),
        (502, {"error": {"message": "upstream down"}}, {}, "provider_unavailable", None),
    ],
)
async def test_completion_failures(
    provider: CustomProvider,
    router: respx.MockRouter,
    verify_error,
    status,
    body,
    headers,
    reason,
    retry_after,
) -> None:
    router.post(CHAT).respond(status, json=body, headers=headers)
    exc = await verify_error(provider, credential("nope"))
    assert (exc.reason, exc.provider_status, exc.retry_after) == (reason, status, retry_after)


async def test_an_echoed_key_is_scrubbed(
    provider: CustomProvider, router: respx.MockRouter, verify_error
) -> None:
    masked = f"{KEY[:8]}{'*' * 20}{KEY[-4:]}"
    body = {"error": {"message": f"Invalid key {KEY}; also known as {masked} or {KEY[:12]}..."}}
    router.post(CHAT).respond(401, json=body)
    exc = await verify_error(provider, credential())
    assert exc.reason == "invalid_credentials"
    assert KEY not in exc.message and KEY[:8] not in exc.message and KEY[-4:] not in exc.message


@pytest.mark.parametrize(
    ("side_effect", "reason"),
    [(httpx.ReadTimeout, "timeout"), (httpx.ConnectError, "endpoint_unreachable")],
)
async def test_transport_failures(
    provider: CustomProvider, router: respx.MockRouter, verify_error, side_effect, reason
) -> None:
    router.post(CHAT).mock(side_effect=side_effect)
    exc = await verify_error(provider, credential())
    assert exc.reason == reason
    assert KEY not in exc.message


@pytest.mark.parametrize(
    "base_url",
    [
        "http://llm.acme.example/v1",
        "https://10.0.0.1/v1",
        "https://127.0.0.1:8000/v1",
        "https://[::1]/v1",
        "https://user:pw@llm.acme.example/v1",
    ],
)
@pytest.mark.parametrize("model", ["llama-3.3-70b", None])
async def test_endpoints_not_allowed_are_refused_before_any_request(
    provider: CustomProvider, router: respx.MockRouter, verify_error, base_url: str, model: str | None
) -> None:
    anything = router.route().respond(200, json=REPLY)
    exc = await verify_error(provider, credential(model=model, base_url=base_url))
    assert (exc.reason, exc.status) == ("endpoint_not_allowed", 422)
    assert not anything.called


async def test_private_endpoints_pass_when_allowed(make_ctx, router: respx.MockRouter) -> None:
    provider = CustomProvider(make_ctx(allow_private_networks=True))
    router.post("http://10.0.0.1:8000/v1/chat/completions").respond(200, json=REPLY)
    result = await provider.verify(credential(api_key=None, base_url="http://10.0.0.1:8000/v1"))
    assert result == VerifyResult(model="llama-3.3-70b")
