"""Fixtures for the web-agent tests: the loopback site and outbound clients of either strictness."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest

from byok.outbound import Outbound
from byok.settings import Settings
from tests.fakes.server import FakeProviders, RunningServer, serve
from tests.webtasks.site import build_site


@dataclass
class Site:
    server: RunningServer
    hits: list[str]

    @property
    def origin(self) -> str:
        return self.server.url

    def url(self, path: str) -> str:
        return f"{self.server.url}{path}"


@pytest.fixture(scope="session")
def site() -> Iterator[Site]:
    app, hits = build_site()
    server = serve(app)
    try:
        yield Site(server, hits)
    finally:
        server.stop()


def outbound_settings(*, allow_private: bool, **overrides: object) -> Settings:
    # Pinned, so a BYOK_* variable in the environment cannot change what a test checks.
    values: dict[str, object] = {
        "allow_private_networks": allow_private,
        "connect_timeout_s": 2.0,
        "request_timeout_s": 10.0,
        **overrides,
    }
    return Settings(**values)


@pytest.fixture(scope="session")
async def lenient() -> AsyncIterator[Outbound]:
    """An outbound whose guarded connections may reach loopback (where the test site lives)."""
    outbound = Outbound(outbound_settings(allow_private=True))
    yield outbound
    await outbound.aclose()


@pytest.fixture(scope="session")
async def strict() -> AsyncIterator[Outbound]:
    """An outbound whose guarded connections refuse every non-public address, as in production."""
    outbound = Outbound(outbound_settings(allow_private=False))
    yield outbound
    await outbound.aclose()


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
async def fake_outbound(fake_providers: FakeProviders) -> AsyncIterator[Outbound]:
    """An outbound whose settings point every provider at its loopback fake (and allow loopback pages)."""
    values = {k.removeprefix("BYOK_").lower(): v for k, v in fake_providers.env().items()}
    outbound = Outbound(outbound_settings(allow_private=True, **values))
    yield outbound
    await outbound.aclose()
