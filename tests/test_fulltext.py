"""`full_text: true`: article pages fetched and extracted; teasers kept when that fails."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import col, select

from tests.orm import reading
from tests.rows import ItemRow
from tests.servers import FeedServer, Route
from watcher.config import WatcherConfig
from watcher.service.rounds import run_once
from watcher.service.runtime import Runtime

MakeConfig = Callable[..., WatcherConfig]
PARAGRAPH = (
    "The second batch of rare earth mining quotas has still not been issued, and separation"
    " plants in Jiangxi say they are running below capacity because feed is short. "
)
ARTICLE = f"""<html><head><title>Quota delay</title></head><body>
<nav><a href="/">Home</a> | <a href="/markets">Markets</a></nav>
<article><h1>Quota delay leaves smelters short</h1>
<p>{PARAGRAPH * 3}</p><p>{PARAGRAPH * 2}</p><p>Traders expect prices to rise.</p></article>
<footer>Copyright Example Metals. Subscribe to our newsletter.</footer>
</body></html>""".encode()


def _feed(server: FeedServer) -> bytes:
    items = "".join(
        f"<item><title>{title}</title><link>{server.url(path)}</link><guid>{path}</guid>"
        "<description>Short teaser.</description></item>"
        for title, path in (("Quota delay", "/article"), ("Missing page", "/gone"))
    )
    return f"<rss version='2.0'><channel><title>x</title>{items}</channel></rss>".encode()


async def test_full_text_replaces_teasers_and_survives_missing_pages(
    feed_server: FeedServer, make_config: MakeConfig
) -> None:
    """The article's main text becomes the body; a 404 keeps the teaser; re-polls change nothing."""
    feed_server.routes["/feed"] = Route(_feed(feed_server))
    feed_server.routes["/article"] = Route(ARTICLE, headers={"Content-Type": "text/html"})
    config = make_config(
        sources=[{"name": "s", "kind": "feed", "url": feed_server.url("/feed"), "full_text": True}],
        http={"allow_internal": ["127.0.0.1"]},  # the article server is on loopback
    )
    assert await run_once(config) == 0
    assert await run_once(config) == 0
    async with Runtime(config) as rt, reading(rt.db) as session:
        items = (await session.exec(select(ItemRow).order_by(col(ItemRow.id)))).all()
    article, missing = items
    assert "separation plants in Jiangxi" in article.body
    assert "Subscribe to our newsletter" not in article.body
    assert missing.body == "Short teaser."
    assert [i.revision for i in items] == [1, 1]
    assert [path for path, _ in feed_server.requests].count("/article") == 1
