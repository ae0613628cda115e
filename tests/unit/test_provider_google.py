from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

from byok.providers.base import Credential, KeyConfig, ProviderContext, VerifyResult
from byok.providers.google import GoogleProvider, classify_google_shaped

KEY = "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"
BASE = "https://generativelanguage.googleapis.com"
MODELS = f"{BASE}/v1beta/models"
GENERATE = f"{BASE}/v1beta/models/gemini-2.5-flash-lite:generateContent"
LISTING = {"models": [{"name": "models/gemini-2.5-flash-lite"}], "nextPageToken": "abc"}
REPLY = {"candidates": [{"content": {"parts": [{"text": "p"}]}, "finishReason": "MAX_TOKENS"}]}
ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"


def credential(model: str | None = None) -> Credential:
    return Credential(config=KeyConfig(provider="google", default_model=model), api_key=KEY)


def error(code: int, status: str, message: str, *details: dict[str, Any]) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": status, "details": list(details)}}


BAD_KEY = error(
    400,
    "INVALID_ARGUMENT",
    "API key not valid. Please pass a valid API key.",
    {"@type": ERROR_INFO, "reason": "API_KEY_INVALID", "domain": "googleapis.com"},
)
ZERO_QUOTA = error(
    429,
    "RESOURCE_EXHAUSTED",
    "You exceeded your current quota, please check your plan and billing details.",
    {
        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
        "violations": [
            {
                "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                "quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
                "quotaValue": "0",
            }
        ],
    },
)
RATE_LIMITED = error(
    429,
    "RESOURCE_EXHAUSTED",
    "Quota exceeded for metric: generate_content_free_tier_requests, limit: 15",
    {
        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
        "violations": [{"quotaMetric": "generate_content_free_tier_requests", "quotaValue": "15"}],
    },
    {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "41s"},
)


@pytest.fixture
def provider(ctx: ProviderContext) -> GoogleProvider:
    return GoogleProvider(ctx)


async def test_verify_sends_the_key_in_the_header_only(
    provider: GoogleProvider, router: respx.MockRouter
) -> None:
    models = router.get(MODELS).respond(200, json=LISTING)
    generate = router.post(GENERATE).respond(200, json=REPLY)

    assert await provider.verify(credential()) == VerifyResult(model="gemini-2.5-flash-lite")

    for route in (models, generate):
        request = route.calls.last.request
        assert request.headers["x-goog-api-key"] == KEY
        assert KEY not in str(request.url)
        assert "key" not in request.url.params
    assert models.calls.last.request.url.params["pageSize"] == "1"
    assert json.loads(generate.calls.last.request.content) == {
        "contents": [{"role": "user", "parts": [{"text": "ping"}]}],
        "generationConfig": {"maxOutputTokens": 1},
    }


async def test_verify_on_a_named_model(provider: GoogleProvider, router: respx.MockRouter) -> None:
    router.get(MODELS).respond(200, json=LISTING)
    generate = router.post(f"{BASE}/v1beta/models/gemini-2.5-pro:generateContent").respond(200, json=REPLY)
    assert await provider.verify(credential("gemini-2.5-pro")) == VerifyResult(model="gemini-2.5-pro")
    assert generate.called


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (400, BAD_KEY, "invalid_credentials"),
        (
            403,
            error(
                403,
                "PERMISSION_DENIED",
                "API key not valid.",
                {"@type": ERROR_INFO, "reason": "API_KEY_INVALID"},
            ),
            "invalid_credentials",
        ),
        (
            401,
            error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials."),
            "invalid_credentials",
        ),
        (
            403,
            error(
                403,
                "PERMISSION_DENIED",
                "Requests to this API are blocked.",
                {"@type": ERROR_INFO, "reason": "API_KEY_SERVICE_BLOCKED"},
            ),
            "permission_denied",
        ),
        (
            400,
            error(400, "FAILED_PRECONDITION", "User location is not supported for the API use."),
            "permission_denied",
        ),
        (429, ZERO_QUOTA, "quota_exceeded"),
        (
            429,
            error(429, "RESOURCE_EXHAUSTED", "Quota exceeded for metric: x, limit: 0, model: y"),
            "quota_exceeded",
        ),
        (
            503,
            error(503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
            "provider_unavailable",
        ),
        (500, error(500, "INTERNAL", "An internal error has occurred."), "provider_unavailable"),
        (400, error(400, "INVALID_ARGUMENT", "Invalid JSON payload received."), "invalid_response"),
    ],
)
async def test_generation_failures(
    provider: GoogleProvider, router: respx.MockRouter, verify_error, status, body, reason
) -> None:
    router.get(MODELS).respond(200, json=LISTING)
    router.post(GENERATE).respond(status, json=body)
    exc = await verify_error(provider, credential())
    assert (exc.reason, exc.provider_status) == (reason, status)
    assert exc.retry_after is None


