from __future__ import annotations

import json

import httpx
import pytest
import respx

from byok.providers.azure import AzureProvider
from byok.providers.base import Credential, KeyConfig, ProviderContext, VerifyResult

KEY = "3f9a1c0b7d2e4f6a8b0c1d2e3f4a5b6c"
BASE = "https://acme.openai.azure.com"
MODELS = f"{BASE}/openai/v1/models"
V1_CHAT = f"{BASE}/openai/v1/chat/completions"
LISTING = {"object": "list", "data": [{"id": "gpt-4.1", "object": "model"}]}
REPLY = {
    "object": "chat.completion",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "p"}}],
}


def credential(
    deployment: str | None = "my-gpt", base_url: str = BASE, api_version: str | None = None
) -> Credential:
    config = KeyConfig(provider="azure", base_url=base_url, api_version=api_version, default_model=deployment)
    return Credential(config=config, api_key=KEY)


def error(code: str, message: str) -> dict[str, object]:
    return {"error": {"code": code, "message": message}}


@pytest.fixture
def provider(ctx: ProviderContext) -> AzureProvider:
    return AzureProvider(ctx)


async def test_verify_on_the_v1_api(provider: AzureProvider, router: respx.MockRouter) -> None:
    models = router.get(MODELS).respond(200, json=LISTING)
    chat = router.post(V1_CHAT).respond(200, json=REPLY)

    assert await provider.verify(credential()) == VerifyResult(model="my-gpt")

    for route in (models, chat):
        request = route.calls.last.request
        assert request.headers["api-key"] == KEY
        assert "authorization" not in request.headers
        assert KEY not in str(request.url)
    assert json.loads(chat.calls.last.request.content) == {
        "model": "my-gpt",
        "messages": [{"role": "user", "content": "ping"}],
        "max_completion_tokens": 1,
    }


async def test_verify_on_the_dated_api(provider: AzureProvider, router: respx.MockRouter) -> None:
    router.get(MODELS).respond(200, json=LISTING)
    chat = router.post(f"{BASE}/openai/deployments/my-gpt/chat/completions").respond(200, json=REPLY)

    assert await provider.verify(credential(api_version="2024-10-21")) == VerifyResult(model="my-gpt")

    request = chat.calls.last.request
    assert request.url.params["api-version"] == "2024-10-21"
    assert json.loads(request.content) == {
        "messages": [{"role": "user", "content": "ping"}],
        "max_completion_tokens": 1,
    }


async def test_without_a_deployment_only_the_key_is_checked(
    provider: AzureProvider, router: respx.MockRouter
) -> None:
    models = router.get(MODELS).respond(200, json=LISTING)
    assert await provider.verify(credential(deployment=None)) == VerifyResult(model=None)
    assert models.called


@pytest.mark.parametrize("pasted", [f"{BASE}/", f"{BASE}/openai", f"{BASE}/openai/v1/"])
async def test_a_pasted_api_path_is_tolerated(
    provider: AzureProvider, router: respx.MockRouter, pasted: str
) -> None:
    router.get(MODELS).respond(200, json=LISTING)
    router.post(V1_CHAT).respond(200, json=REPLY)
    assert (await provider.verify(credential(base_url=pasted))).model == "my-gpt"


@pytest.mark.parametrize(
    ("status", "body", "headers", "reason", "retry_after"),
    [
        (
            404,
            error("DeploymentNotFound", "The API deployment for this resource does not exist."),
            {},
            "model_not_found",
            None,
        ),
        (
            429,
            error("429", "Requests have exceeded token rate limit."),
            {"retry-after-ms": "1500"},
            "rate_limited",
            1.5,
        ),
        (429, error("429", "Rate limit exceeded."), {"retry-after": "7"}, "rate_limited", 7.0),
        (429, error("insufficient_quota", "You exceeded your current quota."), {}, "quota_exceeded", None),
        (
            403,
            error("403", "Access denied due to Virtual Network/Firewall rules."),
            {},
            "permission_denied",
            None,
        ),
        (
            500,
            error("InternalServerError", "Backend returned unexpected response."),
            {},
            "provider_unavailable",
            None,
        ),
    ],
)
async def test_chat_failures(
    provider: AzureProvider,
    router: respx.MockRouter,
    verify_error,
    status,
    body,
    headers,
    reason,
    retry_after,
) -> None:
    router.get(MODELS).respond(200, json=LISTING)
    router.post(V1_CHAT).respond(status, json=body, headers=headers)
    exc = await verify_error(provider, credential())
    assert (exc.reason, exc.provider_status, exc.retry_after) == (reason, status, retry_after)


async def test_bad_key_is_invalid_credentials_and_scrubbed(
    provider: AzureProvider, router: respx.MockRouter, verify_error
) -> None:
    message = f"Access denied due to invalid subscription key {KEY} or wrong API endpoint."
    router.get(MODELS).respond(401, json=error("401", message))
    exc = await verify_error(provider, credential())
    assert exc.reason == "invalid_credentials"
    assert KEY not in exc.message and KEY[:10] not in exc.message


async def test_a_url_without_the_api_is_invalid_response(
    provider: AzureProvider, router: respx.MockRouter, verify_error
) -> None:
    router.get(MODELS).respond(404, text="<html>Not Found</html>")
    exc = await verify_error(provider, credential())
    assert (exc.reason, exc.provider_status) == ("invalid_response", 404)


async def test_a_resource_not_found_is_invalid_response(
    provider: AzureProvider, router: respx.MockRouter, verify_error
) -> None:
    router.get(MODELS).respond(404, json=error("404", "Resource not found"))
    exc = await verify_error(provider, credential())
    assert exc.reason == "invalid_response"


async def test_non_json_chat_reply_is_invalid_response(
    provider: AzureProvider, router: respx.MockRouter, verify_error
) -> None:
    router.get(MODELS).respond(200, json=LISTING)
    router.post(V1_CHAT).respond(200, text="ok")
    exc = await verify_error(provider, credential())
    assert exc.reason == "invalid_response"


@pytest.mark.parametrize(
    ("side_effect", "reason"),
    [(httpx.ReadTimeout, "timeout"), (httpx.ConnectError, "endpoint_unreachable")],
)
async def test_transport_failures(
    provider: AzureProvider, router: respx.MockRouter, verify_error, side_effect, reason
) -> None:
    router.get(MODELS).mock(side_effect=side_effect)
    exc = await verify_error(provider, credential())
    assert exc.reason == reason


@pytest.mark.parametrize(
    "base_url",
    [
        "http://acme.openai.azure.com",
        "https://10.0.0.1",
        "https://169.254.169.254",
        "ftp://acme.example",
        "https://[::1",
        "https://ac\x00me.example",
    ],
)
async def test_endpoints_not_allowed_are_refused_before_any_request(
    provider: AzureProvider, router: respx.MockRouter, verify_error, base_url: str
) -> None:
    anything = router.route().respond(200, json=LISTING)
    exc = await verify_error(provider, credential(base_url=base_url))
    assert (exc.reason, exc.status) == ("endpoint_not_allowed", 422)
    assert not anything.called


async def test_private_endpoints_pass_when_allowed(make_ctx, router: respx.MockRouter) -> None:
    provider = AzureProvider(make_ctx(allow_private_networks=True))
    router.get("http://10.0.0.1/openai/v1/models").respond(200, json=LISTING)
    assert await provider.verify(credential(deployment=None, base_url="http://10.0.0.1")) == VerifyResult()
