from __future__ import annotations

import ipaddress
import socket

import anyio
import httpx
import pytest

from byok.netguard import EndpointNotAllowed, check_url, is_public_address, resolve_public
from byok.outbound import GuardedTransport

BLOCKED = [
    "127.0.0.1",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "240.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fd00::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "64:ff9b::a00:1",
    "2002:a00:1::1",
]
PUBLIC = ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "104.18.6.192"]


@pytest.mark.parametrize("address", BLOCKED)
def test_internal_addresses_are_not_public(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "url",
    [
        "http://api.example.com/v1",
        "ftp://api.example.com",
        "https://127.0.0.1/v1",
        "https://10.0.0.1/v1",
        "https://169.254.169.254/latest",
        "https://[::ffff:127.0.0.1]/v1",
        "https://user:pass@api.example.com/v1",
        "https:///v1",
    ],
)
def test_check_url_refuses_without_a_lookup(url: str) -> None:
    with pytest.raises(EndpointNotAllowed):
        check_url(url, allow_private=False)


def test_private_networks_setting_allows_http_and_loopback() -> None:
    check_url("http://127.0.0.1:8000/v1", allow_private=True)


async def test_a_name_resolving_to_a_private_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    async def fake_getaddrinfo(host, port, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", port))]

    monkeypatch.setattr(anyio, "getaddrinfo", fake_getaddrinfo)
    with pytest.raises(EndpointNotAllowed, match="private"):
        await resolve_public("internal.example.com", 443, allow_private=False)


async def test_one_private_answer_among_public_ones_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    async def fake_getaddrinfo(host, port, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("8.8.8.8", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
        ]

    monkeypatch.setattr(anyio, "getaddrinfo", fake_getaddrinfo)
    with pytest.raises(EndpointNotAllowed):
        await resolve_public("mixed.example.com", 443, allow_private=False)


async def test_guarded_client_connects_to_the_address_it_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    """DNS rebinding: the first answer is public, any later one private. The guard looks up once
    per connection and connects to exactly what it checked, so the private answer is never used."""
    answers = iter(["93.184.216.34", "127.0.0.1", "127.0.0.1"])
    connected: list[str] = []

    async def rebinding_getaddrinfo(host, port, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    async def record_connect(self, host, port, *args, **kwargs):
        connected.append(host)
        raise OSError("no network in tests")

    monkeypatch.setattr(anyio, "getaddrinfo", rebinding_getaddrinfo)
    from httpcore._backends.anyio import AnyIOBackend

    monkeypatch.setattr(AnyIOBackend, "connect_tcp", record_connect)
    async with httpx.AsyncClient(transport=GuardedTransport(allow_private=False)) as client:
        with pytest.raises((httpx.ConnectError, OSError)):
            await client.get("https://rebind.example.com/v1/models")
        with pytest.raises(EndpointNotAllowed):
            await client.get("https://rebind.example.com/v1/models")
    assert connected == ["93.184.216.34"]
