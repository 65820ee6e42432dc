"""Article links and their redirects never reach internal addresses unless the config allows them.

An "internal admin" server listens on 127.0.0.2; the configured feed is on 127.0.0.1 and is
trusted as configured, but links in its items (and redirects) are the feed's choice.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator
from pathlib import Path

import aiohttp
import pytest
from pydantic import ValidationError
from sqlmodel import col, select

from tests.orm import reading
from tests.rows import ItemRow
from tests.servers import FeedServer, Route
from watcher.config import HttpConfig, WatcherConfig
from watcher.service.pipeline import PollReport
from watcher.service.rounds import dispatch_all, poll_with_deadline, prepare_sources
from watcher.service.runtime import Runtime
from watcher.sources.guard import AddressPolicy, GuardedConnector, RefusedAddress, internal_kind

MakeConfig = Callable[..., WatcherConfig]
SECRET = "INTERNAL-ADMIN-7c41 China imposed an export ban on dysprosium and terbium."
TEASER = "Short teaser."
ARTICLE = (
    "<html><body><article><h1>Quota delay</h1>"
    + "<p>The second batch of rare earth mining quotas has still not been issued, and"
    " separation plants in Jiangxi say they are running below capacity. </p>"
    * 4
    + "</article></body></html>"
).encode()
ADMIN = f"<html><body><article><p>{SECRET}</p><p>{SECRET}</p></article></body></html>".encode()


@pytest.fixture
def internal() -> Iterator[FeedServer]:
    """The internal admin server, on another loopback address."""
    server = FeedServer(host="127.0.0.2").start()
    server.routes["/admin"] = Route(ADMIN, headers={"Content-Type": "text/html"})
    try:
        yield server
    finally:
        server.stop()


def _feed(links: list[str]) -> bytes:
    items = "".join(
        f"<item><title>Report {n}</title><link>{link}</link><guid>g{n}</guid>"
        f"<description>{TEASER}</description></item>"
        for n, link in enumerate(links)
    )
    return f"<rss version='2.0'><channel><title>x</title>{items}</channel></rss>".encode()


async def _poll(config: WatcherConfig) -> tuple[PollReport, list[ItemRow]]:
    """One poll of the only source, then every item it stored."""
    async with Runtime(config) as rt:
        [source] = await prepare_sources(rt)
        report = await poll_with_deadline(rt, source)
        await dispatch_all(rt)
        async with reading(rt.db) as session:
            items = list((await session.exec(select(ItemRow).order_by(col(ItemRow.id)))).all())
    return report, items


def _source(feed_server: FeedServer) -> dict[str, object]:
    return {"name": "wire", "kind": "feed", "url": feed_server.url("/feed"), "full_text": True}


async def test_links_to_loopback_in_every_spelling_are_refused(
    feed_server: FeedServer, internal: FeedServer, make_config: MakeConfig, tmp_path: Path
) -> None:
    """localhost, 127.0.0.1, 127.0.0.2, decimal, hex, IPv4-mapped and 0.0.0.0: none is fetched."""
    port = feed_server.port
    feed_server.routes["/admin"] = Route(ADMIN, headers={"Content-Type": "text/html"})
    links = [
        f"http://localhost:{port}/admin",
        f"http://127.0.0.1:{port}/admin",
        internal.url("/admin"),
        f"http://2130706433:{port}/admin",
        f"http://0x7f000001:{port}/admin",
        f"http://[::ffff:127.0.0.1]:{port}/admin",
        f"http://0.0.0.0:{port}/admin",
        f"http://[::1]:{port}/admin",
    ]
    feed_server.routes["/feed"] = Route(_feed(links))
    report, items = await _poll(make_config(sources=[_source(feed_server)]))
    assert report.ok, report.error
    assert report.links_refused == len(links)
    assert [i.body for i in items] == [TEASER] * len(links)  # processed from the feed text
    assert "/admin" not in [path for path, _ in feed_server.requests]
    assert internal.requests == []
    for mail in (tmp_path / "data" / "maildrop").glob("*.eml"):
        assert "INTERNAL-ADMIN" not in mail.read_text(encoding="utf-8", errors="replace")


async def test_a_redirect_to_an_internal_port_is_refused_on_its_hop(
    feed_server: FeedServer, internal: FeedServer, make_config: MakeConfig
) -> None:
    """An allowed article host that redirects to an internal one: the hop is refused."""
    feed_server.routes["/article"] = Route(ARTICLE, headers={"Content-Type": "text/html"})
    feed_server.routes["/moved"] = Route(
        b"", status=302, headers={"Location": internal.url("/admin")}
    )
    feed_server.routes["/feed"] = Route(
        _feed([feed_server.url("/article"), feed_server.url("/moved")])
    )
    config = make_config(sources=[_source(feed_server)], http={"allow_internal": ["127.0.0.1"]})
    report, [article, moved] = await _poll(config)
    assert report.links_refused == 1
    assert "separation plants in Jiangxi" in article.body  # the allowed host is fetched
    assert moved.body == TEASER
    assert internal.requests == []


async def test_an_allowed_network_is_fetched(
    feed_server: FeedServer, internal: FeedServer, make_config: MakeConfig
) -> None:
    """An operator who lists the internal network gets its pages (the allow-list works)."""
    feed_server.routes["/feed"] = Route(_feed([internal.url("/admin")]))
    config = make_config(sources=[_source(feed_server)], http={"allow_internal": ["127.0.0.0/8"]})
    report, [item] = await _poll(config)
    assert report.links_refused == 0
    assert "INTERNAL-ADMIN-7c41" in item.body
    assert [path for path, _ in internal.requests] == ["/admin"]


async def test_the_connected_address_is_checked_not_the_name(feed_server: FeedServer) -> None:
    """A host name is judged by the address it connects to; an allowed name connects."""
    feed_server.routes["/slow"] = Route(b"<rss></rss>", drip=0.05)  # held open while checked
    url = f"http://localhost:{feed_server.port}/slow"
    refusing = GuardedConnector(AddressPolicy.of(["10.0.0.0/8"]), limit=2, keepalive=5)
    async with aiohttp.ClientSession(connector=refusing) as session:
        with pytest.raises(RefusedAddress, match="loopback"):
            await session.get(url)
    allowing = GuardedConnector(AddressPolicy.of(["localhost"]), limit=2, keepalive=5)
    async with aiohttp.ClientSession(connector=allowing) as session, session.get(url) as response:
        assert response.connection is not None
        assert response.connection.transport is not None
        peer = response.connection.transport.get_extra_info("peername")
        assert ipaddress.ip_address(peer[0]).is_loopback


@pytest.mark.parametrize(
    ("address", "internal"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("0.0.0.0", True),
        ("10.1.2.3", True),
        ("172.16.0.9", True),
        ("192.168.1.1", True),
        ("169.254.169.254", True),  # AWS, GCP, Azure metadata
        ("fd00:ec2::254", True),  # AWS metadata over IPv6
        ("100.100.100.200", True),  # Alibaba metadata (shared address space)
        ("fe80::1", True),
        ("224.0.0.1", True),
        ("ff02::1", True),
        ("240.0.0.1", True),
        ("93.184.215.14", False),
        ("2606:4700:4700::1111", False),
    ],
)
def test_internal_addresses_are_named(address: str, internal: bool) -> None:
    """Every non-public class of address is internal; public ones are not."""
    assert (internal_kind(ipaddress.ip_address(address)) is not None) is internal


def test_the_allow_list_rejects_what_is_neither_host_nor_network() -> None:
    """A mistyped entry is a config error naming it."""
    with pytest.raises(ValidationError, match=r"10\.0\.0\.0/33"):
        HttpConfig(allow_internal=("10.0.0.0/33",))
    assert HttpConfig(allow_internal=("intranet.example", "10.0.0.0/8")).allow_internal
