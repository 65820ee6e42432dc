"""A document that overruns the parse deadline fails its own source, and nothing else."""

from __future__ import annotations

from collections.abc import Callable
from xml.sax.saxutils import escape

import pytest

from tests.delivery import BAN, FLOOD, all_rows, entries, feed_source, feed_xml
from tests.mailserver import MailServer
from tests.rows import ItemRow, SourceRow
from tests.servers import FeedServer, Route
from watcher.config import WatcherConfig
from watcher.service.rounds import run_once

# 5,000 entries (the most a feed is read for, `trim.MAX_ITEMS`), each with 40 categories
# for feedparser's per-element handlers: about 5.6 s of parsing on a quiet machine, nearly
# three times the deadline below (which also bounds a worker's first classification, the
# classifier's build included), in 6.5 MB (under the 10 MB body cap). The earlier
# document, 4,000 entries of HTML-rich text, parsed in 1.9 s once feedparser's sanitizer
# was off: under the deadline, and the round overran while classifying instead.
_PARAGRAPH = (
    "<p>Traders in <b>Baotou</b> said <a href='https://x.example/a'>quotas</a> for"
    " <i>dysprosium</i> were late.</p>"
) * 2
_SLOW = (
    "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>t</title>"
    + "".join(
        f"<item><title>n{n}</title><guid isPermaLink='false'>h{n}</guid>"
        + "<category>x</category>" * 40
        + f"<description>{escape(_PARAGRAPH)}</description></item>"
        for n in range(5000)
    )
    + "</channel></rss>"
).encode()


# 30s: it overruns on a parse thread, is parsed again in a worker process and killed there;
# 0s: it is parsed in a worker process from the start and killed there
@pytest.mark.parametrize("backlog", ["30s", "0s"])
async def test_one_slow_document_fails_its_source_while_the_round_goes_on(
    feed_server: FeedServer,
    mail_server: MailServer,
    make_config: Callable[..., WatcherConfig],
    backlog: str,
) -> None:
    """`run --once`: the healthy polls are stored and alerted; only the slow one fails."""
    feed_server.routes["/slow"] = Route(_SLOW)
    feed_server.routes["/a"] = Route(feed_xml(entries(BAN)))
    feed_server.routes["/b"] = Route(feed_xml(entries(FLOOD)))
    config = make_config(
        sources=[
            feed_source(feed_server.url("/slow"), "slow"),
            feed_source(feed_server.url("/a"), "a"),
            feed_source(feed_server.url("/b"), "b"),
        ],
        smtp=mail_server.smtp_config(),
        polling={"parse_timeout": "2s", "parse_workers": 2, "parse_backlog": backlog},
    )
    assert await run_once(config) == 1  # a source failed: not a traceback
    rows = {row.name: row for row in await all_rows(config, SourceRow)}
    assert rows["slow"].last_error == (
        f"source 'slow': parsing {feed_server.url('/slow')} took longer than 2s; abandoned"
    )
    assert (rows["a"].consecutive_failures, rows["b"].consecutive_failures) == (0, 0)
    assert {item.source for item in await all_rows(config, ItemRow)} == {"a", "b"}
    assert len(mail_server.messages) == 2  # the alert of each healthy source went out
