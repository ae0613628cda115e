"""Model resolution: ``(project, key_slug?, provider?, model?, agent?, surface)`` → a binding.

The rules of the contract, in order, each with its exact error. One deviation in order is
deliberate: a Tasks request that names a key is refused with ``byok_not_supported`` before
the key is looked up, since BYOK does not apply to Tasks whatever the key.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from byok.catalog import AGENTS, COMPUTER_USE_AGENTS, PROVIDERS, canonical_provider
from byok.errors import APIError
from byok.keys.models import ProviderKey
from byok.settings import Settings

Surface = Literal["session", "web_task", "task"]
DEFAULT_AGENT = "browser-use"


@dataclass(frozen=True)
class Binding:
    source: Literal["byok", "default"]
    key_slug: str | None
    provider: str
    model: str
    agent: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Binding:
        return cls(
            source=data["source"],
            key_slug=data.get("key_slug"),
            provider=data["provider"],
            model=data["model"],
            agent=data.get("agent") or DEFAULT_AGENT,
        )


def _error(status: int, type_: str, message: str, **details: Any) -> APIError:
    return APIError(status, type_, message, details or None)


def check_agent(provider: str, model: str, agent: str) -> None:
    """Rule 5: the agent must be able to use this provider, and a computer-use agent a capable model."""
    if agent not in AGENTS:
        raise APIError(
            422,
            "invalid_request",
            f"unknown agent {agent!r}",
            [{"loc": ["body", "agent"], "msg": f"must be one of {', '.join(AGENTS)}"}],
        )
    spec = PROVIDERS[provider]
    if agent not in spec.agents:
        raise _error(
            400,
            "provider_not_supported",
            f"agent {agent} cannot run on provider {provider}",
            agent=agent,
            provider=provider,
        )
    if agent in COMPUTER_USE_AGENTS and spec.is_computer_use_capable(model) is False:
        raise _error(
            400,
            "model_not_capable",
            f"model {model} of {provider} is not computer-use capable, which agent {agent} needs",
            agent=agent,
            model=model,
        )


def default_binding(settings: Settings, agent: str) -> Binding:
    """Rule 1: the operator's default model."""
    provider = canonical_provider(settings.default_provider) if settings.default_provider else None
    if not provider or not settings.default_model or provider not in PROVIDERS:
        raise _error(
            503,
            "default_model_unavailable",
            "no key_slug was given and this deployment has no default model configured",
        )
    check_agent(provider, settings.default_model, agent)
    return Binding("default", None, provider, settings.default_model, agent)


def bind_key(row: ProviderKey, *, provider: str | None, model: str | None, agent: str) -> Binding:
    """Rules 3 to 5 for a stored key."""
    if provider is not None and canonical_provider(provider) != row.provider:
        raise _error(
            400,
            "provider_mismatch",
            f"key {row.key_slug!r} is a {row.provider} key, not {provider}",
            key_slug=row.key_slug,
            key_provider=row.provider,
            requested_provider=provider,
        )
    chosen = model or row.default_model or PROVIDERS[row.provider].default_models.get(agent)
    if not chosen and agent not in PROVIDERS[row.provider].agents:
        check_agent(row.provider, "", agent)  # the agent cannot use this provider at all: say that
    if not chosen:
        raise _error(
            400,
            "model_required",
            f"key {row.key_slug!r} ({row.provider}) has no default model: name a model in the request",
            key_slug=row.key_slug,
        )
    check_agent(row.provider, chosen, agent)
    return Binding("byok", row.key_slug, row.provider, chosen, agent)


async def resolve(
    db: AsyncSession,
    settings: Settings,
    *,
    project_id: str,
    key_slug: str | None,
    provider: str | None = None,
    model: str | None = None,
    agent: str | None = None,
    surface: Surface = "session",
) -> Binding:
    agent = agent or DEFAULT_AGENT
    if key_slug is None:
        return default_binding(settings, agent)
    if surface == "task":
        raise _error(400, "byok_not_supported", "BYOK applies to sessions and perform-web-task, not Tasks")
    row = (
        await db.execute(
            select(ProviderKey).where(ProviderKey.project_id == project_id, ProviderKey.key_slug == key_slug)
        )
    ).scalar_one_or_none()
    if row is None:
        raise _error(404, "key_not_found", f"no key named {key_slug!r} in this project", key_slug=key_slug)
    return bind_key(row, provider=provider, model=model, agent=agent)
