"""The outbox against a real SMTP server: once per story and signal, retries, dead letters."""

from __future__ import annotations

import asyncio
import random
import shutil
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.clock import Clock
from tests.conftest import ROOT
from tests.delivery import (
    BAN,
    FLOOD,
    MYANMAR,
    QUOTA,
    SCRAP,
    all_rows,
    cycle,
    dispatch,
    entries,
    feed_source,
    feed_xml,
)
from tests.mailserver import MailServer
from tests.rows import DeliveryRow, NoticeRow
from tests.servers import FeedServer, Route, free_port
from watcher.concurrency.pool import WorkerPool
from watcher.config import DispatcherConfig, WatcherConfig
from watcher.domain.retry import retry_delay
from watcher.notify.channels.mail import MailChannel
from watcher.notify.dispatch import dispatch_alerts
from watcher.notify.sender import Accepted, DispatchReport, Job, Marks
from watcher.service.pipeline import poll_source
from watcher.service.rounds import poll_with_deadline, prepare_sources
from watcher.service.runtime import Runtime
from watcher.store import outbox

MakeConfig = Callable[..., WatcherConfig]
TWO_SUBSCRIBERS = [
    {"email": "analyst@example.com", "name": "Analyst"},
    {"email": "buyer@example.com", "name": "Buyer", "signals": ["export_control"]},
]


async def test_one_email_per_subscriber_story_and_signal_across_polls_and_restarts(
    mail_server: MailServer, make_config: MakeConfig, tmp_path: Path
) -> None:
    """Three runs (each a restart) and a revised document still mail each pair exactly once."""
    seeds = tmp_path / "seeds"
    shutil.copytree(ROOT / "seeds", seeds)
    config = make_config(
        sources=[{"name": "seeds", "kind": "files", "path": str(seeds), "backfill": "3650d"}],
        subscribers=TWO_SUBSCRIBERS,
        smtp=mail_server.smtp_config(),
    )
    for _ in range(3):
        await cycle(config)
    deliveries = await all_rows(config, DeliveryRow)
    assert deliveries
    assert {d.status for d in deliveries} == {"sent"}
    keys = Counter((d.subscriber, d.story_id, d.signal_type) for d in deliveries)
    assert max(keys.values()) == 1
    ids = [str(m["Message-ID"]) for m in mail_server.messages]
    assert len(ids) == len(set(ids)) == len({d.message_id for d in deliveries})
    assert {a for _, rcpts in mail_server.handler.envelopes for a in rcpts} == {
        "analyst@example.com",
        "buyer@example.com",
    }

    document = seeds / "02-export-control-notice.md"
    document.write_text(document.read_text() + "\n\nUpdated: the notice takes effect at once.\n")
    before = len(mail_server.messages)
    await cycle(config)
    assert len(mail_server.messages) == before  # a revision with the same signals mails nobody


async def test_smtp_down_for_a_while_then_everything_arrives_once(
    feed_server: FeedServer, make_config: MakeConfig
) -> None:
    """Connection refused defers every alert; when the relay is back all arrive, none twice."""
    feed_server.routes["/f"] = Route(feed_xml(entries(BAN, FLOOD, QUOTA)))
    port = free_port()
    config = make_config(
        sources=[feed_source(feed_server.url("/f"))],
        smtp={"host": "127.0.0.1", "port": port, "tls": "none", "timeout": "2s"},
    )
    clock = Clock()
    first = await cycle(config, clock)
    assert (first.sent, first.retried) == (0, 3)
    clock.advance(timedelta(minutes=5))
    assert (await dispatch(config, clock)).retried == 3  # still down: another attempt each

    server = MailServer(port=port).start()
    try:
        clock.advance(timedelta(hours=1))
        report = await dispatch(config, clock)
        clock.advance(timedelta(hours=1))
        again = await cycle(config, clock)
    finally:
        server.stop()
    assert report.sent == 3
    assert again.sent == 0
    assert len(server.messages) == 3
    assert len({str(m["Message-ID"]) for m in server.messages}) == 3
    rows = await all_rows(config, DeliveryRow)
    assert {(r.status, r.attempts) for r in rows} == {("sent", 3)}


