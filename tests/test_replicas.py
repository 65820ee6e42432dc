"""Three replicas on one PostgreSQL database: every alert once, even when one is killed.

Separate `watcher run` processes share the database; 100 feeds are served locally and
10 subscribers read from an aiosmtpd server. The replicas divide sources and outbox
rows between them through row leases (FOR UPDATE SKIP LOCKED), so each alert goes out
once. Killing one with SIGKILL mid-run loses nothing: its leases expire and the others
take its sources and deliveries over; the only duplicate SMTP allows is a message the
server accepted just before the kill, resent with the same Message-ID.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parseaddr
from pathlib import Path

import pytest

from tests.conftest import WriteConfig
from tests.servers import FeedServer, Route, SmtpSink
from tests.waiting import wait_while_progressing

# a hard cap for a hung run only: the waits below end on events, or on a stall
pytestmark = [pytest.mark.postgres, pytest.mark.timeout(1200)]
STALL = 120.0  # seconds without a new email or log line before a wait gives up

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


def _progress(sink: SmtpSink, logs: list[Path]) -> tuple[int, int]:
    """Emails received and bytes the replicas have logged: both grow while work goes on."""
    return len(sink.messages), sum(log.stat().st_size for log in logs if log.exists())


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the replica's process group, then SIGKILL whatever is left of it."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(60)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # its helpers, were any left behind
    process.wait()


def _replica(config: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "WATCHER_CONFIG"}
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "watcher", "run", "--config", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its own process group: the cleanup reaches its helpers
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
        # a killed replica's claimed sources are free again after timeout (10 s) + margin:
        # 3 s here, not the default 30 s that the test would otherwise sit through
        polling={"tick": "0.5s", "story_window": "1m", "parse_workers": 1, "lease_margin": "3s"},
        dispatcher={"every": "1s", "lease": "10s", "batch": 50},
        sources=[
            {
                "name": f"feed{f:03d}",
                "kind": "feed",
                "url": feed_server.url(f"/f{f}.xml"),
                # the second round starts on the next poll: 10 s keeps the test from
                # idling through a 30 s interval (the killed replica's leases still
                # run out on their own timeout + margin, which is what is tested)
                "every": "10s",
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
    logs = [tmp_path / f"replica{n}.log" for n in range(3)]
    replicas = [_replica(config, log) for log in logs]

    def progress() -> tuple[int, int]:
        return _progress(smtp_sink, logs)

    def running(processes: list[subprocess.Popen[bytes]]) -> Callable[[], None]:
        def check() -> None:
            for process in processes:
                assert process.poll() is None, f"a replica exited with {process.returncode}"

        return check

    try:
        first = _expected(items=1)
        wait_while_progressing(
            lambda: set(_received(smtp_sink)) >= first,
            progress,
            stall=STALL,
            what="first round",
            check=running(replicas),
        )

        _publish(feed_server, items=2)
        before = len(smtp_sink.messages)
        wait_while_progressing(
            lambda: len(smtp_sink.messages) >= before + 150,
            progress,
            stall=STALL,
            what="second round under way",
            check=running(replicas),
        )
        replicas[0].send_signal(signal.SIGKILL)  # mid-run: it may hold source and outbox leases
        replicas[0].wait()

        everything = _expected(items=2)
        wait_while_progressing(
            lambda: set(_received(smtp_sink)) >= everything,
            progress,
            stall=STALL,
            what="every alert after the kill",
            check=running(replicas[1:]),
        )
        # a drained replica has sent everything it will send: duplicates are in by now
        for process in replicas[1:]:
            os.killpg(process.pid, signal.SIGTERM)
        for process in replicas[1:]:
            process.wait(120)
    finally:
        for process in replicas:
            _stop(process)

    received = _received(smtp_sink)
    assert set(received) == everything  # nothing unexpected, nothing missing
    assert all(len(ids) == 1 for ids in received.values())  # a resend keeps its Message-ID
    duplicates = len(smtp_sink.messages) - len(everything)
    assert duplicates <= 2 * SUBSCRIBERS  # at most the batch in flight when the replica died
    assert replicas[1].returncode == 0
    assert replicas[2].returncode == 0
    texts = [log.read_text() for log in logs]
    assert all('"event": "poll_finished"' in text for text in texts)  # all three did work
