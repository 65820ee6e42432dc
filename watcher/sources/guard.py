"""Article links from feeds never reach internal addresses (SSRF), on any redirect hop.

A feed chooses the links in its items, and `full_text: true` fetches them: a link (or a
redirect) to `localhost`, `127.1`, `2130706433`, a private network or a cloud metadata
address would make the watcher read an internal page and mail its text to subscribers.
Untrusted fetches go through a connection pool whose network backend resolves the host
itself, refuses every address that is not globally routable (loopback, private,
link-local — 169.254.169.254 among them —, shared, multicast, reserved, unspecified;
an IPv4-mapped IPv6 address as its IPv4 one), connects only to an address it checked,
and checks the address it is then connected to. Nothing is sent to a refused address,
and because the check is on the connected socket, a name that resolves to a public
address at first and an internal one later (DNS rebinding) gains nothing.

`http.allow_internal` lists the exceptions: IP networks (`10.1.2.0/24`, `127.0.0.1`)
and host names (`intranet.example`) that an operator trusts. Feed and page URLs the
operator configured are trusted as configured and never go through this guard.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class RefusedAddress(Exception):
    """A host whose addresses are internal and not allowed; `reason` says which and why."""

    def __init__(self, host: str, reason: str) -> None:
        self.host = host
        self.reason = reason
        super().__init__(f"{host}: {reason}")


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Which hosts and networks an untrusted link may reach although they are internal."""

    networks: tuple[IPNetwork, ...] = ()
    hosts: frozenset[str] = frozenset()

    @classmethod
    def of(cls, entries: Iterable[str]) -> AddressPolicy:
        """From `http.allow_internal`: each entry an IP network / address or a host name."""
        networks: list[IPNetwork] = []
        hosts: set[str] = set()
        for entry in entries:
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                hosts.add(entry.strip().lower().rstrip("."))
        return cls(tuple(networks), frozenset(hosts))

    def refusal(self, host: str, address: IPAddress) -> str | None:
        """Why `address` (of `host`) may not be connected to; None when it may."""
        if host.lower().rstrip(".") in self.hosts:
            return None
        kind = internal_kind(address)
        if kind is None or any(address in network for network in self.networks):
            return None
        return f"{address} is {kind}"


def internal_kind(address: IPAddress) -> str | None:
    """What makes `address` internal (`loopback`, `private`, …), or None for a public one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for kind, flag in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local (cloud metadata lives here)", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
    ):
        if flag:
            return f"a {kind} address"
    return None if address.is_global else "not a globally routable address"


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting only to addresses the policy allows."""

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's backend interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Resolve `host`, connect to its first allowed address, check the connected peer."""
        address = await self._allowed_address(host, port)
        stream = await self._inner.connect_tcp(
            str(address), port, timeout, local_address, socket_options
        )
        peer = stream.get_extra_info("server_addr")
        connected = ipaddress.ip_address(peer[0]) if peer else None
        reason = "no peer address" if connected is None else self.policy.refusal(host, connected)
        if reason is not None:
            await stream.aclose()
            raise RefusedAddress(host, f"connected to {reason}")
        return stream

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's backend interface
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Never: an article link is a TCP URL."""
        raise RefusedAddress(path, "a Unix socket")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)

    async def _allowed_address(self, host: str, port: int) -> IPAddress:
        """The first resolved address of `host` the policy allows; `RefusedAddress` if none."""
        try:
            found = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except (socket.gaierror, UnicodeError) as exc:
            raise httpx.ConnectError(f"cannot resolve {host!r}: {exc}") from None
        reasons = []
        for *_, sockaddr in found:
            address = ipaddress.ip_address(sockaddr[0])
            reason = self.policy.refusal(host, address)
            if reason is None:
                return address
            reasons.append(reason)
        raise RefusedAddress(host, "; ".join(dict.fromkeys(reasons)) or "no address")


class GuardedTransport(httpx.AsyncHTTPTransport):
    """An httpx transport whose connections all pass `GuardedBackend`."""

    def __init__(self, policy: AddressPolicy, size: int, tls: ssl.SSLContext) -> None:
        super().__init__(
            verify=tls, limits=httpx.Limits(max_connections=size, max_keepalive_connections=size)
        )
        # httpx takes no network backend, its httpcore pool does: build the pool ourselves
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=tls,
            max_connections=size,
            max_keepalive_connections=size,
            network_backend=GuardedBackend(policy),
        )