async def test_451_on_first_attempt_is_delivered_on_a_retry_with_the_same_message_id(
    feed_server: FeedServer, mail_server: MailServer, make_config: MakeConfig
) -> None:
    """A 4xx reply is transient: the row waits with its error, then goes out on the retry."""
    feed_server.routes["/f"] = Route(feed_xml(entries(BAN)))
    config = make_config(
        sources=[feed_source(feed_server.url("/f"))], smtp=mail_server.smtp_config()
    )
    mail_server.handler.data_replies.append("451 4.3.0 Mailbox busy, try again later")
    clock = Clock()
    report = await cycle(config, clock)
    assert (report.sent, report.retried) == (0, 1)
    [row] = await all_rows(config, DeliveryRow)
    assert row.status == "pending"
    assert "451" in (row.last_error or "")
    assert row.next_attempt_at > clock.now

    assert (await dispatch(config, clock)).sent == 0  # not due yet
    clock.advance(timedelta(minutes=2))
    assert (await dispatch(config, clock)).sent == 1
    [message] = mail_server.messages
    assert message["Message-ID"] == row.message_id
    [row] = await all_rows(config, DeliveryRow)
    assert (row.status, row.attempts) == ("sent", 2)


async def test_550_makes_a_dead_letter_and_exactly_one_admin_notice(
    feed_server: FeedServer, mail_server: MailServer, make_config: MakeConfig
) -> None:
    """A 5xx for the recipient is permanent: dead with the reason, the admins told once."""
    feed_server.routes["/f"] = Route(feed_xml(entries(BAN)))
    config = make_config(
        sources=[feed_source(feed_server.url("/f"))],
        smtp=mail_server.smtp_config(),
        admins=["ops@example.com"],
    )
    mail_server.handler.refuse_rcpt["analyst@example.com"] = "550 5.1.1 No such mailbox"
    clock = Clock()
    for _ in range(3):
        await cycle(config, clock)
        clock.advance(timedelta(hours=1))
    [row] = await all_rows(config, DeliveryRow)
    assert row.status == "dead"
    assert "550" in (row.last_error or "")
    assert row.attempts == 1
    [notice] = await all_rows(config, NoticeRow)
    assert notice.status == "sent"
    [email] = mail_server.messages
    assert email["To"].addresses[0].addr_spec == "ops@example.com"
    assert email["Subject"].strip().startswith("[Supply Watcher ops]")
    assert row.message_id in email.get_body(("plain",)).get_content()
    assert "Auto-Submitted" in email


async def test_transient_failures_stop_at_max_attempts_as_a_dead_letter(
    feed_server: FeedServer, mail_server: MailServer, make_config: MakeConfig
) -> None:
    """A relay that keeps answering 4xx: the last allowed attempt turns the row dead."""
    feed_server.routes["/f"] = Route(feed_xml(entries(BAN)))
    config = make_config(
        sources=[feed_source(feed_server.url("/f"))],
        smtp=mail_server.smtp_config(),
        dispatcher={"max_attempts": 3},
    )
    mail_server.handler.data_replies.extend(["421 4.7.0 Busy"] * 5)
    clock = Clock()
    await cycle(config, clock)
    for _ in range(4):
        clock.advance(timedelta(hours=7))
        await dispatch(config, clock)
    [row] = await all_rows(config, DeliveryRow)
    assert (row.status, row.attempts) == ("dead", 3)
    assert "gave up after 3 attempts" in (row.last_error or "")
    assert not mail_server.messages


