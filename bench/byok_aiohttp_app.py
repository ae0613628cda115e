"""Bench-only uvicorn entry point: the service with its trusted client on httpx-aiohttp's transport.

`gateway_overhead.py --byok-transport aiohttp` runs `uvicorn byok_aiohttp_app:app --app-dir bench`
to measure that choice before it is made in src/byok/outbound.py. Only the trusted client (the
providers' own hosts) changes; the guarded client keeps its private-address network backend.
``PooledTransport`` is the transport proposed for outbound.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from byok import outbound


def _as_httpx_error(exc: httpx.ConnectTimeout, request: httpx.Request) -> Exception:
    """httpx-aiohttp reports every aiohttp.ClientConnectionError (refused, DNS, disconnected) as
    ConnectTimeout; give back what httpx's own transport raises, so "unreachable" stays retryable."""
    cause = exc.__cause__
    if not isinstance(cause, aiohttp.ClientConnectionError) or isinstance(cause, TimeoutError):
        return exc  # a real timeout (aiohttp's timeout errors are TimeoutErrors)
    if isinstance(cause, aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError(str(exc), request=request)
    return httpx.ConnectError(str(exc), request=request)


class _Body(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, request: httpx.Request) -> None:
        self._inner, self._request = inner, request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                yield chunk
        except httpx.ConnectTimeout as exc:
            raise _as_httpx_error(exc, self._request) from exc.__cause__

    async def aclose(self) -> None:
        await self._inner.aclose()


class PooledTransport(AiohttpTransport):
    """httpx-aiohttp's transport (aiohttp's connection pool), failing as httpx's own does."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await super().handle_async_request(request)
        except httpx.ConnectTimeout as exc:
            raise _as_httpx_error(exc, request) from exc.__cause__
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _Body(response.stream, request)
        return response


_original_init = outbound.Outbound.__init__


def _init(self: outbound.Outbound, settings: outbound.Settings) -> None:
    _original_init(self, settings)
    unused = self.trusted  # never used for a request: it holds no connection
    self.trusted = httpx.AsyncClient(
        timeout=unused.timeout,
        follow_redirects=False,
        transport=PooledTransport(limits=outbound._LIMITS, trust_env=False),
        trust_env=False,
    )


outbound.Outbound.__init__ = _init  # type: ignore[method-assign]

from byok.main import app  # noqa: E402  (after the patch: the app builds its Outbound at startup)

__all__ = ["app"]
