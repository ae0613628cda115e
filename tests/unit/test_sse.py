"""The one SSE parser, and ``Provider.open_stream``'s error mapping and cleanup."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import respx

from byok.providers.base import Credential, KeyConfig, ProviderContext, ProviderError
from byok.providers.custom import CustomProvider
from byok.providers.sse import EventTooLarge, SSEEvent, parse_sse
from tests.unit.chat_helpers import collect, stream_error
from tests.unit.conftest import MakeContext

KEY = "local-key-Qw3Er5Ty7Ui9Op1As3Df5"
BASE = "https://llm.example.com/v1"
URL = f"{BASE}/chat/completions"
REQUEST: dict[str, Any] = {"messages": [{"role": "user", "content": "Hi"}]}
CHUNK = (
    b'data: {"id":"c","choices":[{"index":0,"delta":{"role":"assistant","content":"a"},'
    b'"finish_reason":null}]}\n\n'
)


async def pieces(*texts: str) -> AsyncIterator[str]:
    for text in texts:
        yield text


async def parse(*texts: str, limit: int = 1000) -> list[SSEEvent]:
    return [event async for event in parse_sse(pieces(*texts), limit)]


async def test_events_lines_and_fields() -> None:
    assert await parse(
        ": a comment\n",
        'event: message_start\ndata: {"a":\n',
        "data: 1}\nid: 7\nretry: 10\n\n",
        "data:no space\r\n\r\n",
        "data: x\r",
        "\ndata: y\r\r",
        "event: ping\n\n",  # no data: never dispatched
        "data: last",  # the stream ends without a blank line
    ) == [
        SSEEvent("message_start", '{"a":\n1}'),
        SSEEvent(None, "no space"),
        SSEEvent(None, "x\ny"),
        SSEEvent(None, "last"),
    ]


async def test_a_crlf_split_across_reads_is_one_line_end() -> None:
    assert await parse("data: a\r", "\n", "\r", "\n") == [SSEEvent(None, "a")]


async def test_a_separator_inside_json_is_not_a_line_end() -> None:
    assert await parse('data: {"t": "a\u2028b"}\n\n') == [SSEEvent(None, '{"t": "a\u2028b"}')]


async def test_oversized_events_and_lines() -> None:
    with pytest.raises(EventTooLarge):
        await parse("data: " + "x" * 600 + "\n", "data: " + "y" * 600 + "\n\n")
    with pytest.raises(EventTooLarge):
        await parse("data: " + "x" * 2000)


# -- open_stream ---------------------------------------------------------------------------------


class Broken(httpx.AsyncByteStream):
    """A body that sends ``first`` and then fails with ``error``; records whether it was closed."""

    def __init__(self, first: bytes, error: Exception | None = None) -> None:
        self.first = first
        self.error = error
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.first
        if self.error is not None:
            raise self.error
        yield b"data: [DONE]\n\n"

    async def aclose(self) -> None:
        self.closed = True


def credential(base: str = BASE) -> Credential:
    return Credential(config=KeyConfig(provider="custom", base_url=base), api_key=KEY)


def streaming(body: httpx.AsyncByteStream) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=body)


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (httpx.RemoteProtocolError(f"peer closed connection ({KEY})"), "provider_unavailable"),
        (httpx.ReadTimeout("timed out"), "timeout"),
    ],
)
async def test_a_stream_that_breaks_off(
    router: respx.MockRouter, ctx: ProviderContext, error: Exception, reason: str
) -> None:
    body = Broken(CHUNK, error)
    router.post(URL).mock(return_value=streaming(body))
    chunks = CustomProvider(ctx).stream(credential(), "m", REQUEST)
    assert (await chunks.__anext__())["choices"][0]["delta"]["content"] == "a"
    with pytest.raises(ProviderError) as info:
        await chunks.__anext__()
    assert info.value.reason == reason
    assert KEY not in info.value.message
    assert body.closed


async def test_an_abandoned_stream_closes_its_response(
    router: respx.MockRouter, ctx: ProviderContext
) -> None:
    body = Broken(CHUNK)
    router.post(URL).mock(return_value=streaming(body))
    chunks = CustomProvider(ctx).stream(credential(), "m", REQUEST)
    await chunks.__anext__()
    await chunks.aclose()
    assert body.closed


async def test_an_oversized_event(router: respx.MockRouter, ctx: ProviderContext, monkeypatch) -> None:
    monkeypatch.setattr("byok.providers.base.parse_sse", lambda chunks: parse_sse(chunks, 100))
    router.post(URL).mock(return_value=streaming(Broken(b"data: " + b"x" * 500)))
    assert (await stream_error(CustomProvider(ctx), credential(), "m", REQUEST)).reason == "invalid_response"


async def test_an_error_status_with_a_secret_echo(router: respx.MockRouter, ctx: ProviderContext) -> None:
    router.post(URL).respond(401, json={"error": {"message": f"bad key {KEY}", "code": "invalid_api_key"}})
    error = await stream_error(CustomProvider(ctx), credential(), "m", REQUEST)
    assert error.reason == "invalid_credentials" and KEY not in error.message
    assert error.provider_status == 401


async def test_a_success_that_is_not_json_nor_a_stream(
    router: respx.MockRouter, ctx: ProviderContext
) -> None:
    router.post(URL).respond(200, headers={"content-type": "text/html"}, text="<html>It works!</html>")
    assert (await stream_error(CustomProvider(ctx), credential(), "m", REQUEST)).reason == "invalid_response"


async def test_private_addresses_are_refused_before_any_connection(make_ctx: MakeContext) -> None:
    provider = CustomProvider(make_ctx())  # allow_private_networks=False
    for error in (
        await stream_error(provider, credential("http://127.0.0.1:9/v1"), "m", REQUEST),
        await stream_error(provider, credential("http://10.0.0.8/v1"), "m", REQUEST),
    ):
        assert error.reason == "endpoint_not_allowed"


async def test_an_unreachable_endpoint(fake_ctx: ProviderContext) -> None:
    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    provider = CustomProvider(fake_ctx)  # allow_private_networks=True
    error = await stream_error(provider, credential(f"http://127.0.0.1:{port}/v1"), "m", REQUEST)
    assert error.reason == "endpoint_unreachable"
    with pytest.raises(ProviderError) as info:
        await provider.chat(credential(f"http://127.0.0.1:{port}/v1"), "m", REQUEST)
    assert info.value.reason == "endpoint_unreachable"


async def test_the_chat_timeout_is_the_request_timeout(
    router: respx.MockRouter, make_ctx: MakeContext
) -> None:
    route = router.post(URL).respond(200, json={"choices": []})
    provider = CustomProvider(make_ctx(request_timeout_s=33.0, connect_timeout_s=4.0, verify_timeout_s=6.0))
    await provider.chat(credential(), "m", REQUEST)
    timeouts = route.calls.last.request.extensions["timeout"]
    assert timeouts == {"connect": 4.0, "read": 33.0, "write": 33.0, "pool": 33.0}
    router.post(URL).mock(return_value=streaming(Broken(CHUNK)))
    await collect(provider.stream(credential(), "m", REQUEST))
    assert router.calls.last.request.extensions["timeout"] == timeouts
