"""Turning a submitted key configuration into a :class:`Credential`, and a stored row back into one.

The per-provider field rules come from the catalogue, so the API refuses exactly the fields the
catalogue does not list for a provider.
"""

from __future__ import annotations

import json
from typing import Any

from byok.catalog import PROVIDERS
from byok.errors import APIError
from byok.keys.models import ProviderKey
from byok.keys.schemas import KeyConfigIn
from byok.providers.base import Credential, KeyConfig
from byok.vault import Vault

_SERVICE_ACCOUNT_FIELDS = ("project_id", "private_key", "client_email")
_CHECKED_FIELDS = ("api_key", "credentials", "base_url", "location", "api_version")


def _invalid(field: str, msg: str) -> APIError:
    return APIError(422, "invalid_request", f"{field}: {msg}", [{"loc": ["body", field], "msg": msg}])


def _service_account(raw: str) -> dict[str, Any]:
    try:
        account = json.loads(raw)
    except json.JSONDecodeError:
        raise _invalid("credentials", "is not valid JSON") from None
    if not isinstance(account, dict):
        raise _invalid("credentials", "must be a service-account JSON object")
    if account.get("type") != "service_account":
        raise _invalid("credentials", 'must have type "service_account"')
    for name in _SERVICE_ACCOUNT_FIELDS:
        if not isinstance(account.get(name), str) or not account[name].strip():
            raise _invalid("credentials", f"is missing {name}")
    return account


def credential_from_input(body: KeyConfigIn) -> Credential:
    """Check ``body`` against the provider's fields and build the credential it describes."""
    spec = PROVIDERS[body.provider]
    allowed = spec.field_names
    for name in _CHECKED_FIELDS:
        value = getattr(body, name)
        if value is not None and name not in allowed:
            raise _invalid(name, f"is not accepted for provider {body.provider}")
    for field in spec.fields:
        if field.required and getattr(body, field.name) is None:
            raise _invalid(field.name, f"is required for provider {body.provider}")
    service_account = _service_account(body.credentials.get_secret_value()) if body.credentials else None
    base_url = body.base_url.rstrip("/") if body.base_url else None
    location_field = spec.field("location")
    location = body.location or (location_field.default if location_field else None)
    return Credential(
        config=KeyConfig(
            provider=body.provider,
            base_url=base_url,
            location=location,
            api_version=body.api_version,
            default_model=body.default_model,
        ),
        api_key=body.api_key.get_secret_value() if body.api_key else None,
        service_account=service_account,
    )


def sealed_payload(credential: Credential) -> dict[str, Any]:
    if credential.service_account is not None:
        return {"credentials": credential.service_account}
    return {"api_key": credential.api_key}


def fingerprint_source(credential: Credential) -> str:
    if credential.service_account is not None:
        return str(credential.service_account.get("private_key", ""))
    return credential.api_key or ""


def credential_from_row(row: ProviderKey, vault: Vault) -> Credential:
    """Open a stored key; raises :class:`byok.vault.VaultError` loudly when it cannot be opened."""
    payload = vault.open(row.ciphertext, project_id=row.project_id, key_slug=row.key_slug)
    return Credential(
        config=KeyConfig(
            provider=row.provider,
            base_url=row.base_url,
            location=row.location,
            api_version=row.api_version,
            default_model=row.default_model,
        ),
        api_key=payload.get("api_key"),
        service_account=payload.get("credentials"),
    )
