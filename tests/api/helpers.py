"""Building key bodies for each provider against the fakes, and scripting the fake behind one."""

from __future__ import annotations

import secrets
from typing import Any

from tests.fakes import FakeProviders, make_service_account

PROVIDERS = ("openai", "anthropic", "google", "vertex", "azure", "custom")
# A model each fake serves, for the providers whose keys need a named model to generate on.
SERVED_MODEL = {"azure": "my-gpt-4o", "custom": "llama-3.1-8b-instruct"}


def new_secret(provider: str) -> str:
    prefix = {"openai": "sk-proj-", "anthropic": "sk-ant-api03-", "google": "AIza"}.get(provider, "key-")
    return prefix + secrets.token_urlsafe(24)


def key_body(
    fakes: FakeProviders,
    provider: str,
    *,
    slug: str | None = None,
    behavior: str = "accept",
    secret: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A create body for ``provider`` whose credential the fake answers with ``behavior``."""
    body: dict[str, Any] = {"provider": provider}
    if slug is not None:
        body["key_slug"] = slug
    if provider == "vertex":
        email = f"sa-{secrets.token_hex(4)}@test-proj.iam.gserviceaccount.com"
        account = make_service_account(client_email=email)
        fakes.vertex.script(email, behavior)
        body["credentials"] = account
    else:
        secret = secret or new_secret(provider)
        getattr(fakes, provider).script(secret, behavior)
        body["api_key"] = secret
    if provider == "azure":
        body["base_url"] = fakes.azure_base_url
    if provider == "custom":
        body["base_url"] = fakes.custom_base_url
    body.update(extra)
    return body


def secret_of(body: dict[str, Any]) -> str:
    if "credentials" in body:
        return str(body["credentials"]["private_key"])
    return str(body["api_key"])
