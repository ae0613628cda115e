"""Google Vertex AI with a service account: a self-signed JWT buys an OAuth access token.

The token always comes from ``settings.google_token_url``, never from the key file's
``token_uri``: the file is user input, and trusting it would send a signed assertion wherever
it points. Tokens are cached in the shared context until a minute before they expire, keyed by
a hash of the key (never the key itself), so chat calls reuse what verification fetched.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar
from urllib.parse import quote

import httpx
import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from byok.providers.base import (
    Credential,
    Provider,
    ProviderError,
    Reason,
    VerifyResult,
    error_message,
    status_reason,
)
from byok.providers.gemini_format import GeminiStream, from_generate_response, to_generate_request
from byok.providers.google import PING, classify_google_shaped
from byok.redact import scrub

SCOPE = "https://www.googleapis.com/auth/cloud-platform"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_LIFETIME_S = 3600
#: A cached token is dropped this long before it expires, so no call starts with a dying one.
TOKEN_MARGIN_S = 60.0
# The location becomes part of a hostname: only a plain region name may get there.
_LOCATION = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Project ids, including legacy domain-scoped ones ("example.com:project"); never a path.
_PROJECT = re.compile(r"^[a-z][a-z0-9.:-]*$")
_OAUTH_BAD_CREDENTIAL = frozenset({"invalid_grant", "invalid_client", "unauthorized_client"})


@dataclass(frozen=True)
class ServiceAccount:
    client_email: str
    private_key: str
    private_key_id: str
    project_id: str


@dataclass(frozen=True)
class CachedToken:
    token: str
    expires_at: float  # time.monotonic()


def _refuse(credential: Credential, reason: Reason, message: str) -> ProviderError:
    return ProviderError(reason, scrub(message, credential.secrets))


def service_account(credential: Credential) -> ServiceAccount:
    """The fields the token exchange and the endpoint need, or ``invalid_credentials``."""
    raw = credential.service_account or {}
    if raw.get("type", "service_account") != "service_account":
        raise _refuse(credential, "invalid_credentials", 'the credentials must have type "service_account"')
    values: dict[str, str] = {}
    for name in ("client_email", "private_key", "project_id"):
        value = raw.get(name)
        if not isinstance(value, str) or not value.strip():
            raise _refuse(credential, "invalid_credentials", f"the service-account JSON has no {name}")
        values[name] = value.strip()
    if not _PROJECT.match(values["project_id"]):
        raise _refuse(credential, "invalid_credentials", "the service-account JSON's project_id is not valid")
    key_id = raw.get("private_key_id")
    return ServiceAccount(private_key_id=key_id if isinstance(key_id, str) else "", **values)


def sign_assertion(credential: Credential, account: ServiceAccount, audience: str, now: int) -> str:
    """The RS256 JWT Google's token endpoint exchanges for an access token."""
    pem = account.private_key.replace("\\n", "\n")  # tolerate a key pasted with its JSON escapes
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        key = None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise _refuse(
            credential,
            "invalid_credentials",
            "the service account's private_key cannot be loaded: it must be an unencrypted RSA key in PEM",
        )
    claims = {"iss": account.client_email, "scope": SCOPE, "aud": audience, "iat": now}
    claims["exp"] = now + TOKEN_LIFETIME_S
    headers = {"kid": account.private_key_id} if account.private_key_id else None
    token: str = jwt.encode(claims, key, algorithm="RS256", headers=headers)
    return token


def classify_oauth(response: httpx.Response, body: Any) -> tuple[Reason, str]:
    """The token endpoint's ``{"error": "invalid_grant", "error_description": ...}`` shape."""
    code = str(body.get("error") or "") if isinstance(body, dict) else ""
    message = error_message(body, f"the token endpoint answered HTTP {response.status_code}")
    if code in _OAUTH_BAD_CREDENTIAL:
        return "invalid_credentials", message
    return status_reason(response.status_code), message


