from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
import respx

from byok.providers.anthropic import AnthropicProvider
from byok.providers.base import Credential, KeyConfig, ProviderContext, VerifyResult

KEY = "sk-ant-api03-Zq8Xv2Lm4Np6Rt8Wy0Ab2Cd4Ef6Gh8Ij0Kl2Mn4Op6Qr8St0Uv-wXyZ12AA"
BASE = "https://api.anthropic.com"
MODELS = f"{BASE}/v1/models"
MESSAGES = f"{BASE}/v1/messages"
LISTING = {"data": [{"id": "claude-haiku-4-5", "type": "model"}], "has_more": True}
REPLY = {"type": "message", "content": [{"type": "text", "text": "p"}], "stop_reason": "max_tokens"}


def credential(model: str | None = None) -> Credential:
    return Credential(config=KeyConfig(provider="anthropic", default_model=model), api_key=KEY)


def error(kind: str, message: str) -> dict[str, object]:
    return {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_01"}


@pytest.fixture
def provider(ctx: ProviderContext) -> AnthropicProvider:
    return AnthropicProvider(ctx)


async def test_verify_on_the_cheapest_model(provider: AnthropicProvider, router: respx.MockRouter) -> None:
    models = router.get(MODELS).respond(200, json=LISTING)
    messages = router.post(MESSAGES).respond(200, json=REPLY)

    assert await provider.verify(credential()) == VerifyResult(model="claude-haiku-4-5")

    listed = models.calls.last.request
    assert listed.url.params["limit"] == "1"
    sent = messages.calls.last.request
    assert sent.headers["x-api-key"] == KEY
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert KEY not in str(sent.url) and KEY not in str(listed.url)
    assert json.loads(sent.content) == {
        "model": "claude-haiku-4-5",
        "max_tokens": 1,
        "messages": [{"role": "user", "content": "ping"}],
    }


async def test_verify_on_a_named_model(provider: AnthropicProvider, router: respx.MockRouter) -> None:
    router.get(MODELS).respond(200, json=LISTING)
    messages = router.post(MESSAGES).respond(200, json=REPLY)
    assert await provider.verify(credential("claude-sonnet-4-6")) == VerifyResult(model="claude-sonnet-4-6")
    assert json.loads(messages.calls.last.request.content)["model"] == "claude-sonnet-4-6"


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (401, error("authentication_error", "invalid x-api-key"), "invalid_credentials"),
        (403, error("permission_error", "Your API key does not have permission"), "permission_denied"),
        (
            400,
            error("invalid_request_error", "Your credit balance is too low to access the Anthropic API."),
            "quota_exceeded",
        ),
        (402, error("billing_error", "There is an issue with your billing"), "quota_exceeded"),
        (400, error("invalid_request_error", "max_tokens: field required"), "invalid_response"),
        (500, error("api_error", "Internal server error"), "provider_unavailable"),
        (529, error("overloaded_error", "Overloaded"), "provider_unavailable"),
    ],
)
async def test_generation_failures(
    provider: AnthropicProvider, router: respx.MockRouter, verify_error, status, body, reason
) -> None:
    router.get(MODELS).respond(200, json=LISTING)
    router.post(MESSAGES).respond(status, json=body)
    exc = await verify_error(provider, credential())
    assert (exc.reason, exc.provider_status) == (reason, status)
    assert exc.message == body["error"]["message"]


async def test_bad_key_fails_on_the_model_list(
    provider: AnthropicProvider, router: respx.MockRouter, verify_error
) -> None:
    router.get(MODELS).respond(401, json=error("authentication_error", f"invalid x-api-key {KEY}"))
    messages = router.post(MESSAGES)
    exc = await verify_error(provider, credential())
    assert exc.reason == "invalid_credentials"
    assert KEY not in exc.message and KEY[:12] not in exc.message
    assert not messages.called


async def test_named_model_not_found_fails(
    provider: AnthropicProvider, router: respx.MockRouter, verify_error
) -> None:
    router.get(MODELS).respond(200, json=LISTING)
    router.post(MESSAGES).respond(404, json=error("not_found_error", "model: claude-nope"))
    exc = await verify_error(provider, credential("claude-nope"))
    assert exc.reason == "model_not_found"


async def test_cheapest_model_not_found_does_not_fail(
    provider: AnthropicProvider, router: respx.MockRouter
) -> None:
    router.get(MODELS).respond(200, json=LISTING)
    router.post(MESSAGES).respond(404, json=error("not_found_error", "model: claude-haiku-4-5"))
    assert await provider.verify(credential()) == VerifyResult(model=None)


async def test_rate_limited_passes_retry_after_on(
    provider: AnthropicProvider, router: respx.MockRouter, verify_error
) -> None:
    router.get(MODELS).respond(200, json=LISTING)
    router.post(MESSAGES).respond(
        429, json=error("rate_limit_error", "Number of requests exceeded"), headers={"retry-after": "17"}
    )
    exc = await verify_error(provider, credential())
    assert (exc.reason, exc.status, exc.retry_after) == ("rate_limited", 429, 17.0)


async def test_retry_after_as_an_http_date(
    provider: AnthropicProvider, router: respx.MockRouter, verify_error
) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    router.get(MODELS).respond(
        429, json=error("rate_limit_error", "slow down"), headers={"retry-after": when}
    )
    exc = await verify_error(provider, credential())
    assert exc.reason == "rate_limited"
    assert exc.retry_after is not None and 80 <= exc.retry_after <= 90


async def test_non_json_answer_is_invalid_response(
    provider: AnthropicProvider, router: respx.MockRouter, verify_error
) -> None:
    router.get(MODELS).respond(200, text="<html>hello</html>")
    exc = await verify_error(provider, credential())
    assert exc.reason == "invalid_response"


async def test_model_list_of_the_wrong_shape_is_invalid_response(
    provider: AnthropicProvider, router: respx.MockRouter, verify_error
) -> None:
    router.get(MODELS).respond(200, json={"models": []})
    exc = await verify_error(provider, credential())
    assert exc.reason == "invalid_response"


async def test_html_gateway_error_is_provider_unavailable(
    provider: AnthropicProvider, router: respx.MockRouter, verify_error
) -> None:
    router.get(MODELS).respond(502, text="<html>Bad gateway</html>")
    exc = await verify_error(provider, credential())
    assert (exc.reason, exc.status) == ("provider_unavailable", 502)


async def test_redirect_is_not_followed(
    provider: AnthropicProvider, router: respx.MockRouter, verify_error
) -> None:
    router.get(MODELS).respond(307, headers={"location": "https://elsewhere.example/v1/models"})
    exc = await verify_error(provider, credential())
    assert exc.reason == "invalid_response"


@pytest.mark.parametrize(
    ("side_effect", "reason"),
    [(httpx.ReadTimeout, "timeout"), (httpx.ConnectError, "endpoint_unreachable")],
)
async def test_transport_failures(
    provider: AnthropicProvider, router: respx.MockRouter, verify_error, side_effect, reason
) -> None:
    router.get(MODELS).mock(side_effect=side_effect)
    exc = await verify_error(provider, credential())
    assert exc.reason == reason
