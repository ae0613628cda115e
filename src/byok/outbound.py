"""Outbound HTTP: one pooled client for the providers' own hosts, one guarded client for
user-supplied URLs. Neither follows redirects; every call carries connect and read timeouts.
"""

from __future__ import annotations

import httpcore
import httpx

from byok.netguard import GuardedNetworkBackend
from byok.settings import Settings
from byok.transport import PooledTransport

_LIMITS = httpx.Limits(max_connections=200, max_keepalive_connections=100, keepalive_expiry=60.0)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with its connection pool on the guarded network backend."""

    def __init__(self, *, allow_private: bool, limits: httpx.Limits = _LIMITS) -> None:
        super().__init__(limits=limits, trust_env=False)
        # httpx has no public knob for the network backend; the pool is rebuilt around ours.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedNetworkBackend(allow_private=allow_private),
        )


class Outbound:
    """The service's HTTP clients, created once and shared by every provider call."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        timeout = httpx.Timeout(settings.request_timeout_s, connect=settings.connect_timeout_s)
        # The providers' own hosts (operator-configured) ride on aiohttp's pool, chosen by benchmark;
        # user-supplied URLs keep httpx's pool, whose network backend carries the address guard.
        self.trusted = httpx.AsyncClient(
            timeout=timeout,
            follow_redirects=False,
            transport=PooledTransport(limits=_LIMITS, trust_env=False),
            trust_env=False,
        )
        self.guarded = httpx.AsyncClient(
            timeout=timeout,
            follow_redirects=False,
            transport=GuardedTransport(allow_private=settings.allow_private_networks),
            trust_env=False,
        )

    def client(self, *, user_supplied: bool) -> httpx.AsyncClient:
        return self.guarded if user_supplied else self.trusted

    def verify_timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.settings.verify_timeout_s, connect=self.settings.connect_timeout_s)

    async def aclose(self) -> None:
        await self.trusted.aclose()
        await self.guarded.aclose()
