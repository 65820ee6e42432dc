"""Three replicas on one PostgreSQL database: every alert once, even when one is killed.

Separate `watcher run` processes share the database; 100 feeds are served locally and
10 subscribers read from an aiosmtpd server. The replicas divide sources and outbox
rows between them through row leases (FOR UPDATE SKIP LOCKED), so each alert goes out
once. Killing one with SIGKILL mid-run loses nothing: its leases expire and the others
take its sources and deliveries over; the only duplicate SMTP allows is a message the
server accepted just before the kill, resent with the same Message-ID.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parseaddr
from pathlib import Path

import pytest

from tests.conftest import WriteConfig
from tests.servers import FeedServer, Route, SmtpSink

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(300)]

FEEDS = 100
SUBSCRIBERS = 10
TOKEN = re.compile(r"\((f\d{3}i\d{2})\)")
ELEMENTS = ["dysprosium", "terbium", "gallium", "germanium", "samarium", "yttrium"]
BASE = datetime.now(UTC) - timedelta(days=3)


def _item(feed: int, index: int) -> str:
    token = f"f{feed:03d}i{index:02d}"
    element = ELEMENTS[(feed + index) % len(ELEMENTS)]
    # distinct publication times, further apart than the story window, so that the
    # similar wording of these synthetic items never folds two of them into one story
    published = BASE + timedelta(minutes=3 * (feed * 10 + index))
    return (
        f"<item><title>China tightens export controls on {element} ({token})</title>"
        f"<guid>{token}</guid><link>https://feeds.test/{token}</link>"
        f"<pubDate>{format_datetime(published)}</pubDate>"
        f"<description>Exporters of {element} must now apply for export licences before"
        f" every shipment, the commerce ministry said.</description></item>"
    )


def _feed(feed: int, items: int) -> bytes:
    body = "".join(_item(feed, i) for i in range(items))
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>feed {feed}</title>'
        f"<link>https://feeds.test/</link><description>d</description>{body}</channel></rss>"
    ).encode()


def _publish(server: FeedServer, items: int) -> None:
    for feed in range(FEEDS):
        headers = {"Content-Type": "application/rss+xml", "ETag": f'"{feed}-{items}"'}
        server.routes[f"/f{feed}.xml"] = Route(_feed(feed, items), headers=headers)


def _received(sink: SmtpSink) -> dict[tuple[str, str], set[str]]:
    """(recipient, item token) → the Message-IDs it arrived under."""
    out: dict[tuple[str, str], set[str]] = defaultdict(set)
    for message in list(sink.messages):
        match = TOKEN.search(str(message["Subject"]))
        assert match is not None, message["Subject"]
        address = parseaddr(str(message["To"]))[1].lower()
        out[(address, match.group(1))].add(str(message["Message-ID"]))
    return out


def _expected(items: int) -> set[tuple[str, str]]:
    return {
        (f"reader{s}@example.com", f"f{f:03d}i{i:02d}")
        for s in range(SUBSCRIBERS)
        for f in range(FEEDS)
        for i in range(items)
    }


def _wait(predicate: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


def _replica(config: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "WATCHER_CONFIG"}
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "watcher", "run", "--config", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )


def test_three_replicas_deliver_each_alert_once_even_when_one_is_killed(
    postgres_url: str,
    feed_server: FeedServer,
    smtp_sink: SmtpSink,
    write_config: WriteConfig,
    tmp_path: Path,
) -> None:
    """Every expected alert arrives; after a SIGKILL none is lost, resends keep their ID."""
    _publish(feed_server, items=1)
    config = write_config(
        database={"url": postgres_url},
        log={"level": "info", "format": "json"},
        smtp={"host": "127.0.0.1", "port": smtp_sink.port, "tls": "none", "timeout": "10s"},
        http={"per_host": 8, "max_connections": 40},
        polling={"tick": "0.5s", "story_window": "1m", "parse_workers": 1},
        dispatcher={"every": "1s", "lease": "10s", "batch": 50},
        sources=[
            {
                "name": f"feed{f:03d}",
                "kind": "feed",
                "url": feed_server.url(f"/f{f}.xml"),
                "every": "30s",
                "jitter": "0s",
                "timeout": "10s",
                "backfill": "3650d",
            }
            for f in range(FEEDS)
        ],
        subscribers=[
            {"email": f"reader{s}@example.com", "name": f"Reader {s}"} for s in range(SUBSCRIBERS)
        ],
    )
    replicas = [_replica(config, tmp_path / f"replica{n}.log") for n in range(3)]
    try:
        first = _expected(items=1)
        assert _wait(lambda: set(_received(smtp_sink)) >= first, 120), "first round incomplete"

        _publish(feed_server, items=2)
        before = len(smtp_sink.messages)
        assert _wait(lambda: len(smtp_sink.messages) >= before + 150, 60)
        replicas[0].send_signal(signal.SIGKILL)  # mid-run: it may hold source and outbox leases
        replicas[0].wait(10)

        everything = _expected(items=2)
        assert _wait(lambda: set(_received(smtp_sink)) >= everything, 150), "alerts were lost"
        time.sleep(3)  # anything sent twice would arrive now
    finally:
        for process in replicas[1:]:
            process.send_signal(signal.SIGTERM)
        for process in replicas:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()

    received = _received(smtp_sink)
    assert set(received) == everything  # nothing unexpected, nothing missing
    assert all(len(ids) == 1 for ids in received.values())  # a resend keeps its Message-ID
    duplicates = len(smtp_sink.messages) - len(everything)
    assert duplicates <= 2 * SUBSCRIBERS  # at most the batch in flight when the replica died
    assert replicas[1].returncode == 0
    assert replicas[2].returncode == 0
    logs = [(tmp_path / f"replica{n}.log").read_text() for n in range(3)]
    assert all('"event": "poll_finished"' in log for log in logs)  # all three did work