async def test_a_claim_leases_rows_until_the_lease_expires(
    feed_server: FeedServer, make_config: MakeConfig, database_url: str
) -> None:
    """Claimed rows are invisible to a second claimer until released or the lease ends."""
    feed_server.routes["/f"] = Route(feed_xml(entries(BAN, FLOOD)))
    config = make_config(
        sources=[feed_source(feed_server.url("/f"))], database={"url": database_url}
    )
    clock = Clock()
    async with Runtime(config, clock=clock) as rt:
        for source in config.sources:
            await poll_source(rt, source)
        lease = timedelta(minutes=5)
        first = await outbox.claim_outbound(
            rt.db, channel="email", now=clock.now, lease=lease, limit=10
        )
        second = await outbox.claim_outbound(
            rt.db, channel="email", now=clock.now, lease=lease, limit=10
        )
        assert len(first.emails) == 2
        assert second.emails == []
        await outbox.release(rt.db, first.emails[0].delivery_ids, owner=first.owner)
        third = await outbox.claim_outbound(
            rt.db, channel="email", now=clock.now, lease=lease, limit=10
        )
        assert [e.message_id for e in third.emails] == [first.emails[0].message_id]
        later = clock.now + lease + timedelta(seconds=1)
        fourth = await outbox.claim_outbound(
            rt.db, channel="email", now=later, lease=lease, limit=10
        )
        assert len(fourth.emails) == 2


def test_retry_delay_grows_exponentially_with_jitter_and_a_cap() -> None:
    """Delays double per attempt within [½, 1] of the base and never pass backoff_max."""
    policy = DispatcherConfig(backoff=timedelta(minutes=1), backoff_max=timedelta(hours=1))
    rng = random.Random(7)
    for attempt, base in [(1, 60), (2, 120), (3, 240), (5, 960), (12, 3600), (60, 3600)]:
        delay = retry_delay(policy, attempt, rng).total_seconds()
        assert base / 2 <= delay <= base
    assert len({retry_delay(policy, 3, rng) for _ in range(5)}) > 1


async def test_concurrent_claimers_on_two_engines_split_the_rows(
    feed_server: FeedServer, make_config: MakeConfig, database_url: str
) -> None:
    """Like two replicas on one database: every email is claimed by exactly one of them."""
    feed_server.routes["/f"] = Route(feed_xml(entries(BAN, FLOOD, QUOTA)))
    config = make_config(
        database={"url": database_url},
        sources=[feed_source(feed_server.url("/f"))],
        subscribers=[{"email": f"s{n}@example.com"} for n in range(8)],
    )
    clock = Clock()
    async with Runtime(config, clock=clock) as one, Runtime(config, clock=clock) as two:
        for source in config.sources:
            await poll_source(one, source)
        lease = timedelta(minutes=5)
        batches = await asyncio.gather(
            *(
                outbox.claim_outbound(rt.db, channel="email", now=clock.now, lease=lease, limit=3)
                for rt in (one, two, one, two, one, two, one, two, one, two)
            )
        )
    claimed = [e.message_id for batch in batches for e in batch.emails]
    assert len(claimed) == len(set(claimed)) == 24


async def test_an_alert_for_a_removed_subscriber_waits_its_grace_then_is_dead(
    feed_server: FeedServer, mail_server: MailServer, make_config: MakeConfig
) -> None:
    """Queued before the subscriber left the config: kept for the grace period, never mailed."""
    feed_server.routes["/f"] = Route(feed_xml(entries(BAN)))
    sources = [feed_source(feed_server.url("/f"))]
    clock = Clock()
    async with Runtime(make_config(sources=sources), clock=clock) as rt:
        await poll_source(rt, rt.config.sources[0])
    config = make_config(
        sources=sources,
        smtp=mail_server.smtp_config(),
        subscribers=[{"email": "new@example.com"}],
        dispatcher={"unsubscribed_grace": "2h"},
    )
    report = await dispatch(config, clock)
    assert (report.dead, report.retried) == (0, 1)
    [row] = await all_rows(config, DeliveryRow)
    assert row.status == "pending"
    assert "analyst@example.com is not a configured subscriber now" in (row.last_error or "")
    clock.advance(timedelta(hours=2, minutes=1))
    report = await dispatch(config, clock)
    assert report.dead == 1
    assert not mail_server.messages
    [row] = await all_rows(config, DeliveryRow)
    assert (row.status, row.last_error) == (
        "dead",
        "the address is no longer a subscriber (waited 2:00:00)",
    )


