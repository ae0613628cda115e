from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qs

import httpx
import jwt
import pytest
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from byok.providers.base import Credential, KeyConfig, ProviderContext, VerifyResult
from byok.providers.vertex import CachedToken, VertexProvider

TOKEN_URL = "https://oauth2.googleapis.com/token"
EVIL_TOKEN_URI = "https://token.evil.example/token"
EMAIL = "byok-test@my-proj.iam.gserviceaccount.com"
KEY_ID = "5f1c0e7a9b3d2c4e6f8a0b1c2d3e4f5a6b7c8d9e"
API = "https://aiplatform.googleapis.com/v1/projects/my-proj/locations/global/publishers/google/models"
COUNT = f"{API}/gemini-2.5-flash-lite:countTokens"
GENERATE = f"{API}/gemini-2.5-flash-lite:generateContent"
TOKEN = {"access_token": "ya29.test-token", "expires_in": 3599, "token_type": "Bearer"}
REPLY = {"candidates": [{"content": {"parts": [{"text": "p"}]}}]}


@pytest.fixture(scope="module")
def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def account(private_key: rsa.RSAPrivateKey) -> dict[str, Any]:
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return {
        "type": "service_account",
        "project_id": "my-proj",
        "private_key_id": KEY_ID,
        "private_key": pem,
        "client_email": EMAIL,
        "client_id": "1234567890",
        "token_uri": EVIL_TOKEN_URI,
    }


def credential(
    account: dict[str, Any], model: str | None = None, location: str | None = "global"
) -> Credential:
    config = KeyConfig(provider="vertex", location=location, default_model=model)
    return Credential(config=config, service_account=account)


def error(code: int, status: str, message: str, *details: dict[str, Any]) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": status, "details": list(details)}}


@pytest.fixture
def provider(ctx: ProviderContext) -> VertexProvider:
    return VertexProvider(ctx)


@pytest.fixture
def routes(router: respx.MockRouter) -> dict[str, respx.Route]:
    return {
        "token": router.post(TOKEN_URL).respond(200, json=TOKEN),
        "evil": router.post(EVIL_TOKEN_URI).respond(200, json=TOKEN),
        "count": router.post(COUNT).respond(200, json={"totalTokens": 1}),
        "generate": router.post(GENERATE).respond(200, json=REPLY),
    }


async def test_verify(
    provider: VertexProvider, routes: dict[str, respx.Route], account: dict[str, Any]
) -> None:
    result = await provider.verify(credential(account))

    assert result == VerifyResult(account=EMAIL, model="gemini-2.5-flash-lite")
    assert routes["token"].call_count == 1
    assert not routes["evil"].called
    for name in ("count", "generate"):
        request = routes[name].calls.last.request
        assert request.headers["authorization"] == "Bearer ya29.test-token"
    contents = [{"role": "user", "parts": [{"text": "ping"}]}]
    assert json.loads(routes["count"].calls.last.request.content) == {"contents": contents}
    assert json.loads(routes["generate"].calls.last.request.content) == {
        "contents": contents,
        "generationConfig": {"maxOutputTokens": 1},
    }


async def test_the_jwt_is_signed_by_the_service_account(
    provider: VertexProvider,
    routes: dict[str, respx.Route],
    account: dict[str, Any],
    private_key: rsa.RSAPrivateKey,
) -> None:
    await provider.verify(credential(account))

    request = routes["token"].calls.last.request
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    form = parse_qs(request.content.decode())
    assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    assertion = form["assertion"][0]
    assert jwt.get_unverified_header(assertion) == {"alg": "RS256", "typ": "JWT", "kid": KEY_ID}
    claims = jwt.decode(assertion, private_key.public_key(), algorithms=["RS256"], audience=TOKEN_URL)
    assert claims["iss"] == EMAIL
    assert claims["scope"] == "https://www.googleapis.com/auth/cloud-platform"
    assert claims["exp"] - claims["iat"] == 3600
    assert abs(claims["iat"] - time.time()) < 60


async def test_the_token_is_cached_across_instances(
    ctx: ProviderContext, routes: dict[str, respx.Route], account: dict[str, Any]
) -> None:
    await VertexProvider(ctx).verify(credential(account))
    await VertexProvider(ctx).verify(credential(account))
    assert routes["token"].call_count == 1
    assert routes["generate"].call_count == 2
    cache_text = repr(ctx.caches)
    assert account["private_key"] not in "".join(ctx.caches)
    assert KEY_ID not in cache_text and "BEGIN PRIVATE KEY" not in cache_text


