from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from byok.db import isoformat
from byok.keys.schemas import KeySlug, ModelName
from byok.sessions.models import BrowserSession


class BindingRequest(BaseModel):
    """The model-choice fields shared by sessions, web tasks and the internal resolve route."""

    model_config = ConfigDict(extra="ignore")

    key_slug: KeySlug | None = None
    provider: str | None = Field(default=None, max_length=32)
    model: ModelName | None = None
    agent: str | None = Field(default=None, max_length=64)


class SessionCreateIn(BindingRequest):
    session: dict[str, Any] | None = None
    browser: dict[str, Any] | None = None


def session_view(row: BrowserSession) -> dict[str, Any]:
    return {
        "session_id": row.id,
        "status": row.status,
        "created_at": isoformat(row.created_at),
        "ended_at": isoformat(row.ended_at),
        "model": row.binding,
        "session": row.session_config,
        "browser": row.browser_config,
    }
