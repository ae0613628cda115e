"""Fixtures for the provider-client unit tests: a respx router and provider contexts.

respx patches httpx's transports (``using="httpx"``), so it intercepts both of
:class:`byok.outbound.Outbound`'s clients — the aiohttp-pooled one for the providers' hosts and the
guarded one — without a socket being opened.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
import respx

from byok.outbound import Outbound
from byok.providers.base import Credential, Provider, ProviderContext, ProviderError
from byok.settings import Settings

MakeContext = Callable[..., ProviderContext]
_PINNED: dict[str, Any] = {
    "allow_private_networks": False,
    "openai_base_url": "https://api.openai.com/v1",
    "anthropic_base_url": "https://api.anthropic.com",
    "google_base_url": "https://generativelanguage.googleapis.com",
    "google_token_url": "https://oauth2.googleapis.com/token",
    "vertex_base_url": None,
}


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    """Every request must match a route; an unmatched one fails the test."""
    with respx.mock(using="httpx", assert_all_mocked=True, assert_all_called=False) as mock:
        yield mock


@pytest.fixture(scope="session")
async def _outbounds() -> AsyncIterator[dict[tuple[tuple[str, Any], ...], Outbound]]:
    """One :class:`Outbound` per distinct settings: building its TLS contexts is the slow part."""
    made: dict[tuple[tuple[str, Any], ...], Outbound] = {}
    yield made
    for outbound in made.values():
        await outbound.aclose()


@pytest.fixture
def make_ctx(_outbounds: dict[tuple[tuple[str, Any], ...], Outbound]) -> MakeContext:
    """``make_ctx(**settings)``: a :class:`ProviderContext` with fresh caches on those settings."""

    def make(**overrides: Any) -> ProviderContext:
        # Pinned, so a BYOK_* variable in the environment cannot redirect a test.
        overrides = {**_PINNED, **overrides}
        key = tuple(sorted(overrides.items()))
        if key not in _outbounds:
            _outbounds[key] = Outbound(Settings(**overrides))
        outbound = _outbounds[key]
        return ProviderContext(settings=outbound.settings, outbound=outbound)

    return make


@pytest.fixture
def ctx(make_ctx: MakeContext) -> ProviderContext:
    return make_ctx()


@pytest.fixture
def verify_error() -> Callable[[Provider, Credential], Awaitable[ProviderError]]:
    """``await verify_error(provider, credential)``: the :class:`ProviderError` verify raises."""

    async def run(provider: Provider, credential: Credential) -> ProviderError:
        with pytest.raises(ProviderError) as info:
            await provider.verify(credential)
        return info.value

    return run


@pytest.fixture(scope="session")
async def _fake_outbound(fake_providers) -> AsyncIterator[Outbound]:
    """One :class:`Outbound` whose settings point every provider at its loopback fake."""
    values: dict[str, Any] = {k.removeprefix("BYOK_").lower(): v for k, v in fake_providers.env().items()}
    settings = Settings(**values, allow_private_networks=True, connect_timeout_s=2.0, request_timeout_s=10.0)
    outbound = Outbound(settings)
    yield outbound
    await outbound.aclose()


@pytest.fixture
def fake_ctx(_fake_outbound: Outbound) -> ProviderContext:
    """A :class:`ProviderContext` (fresh caches) on the fakes; use with the ``fakes`` fixture."""
    return ProviderContext(settings=_fake_outbound.settings, outbound=_fake_outbound)
