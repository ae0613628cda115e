"""The aiohttp-pooled transport fails like httpx's own: a refused connection is not a timeout."""

from __future__ import annotations

import socket

import httpx
import pytest

from byok.outbound import Outbound
from byok.providers.base import Credential, KeyConfig, ProviderContext
from byok.providers.openai import OpenAIProvider
from byok.settings import Settings


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_refused_connection_is_a_connect_error_not_a_timeout() -> None:
    outbound = Outbound(Settings(connect_timeout_s=2))
    try:
        with pytest.raises(httpx.ConnectError):
            await outbound.trusted.get(f"http://127.0.0.1:{closed_port()}/v1/models")
    finally:
        await outbound.aclose()


async def test_unreachable_provider_is_endpoint_unreachable_and_transient() -> None:
    settings = Settings(openai_base_url=f"http://127.0.0.1:{closed_port()}/v1", connect_timeout_s=2)
    outbound = Outbound(settings)
    provider = OpenAIProvider(ProviderContext(settings=settings, outbound=outbound))
    try:
        from byok.providers.base import ProviderError

        with pytest.raises(ProviderError) as err:
            await provider.verify(Credential(KeyConfig("openai"), api_key="sk-x"))
        assert err.value.reason == "endpoint_unreachable" and err.value.transient
    finally:
        await outbound.aclose()
