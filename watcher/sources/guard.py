"""Article links from feeds never reach internal addresses (SSRF), on any redirect hop.

A feed chooses the links in its items, and `full_text: true` fetches them: a link (or a
redirect) to `localhost`, `127.1`, `2130706433`, a private network or a cloud metadata
address would make the watcher read an internal page and mail its text to subscribers.
Untrusted fetches go through `GuardedConnector`, an aiohttp connector whose resolver
(`GuardedResolver`) keeps only the addresses the policy allows and refuses a host that
has none; every address that is not globally routable is refused (loopback, private,
link-local — 169.254.169.254 among them —, shared, multicast, reserved, unspecified;
an IPv4-mapped IPv6 address as its IPv4 one). A host written as an address (which
aiohttp does not resolve), in any spelling the socket layer accepts, is checked before
any connection is opened; once connected, the socket's peer is checked again before a
byte is sent. Nothing is sent to a refused address, and because the check is on the
connected socket, a name that resolves to a public address at first and an internal one
later (DNS rebinding) gains nothing.

`http.allow_internal` lists the exceptions: IP networks (`10.1.2.0/24`, `127.0.0.1`)
and host names (`intranet.example`) that an operator trusts. Feed and page URLs the
operator configured are trusted as configured and never go through this guard.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import ThreadedResolver
from aiohttp.abc import ResolveResult

from watcher.sources.tls import CaOnDemandConnector

if TYPE_CHECKING:
    from aiohttp import ClientRequest, ClientTimeout
    from aiohttp.connector import Connection
    from aiohttp.tracing import Trace

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


def literal_address(host: str) -> IPAddress | None:
    """The address `host` spells when it is written as one, in any form sockets accept.

    `::ffff:127.0.0.1`, `127.0.0.1`, and the legacy numeric IPv4 forms `2130706433` and
    `127.1` (all digits and dots) are addresses; a name (and `0x7f000001`, which only the
    resolver reads as an address) is None.
    """
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    if host and host.replace(".", "").isdigit():
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


class GuardedResolver(ThreadedResolver):
    """The system resolver, keeping only the addresses the policy allows for each host."""

    def __init__(self, policy: AddressPolicy) -> None:
        super().__init__()
        self.policy = policy

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """The allowed addresses of `host`; `RefusedAddress` when none is."""
        found = await super().resolve(host, port, family)
        allowed: list[ResolveResult] = []
        reasons: list[str] = []
        for result in found:
            reason = self.policy.refusal(host, ipaddress.ip_address(result["host"]))
            if reason is None:
                allowed.append(result)
            else:
                reasons.append(reason)
        if not allowed:
            raise RefusedAddress(host, "; ".join(dict.fromkeys(reasons)) or "no address")
        return allowed


class GuardedConnector(CaOnDemandConnector):
    """A connector that connects only to addresses the policy allows, and checks the peer.

    A name is resolved by `GuardedResolver`; a host written as an address is checked here
    before a connection slot is taken; every connection handed to a request (new or
    reused) has its socket's peer checked, and is closed unused when the peer is refused.
    """

    def __init__(self, policy: AddressPolicy, limit: int, keepalive: float) -> None:
        super().__init__(
            limit=limit,
            limit_per_host=0,
            keepalive_timeout=keepalive,
            resolver=GuardedResolver(policy),
        )
        self.policy = policy

    async def connect(
        self,
        req: ClientRequest,
        traces: list[Trace],
        timeout: ClientTimeout,  # noqa: ASYNC109 - aiohttp's connector interface
    ) -> Connection:
        """A pooled or new connection to `req`'s host; `RefusedAddress` if it is internal."""
        host = req.url.raw_host or ""
        address = literal_address(host)
        if address is not None and (reason := self.policy.refusal(host, address)):
            raise RefusedAddress(host, reason)
        connection = await super().connect(req, traces, timeout)
        transport = connection.transport
        peer = transport.get_extra_info("peername") if transport is not None else None
        connected = ipaddress.ip_address(peer[0]) if peer else None
        reason = "no peer address" if connected is None else self.policy.refusal(host, connected)
        if reason is not None:
            connection.close()
            raise RefusedAddress(host, f"connected to {reason}")
        return connection
