"""The process-wide objects a request needs, built once at start-up and shared."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from byok.catalog import provider_class
from byok.db import create_engine, session_factory
from byok.outbound import Outbound
from byok.providers.base import Provider, ProviderContext
from byok.settings import Secrets, Settings, load_secrets
from byok.vault import Vault


@dataclass
class Runtime:
    settings: Settings
    secrets: Secrets
    vault: Vault
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    outbound: Outbound
    provider_context: ProviderContext

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        secrets = load_secrets(settings)
        engine = create_engine(settings.resolved_database_url)
        outbound = Outbound(settings)
        return cls(
            settings=settings,
            secrets=secrets,
            vault=Vault(secrets.master_keys, secrets.fingerprint_secret),
            engine=engine,
            sessions=session_factory(engine),
            outbound=outbound,
            provider_context=ProviderContext(settings=settings, outbound=outbound),
        )

    def provider(self, name: str) -> Provider:
        return provider_class(name)(self.provider_context)

    async def aclose(self) -> None:
        await self.outbound.aclose()
        await self.engine.dispose()


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_db(request: Request) -> AsyncIterator[AsyncSession]:
    async with get_runtime(request).sessions() as session:
        yield session


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
DbDep = Annotated[AsyncSession, Depends(get_db)]
