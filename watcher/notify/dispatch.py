"""The outbox dispatcher: claim what is due, hand it to the send loop, record the outcomes.

A dispatch pass sends admin notices, then alerts on every channel, then digests, each
kind batch by batch until nothing is due now, over one transport per channel for the
whole pass (opened only when something is sent). A batch is claimed under a lease
(`watcher.store.outbox.claim_rows`); its messages go through the one send loop
(`watcher.notify.sender.send_jobs`) with the one retry policy; a channel that renders
several alerts at once (`RendersMany`: email) renders a batch's alerts a chunk at a
time, the next chunk while the one before is sent (`_Renders`); accepted alerts are
marked sent in the background while the next goes out (`outbox.mark_sent_many`). A
crash between send and mark leaves the rows leased; once the lease expires they are
due again and the alert goes out again with the same ID.

Mail rendering is imported when a digest or notice is first built: a pass with nothing
due never loads it (issue 20).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import hashlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from watcher.classify.severity import for_sources
from watcher.config import Subscriber, WatcherConfig
from watcher.domain.errors import DeliveryError
from watcher.domain.items import DigestOutbound, Outbound
from watcher.domain.notices import GROUP_MARK, notice_group
from watcher.notify.admin import notify_admins
from watcher.notify.channel import EMAIL, Channel, RendersMany, Transport
from watcher.notify.pace import Pacer
from watcher.notify.sender import Accepted, DispatchReport, Job, send_jobs
from watcher.store import digests, notices, optouts, outbox
from watcher.store.db import Database
from watcher.store.outbox import DEAD, PENDING, SENT

__all__ = ["DispatchReport", "dispatch_alerts", "dispatch_pass"]
log = structlog.get_logger("watcher.dispatch")
MAX_ROUNDS = 1000  # batches of one kind per pass: a bound, never reached in practice
# alerts rendered per call to the parse pool (about 0.5 ms each): one hop per chunk, not
# one per email, and a chunk is short enough for its first email to go out at once
RENDER_CHUNK = 16
Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class Dispatcher:
    """What every batch of a pass shares: the store, the config, the clock, the rate."""

    db: Database
    config: WatcherConfig
    clock: Clock
    pacer: Pacer


async def dispatch_pass(
    dispatcher: Dispatcher,
    channels: Mapping[str, Channel],
    transports: Mapping[str, Transport] | None = None,
) -> DispatchReport:
    """Send due admin notices, alerts on every channel and digests until nothing is due now.

    Each channel's transport serves the whole pass (`transports`, when the caller holds
    them open for longer, e.g. a whole `run --once`).
    """
    transports = transports or {name: c.transport() for name, c in channels.items()}
    mail, mail_transport = channels[EMAIL], transports[EMAIL]
    total = DispatchReport()
    async with contextlib.AsyncExitStack() as stack:
        for transport in transports.values():
            await stack.enter_async_context(transport)  # nested entries open nothing yet
        total += await _rounds(lambda: dispatch_notices(dispatcher, mail, mail_transport))
        total += await dispatch_alert_rounds(dispatcher, channels, transports)
        total += await _rounds(lambda: dispatch_digests(dispatcher, mail, mail_transport))
    return total


async def dispatch_alert_rounds(
    dispatcher: Dispatcher, channels: Mapping[str, Channel], transports: Mapping[str, Transport]
) -> DispatchReport:
    """Alert batches on every channel until none is due now."""
    total = DispatchReport()
    for name, channel in channels.items():
        total += await _rounds(
            functools.partial(dispatch_alerts, dispatcher, channel, transports[name])
        )
    return total


async def _rounds(send: Callable[[], Awaitable[DispatchReport]]) -> DispatchReport:
    """`send()` batches until one sends nothing (at most `MAX_ROUNDS`)."""
    total = DispatchReport()
    for _ in range(MAX_ROUNDS):
        report = await send()
        total += report
        if report.sent == 0:
            break
    return total


# --- alerts --------------------------------------------------------------------------


def _graded(outbound: Outbound) -> Outbound:
    """The alert with its signals' severity raised for a story several sources carry.

    Graded when sent, so it counts every source known by then (`also_reported_by`);
    never raises an easing, uncertain or speculative signal past its cap
    (`watcher.classify.severity.for_sources`).
    """
    sources = 1 + len(outbound.also_reported_by)
    signals = tuple(for_sources(s, sources) for s in outbound.signals)
    return dataclasses.replace(outbound, signals=signals)


def _graded_digest(digest: DigestOutbound) -> DigestOutbound:
    """The digest with each entry graded as `_graded` grades an alert."""
    entries = tuple(
        dataclasses.replace(e, signal=for_sources(e.signal, 1 + len(e.also_reported_by)))
        for e in digest.entries
    )
    return dataclasses.replace(digest, entries=entries)


async def dispatch_alerts(
    dispatcher: Dispatcher, channel: Channel, transport: Transport
) -> DispatchReport:
    """Claim and send one batch of due alerts on `channel`; report what happened."""
    d = dispatcher
    policy = d.config.dispatcher
    batch = await outbox.claim_outbound(
        d.db, channel=channel.name, now=d.clock(), lease=policy.lease, limit=policy.batch
    )
    if not batch.emails:
        return DispatchReport()
    jobs: list[Job] = []
    gone = DispatchReport()
    renders = _Renders(channel) if isinstance(channel, RendersMany) else None
    stopped = await optouts.opted_out(d.db, {o.subscriber for o in batch.emails})
    for outbound in map(_graded, batch.emails):
        if outbound.subscriber in stopped:
            # the subscriber's own opt-out outranks the config: cancelled, not a dead letter
            await outbox.mark_cancelled(d.db, outbound.delivery_ids)
            log.info("alert_cancelled", subscriber=outbound.subscriber, reason="unsubscribed")
            continue
        what = f"alert {', '.join(s.type for s in outbound.signals)}: {outbound.item.title[:120]!r}"
        record = _Deliveries(d, outbound, batch.owner, what)
        job = _alert_job(d, channel, outbound, what, record, renders)
        if job is None:
            gone += await _not_subscribed(d, record, outbound.subscriber, outbound.queued_at)
        else:
            jobs.append(job)
    deliveries = {outbound.message_id: outbound.delivery_ids for outbound in batch.emails}

    async def mark_sent(accepted: Sequence[Accepted]) -> None:
        await outbox.mark_sent_many(
            d.db, [(deliveries[a.job.message_id], a.reply, a.at) for a in accepted]
        )

    try:
        return gone + await send_jobs(
            policy,
            transport,
            jobs,
            lease_until=batch.until,
            clock=d.clock,
            pacer=d.pacer,
            send_timeout=channel.send_timeout,
            mark_sent=mark_sent,
        )
    finally:
        if renders is not None:
            await renders.close()


async def _not_subscribed(
    d: Dispatcher, record: _Deliveries | _DigestRecord, address: str, queued_at: datetime | None
) -> DispatchReport:
    """Mail for an address that is not (or no longer) configured: wait, then a dead letter.

    A config edit may drop a subscriber for a moment (a half-saved file, a typo fixed a
    minute later): the mail waits `dispatcher.unsubscribed_grace` from when it was queued,
    looked at again every `dispatcher.backoff`, and goes out if the address comes back.
    """
    now = d.clock()
    policy = d.config.dispatcher
    until = (queued_at or now) + policy.unsubscribed_grace
    if now < until:
        reason = (
            f"{address} is not a configured subscriber now; kept until {until:%Y-%m-%d %H:%M}Z"
            " in case the config brings it back"
        )
        await record.wait(reason, min(now + policy.backoff, until))
        log.warning("mail_waiting", subscriber=address, reason="not subscribed", until=until)
        return DispatchReport(retried=1)
    grace = policy.unsubscribed_grace
    await record.dead(f"the address is no longer a subscriber (waited {grace})", now)
    log.warning("alert_dropped", subscriber=address, reason="not subscribed")
    return DispatchReport(dead=1)


def _alert_job(
    d: Dispatcher,
    channel: Channel,
    outbound: Outbound,
    what: str,
    record: _Deliveries,
    renders: _Renders | None = None,
) -> Job | None:
    """The job of one alert; None when its subscriber or endpoint is no longer configured.

    With `renders` the alert is rendered with the others of its batch (`_Renders`).
    """
    subscriber = d.config.subscriber(outbound.subscriber)
    if subscriber is None:
        return None
    endpoint = channel.targets(subscriber).get(outbound.target)
    if endpoint is None:
        return None
    if renders is not None:
        build = renders.add(outbound, subscriber, endpoint)
    else:

        async def build(now: datetime) -> object:
            return await channel.render(outbound, subscriber, endpoint, now)

    return Job(
        message_id=outbound.message_id,
        recipient=outbound.subscriber,
        attempts=outbound.attempts,
        what=what,
        build=build,
        record=record,
    )


class _Renders:
    """A batch's alerts rendered `RENDER_CHUNK` at a time, one `render_many` call per chunk.

    Alerts are added in the order their jobs are sent. The first build of a chunk starts
    its rendering (at that build's `now`) and the next chunk's, so the next chunk renders
    while this one is sent. Each build returns its own alert's message or raises its own
    `DeliveryError`, exactly as `Channel.render` would have. A lane cancelled while it
    waits leaves the chunk rendering for the others; `close` cancels what nobody waits
    for any more (a batch cut short by its lease or a dead relay).
    """

    def __init__(self, channel: RendersMany) -> None:
        self._channel = channel
        self._alerts: list[tuple[Outbound, Subscriber, str]] = []
        self._chunks: dict[int, asyncio.Future[list[Any]]] = {}

    def add(
        self, outbound: Outbound, subscriber: Subscriber, endpoint: str
    ) -> Callable[[datetime], Awaitable[object]]:
        """Add an alert; returns the job's `build(now)`."""
        index = len(self._alerts)
        self._alerts.append((outbound, subscriber, endpoint))

        async def build(now: datetime) -> object:
            return await self._get(index, now)

        return build

    async def _get(self, index: int, now: datetime) -> object:
        chunk, place = divmod(index, RENDER_CHUNK)
        rendering = self._start(chunk, now)
        self._start(chunk + 1, now)
        assert rendering is not None  # `index` is an added alert's
        # most alerts find their chunk rendered: no shield (a future and callbacks) then
        done = rendering.result() if rendering.done() else await asyncio.shield(rendering)
        rendered = done[place]
        if isinstance(rendered, DeliveryError):
            raise rendered
        return rendered

    def _start(self, chunk: int, now: datetime) -> asyncio.Future[list[Any]] | None:
        """The rendering of `chunk`, started now if it had not been; None past the end."""
        rendering = self._chunks.get(chunk)
        if rendering is None:
            alerts = self._alerts[chunk * RENDER_CHUNK : (chunk + 1) * RENDER_CHUNK]
            if not alerts:
                return None
            rendering = asyncio.ensure_future(self._channel.render_many(alerts, now))
            self._chunks[chunk] = rendering
        return rendering

    async def close(self) -> None:
        """Cancel the renderings still running and wait for them to end."""
        running = [r for r in self._chunks.values() if not r.done()]
        for rendering in running:
            rendering.cancel()
        await asyncio.gather(*self._chunks.values(), return_exceptions=True)


@dataclass(frozen=True, slots=True)
class _Deliveries:
    """Outcomes of one alert message, written to its delivery rows."""

    d: Dispatcher
    outbound: Outbound
    owner: str
    what: str

    async def sent(self, reply: str, now: datetime) -> None:
        await outbox.mark_sent(self.d.db, self.outbound.delivery_ids, reply=reply, now=now)

    async def retry(self, error: str, at: datetime) -> None:
        await outbox.mark_retry(self.d.db, self.outbound.delivery_ids, error=error, at=at)

    async def wait(self, reason: str, at: datetime) -> None:
        await outbox.postpone(self.d.db, self.outbound.delivery_ids, reason=reason, at=at)

    async def dead(self, error: str, now: datetime) -> None:
        await outbox.mark_dead(self.d.db, self.outbound.delivery_ids, error=error)
        o = self.outbound
        await _tell_admins(
            self.d, o.subscriber, o.message_id, self.what, error, now, channel=o.channel
        )

    async def release(self) -> None:
        await outbox.release(self.d.db, self.outbound.delivery_ids, owner=self.owner)


# --- digests -------------------------------------------------------------------------


async def dispatch_digests(
    dispatcher: Dispatcher, mail: Channel, transport: Transport
) -> DispatchReport:
    """Claim and send one batch of produced digests (email only)."""
    d = dispatcher
    policy = d.config.dispatcher
    owner, until, batch = await digests.claim_digests(
        d.db, now=d.clock(), lease=policy.lease, limit=policy.batch
    )
    if not batch:
        return DispatchReport()
    jobs: list[Job] = []
    gone = DispatchReport()
    stopped = await optouts.opted_out(d.db, {g.subscriber for g in batch})
    for digest in map(_graded_digest, batch):
        record = _DigestRecord(d, digest, owner)
        if digest.subscriber in stopped:
            await digests.mark_digest(d.db, digest.digest_id, status=outbox.CANCELLED)
            log.info("digest_cancelled", subscriber=digest.subscriber, reason="unsubscribed")
            continue
        subscriber = d.config.subscriber(digest.subscriber)
        if subscriber is None:
            gone += await _not_subscribed(d, record, digest.subscriber, digest.period_end)
            continue
        jobs.append(_digest_job(d, digest, subscriber, record))
    return gone + await send_jobs(
        policy,
        transport,
        jobs,
        lease_until=until,
        clock=d.clock,
        pacer=d.pacer,
        send_timeout=mail.send_timeout,
    )


def _digest_job(
    d: Dispatcher, digest: DigestOutbound, subscriber: Subscriber, record: _DigestRecord
) -> Job:
    async def build(now: datetime) -> object:
        from watcher.notify.channels.mail.digest import render_digest

        return render_digest(digest, d.config, subscriber, now)

    return Job(
        message_id=digest.message_id,
        recipient=digest.subscriber,
        attempts=digest.attempts,
        what=record.what,
        build=build,
        record=record,
    )


@dataclass(frozen=True, slots=True)
class _DigestRecord:
    """Outcomes of one digest, written to it and (when final) to its deliveries."""

    d: Dispatcher
    digest: DigestOutbound
    owner: str

    @property
    def what(self) -> str:
        entries, end = len(self.digest.entries), self.digest.period_end
        return f"digest of {entries} signals up to {end:%Y-%m-%d %H:%M}Z"

    async def sent(self, reply: str, now: datetime) -> None:
        await digests.mark_digest(
            self.d.db, self.digest.digest_id, status=SENT, now=now, reply=reply
        )

    async def retry(self, error: str, at: datetime) -> None:
        await digests.mark_digest(
            self.d.db, self.digest.digest_id, status=PENDING, error=error, retry_at=at
        )

    async def wait(self, reason: str, at: datetime) -> None:
        await digests.mark_digest(
            self.d.db, self.digest.digest_id, status=PENDING, error=reason, retry_at=at
        )

    async def dead(self, error: str, now: datetime) -> None:
        g = self.digest
        await digests.mark_digest(self.d.db, g.digest_id, status=DEAD, error=error)
        await _tell_admins(self.d, g.subscriber, g.message_id, self.what, error, now)

    async def release(self) -> None:
        await digests.release_digests(self.d.db, [self.digest.digest_id], owner=self.owner)


# --- admin notices -------------------------------------------------------------------


async def dispatch_notices(
    dispatcher: Dispatcher, mail: Channel, transport: Transport
) -> DispatchReport:
    """Claim and send one batch of due admin notices (email, to every admin).

    Without admins a notice is closed as sent to nobody. A notice that cannot be
    delivered becomes a dead letter like any email, but tells nobody (it was for the
    admins).
    """
    d = dispatcher
    policy = d.config.dispatcher
    owner, until, due = await notices.claim_notices(
        d.db, now=d.clock(), lease=policy.lease, limit=policy.batch
    )
    if not due:
        return DispatchReport()
    if not d.config.admins:
        for notice in due:
            await notices.mark_notice(
                d.db, notice.id, status=SENT, now=d.clock(), error="no admins"
            )
            log.warning("admin_notice_unsent", key=notice.key, reason="no admins configured")
        return DispatchReport()
    jobs = [
        Job(
            message_id=notice.message_id,
            recipient="admins",
            attempts=notice.attempts,
            what=f"admin notice {notice.key}",
            build=_notice_builder(d, notice),
            record=_NoticeRecord(d, ids, owner),
        )
        for notice, ids in _grouped(due)
    ]
    return await send_jobs(
        policy,
        transport,
        jobs,
        lease_until=until,
        clock=d.clock,
        pacer=d.pacer,
        send_timeout=mail.send_timeout,
    )


def _grouped(due: Sequence[notices.Notice]) -> list[tuple[notices.Notice, tuple[int, ...]]]:
    """Each due notice alone, except those of one cause (`notice_group`): one email for them.

    The merged notice keeps the first one's Message-ID (a resend after a crash regroups
    what is still due) and lists every notice's body.
    """
    groups: dict[str, list[notices.Notice]] = {}
    out: list[tuple[notices.Notice, tuple[int, ...]]] = []
    for notice in due:
        group = notice_group(notice.key)
        if group is None:
            out.append((notice, (notice.id,)))
        else:
            groups.setdefault(group, []).append(notice)
    for group, members in groups.items():
        first = members[0]
        if len(members) == 1:
            out.append((first, (first.id,)))
            continue
        merged = dataclasses.replace(
            first,
            key=group,
            subject=f"{first.subject} ({len(members)} times, one cause)",
            body=f"{len(members)} notices with one cause:\n\n"
            + "\n\n----\n\n".join(m.body for m in members),
            attempts=max(m.attempts for m in members),
        )
        out.append((merged, tuple(m.id for m in members)))
    return out


def _notice_builder(
    d: Dispatcher, notice: notices.Notice
) -> Callable[[datetime], Awaitable[object]]:
    async def build(now: datetime) -> object:
        from watcher.notify.channels.mail.notice import render_notice

        return render_notice(notice, d.config, now)

    return build


@dataclass(frozen=True, slots=True)
class _NoticeRecord:
    """Outcomes of one notice email, written to every notice it carries."""

    d: Dispatcher
    notice_ids: tuple[int, ...]
    owner: str

    async def sent(self, reply: str, now: datetime) -> None:
        for notice_id in self.notice_ids:
            await notices.mark_notice(self.d.db, notice_id, status=SENT, now=now)

    async def retry(self, error: str, at: datetime) -> None:
        for notice_id in self.notice_ids:
            await notices.mark_notice(
                self.d.db, notice_id, status=PENDING, now=at, error=error, retry_at=at
            )

    async def dead(self, error: str, now: datetime) -> None:
        for notice_id in self.notice_ids:
            await notices.mark_notice(self.d.db, notice_id, status=DEAD, now=now, error=error)

    async def release(self) -> None:
        await notices.release_notices(self.d.db, list(self.notice_ids), owner=self.owner)


async def _tell_admins(
    d: Dispatcher,
    subscriber: str,
    message_id: str,
    what: str,
    error: str,
    now: datetime,
    channel: str = EMAIL,
) -> None:
    """A dead letter's notice for the admins, once per message (keyed by its ID).

    The key's cause (channel, address and error) groups the dead letters of one bouncing
    address into one email (`watcher.domain.notices.notice_group`).
    """
    kind = "email" if channel == EMAIL else f"{channel} alert"
    cause = hashlib.sha256(f"{channel}\n{subscriber}\n{error}".encode()).hexdigest()[:16]
    await notify_admins(
        d.db,
        d.config,
        key=f"dead-letter:{cause}{GROUP_MARK}{message_id}",
        subject=f"{kind.capitalize()} to {subscriber} could not be delivered",
        body=(
            f"The {kind} {message_id} to {subscriber} ({what}) is a dead letter."
            f"\n\nReason: {error}\n\n"
            "Fix the cause, then requeue it: `watcher outbox retry --dead`."
        ),
        now=now,
    )
