"""Request and reply shapes of the key routes."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from byok.db import isoformat
from byok.keys.models import ProviderKey

SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$"
ProviderName = Literal["openai", "anthropic", "google", "vertex", "azure", "custom"]
KeySlug = Annotated[str, Field(min_length=1, max_length=64, pattern=SLUG_PATTERN)]
# Model ids go into provider URLs for some providers; printable, no whitespace.
ModelName = Annotated[
    str, Field(min_length=1, max_length=200, pattern=r"^[^\s\x00-\x1f/?#][^\s\x00-\x1f?#]*$")
]


class KeyConfigIn(BaseModel):
    """A key's full configuration with its secret: the body of ``PUT``."""

    model_config = ConfigDict(extra="ignore", hide_input_in_errors=True)

    provider: ProviderName
    api_key: SecretStr | None = Field(default=None, min_length=1, max_length=8192)
    credentials: SecretStr | None = None
    base_url: str | None = Field(default=None, max_length=2048)
    location: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    api_version: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}(-preview)?$")
    default_model: ModelName | None = None

    @field_validator("credentials", mode="before")
    @classmethod
    def _credentials_as_text(cls, value: Any) -> Any:
        # The service-account JSON arrives as an object or a string; keep it secret either way.
        if isinstance(value, dict):
            return json.dumps(value)
        return value


class KeyCreateIn(KeyConfigIn):
    key_slug: KeySlug


def key_view(row: ProviderKey) -> dict[str, Any]:
    view: dict[str, Any] = {
        "key_slug": row.key_slug,
        "provider": row.provider,
        "base_url": row.base_url,
        "location": row.location,
        "api_version": row.api_version,
        "default_model": row.default_model,
        "account": row.account,
        "fingerprint": row.fingerprint,
        "status": row.status,
        "verified_at": isoformat(row.verified_at),
        "last_used_at": isoformat(row.last_used_at),
        "created_at": isoformat(row.created_at),
        "updated_at": isoformat(row.updated_at),
    }
    if row.status == "failing":
        view["last_error"] = {"reason": row.last_error_reason, "message": row.last_error_message}
    return view