class VertexProvider(Provider):
    name = "vertex"
    cheapest_model: ClassVar[str | None] = "gemini-2.5-flash-lite"

    def location(self, credential: Credential) -> str:
        location = (credential.config.location or "global").strip().lower()
        if not _LOCATION.match(location):
            raise _refuse(
                credential, "endpoint_not_allowed", "location must be a region like us-central1, or global"
            )
        return location

    def base_url(self, credential: Credential) -> str:
        if self.settings.vertex_base_url:
            return self.settings.vertex_base_url.rstrip("/")
        location = self.location(credential)
        host = (
            "aiplatform.googleapis.com" if location == "global" else f"{location}-aiplatform.googleapis.com"
        )
        return f"https://{host}"

    def model_url(self, credential: Credential, model: str, verb: str) -> str:
        """``{base}/v1/projects/{project}/locations/{location}/publishers/google/models/{model}:{verb}``."""
        project = service_account(credential).project_id
        location = self.location(credential)
        segment = quote(model, safe="")
        return (
            f"{self.base_url(credential)}/v1/projects/{project}/locations/{location}"
            f"/publishers/google/models/{segment}:{verb}"
        )

    def _cache_key(self, account: ServiceAccount) -> str:
        material = "\0".join(
            (
                account.client_email,
                account.private_key_id,
                account.private_key,
                self.settings.google_token_url,
            )
        )
        return "vertex-token:" + hashlib.sha256(material.encode()).hexdigest()

    def cached_token(self, credential: Credential) -> str | None:
        """The cached access token while it has more than a minute left, else None."""
        cached = self.ctx.caches.get(self._cache_key(service_account(credential)))
        if isinstance(cached, CachedToken) and cached.expires_at - TOKEN_MARGIN_S > time.monotonic():
            return cached.token
        return None

    async def access_token(self, credential: Credential) -> str:
        """A valid access token for the credential: the cached one, or a fresh exchange."""
        if cached := self.cached_token(credential):
            return cached
        account = service_account(credential)
        token_url = self.settings.google_token_url
        assertion = sign_assertion(credential, account, token_url, int(time.time()))
        started = time.monotonic()
        body = await self.send(
            credential,
            "POST",
            token_url,
            headers={"Accept": "application/json"},
            form={"grant_type": GRANT_TYPE, "assertion": assertion},
        )
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise ProviderError("invalid_response", "the token endpoint answered without an access_token")
        lifetime = body.get("expires_in")
        seconds = float(lifetime) if isinstance(lifetime, int | float) else float(TOKEN_LIFETIME_S)
        self.ctx.caches[self._cache_key(account)] = CachedToken(token=token, expires_at=started + seconds)
        return token

    def forget_token(self, credential: Credential) -> None:
        """Drop the cached token, e.g. after the API refused it."""
        self.ctx.caches.pop(self._cache_key(service_account(credential)), None)

    async def auth_headers(self, credential: Credential) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.access_token(credential)}"}

    def classify(self, response: httpx.Response, body: Any) -> tuple[Reason, str]:
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            return classify_oauth(response, body)
        return classify_google_shaped(response, body, self.name)

    async def chat(self, credential: Credential, model: str, request: dict[str, Any]) -> dict[str, Any]:
        body = to_generate_request(request, model, self.name)
        url = self.model_url(credential, model, "generateContent")
        reused = self.cached_token(credential) is not None
        while True:
            headers = await self.auth_headers(credential)
            try:
                reply = await self.send(
                    credential, "POST", url, headers=headers, json_body=body, timeout=self.chat_timeout()
                )
                return from_generate_response(reply, model, self.name)
            except ProviderError as exc:
                if not self._stale_token(credential, exc, reused):
                    raise
                reused = False

    async def stream(
        self, credential: Credential, model: str, request: dict[str, Any]
    ) -> AsyncIterator[dict[str, Any]]:
        body = to_generate_request(request, model, self.name)
        url = self.model_url(credential, model, "streamGenerateContent")
        reused = self.cached_token(credential) is not None
        while True:
            headers = await self.auth_headers(credential)
            translator = GeminiStream(model, self.name, partial(self.event_failure, credential))
            chunks = self.relay(
                credential, translator, url, headers=headers, json_body=body, params={"alt": "sse"}
            )
            started = False
            try:
                async with aclosing(chunks):
                    async for chunk in chunks:
                        started = True
                        yield chunk
                return
            except ProviderError as exc:
                if started or not self._stale_token(credential, exc, reused):
                    raise
                reused = False

    def _stale_token(self, credential: Credential, exc: ProviderError, reused: bool) -> bool:
        """True (and the token forgotten) when the API refused a cached token: worth one retry."""
        if exc.reason != "invalid_credentials":
            return False
        self.forget_token(credential)
        return reused

    async def verify(self, credential: Credential) -> VerifyResult:
        reused = self.cached_token(credential) is not None
        try:
            return await self._prove(credential)
        except ProviderError as exc:
            if exc.reason != "invalid_credentials":
                raise
            self.forget_token(credential)
            if not reused:
                raise
        # The API refused a cached token (revoked, or expired early): one retry with a fresh one.
        return await self._prove(credential)

    async def _prove(self, credential: Credential) -> VerifyResult:
        account = service_account(credential)
        model = credential.config.default_model or self.cheapest_model
        assert model is not None
        count_url = self.model_url(credential, model, "countTokens")  # a bad location fails before any call
        headers = await self.auth_headers(credential)  # the token exchange proves the key
        try:
            # countTokens proves the API is enabled, IAM allows prediction and the model is served
            # in this location; only the generation shows missing quota.
            await self.send(credential, "POST", count_url, headers=headers, json_body={"contents": PING})
            await self.send(
                credential,
                "POST",
                self.model_url(credential, model, "generateContent"),
                headers=headers,
                json_body={"contents": PING, "generationConfig": {"maxOutputTokens": 1}},
            )
        except ProviderError as exc:
            if exc.reason == "model_not_found" and not credential.config.default_model:
                return VerifyResult(account=account.client_email, model=None)
            raise
        return VerifyResult(account=account.client_email, model=model)