async def test_rate_limited_reads_retry_info(
    provider: GoogleProvider, router: respx.MockRouter, verify_error
) -> None:
    router.get(MODELS).respond(200, json=LISTING)
    router.post(GENERATE).respond(429, json=RATE_LIMITED)
    exc = await verify_error(provider, credential())
    assert (exc.reason, exc.retry_after) == ("rate_limited", 41.0)


async def test_named_model_not_found_fails(
    provider: GoogleProvider, router: respx.MockRouter, verify_error
) -> None:
    router.get(MODELS).respond(200, json=LISTING)
    router.post(f"{BASE}/v1beta/models/gemini-nope:generateContent").respond(
        404, json=error(404, "NOT_FOUND", "models/gemini-nope is not found for API version v1beta")
    )
    exc = await verify_error(provider, credential("gemini-nope"))
    assert exc.reason == "model_not_found"


async def test_cheapest_model_not_found_does_not_fail(
    provider: GoogleProvider, router: respx.MockRouter
) -> None:
    router.get(MODELS).respond(200, json=LISTING)
    router.post(GENERATE).respond(
        404, json=error(404, "NOT_FOUND", "models/gemini-2.5-flash-lite is not found")
    )
    assert await provider.verify(credential()) == VerifyResult(model=None)


async def test_a_named_model_stays_one_path_segment(
    provider: GoogleProvider, router: respx.MockRouter
) -> None:
    router.get(MODELS).respond(200, json=LISTING)
    generate = router.post(url__startswith=f"{BASE}/v1beta/models/").respond(200, json=REPLY)
    await provider.verify(credential("../../v1/evil"))
    assert generate.calls.last.request.url.raw_path.startswith(b"/v1beta/models/..%2F..%2Fv1%2Fevil:")


async def test_an_echoed_key_is_scrubbed(
    provider: GoogleProvider, router: respx.MockRouter, verify_error
) -> None:
    body = error(
        400,
        "INVALID_ARGUMENT",
        f"API key not valid: {KEY}",
        {"@type": ERROR_INFO, "reason": "API_KEY_INVALID"},
    )
    router.get(MODELS).respond(400, json=body)
    exc = await verify_error(provider, credential())
    assert exc.reason == "invalid_credentials"
    assert KEY not in exc.message and KEY[:10] not in exc.message


async def test_non_json_answer_is_invalid_response(
    provider: GoogleProvider, router: respx.MockRouter, verify_error
) -> None:
    router.get(MODELS).respond(200, json=LISTING)
    router.post(GENERATE).respond(200, text="not json")
    exc = await verify_error(provider, credential())
    assert exc.reason == "invalid_response"


@pytest.mark.parametrize(
    ("side_effect", "reason"),
    [(httpx.ReadTimeout, "timeout"), (httpx.ConnectError, "endpoint_unreachable")],
)
async def test_transport_failures(
    provider: GoogleProvider, router: respx.MockRouter, verify_error, side_effect, reason
) -> None:
    router.get(MODELS).mock(side_effect=side_effect)
    exc = await verify_error(provider, credential())
    assert exc.reason == reason


def test_classification_without_a_body_falls_back_on_the_status() -> None:
    response = httpx.Response(404)
    assert classify_google_shaped(response, None, "google") == ("model_not_found", "google answered HTTP 404")
    assert classify_google_shaped(httpx.Response(503), None, "google")[0] == "provider_unavailable"