async def test_a_token_near_its_expiry_is_replaced(
    provider: VertexProvider, routes: dict[str, respx.Route], account: dict[str, Any]
) -> None:
    await provider.verify(credential(account))
    (key,) = provider.ctx.caches
    provider.ctx.caches[key] = CachedToken(token="ya29.old", expires_at=time.monotonic() + 30)
    await provider.verify(credential(account))
    assert routes["token"].call_count == 2
    assert routes["count"].calls.last.request.headers["authorization"] == "Bearer ya29.test-token"


async def test_a_regional_location_picks_the_regional_host(
    provider: VertexProvider, router: respx.MockRouter, account: dict[str, Any]
) -> None:
    router.post(TOKEN_URL).respond(200, json=TOKEN)
    base = "https://us-central1-aiplatform.googleapis.com/v1/projects/my-proj/locations/us-central1"
    model = f"{base}/publishers/google/models/gemini-2.5-pro"
    count = router.post(f"{model}:countTokens").respond(200, json={"totalTokens": 1})
    router.post(f"{model}:generateContent").respond(200, json=REPLY)
    result = await provider.verify(credential(account, "gemini-2.5-pro", "us-central1"))
    assert result == VerifyResult(account=EMAIL, model="gemini-2.5-pro")
    assert count.called


async def test_the_configured_base_url_wins(
    make_ctx, router: respx.MockRouter, account: dict[str, Any]
) -> None:
    ctx = make_ctx(vertex_base_url="https://vertex.test/", google_token_url="https://token.test/token")
    token = router.post("https://token.test/token").respond(200, json=TOKEN)
    model = "https://vertex.test/v1/projects/my-proj/locations/global/publishers/google/models/gemini-2.5-flash-lite"
    router.post(f"{model}:countTokens").respond(200, json={"totalTokens": 1})
    router.post(f"{model}:generateContent").respond(200, json=REPLY)
    assert (await VertexProvider(ctx).verify(credential(account))).model == "gemini-2.5-flash-lite"
    claims = jwt.decode(
        parse_qs(token.calls.last.request.content.decode())["assertion"][0],
        options={"verify_signature": False},
    )
    assert claims["aud"] == "https://token.test/token"


async def test_missing_location_means_global(
    provider: VertexProvider, routes: dict[str, respx.Route], account: dict[str, Any]
) -> None:
    assert (await provider.verify(credential(account, location=None))).model == "gemini-2.5-flash-lite"