async def test_one_connection_carries_every_batch_of_a_dispatch_pass(
    feed_server: FeedServer, mail_server: MailServer, make_config: MakeConfig
) -> None:
    """Three batches of one alert each (dispatcher.batch 1) go over a single SMTP session."""
    feed_server.routes["/f"] = Route(feed_xml(entries(BAN, FLOOD, QUOTA)))
    config = make_config(
        sources=[feed_source(feed_server.url("/f"))],
        smtp=mail_server.smtp_config(),
        dispatcher={"batch": 1},
    )
    report = await cycle(config)
    assert report.sent == 3
    assert len(mail_server.messages) == 3
    assert len(set(mail_server.handler.peers)) == 1
    rows = await all_rows(config, DeliveryRow)
    assert {(r.status, r.attempts, r.lease_owner) for r in rows} == {("sent", 1, None)}
    assert all(r.reply and r.reply.startswith("2.0.0 Ok: queued as") for r in rows)


async def test_a_dispatch_pass_sends_as_many_emails_at_once_as_it_has_connections(
    feed_server: FeedServer, mail_server: MailServer, make_config: MakeConfig
) -> None:
    """dispatcher.connections 3: three emails in flight over three sessions, a fourth waits."""
    feed_server.routes["/f"] = Route(feed_xml(entries(BAN, FLOOD, QUOTA, SCRAP, MYANMAR)))
    config = make_config(
        sources=[feed_source(feed_server.url("/f"))],
        smtp=mail_server.smtp_config(),
        dispatcher={"connections": 3},
    )
    mail_server.handler.go_on.clear()  # the server holds its reply to every message
    running = asyncio.create_task(cycle(config))
    try:
        for _ in range(200):
            if len(mail_server.messages) >= 3:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # time for a fourth message, if one could go out
        assert len(mail_server.messages) == 3
        assert len(set(mail_server.handler.peers)) == 3
    finally:
        mail_server.handler.go_on.set()
    report = await asyncio.wait_for(running, 30)
    assert (report.sent, report.retried, report.dead) == (5, 0, 0)
    ids = [str(m["Message-ID"]) for m in mail_server.messages]
    assert len(ids) == len(set(ids)) == 5
    assert len(set(mail_server.handler.peers)) == 3  # the later emails reused the sessions
    rows = await all_rows(config, DeliveryRow)
    assert {(r.status, r.attempts, r.lease_owner) for r in rows} == {("sent", 1, None)}


async def test_an_alert_whose_rendering_overruns_the_worker_deadline_waits_for_a_retry(
    feed_server: FeedServer, mail_server: MailServer, make_config: MakeConfig
) -> None:
    """A render worker that does not answer in time costs a retry, not the alert."""
    from tests.slowparse import slow_render

    feed_server.routes["/f"] = Route(feed_xml(entries(BAN)))
    config = make_config(
        sources=[feed_source(feed_server.url("/f"))], smtp=mail_server.smtp_config()
    )
    async with Runtime(config, clock=Clock()) as rt:
        for source in await prepare_sources(rt):
            await poll_with_deadline(rt, source)
        hurried = WorkerPool(1, deadline=0.5)  # the render below takes 30 s
        try:
            mail = MailChannel(rt.config, hurried, renderer=slow_render)
            report = await dispatch_alerts(rt.dispatcher(), mail, mail.transport())
        finally:
            hurried.close()
    assert (report.sent, report.retried, report.dead) == (0, 1, 0)
    assert mail_server.messages == []
    [row] = await all_rows(config, DeliveryRow)
    assert (row.status, row.attempts, row.lease_owner) == ("pending", 1, None)
    assert "rendering alert" in (row.last_error or "")


async def _retry_an_hour_later(
    config: WatcherConfig, clock: Clock, server: MailServer
) -> tuple[DispatchReport, list[str]]:
    """Bring the relay back on `server`'s port, let an hour pass, dispatch once: that
    pass's report, and the Message-IDs both servers received, in order."""
    again = MailServer(port=server.port).start()
    try:
        clock.advance(timedelta(hours=1))
        second = await dispatch(config, clock)
    finally:
        again.stop()
    return second, [str(m["Message-ID"]) for m in server.messages + again.messages]


