"""The pooled transport for the providers' own hosts: httpx's API on aiohttp's connection pool.

Chosen by ``bench/gateway_overhead.py``: on this stack httpx's default transport falls from
~500 to ~320 requests/s as concurrency rises to 16, aiohttp's pool holds ~800-1,000.

httpx-aiohttp reports every aiohttp connection failure as ``httpx.ConnectTimeout``; a refused
connection or a dropped server is not a timeout (it is retried, a timeout is not), so those are
mapped back to the errors httpx's own transport raises.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport


def _as_httpx_error(exc: httpx.ConnectTimeout, request: httpx.Request) -> Exception:
    cause = exc.__cause__
    if not isinstance(cause, aiohttp.ClientConnectionError) or isinstance(cause, TimeoutError):
        return exc  # a real timeout: aiohttp's timeout errors are TimeoutErrors
    if isinstance(cause, aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError(str(exc), request=request)
    return httpx.ConnectError(str(exc), request=request)


class _Body(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, request: httpx.Request) -> None:
        self._inner = inner
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                yield chunk
        except httpx.ConnectTimeout as exc:
            raise _as_httpx_error(exc, self._request) from exc.__cause__

    async def aclose(self) -> None:
        await self._inner.aclose()


class PooledTransport(AiohttpTransport):
    """httpx-aiohttp's transport, failing as httpx's own transport does."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await super().handle_async_request(request)
        except httpx.ConnectTimeout as exc:
            raise _as_httpx_error(exc, request) from exc.__cause__
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _Body(response.stream, request)
        return response
