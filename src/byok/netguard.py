"""The private-address guard for user-supplied URLs (``base_url``, web-task pages).

The check happens inside the connection itself: the guarded network backend resolves the
host once, refuses the connection unless every address is public, and connects to the very
address it checked. There is no second lookup for a DNS-rebinding answer to slip into, and
every redirect hop or pooled reconnection passes the same gate.
"""

from __future__ import annotations

import ipaddress
import socket
import typing
from urllib.parse import urlsplit

import anyio
import httpcore
from httpcore._backends.anyio import AnyIOBackend

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Ranges that ``ipaddress`` flags do not all cover (CGNAT is neither private nor global).
_EXTRA_BLOCKED = tuple(
    ipaddress.ip_network(net)
    for net in (
        "100.64.0.0/10",  # carrier-grade NAT
        "192.0.0.0/24",  # IETF protocol assignments
        "198.18.0.0/15",  # benchmarking
        "fc00::/7",  # unique local
        "64:ff9b::/96",  # NAT64 can reach any IPv4 address, private ones included
        "2002::/16",  # 6to4 wraps IPv4 addresses
    )
)


class EndpointNotAllowed(Exception):
    """The URL is not one the service may call (scheme, or a non-public address)."""


def is_public_address(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and not is_public_address(embedded):
            return False
    if (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    ):
        return False
    return not any(ip in net for net in _EXTRA_BLOCKED if net.version == ip.version)


def check_url(url: str, *, allow_private: bool) -> None:
    """Refuse what can be refused without a lookup: the scheme, a missing host, an internal literal."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http"):
        raise EndpointNotAllowed("the URL must use https")
    if parts.scheme == "http" and not allow_private:
        raise EndpointNotAllowed("the URL must use https (plain http is allowed only for private networks)")
    if not parts.hostname:
        raise EndpointNotAllowed("the URL has no host")
    if parts.username or parts.password:
        raise EndpointNotAllowed("the URL must not carry credentials")
    if allow_private:
        return
    try:
        literal = ipaddress.ip_address(parts.hostname)
    except ValueError:
        return
    if not is_public_address(literal):
        raise EndpointNotAllowed("the URL points at a private or internal address")


async def resolve_public(host: str, port: int, *, allow_private: bool) -> list[str]:
    """Resolve ``host`` once and return its addresses, all of them checked."""
    try:
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}") from exc
    addresses: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        address = str(sockaddr[0]).split("%", 1)[0]
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise httpcore.ConnectError(f"cannot resolve {host}")
    if not allow_private:
        for address in addresses:
            if not is_public_address(ipaddress.ip_address(address)):
                raise EndpointNotAllowed(f"{host} resolves to a private or internal address")
    return addresses


class GuardedNetworkBackend(AnyIOBackend):
    """httpcore backend that connects only to addresses it resolved and checked itself."""

    def __init__(self, *, allow_private: bool) -> None:
        self._allow_private = allow_private

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            with anyio.fail_after(timeout):
                addresses = await resolve_public(host, port, allow_private=self._allow_private)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
        last_error: Exception | None = None
        for address in addresses:
            try:
                return await super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                last_error = exc
        assert last_error is not None
        raise last_error
