"""One source over many polls: conditional GET, backoff on the row, health notices, backfill."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import col, select

from tests.orm import reading
from tests.rows import DeliveryRow, ItemRow, NoticeRow, SourceRow
from tests.servers import FeedServer, Route
from watcher.config import WatcherConfig
from watcher.service.pipeline import poll_source
from watcher.service.rounds import prepare_sources
from watcher.service.runtime import Runtime

MakeConfig = Callable[..., WatcherConfig]
T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


class Clock:
    """A settable clock for the runtime: the only thing these tests fake."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def _rss(*items: tuple[str, str, str, datetime]) -> bytes:
    """An RSS document from (guid, link, title, published) tuples; titles carry a signal."""
    entries = "".join(
        f"<item><guid>{guid}</guid><link>{link}</link><title>{title}</title>"
        f"<description>China restricts exports of dysprosium; licences required.</description>"
        f"<pubDate>{published:%a, %d %b %Y %H:%M:%S} +0000</pubDate></item>"
        for guid, link, title, published in items
    )
    return f"<rss version='2.0'><channel><title>x</title>{entries}</channel></rss>".encode()


def _source(feed_server: FeedServer, **extra: Any) -> dict[str, Any]:
    return {"name": "wire", "kind": "feed", "url": feed_server.url("/feed"), "jitter": 0, **extra}


async def _row(rt: Runtime, name: str = "wire") -> SourceRow:
    async with reading(rt.db) as session:
        row = await session.get(SourceRow, name)
    assert row is not None
    return row


async def test_304_costs_no_parse_and_a_changed_etag_brings_new_items(
    feed_server: FeedServer, make_config: MakeConfig
) -> None:
    """Same ETag: 304, nothing parsed or stored; new ETag: the new entry is stored."""
    one = ("g1", "https://w.example/1", "Dysprosium export licences", T0)
    feed_server.routes["/feed"] = Route(_rss(one), headers={"ETag": '"a"'})
    config = make_config(sources=[_source(feed_server)])
    async with Runtime(config, clock=Clock()) as rt:
        await prepare_sources(rt)
        first = await poll_source(rt, config.sources[0])
        second = await poll_source(rt, config.sources[0])
        assert (first.new, second.not_modified) == (1, True)
        assert feed_server.requests[-1][1]["If-None-Match"] == '"a"'
        two = ("g2", "https://w.example/2", "Terbium export licences", T0)
        feed_server.routes["/feed"] = Route(_rss(one, two), headers={"ETag": '"b"'})
        third = await poll_source(rt, config.sources[0])
        assert (third.new, third.fetched) == (1, 2)
        assert (await _row(rt)).etag == '"b"'


async def test_429_retry_after_and_failures_back_off_on_the_row(
    feed_server: FeedServer, make_config: MakeConfig
) -> None:
    """Retry-After sets the earliest next poll; plain failures double the delay up to the cap."""
    feed_server.routes["/feed"] = Route(status=429, headers={"Retry-After": "600"})
    config = make_config(
        sources=[_source(feed_server)], polling={"backoff": "1m", "backoff_max": "5m"}
    )
    clock = Clock()
    async with Runtime(config, clock=clock) as rt:
        await prepare_sources(rt)
        report = await poll_source(rt, config.sources[0])
        assert "429" in (report.error or "")
        row = await _row(rt)
        assert row.next_poll_at == row.backoff_until == T0 + timedelta(minutes=10)
        feed_server.routes["/feed"] = Route(b"oops", status=500)
        delays = []
        for _ in range(4):
            await poll_source(rt, config.sources[0])
            delays.append((await _row(rt)).next_poll_at - clock.now)  # type: ignore[operator]
        assert delays == [timedelta(minutes=m) for m in (2, 4, 5, 5)]
        feed_server.routes["/feed"] = Route(_rss(("g", "https://w.example/g", "Back", T0)))
        assert (await poll_source(rt, config.sources[0])).ok
        row = await _row(rt)
        assert (row.consecutive_failures, row.backoff_until, row.failing_since) == (0, None, None)
        assert row.next_poll_at == T0 + timedelta(minutes=15)


