"""Page sources: CSS selectors over a real HTML page served on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlmodel import col, select

from tests.conftest import DATA
from tests.orm import reading
from tests.rows import ItemRow, NoticeRow, SourceRow
from tests.servers import FeedServer, Route
from watcher.config import WatcherConfig
from watcher.service.rounds import run_once
from watcher.service.runtime import Runtime

LISTING = (DATA / "pages" / "listing.html").read_bytes()
SELECT = {"item": "li.notice", "title": "h3 a", "date": "time, .date", "summary": ".summary"}
MakeConfig = Callable[..., WatcherConfig]


def _page(feed_server: FeedServer, **extra: object) -> dict[str, object]:
    return {
        "name": "mines",
        "kind": "page",
        "url": feed_server.url("/mines/index.html"),
        "select": SELECT,
        **extra,
    }


async def test_a_listing_page_becomes_items(
    feed_server: FeedServer, make_config: MakeConfig
) -> None:
    """Titles, links (relative to <base>, tracking dropped in identity), dates, summaries."""
    feed_server.routes["/mines/index.html"] = Route(LISTING, headers={"Content-Type": "text/html"})
    config = make_config(sources=[_page(feed_server)])
    assert await run_once(config) == 0
    async with Runtime(config) as rt, reading(rt.db) as session:
        items = (await session.exec(select(ItemRow).order_by(col(ItemRow.id)))).all()
    assert [i.title for i in items] == [
        "Export licences required for dysprosium and terbium oxides",
        "Second batch of 2026 mining quotas delayed",
        "Weekly statistics",
    ]
    base = feed_server.url("/mines/")
    assert items[0].link == f"{base}notices/2026-118.html?utm_source=rss"
    assert items[0].identity == f"url:{base}notices/2026-118.html"
    assert items[1].link == "https://mines.example/notices/2026-117.html"
    assert [i.published for i in items] == [
        datetime(2026, 11, 25, 1, 0, tzinfo=UTC),
        datetime(2026, 11, 20, tzinfo=UTC),
        datetime(2026, 11, 18, tzinfo=UTC),
    ]
    assert items[0].body.startswith("From 1 December, exporters")
    assert items[2].body == ""


async def test_a_page_that_stops_matching_tells_the_admins(
    feed_server: FeedServer, make_config: MakeConfig
) -> None:
    """After a redesign the item selector matches nothing: a failure and one admin notice."""
    route = "/mines/index.html"
    feed_server.routes[route] = Route(LISTING, headers={"Content-Type": "text/html"})
    config = make_config(sources=[_page(feed_server)], admins=["ops@example.com"])
    assert await run_once(config) == 0
    redesigned = b"<html><body><div class='cards'><article>News</article></div></body></html>"
    feed_server.routes[route] = Route(redesigned, headers={"Content-Type": "text/html"})
    assert await run_once(config) == 1
    assert await run_once(config) == 1
    async with Runtime(config) as rt, reading(rt.db) as session:
        notices = (await session.exec(select(NoticeRow))).all()
        row = await session.get(SourceRow, "mines")
    assert [n.subject for n in notices] == ["Page source mines no longer matches its selectors"]
    assert "li.notice" in notices[0].body
    assert row is not None
    assert row.consecutive_failures == 2
    assert "matched nothing" in (row.last_error or "")