async def test_invalid_grant_is_invalid_credentials(
    provider: VertexProvider, routes: dict[str, respx.Route], account: dict[str, Any], verify_error
) -> None:
    routes["token"].respond(
        400, json={"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
    )
    exc = await verify_error(provider, credential(account))
    assert (exc.reason, exc.provider_status) == ("invalid_credentials", 400)
    assert "Invalid JWT Signature" in exc.message
    assert not routes["count"].called
    assert provider.ctx.caches == {}


@pytest.mark.parametrize(
    "bad_key",
    [
        "-----BEGIN PRIVATE KEY-----\n"
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7Broken\n"
        "-----END PRIVATE KEY-----\n",
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7Broken",
    ],
)
async def test_an_unloadable_private_key_is_invalid_credentials(
    provider: VertexProvider,
    routes: dict[str, respx.Route],
    account: dict[str, Any],
    verify_error,
    bad_key: str,
) -> None:
    exc = await verify_error(provider, credential({**account, "private_key": bad_key}))
    assert exc.reason == "invalid_credentials"
    assert "private_key" in exc.message
    assert "MIIEvQ" not in exc.message and "Broken" not in exc.message and "BEGIN" not in exc.message
    assert not routes["token"].called


UNAUTHENTICATED = error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")


async def test_a_refused_fresh_token_is_invalid_credentials(
    provider: VertexProvider, routes: dict[str, respx.Route], account: dict[str, Any], verify_error
) -> None:
    routes["count"].respond(401, json=UNAUTHENTICATED)
    exc = await verify_error(provider, credential(account))
    assert exc.reason == "invalid_credentials"
    assert routes["token"].call_count == 1
    assert provider.ctx.caches == {}


async def test_a_refused_cached_token_is_replaced_once(
    provider: VertexProvider, routes: dict[str, respx.Route], account: dict[str, Any]
) -> None:
    await provider.verify(credential(account))
    routes["token"].respond(200, json={**TOKEN, "access_token": "ya29.fresh"})
    routes["count"].mock(
        side_effect=[httpx.Response(401, json=UNAUTHENTICATED), httpx.Response(200, json={})]
    )
    assert (await provider.verify(credential(account))).model == "gemini-2.5-flash-lite"
    assert routes["token"].call_count == 2
    assert routes["generate"].calls.last.request.headers["authorization"] == "Bearer ya29.fresh"


@pytest.mark.parametrize(
    ("route", "status", "body", "reason"),
    [
        (
            "count",
            403,
            error(
                403,
                "PERMISSION_DENIED",
                "Vertex AI API has not been used in project my-proj before or it is disabled.",
                {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "SERVICE_DISABLED"},
            ),
            "permission_denied",
        ),
        (
            "count",
            403,
            error(403, "PERMISSION_DENIED", "Permission 'aiplatform.endpoints.predict' denied"),
            "permission_denied",
        ),
        (
            "generate",
            429,
            error(429, "RESOURCE_EXHAUSTED", "Quota exceeded for aiplatform.googleapis.com, limit: 0"),
            "quota_exceeded",
        ),
        (
            "generate",
            503,
            error(503, "UNAVAILABLE", "The service is currently unavailable."),
            "provider_unavailable",
        ),
        ("token", 500, {"error": "internal_failure"}, "provider_unavailable"),
    ],
)
async def test_failures(
    provider: VertexProvider,
    routes: dict[str, respx.Route],
    account: dict[str, Any],
    verify_error,
    route: str,
    status: int,
    body: dict[str, Any],
    reason: str,
) -> None:
    routes[route].respond(status, json=body)
    exc = await verify_error(provider, credential(account))
    assert (exc.reason, exc.provider_status) == (reason, status)


async def test_rate_limited_reads_retry_info(
    provider: VertexProvider, routes: dict[str, respx.Route], account: dict[str, Any], verify_error
) -> None:
    routes["count"].respond(
        429,
        json=error(
            429,
            "RESOURCE_EXHAUSTED",
            "Resource exhausted. Please try again later.",
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "41s"},
        ),
    )
    exc = await verify_error(provider, credential(account))
    assert (exc.reason, exc.retry_after) == ("rate_limited", 41.0)


async def test_named_model_not_found_fails(
    provider: VertexProvider,
    router: respx.MockRouter,
    routes: dict[str, respx.Route],
    account: dict[str, Any],
    verify_error,
) -> None:
    router.post(f"{API}/gemini-nope:countTokens").respond(
        404, json=error(404, "NOT_FOUND", "Publisher Model `gemini-nope` was not found")
    )
    exc = await verify_error(provider, credential(account, "gemini-nope"))
    assert exc.reason == "model_not_found"


async def test_cheapest_model_not_found_does_not_fail(
    provider: VertexProvider, routes: dict[str, respx.Route], account: dict[str, Any]
) -> None:
    routes["count"].respond(404, json=error(404, "NOT_FOUND", "Publisher Model was not found"))
    assert await provider.verify(credential(account)) == VerifyResult(account=EMAIL, model=None)
    assert not routes["generate"].called


@pytest.mark.parametrize("location", ["evil.example/x#", "us-central1.evil.example", "a b", "UPPER_case"])
async def test_a_location_cannot_change_the_host(
    provider: VertexProvider,
    routes: dict[str, respx.Route],
    account: dict[str, Any],
    verify_error,
    location: str,
) -> None:
    exc = await verify_error(provider, credential(account, location=location))
    assert exc.reason == "endpoint_not_allowed"
    assert not routes["token"].called and not routes["count"].called


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        (httpx.Response(200, text="<html/>"), "invalid_response"),
        (httpx.Response(200, json={"token_type": "Bearer"}), "invalid_response"),
        (httpx.ReadTimeout("slow"), "timeout"),
        (httpx.ConnectError("refused"), "endpoint_unreachable"),
    ],
)
async def test_token_endpoint_trouble(
    provider: VertexProvider,
    routes: dict[str, respx.Route],
    account: dict[str, Any],
    verify_error,
    response: httpx.Response | Exception,
    reason: str,
) -> None:
    routes["token"].mock(side_effect=[response])
    exc = await verify_error(provider, credential(account))
    assert exc.reason == reason
    assert not routes["count"].called
