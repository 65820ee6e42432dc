"""`run --once` mails alerts while its polls run: never before their rows are committed.

A round's alerts go out while the other polls still run
(`watcher.service.rounds._EarlySender`). The SMTP server here looks each message up
in the database, from its own read-only connection, at the moment it is handed the
message: only a committed delivery row can be seen there.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.conftest import ROOT
from tests.servers import FeedServer, RecordingHandler, Route, SmtpSink
from watcher.config import WatcherConfig
from watcher.service.rounds import run_once

SAMPLE_FEED = (ROOT / "seeds" / "sample-feed.xml").read_bytes()
SOURCES = 12
ALERTS_PER_FEED = 3  # the sample feed's signal-bearing items


class CheckingHandler(RecordingHandler):
    """Accepts a message only after finding its delivery row committed; counts the rest."""

    def __init__(self, database: Path) -> None:
        super().__init__()
        self.database = database
        self.uncommitted: list[str] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        message: EmailMessage = self.messages[-1]
        message_id = str(message["Message-ID"])
        reader = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True)
        try:
            (rows,) = reader.execute(
                "SELECT count(*) FROM deliveries WHERE message_id = ?", (message_id,)
            ).fetchone()
        finally:
            reader.close()
        if rows == 0:
            self.uncommitted.append(message_id)
        return reply


def _feed(index: int) -> bytes:
    """The sample feed as source `index` publishes it: its own links, so its own items."""
    return SAMPLE_FEED.replace(
        b"https://example.com/news/", f"https://s{index}.example/n/".encode()
    )


def _source(feed_server: FeedServer, index: int) -> dict[str, str]:
    url = feed_server.url(f"/f{index}.xml")
    return {"name": f"s{index}", "kind": "feed", "url": url, "backfill": "3650d"}


async def test_alerts_sent_during_the_round_were_committed_first_and_go_out_once(
    feed_server: FeedServer, make_config: Callable[..., WatcherConfig], tmp_path: Path
) -> None:
    """Every email reaches the server once, and its delivery row was committed before."""
    for index in range(SOURCES):
        feed_server.routes[f"/f{index}.xml"] = Route(_feed(index))
    handler = CheckingHandler(tmp_path / "data" / "watcher.db")
    sink = SmtpSink(handler).start()
    try:
        config = make_config(
            sources=[_source(feed_server, i) for i in range(SOURCES)],
            smtp={"host": "127.0.0.1", "port": sink.port, "tls": "none", "timeout": "5s"},
            polling={"story_window": "0s"},
        )
        assert config.database_url.endswith(str(tmp_path / "data" / "watcher.db"))
        assert await run_once(config) == 0
    finally:
        sink.stop()
    ids = [str(m["Message-ID"]) for m in handler.messages]
    assert len(ids) == SOURCES * ALERTS_PER_FEED
    assert len(set(ids)) == len(ids)
    assert handler.uncommitted == []
