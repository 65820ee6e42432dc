"""Digests: grouped by type then severity, once per subscriber and period, silent when empty."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.clock import Clock
from tests.delivery import (
    BAN,
    FLOOD,
    QUOTA,
    RUMOUR,
    SCRAP,
    all_rows,
    cycle,
    entries,
    feed_source,
    feed_xml,
)
from tests.mailserver import MailServer
from tests.rows import DeliveryRow, DigestRow
from tests.servers import FeedServer, Route
from watcher.config import Subscriber, WatcherConfig
from watcher.domain.cron import last_period_end
from watcher.notify.digest import produce_digests
from watcher.service.daemon import Daemon
from watcher.service.runtime import Runtime

MakeConfig = Callable[..., WatcherConfig]
BERLIN = ZoneInfo("Europe/Berlin")
DIGEST_READER = {
    "email": "digest@example.com",
    "name": "Digest Reader",
    "mode": "digest",
    "schedule": "daily 08:00",
    "timezone": "Europe/Berlin",
    "include_speculative": True,
}


def berlin(*args: int) -> datetime:
    """A Berlin wall-clock time as an aware datetime."""
    return datetime(*args, tzinfo=BERLIN)


def text_of(message: object) -> str:
    """The plain-text part."""
    part = message.get_body(("plain",))  # type: ignore[attr-defined]
    assert part is not None
    return str(part.get_content())


async def test_a_digest_groups_by_severity_and_comes_once_per_period(
    feed_server: FeedServer, mail_server: MailServer, make_config: MakeConfig
) -> None:
    """At 08:00 one digest: counts on top, severities with marks, one entry per report."""
    feed_server.routes["/f"] = Route(feed_xml(entries(SCRAP, BAN, RUMOUR, QUOTA, FLOOD)))
    config = make_config(
        sources=[feed_source(feed_server.url("/f"))],
        smtp=mail_server.smtp_config(),
        subscribers=[{"email": "now@example.com"}, DIGEST_READER],
    )
    clock = Clock(berlin(2025, 7, 3, 7, 0))
    await cycle(config, clock)
    immediate = [m for m in mail_server.messages if "Digest" not in str(m["Subject"])]
    assert len(immediate) == len(mail_server.messages) == 4  # the digest reader waits

    clock.now = berlin(2025, 7, 3, 8, 0, 30)
    await cycle(config, clock)
    await cycle(config, clock)  # a second run in the same period produces nothing new
    digests = [m for m in mail_server.messages if "Digest" in str(m["Subject"])]
    assert len(digests) == 1
    [digest] = digests
    assert digest["To"].addresses[0].addr_spec == "digest@example.com"
    assert "5 signals in 5 reports" in str(digest["Subject"])
    text = text_of(digest)
    lines = text.splitlines()
    assert lines[1].startswith("5 signals in 5 reports: Export control 2, ")
    assert lines[2] == "By severity: critical 2, high 2, medium 1"
    headings = [line for line in lines if line.startswith("== ")]
    assert headings == [
        "== ●●●● severity critical (2 reports)",
        "== ●●●○ severity high (2 reports)",
        "== ●●○○ severity medium (1 report)",
    ]
    assert sum(line.startswith("* ") for line in lines) == 5
    assert "  > China [imposed] an [export ban] on dysprosium and terbium" in text
    assert "wire · 2025-07-03 10:30 CEST" in text
    html = digest.get_body(("html",)).get_content()
    critical, high = html.index("severity critical"), html.index("severity high")
    assert critical < high < html.index("severity medium")
    assert "<mark" in html

    rows = await all_rows(config, DeliveryRow)
    assert {r.status for r in rows if r.subscriber == "digest@example.com"} == {"sent"}
    produced = await all_rows(config, DigestRow)
    assert [(d.period, d.status, d.entries) for d in produced] == [
        ("2025-07-02T06:00Z", "empty", 0),
        ("2025-07-03T06:00Z", "sent", 5),
    ]

    clock.now = berlin(2025, 7, 4, 8, 1)
    await cycle(config, clock)
    assert len([m for m in mail_server.messages if "Digest" in str(m["Subject"])]) == 1
    assert (await all_rows(config, DigestRow))[-1].status == "empty"


async def test_an_empty_digest_is_sent_only_when_configured(
    mail_server: MailServer, make_config: MakeConfig
) -> None:
    """`send_empty_digest: true` mails 'nothing new'; the default sends nothing."""
    config = make_config(
        smtp=mail_server.smtp_config(),
        subscribers=[
            {**DIGEST_READER, "send_empty_digest": True},
            {**DIGEST_READER, "email": "quiet@example.com"},
        ],
    )
    await cycle(config, Clock(berlin(2025, 7, 3, 9, 0)))
    [message] = mail_server.messages
    assert message["To"].addresses[0].addr_spec == "digest@example.com"
    assert "nothing new" in str(message["Subject"])
    assert "Nothing new matched your filters" in text_of(message)


async def test_two_producers_of_one_period_make_one_digest(
    make_config: MakeConfig, database_url: str
) -> None:
    """Concurrent producers on two engines (like two replicas) insert the period once."""
    config = make_config(subscribers=[DIGEST_READER], database={"url": database_url})
    period = {"digest@example.com": datetime(2025, 7, 3, 6, 0, tzinfo=UTC)}
    now = datetime(2025, 7, 3, 6, 1, tzinfo=UTC)
    async with Runtime(config) as one, Runtime(config) as two:
        counts = await asyncio.gather(
            *(produce_digests(rt.db, config, period, now) for rt in (one, two, one, two))
        )
    assert sum(counts) == 1
    assert len(await all_rows(config, DigestRow)) == 1


@pytest.mark.parametrize(
    ("schedule", "zone", "now", "expected"),
    [
        ("daily 08:00", "Europe/Berlin", berlin(2025, 7, 3, 8, 0, 5), berlin(2025, 7, 3, 8, 0)),
        ("daily 08:00", "Europe/Berlin", berlin(2025, 7, 3, 7, 59), berlin(2025, 7, 2, 8, 0)),
        ("daily 08:00", "Europe/Berlin", berlin(2025, 3, 30, 9, 0), berlin(2025, 3, 30, 8, 0)),
        ("weekly mon 08:00", "Europe/Berlin", berlin(2025, 7, 3, 12), berlin(2025, 6, 30, 8)),
        ("0 7 * * 1-5", "Europe/Berlin", berlin(2025, 7, 6, 12, 0), berlin(2025, 7, 4, 7, 0)),
        ("0 7 * * 0", "Europe/Berlin", berlin(2025, 7, 3, 12, 0), berlin(2025, 6, 29, 7, 0)),
        ("*/15 * * * *", "UTC", berlin(2025, 7, 3, 12, 7), berlin(2025, 7, 3, 12, 0)),
        ("0 9 1 1 *", "Asia/Tokyo", berlin(2025, 7, 3, 12), datetime(2025, 1, 1, 0, tzinfo=UTC)),
    ],
)
def test_the_last_period_end_follows_the_schedule_in_its_time_zone(
    schedule: str, zone: str, now: datetime, expected: datetime
) -> None:
    """daily, weekly and cron schedules (crontab's 0 = Sunday), DST days included."""
    Subscriber(email="a@example.com", mode="digest", schedule=schedule, timezone=zone)
    assert last_period_end(schedule, zone, now) == expected


async def test_the_daemon_schedules_digests_and_catches_up_a_missed_period(
    feed_server: FeedServer, mail_server: MailServer, make_config: MakeConfig
) -> None:
    """At start-up the daemon sends the digest of a period that ended while it was down."""
    feed_server.routes["/f"] = Route(feed_xml(entries(BAN, QUOTA)))
    config = make_config(
        sources=[feed_source(feed_server.url("/f"))],
        smtp=mail_server.smtp_config(),
        subscribers=[{**DIGEST_READER, "schedule": "0 6 * * *", "timezone": "Asia/Tokyo"}],
        dispatcher={"every": "1s"},
    )
    await cycle(config, Clock(datetime.now(UTC) - timedelta(days=2)))  # queued two days ago
    daemon = Daemon(config.model_copy(update={"sources": []}))
    running = asyncio.create_task(daemon.run())
    try:
        for _ in range(200):
            if mail_server.messages:
                break
            await asyncio.sleep(0.05)
        assert daemon._scheduler is not None
        job = daemon._scheduler.get_job("digest:digest@example.com")
        assert str(job.trigger.timezone) == "Asia/Tokyo"
    finally:
        daemon.stop()
        assert await asyncio.wait_for(running, 60) == 0
    [digest] = mail_server.messages
    assert "2 signals in 2 reports" in str(digest["Subject"])


async def test_a_report_with_several_signal_types_is_listed_once(
    feed_server: FeedServer, mail_server: MailServer, make_config: MakeConfig
) -> None:
    """One report carrying two types: one digest entry naming both, under the higher severity."""
    both = ("China bans dysprosium exports and delays quotas", f"{BAN[1]} {QUOTA[1]}")
    feed_server.routes["/f"] = Route(feed_xml(entries(both, SCRAP)))
    config = make_config(
        sources=[feed_source(feed_server.url("/f"))],
        smtp=mail_server.smtp_config(),
        subscribers=[DIGEST_READER],
    )
    clock = Clock(berlin(2025, 7, 3, 7, 0))
    await cycle(config, clock)
    clock.now = berlin(2025, 7, 3, 8, 0, 30)
    await cycle(config, clock)
    [digest] = [m for m in mail_server.messages if "Digest" in str(m["Subject"])]
    text = text_of(digest)
    assert "3 signals in 2 reports" in text
    assert text.count("* China bans dysprosium exports and delays quotas") == 1
    entry = text.split("* China bans dysprosium exports and delays quotas", 1)[1].splitlines()[1]
    assert "Export control (tightening" in entry
    assert "Quota delay (tightening" in entry
    html = digest.get_body(("html",)).get_content()
    assert html.count("China bans dysprosium exports and delays quotas") == 1