async def test_admins_hear_once_per_failure_episode_and_on_recovery(
    feed_server: FeedServer, make_config: MakeConfig
) -> None:
    """Threshold 2: one 'failing' notice per episode however long, one 'recovered' notice."""
    feed_server.routes["/feed"] = Route(b"oops", status=500)
    config = make_config(
        sources=[_source(feed_server)],
        admins=["ops@example.com"],
        polling={"alert_after_failures": 2},
    )
    clock = Clock()
    async with Runtime(config, clock=clock) as rt:
        await prepare_sources(rt)
        for _ in range(5):
            await poll_source(rt, config.sources[0])
            clock.advance(hours=1)
        feed_server.routes["/feed"] = Route(_rss(("g", "https://w.example/g", "Fine", T0)))
        await poll_source(rt, config.sources[0])
        await poll_source(rt, config.sources[0])
        feed_server.routes["/feed"] = Route(b"oops", status=500)
        for _ in range(2):
            clock.advance(hours=1)
            await poll_source(rt, config.sources[0])
        async with reading(rt.db) as session:
            subjects = [n.subject for n in (await session.exec(select(NoticeRow))).all()]
    assert subjects == [
        "Source wire is failing (2 polls in a row)",
        "Source wire has recovered",
        "Source wire is failing (2 polls in a row)",
    ]


async def test_a_silent_source_raises_one_notice(
    feed_server: FeedServer, make_config: MakeConfig
) -> None:
    """No new item for longer than `expect_new_within`: one notice, not one per poll."""
    feed_server.routes["/feed"] = Route(_rss(("g", "https://w.example/g", "Only item", T0)))
    config = make_config(sources=[_source(feed_server, expect_new_within="1d")])
    clock = Clock()
    async with Runtime(config, clock=clock) as rt:
        await prepare_sources(rt)
        await poll_source(rt, config.sources[0])
        clock.advance(hours=20)
        await poll_source(rt, config.sources[0])
        for _ in range(3):
            clock.advance(hours=6)
            await poll_source(rt, config.sources[0])
        async with reading(rt.db) as session:
            notices = (await session.exec(select(NoticeRow))).all()
    assert [n.subject for n in notices] == ["Source wire has been silent for 1d2h"]


async def test_the_first_poll_alerts_only_recent_items(
    feed_server: FeedServer, make_config: MakeConfig
) -> None:
    """Backfill 48h: an old entry is stored silently; later polls alert new entries."""
    old = ("old", "https://w.example/old", "Old export ban", T0 - timedelta(days=30))
    recent = ("new", "https://w.example/new", "Fresh export ban", T0 - timedelta(hours=3))
    feed_server.routes["/feed"] = Route(_rss(old, recent))
    config = make_config(sources=[_source(feed_server)])
    async with Runtime(config, clock=Clock()) as rt:
        await prepare_sources(rt)
        first = await poll_source(rt, config.sources[0])
        assert (first.new, first.queued) == (2, 1)
        later = ("later", "https://w.example/later", "Another old one", T0 - timedelta(days=9))
        feed_server.routes["/feed"] = Route(_rss(old, recent, later))
        second = await poll_source(rt, config.sources[0])
        assert (second.new, second.queued) == (1, 1)
        async with reading(rt.db) as session:
            deliveries = (await session.exec(select(DeliveryRow))).all()
    assert len(deliveries) == 2


async def test_churning_guids_do_not_make_old_items_new(
    feed_server: FeedServer, make_config: MakeConfig
) -> None:
    """A feed minting new guids per fetch: same links are the same items (auto identity)."""
    feed_server.routes["/feed"] = Route(_rss(("a1", "https://w.example/x", "Ban", T0)))
    config = make_config(sources=[_source(feed_server)])
    async with Runtime(config, clock=Clock()) as rt:
        await prepare_sources(rt)
        await poll_source(rt, config.sources[0])
        feed_server.routes["/feed"] = Route(_rss(("a2", "https://w.example/x", "Ban", T0)))
        again = await poll_source(rt, config.sources[0])
        async with reading(rt.db) as session:
            items = (await session.exec(select(ItemRow).order_by(col(ItemRow.id)))).all()
    assert again.new == 0
    assert len(items) == 1
    assert items[0].identity.endswith("/a1")  # feedparser resolves a permalink guid


async def test_identity_by_link_ignores_guids(
    feed_server: FeedServer, make_config: MakeConfig
) -> None:
    """`identity: link` keys items by canonical link, tracking parameters dropped."""
    item = ("g1", "HTTPS://W.example/a?utm_source=x#top", "Ban", T0)
    feed_server.routes["/feed"] = Route(_rss(item))
    config = make_config(sources=[_source(feed_server, identity="link")])
    async with Runtime(config, clock=Clock()) as rt:
        await prepare_sources(rt)
        await poll_source(rt, config.sources[0])
        async with reading(rt.db) as session:
            items = (await session.exec(select(ItemRow))).all()
    assert [i.identity for i in items] == ["url:https://w.example/a"]
