"""The process-wide objects a request needs, built once at start-up and shared."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from byok.catalog import provider_class
from byok.db import create_engine, session_factory
from byok.gateway.cache import HotCaches
from byok.outbound import Outbound
from byok.providers.base import Provider, ProviderContext
from byok.settings import Secrets, Settings, load_secrets
from byok.usage.ledger import UsageLedger
from byok.vault import Vault
from byok.webtasks.runs import RunRegistry


@dataclass
class Runtime:
    settings: Settings
    secrets: Secrets
    vault: Vault
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    outbound: Outbound
    provider_context: ProviderContext
    caches: HotCaches
    usage: UsageLedger
    runs: RunRegistry
    _providers: dict[str, Provider] = field(default_factory=dict)

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        secrets = load_secrets(settings)
        engine = create_engine(settings.resolved_database_url)
        outbound = Outbound(settings)
        sessions = session_factory(engine)
        return cls(
            settings=settings,
            secrets=secrets,
            vault=Vault(secrets.master_keys, secrets.fingerprint_secret),
            engine=engine,
            sessions=sessions,
            outbound=outbound,
            provider_context=ProviderContext(settings=settings, outbound=outbound),
            caches=HotCaches(),
            usage=UsageLedger(sessions),
            runs=RunRegistry(sessions),
        )

    def provider(self, name: str) -> Provider:
        """The provider's client; one instance per provider, shared by every call."""
        client = self._providers.get(name)
        if client is None:
            client = self._providers[name] = provider_class(name)(self.provider_context)
        return client

    async def start(self) -> None:
        """Start the background work: the usage ledger's writer and the cache listener."""
        self.usage.start()
        await self.caches.start(self.engine)
        await self.runs.start()

    async def aclose(self) -> None:
        await self.runs.stop()
        await self.usage.stop()
        await self.caches.stop()
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