async def test_a_relay_going_down_mid_batch_leaves_the_rest_pending_then_sends_it_once(
    feed_server: FeedServer, make_config: MakeConfig
) -> None:
    """Two accepted, then the relay drops: those two are sent, the rest retried, none doubled."""
    pairs = (BAN, FLOOD, QUOTA, SCRAP, MYANMAR)
    feed_server.routes["/f"] = Route(feed_xml(entries(*pairs)))
    server = MailServer().start()
    server.handler.fail_after = 2
    config = make_config(
        sources=[feed_source(feed_server.url("/f"))], smtp=server.smtp_config(timeout="2s")
    )
    clock = Clock()
    try:
        first = await cycle(config, clock)
    finally:
        server.stop()
    assert (first.sent, first.retried, first.dead) == (2, 3, 0)
    accepted = {str(m["Message-ID"]) for m in server.messages}
    rows = await all_rows(config, DeliveryRow)
    assert len(rows) == 5
    assert {r.message_id for r in rows if r.status == "sent"} == accepted
    waiting = [r for r in rows if r.status != "sent"]
    assert {(r.status, r.attempts, r.lease_owner) for r in waiting} == {("pending", 1, None)}
    assert all(r.last_error for r in waiting)

    second, ids = await _retry_an_hour_later(config, clock, server)
    assert second.sent == 3
    assert len(ids) == len(set(ids)) == 5
    assert {r.status for r in await all_rows(config, DeliveryRow)} == {"sent"}


def _numbered_bans(count: int, poisoned: frozenset[int] = frozenset()) -> list[tuple[str, str]]:
    """`count` distinct export-ban reports (each its own story with clustering off);
    those numbered in `poisoned` have a title starting "poison"."""
    return [
        (
            f"{'poison ' if n in poisoned else ''}China bans dysprosium exports, notice {n}",
            f"{BAN[1]} The notice is number {n} of the year.",
        )
        for n in range(1, count + 1)
    ]


async def test_a_relay_going_down_in_a_later_render_chunk_loses_and_doubles_nothing(
    feed_server: FeedServer, make_config: MakeConfig
) -> None:
    """40 alerts rendered a chunk at a time over 3 connections; the relay dies after 20.

    The 20 accepted are marked sent, every other alert waits for a retry (none lost), and
    the retry sends exactly those, each once.
    """
    from watcher.notify.dispatch import RENDER_CHUNK

    count = 40
    assert count > 2 * RENDER_CHUNK  # the failure falls in a later chunk than the first
    feed_server.routes["/f"] = Route(feed_xml(entries(*_numbered_bans(count))))
    server = MailServer().start()
    server.handler.fail_after = 20
    config = make_config(
        sources=[feed_source(feed_server.url("/f"))],
        smtp=server.smtp_config(timeout="2s"),
        dispatcher={"connections": 3},
        polling={"story_window": "0s"},
    )
    clock = Clock()
    try:
        first = await cycle(config, clock)
    finally:
        server.stop()
    assert (first.sent, first.retried, first.dead) == (20, count - 20, 0)
    accepted = [str(m["Message-ID"]) for m in server.messages]
    rows = await all_rows(config, DeliveryRow)
    assert len(rows) == count
    assert sorted(r.message_id for r in rows if r.status == "sent") == sorted(accepted)
    waiting = [r for r in rows if r.status != "sent"]
    assert {(r.status, r.attempts, r.lease_owner) for r in waiting} == {("pending", 1, None)}

    second, ids = await _retry_an_hour_later(config, clock, server)
    assert (second.sent, second.retried, second.dead) == (count - 20, 0, 0)
    assert len(ids) == len(set(ids)) == count
    assert {(r.status, r.lease_owner) for r in await all_rows(config, DeliveryRow)} == {
        ("sent", None)
    }


