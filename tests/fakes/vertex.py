"""Fake Vertex AI: the OAuth token endpoint (JWT bearer grant) and the Gemini publisher-model API.

``make_service_account()`` mints a real RSA key pair and registers its PUBLIC key here, so the token
endpoint genuinely verifies the RS256 signature of the service's assertion. Scripts are keyed by the
service account's ``client_email``.
"""

from __future__ import annotations

import secrets
import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from fastapi import Request
from fastapi.responses import JSONResponse, Response

from .base import REJECT, FakeProvider, bearer, json_error
from .google import (
    GEMINI_FINISH,
    GEMINI_MODELS,
    METHODS,
    TYPE,
    count_tokens,
    google_error,
    invalid_body,
    quota_error,
    read_json,
    render_generation,
    unavailable_error,
)

SCOPE = "https://www.googleapis.com/auth/cloud-platform"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"
UNRELATED_TOKEN_URI = "https://token-uri.invalid/token"
TOKEN_LIFETIME = 3600
SHORT_LIVED = (
    "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. "
    "Check your iat and exp values in the JWT claim."
)


@dataclass(frozen=True)
class _Account:
    public_key: RSAPublicKey
    private_key_id: str
    project_id: str


# Google's identity database: every fake Vertex instance knows every account made here.
_ACCOUNTS: dict[str, _Account] = {}
_target: ContextVar[str] = ContextVar("vertex_target", default="")


