"""The daemon decides what to poll from the source rows: backoff and schedules hold."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from tests.orm import reading, writing
from tests.rows import SourceRow
from tests.servers import FeedServer, Route
from watcher.config import WatcherConfig
from watcher.domain.errors import ConfigError
from watcher.service.daemon import Daemon
from watcher.service.rounds import prepare_sources
from watcher.service.runtime import Runtime

MakeConfig = Callable[..., WatcherConfig]
FEED = b"<rss version='2.0'><channel><item><title>x</title><guid>1</guid></item></channel></rss>"


async def test_the_daemon_polls_due_rows_and_skips_sources_in_backoff(
    feed_server: FeedServer, make_config: MakeConfig
) -> None:
    """A row in backoff is not polled; a due one is, once; a failing one waits its backoff."""
    for path in ("/held", "/due"):
        feed_server.routes[path] = Route(FEED)
    feed_server.routes["/failing"] = Route(b"oops", status=500)
    config = make_config(
        sources=[
            {"name": name, "kind": "feed", "url": feed_server.url(f"/{name}"), "jitter": 0}
            for name in ("held", "due", "failing")
        ],
        polling={"tick": "100ms"},
    )
    async with Runtime(config) as rt:
        await prepare_sources(rt)
        async with writing(rt.db) as session:
            held = await session.get(SourceRow, "held")
            assert held is not None
            held.next_poll_at = held.backoff_until = datetime.now(UTC) + timedelta(hours=1)
            session.add(held)
    daemon = Daemon(config)
    running = asyncio.create_task(daemon.run())

    def requested() -> set[str]:
        return {path for path, _ in feed_server.requests}

    async with asyncio.timeout(120):  # a bound for a hang only: the wait is on the requests
        while not {"/due", "/failing"} <= requested():
            await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)  # ten more ticks at most, in which nothing may be polled again
    daemon.stop()
    assert await asyncio.wait_for(running, 60) == 0
    paths = [path for path, _ in feed_server.requests]
    assert paths.count("/due") == 1
    assert paths.count("/failing") == 1  # backing off for 1 minute, not retried every tick
    assert "/held" not in paths
    async with Runtime(config) as rt, reading(rt.db) as session:
        due = await session.get(SourceRow, "due")
    assert due is not None
    assert due.next_poll_at is not None
    assert due.next_poll_at - datetime.now(UTC) > timedelta(minutes=14)


async def test_a_changed_schedule_replans_the_row(
    make_config: MakeConfig, tmp_path: object
) -> None:
    """A row planned for `every: 1d` is due at once when the config says `every: 15m`."""
    daily = make_config(sources=[{"name": "s", "kind": "files", "path": ".", "every": "1d"}])
    async with Runtime(daily) as rt:
        await prepare_sources(rt)
        async with writing(rt.db) as session:
            row = await session.get(SourceRow, "s")
            assert row is not None
            row.next_poll_at = datetime.now(UTC) + timedelta(days=1)
            session.add(row)
    quick = make_config(sources=[{"name": "s", "kind": "files", "path": ".", "every": "15m"}])
    async with Runtime(quick) as rt:
        await prepare_sources(rt)
        async with reading(rt.db) as session:
            row = await session.get(SourceRow, "s")
    assert row is not None
    assert row.next_poll_at is None


def test_cron_and_every_are_exclusive_and_checked(make_config: MakeConfig) -> None:
    """`cron` with `every` is refused; a bad cron or time zone names the key."""
    base = {"name": "s", "kind": "feed", "url": "https://x.example/f"}
    with pytest.raises(ConfigError, match="either `every` or `cron`"):
        make_config(sources=[{**base, "cron": "0 8 * * 1-5", "every": "1h"}])
    with pytest.raises(ConfigError, match=r"sources\.0\.cron"):
        make_config(sources=[{**base, "cron": "0 25 * * *"}])
    with pytest.raises(ConfigError, match=r"sources\.0\.timezone"):
        make_config(sources=[{**base, "cron": "0 8 * * *", "timezone": "Mars/Olympus"}])
    ok = make_config(sources=[{**base, "cron": "0 8 * * 1-5", "timezone": "Asia/Shanghai"}])
    assert ok.sources[0].cron == "0 8 * * 1-5"