async def test_an_unsafe_alert_in_a_render_chunk_is_a_dead_letter_and_the_rest_go_out(
    feed_server: FeedServer, mail_server: MailServer, make_config: MakeConfig
) -> None:
    """Alerts rendered together: the one that cannot be rendered safely is buried alone."""
    from tests.slowparse import refuse_poisoned

    feed_server.routes["/f"] = Route(feed_xml(entries(*_numbered_bans(20, frozenset({3})))))
    config = make_config(
        sources=[feed_source(feed_server.url("/f"))],
        smtp=mail_server.smtp_config(),
        polling={"story_window": "0s"},
    )
    async with Runtime(config, clock=Clock()) as rt:
        for source in await prepare_sources(rt):
            await poll_with_deadline(rt, source)
        mail = MailChannel(rt.config, rt.parsers, renderer=refuse_poisoned)
        report = await dispatch_alerts(rt.dispatcher(), mail, mail.transport())
    assert (report.sent, report.retried, report.dead) == (19, 0, 1)
    rows = await all_rows(config, DeliveryRow)
    [dead] = [r for r in rows if r.status == "dead"]
    assert "poisoned" in (dead.last_error or "")
    sent = {str(m["Message-ID"]) for m in mail_server.messages}
    assert sent == {r.message_id for r in rows if r.status == "sent"}
    assert len(sent) == len(mail_server.messages) == 19


async def test_no_more_than_the_limit_of_accepted_emails_wait_for_their_mark() -> None:
    """A slow database holds the next send back: a crash can resend at most `limit` emails."""
    release = asyncio.Event()
    marked: list[str] = []

    async def mark_sent(batch: Sequence[Accepted]) -> None:
        await release.wait()
        marked.extend(a.job.message_id for a in batch)

    def accepted(n: int) -> Accepted:
        job = Job(f"<{n}@test>", "analyst@example.com", 0, "alert", _no_build, _NO_RECORD)
        return Accepted(job, "250 OK", datetime.now(UTC))

    marks = Marks(mark_sent, limit=3)
    for n in range(3):
        await asyncio.wait_for(marks.add(accepted(n)), 10)  # within the limit: no wait
    fourth = asyncio.create_task(marks.add(accepted(3)))
    await asyncio.sleep(0.1)
    assert not fourth.done()
    assert marks.unmarked == 4
    release.set()
    await asyncio.wait_for(fourth, 5)
    await marks.flush()
    assert sorted(marked) == [f"<{n}@test>" for n in range(4)]


def _no_build(now: object) -> Any:
    raise AssertionError("not built in this test")


_NO_RECORD: Any = None  # the marks under test never touch the job's record


async def test_accepted_emails_are_marked_in_groups_and_a_lone_one_soon() -> None:
    """Half the limit makes a group (one transaction); a group that does not fill is
    marked after the hold time, without waiting for the batch to end."""
    groups: list[list[str]] = []

    async def mark_sent(batch: Sequence[Accepted]) -> None:
        groups.append([a.job.message_id for a in batch])

    def accepted(n: int) -> Accepted:
        job = Job(f"<{n}@test>", "analyst@example.com", 0, "alert", _no_build, _NO_RECORD)
        return Accepted(job, "250 OK", datetime.now(UTC))

    marks = Marks(mark_sent, limit=10, hold=0.05)
    for n in range(10):
        await marks.add(accepted(n))
    await asyncio.sleep(0)
    await marks.add(accepted(10))
    for _ in range(100):
        if marks.unmarked == 0:
            break
        await asyncio.sleep(0.01)
    assert marks.unmarked == 0  # the lone eleventh went out after the hold, before flush
    await marks.flush()
    # ten emails in at most two transactions (groups of five; two groups handed over
    # while no mark runs share one), the eleventh in its own
    assert 2 <= len(groups) <= 3
    assert groups[-1] == ["<10@test>"]
    assert [m for group in groups for m in group] == [f"<{n}@test>" for n in range(11)]


async def test_a_failed_group_mark_is_raised_by_a_later_add_or_the_flush() -> None:
    async def mark_sent(batch: Sequence[Accepted]) -> None:
        raise RuntimeError("database gone")

    def accepted(n: int) -> Accepted:
        job = Job(f"<{n}@test>", "analyst@example.com", 0, "alert", _no_build, _NO_RECORD)
        return Accepted(job, "250 OK", datetime.now(UTC))

    marks = Marks(mark_sent, limit=2, hold=10)
    await marks.add(accepted(0))  # a group of one, handed over at once
    await asyncio.sleep(0.01)
    with pytest.raises(RuntimeError, match="database gone"):
        await marks.add(accepted(1))
    await marks.add(accepted(2))
    with pytest.raises(RuntimeError, match="database gone"):
        await marks.flush()