def make_service_account(project_id: str = "test-proj", client_email: str | None = None) -> dict[str, str]:
    """A complete service-account JSON dict with a fresh RSA key; its public key is registered."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    email = client_email or f"byok-{secrets.token_hex(4)}@{project_id}.iam.gserviceaccount.com"
    key_id = secrets.token_hex(20)
    _ACCOUNTS[email] = _Account(key.public_key(), key_id, project_id)
    return {
        "type": "service_account",
        "project_id": project_id,
        "private_key_id": key_id,
        "private_key": pem,
        "client_email": email,
        "client_id": str(secrets.randbelow(10**21)).zfill(21),
        "auth_uri": "https://accounts.google.invalid/o/oauth2/auth",
        "token_uri": UNRELATED_TOKEN_URI,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": f"https://www.googleapis.com/robot/v1/metadata/x509/{email}",
        "universe_domain": "googleapis.com",
    }


def _grant_error(error: str, description: str) -> Response:
    return json_error(400, {"error": error, "error_description": description})


class VertexFake(FakeProvider):
    name = "vertex"
    default_models = GEMINI_MODELS
    finish_map = GEMINI_FINISH

    def __init__(self) -> None:
        self._tokens: dict[str, tuple[str, float]] = {}
        self.locations: list[str] = []
        super().__init__()

    def reset(self) -> None:
        # Registered service accounts and issued tokens survive (they are Google's state, not a
        # test's); a token's owner is re-checked against the current script on every call.
        super().reset()
        self.locations.clear()

    def expire_tokens(self) -> None:
        """Make every issued access token expired (the API then answers 401 UNAUTHENTICATED)."""
        self._tokens = {t: (email, 0.0) for t, (email, _) in self._tokens.items()}

    def url_secrets(self) -> list[str]:
        return list(self._tokens)

    def _routes(self) -> None:
        app = self.app

        @app.post("/token")
        async def token(request: Request) -> Response:
            form = dict(parse_qsl((await request.body()).decode("latin-1")))
            audiences = [str(request.url.replace(query="")), GOOGLE_TOKEN_URL]
            return self._exchange(form, audiences)

        @app.post("/v1/projects/{project}/locations/{location}/publishers/google/models/{target}")
        async def model_method(project: str, location: str, target: str, request: Request) -> Response:
            self.locations.append(location)
            model, _, method = target.rpartition(":")
            _target.set(f"projects/{project}/locations/{location}/publishers/google/models/{model}")
            if method not in METHODS or not model:
                return google_error(404, "NOT_FOUND", f"Method not found: {target}")
            entry = self._tokens.get(bearer(request) or "")
            email = entry[0] if entry and entry[1] > time.time() else None
            body = await read_json(request)
            if denied := await self.check(email, model=model, generation=method != "countTokens"):
                return denied
            assert email is not None
            if _ACCOUNTS[email].project_id != project:
                return self._permission_denied()
            if method == "countTokens":
                return JSONResponse(count_tokens(body))
            if bad := invalid_body(body):
                return bad
            sse = request.query_params.get("alt") == "sse"
            return render_generation(self, model, method, sse, vertex=True)

    def _exchange(self, form: dict[str, str], audiences: list[str]) -> Response:
        if form.get("grant_type") != GRANT_TYPE:
            return _grant_error("unsupported_grant_type", f"Invalid grant_type: {form.get('grant_type', '')}")
        assertion = form.get("assertion", "")
        try:
            header = jwt.get_unverified_header(assertion)
            claims: dict[str, Any] = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            return _grant_error("invalid_grant", "Invalid JWT: bad assertion.")
        account = _ACCOUNTS.get(str(claims.get("iss", "")))
        if header.get("alg") != "RS256" or account is None:
            return _grant_error("invalid_grant", "Invalid JWT Signature.")
        if header.get("kid") not in (None, account.private_key_id):
            return _grant_error("invalid_grant", "Invalid JWT Signature.")
        try:
            jwt.decode(
                assertion,
                account.public_key,
                algorithms=["RS256"],
                audience=audiences,
                options={"require": ["iss", "aud", "iat", "exp"]},
            )
        except jwt.InvalidSignatureError:
            return _grant_error("invalid_grant", "Invalid JWT Signature.")
        except jwt.InvalidAudienceError:
            return _grant_error("invalid_grant", "Invalid JWT: Failed audience check.")
        except (jwt.ExpiredSignatureError, jwt.ImmatureSignatureError, jwt.MissingRequiredClaimError):
            return _grant_error("invalid_grant", SHORT_LIVED)
        except jwt.PyJWTError as exc:
            return _grant_error("invalid_grant", f"Invalid JWT: {exc}")
        if int(claims["exp"]) - int(claims["iat"]) > TOKEN_LIFETIME:
            return _grant_error("invalid_grant", SHORT_LIVED)
        if SCOPE not in str(claims.get("scope", "")).split():
            return _grant_error("invalid_scope", "Invalid OAuth scope or ID token audience provided.")
        email = str(claims["iss"])
        script = self.script_for(email)
        if script is None or script.behavior == REJECT:
            return _grant_error("invalid_grant", "Invalid JWT Signature.")
        access_token = f"ya29.fake-{secrets.token_urlsafe(32)}"
        self._tokens[access_token] = (email, time.time() + TOKEN_LIFETIME)
        return JSONResponse(
            {"access_token": access_token, "expires_in": TOKEN_LIFETIME, "token_type": "Bearer"}
        )

    # -- errors --------------------------------------------------------------------------------

    def _permission_denied(self) -> Response:
        resource = f"//aiplatform.googleapis.com/{_target.get()}"
        message = (
            f"Permission 'aiplatform.endpoints.predict' denied on resource '{resource}' "
            "(or it may not exist)."
        )
        details = [
            {
                "@type": TYPE + "ErrorInfo",
                "reason": "IAM_PERMISSION_DENIED",
                "domain": "aiplatform.googleapis.com",
                "metadata": {"permission": "aiplatform.endpoints.predict", "resource": _target.get()},
            }
        ]
        return google_error(403, "PERMISSION_DENIED", message, details)

    def error_auth(self, credential: str | None) -> Response:
        message = (
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "
            "other valid authentication credential. See "
            "https://developers.google.com/identity/sign-in/web/devconsole-project."
        )
        details = [
            {
                "@type": TYPE + "ErrorInfo",
                "reason": "ACCESS_TOKEN_TYPE_UNSUPPORTED",
                "domain": "googleapis.com",
                "metadata": {"service": "aiplatform.googleapis.com", "method": "google.cloud.aiplatform"},
            }
        ]
        return google_error(401, "UNAUTHENTICATED", message, details)

    def error_not_found(self, model: str) -> Response:
        message = (
            f"Publisher Model `{_target.get()}` was not found or your project does not have access to it. "
            "Please ensure you are using a valid model version. For more information, see: "
            "https://cloud.google.com/vertex-ai/generative-ai/docs/learn/model-versions"
        )
        return google_error(404, "NOT_FOUND", message)

    def error_no_quota(self, model: str | None) -> Response:
        return quota_error("aiplatform.googleapis.com", model, 7.0, limit=0)

    def error_rate_limited(self, retry_after: float, model: str | None) -> Response:
        return quota_error("aiplatform.googleapis.com", model, retry_after, limit=10)

    def error_unavailable(self) -> Response:
        return unavailable_error()
