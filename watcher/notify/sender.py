"""Send a claimed batch of emails over the pass's connections and record each outcome.

Alerts and digests share this loop; each `Job` brings how to build its message and a
`Record` that writes the outcome to its own rows. A failure is committed right after
the transport answered. An email the server accepted is marked sent either at once
(`Record.sent`) or, when the caller gives `mark_sent`, in the background while the
next email goes out: the emails accepted while one mark transaction runs are marked
together in the next (`watcher.concurrency.coalesce`), and the batch ends only when all are
marked. A row is marked sent only after the server accepted its email; a kill in
between leaves it leased, and once the lease expires the email goes out again with
the same Message-ID (the one window SMTP cannot close). The window is the sends in
flight (one per connection) plus at most `UNMARKED_LIMIT` accepted emails waiting for
their mark: a few, not a batch.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Protocol

import structlog

from watcher.concurrency.coalesce import Coalescer
from watcher.config import DispatcherConfig, Subscriber, WatcherConfig
from watcher.domain.errors import (
    PermanentDeliveryError,
    TransientDeliveryError,
    TransportUnavailable,
)
from watcher.notify.admin import notify_admins
from watcher.notify.outgoing import Outgoing
from watcher.notify.pace import Pacer
from watcher.notify.transport import SharedTransport, Transport
from watcher.store.db import Database

log = structlog.get_logger("watcher.dispatch")


class Record(Protocol):
    """Writes one email's outcome to the rows it was built from (and drops their lease)."""

    async def sent(self, reply: str, now: datetime) -> None: ...
    async def retry(self, error: str, at: datetime) -> None: ...
    async def dead(self, error: str) -> None: ...
    async def release(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Job:
    """One claimed email: who gets it, how to build it, where its outcome goes."""

    message_id: str
    subscriber: str
    attempts: int
    what: str
    build: Callable[[Subscriber, datetime], Awaitable[EmailMessage | Outgoing]]
    record: Record


@dataclass(frozen=True, slots=True)
class Accepted:
    """An email the server accepted, not yet marked sent."""

    job: Job
    reply: str
    at: datetime


MarkSent = Callable[[Sequence[Accepted]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class DispatchReport:
    """What one dispatcher run did, in emails (not deliveries)."""

    sent: int = 0
    retried: int = 0
    dead: int = 0

    @property
    def failed(self) -> int:
        """Emails not sent in this run."""
        return self.retried + self.dead

    def __add__(self, other: DispatchReport) -> DispatchReport:
        return DispatchReport(
            self.sent + other.sent, self.retried + other.retried, self.dead + other.dead
        )


def retry_delay(
    attempt: int, policy: DispatcherConfig, rng: random.Random | None = None
) -> timedelta:
    """Exponential backoff with jitter: base × 2^(attempt-1), capped, × U(0.5, 1)."""
    rng = rng or random.Random()
    base = policy.backoff.total_seconds() * (2 ** min(max(attempt - 1, 0), 30))
    capped = min(base, policy.backoff_max.total_seconds())
    return timedelta(seconds=capped * rng.uniform(0.5, 1.0))


async def send_jobs(
    db: Database,
    config: WatcherConfig,
    transport: Transport,
    jobs: list[Job],
    *,
    lease_until: datetime,
    clock: Callable[[], datetime],
    pacer: Pacer,
    mark_sent: MarkSent | None = None,
) -> DispatchReport:
    """Send `jobs` while the lease lasts; unsent jobs are given back.

    Over a `SharedTransport`, as many emails go out at once as it has connections
    (each connection sends one after another; the next job goes to the first one
    free), else one after another over `transport`'s one connection. Accepted emails
    are marked by `mark_sent` in groups (see the module docstring), or one by one with
    `Record.sent` without it. If the transport cannot open a session, every job not yet
    tried is deferred for a retry.
    """
    # stop early enough that a send never outlives the lease (another replica may take it)
    margin = min(config.smtp.timeout * 2, (lease_until - clock()) / 2)
    pending = deque(jobs)
    marks = Marks(mark_sent)
    # every lane adds each outcome here as it happens: a lane that stops on a dead relay
    # keeps what it counted, and so do the lanes still running beside it
    report = DispatchReport()

    async def lane(open_transport: Transport) -> None:
        nonlocal report
        while pending and clock() < lease_until - margin:
            job = pending.popleft()
            try:
                outcome = await _send_one(db, config, open_transport, job, clock, pacer, marks)
            except TransportUnavailable:
                pending.appendleft(job)  # not tried: it waits for a retry with the rest
                raise
            report += outcome  # after the await: `report +=` would read it before

    try:
        async with transport as open_transport:
            lanes = [lane(open_transport) for _ in range(_lanes(transport, len(pending)))]
            failures = [
                outcome
                for outcome in await asyncio.gather(*lanes, return_exceptions=True)
                if isinstance(outcome, BaseException)
            ]
            if failures:
                raise failures[0]
    except TransientDeliveryError as exc:
        # the connection itself failed: every email not yet tried waits for a retry
        log.warning("transport_unavailable", error=str(exc), deferred=len(pending))
        while pending:
            report += await _defer(db, config, pending.popleft(), str(exc), clock())
    finally:
        # accepted emails are marked even when the batch ends by an error or a cancel
        await asyncio.shield(marks.flush())
        for job in pending:
            await job.record.release()
    return report


def _lanes(transport: Transport, jobs: int) -> int:
    """How many emails go out at once: the shared transport's connections (at most `jobs`)."""
    connections = transport.connections if isinstance(transport, SharedTransport) else 1
    return max(1, min(connections, jobs))


async def _send_one(
    db: Database,
    config: WatcherConfig,
    transport: Transport,
    job: Job,
    clock: Callable[[], datetime],
    pacer: Pacer,
    marks: Marks,
) -> DispatchReport:
    """Build and send one email and record its outcome.

    Raises `TransportUnavailable` when no connection could be opened: the email was
    not tried, and the caller gives it back.
    """
    bound = log.bind(subscriber=job.subscriber, message_id=job.message_id)
    subscriber = config.subscriber(job.subscriber)
    if subscriber is None:
        await job.record.dead("the address is no longer a subscriber")
        bound.warning("alert_dropped", reason="not a subscriber any more")
        return DispatchReport(dead=1)
    try:
        message = await job.build(subscriber, clock())
        await pacer.wait()
        reply = await transport.send(message)
    except TransportUnavailable:
        raise
    except PermanentDeliveryError as exc:
        await bury(db, config, job, str(exc), clock())
        bound.error("email_dead", error=str(exc), what=job.what)
        return DispatchReport(dead=1)
    except TransientDeliveryError as exc:
        bound.warning("email_deferred", error=str(exc), attempt=job.attempts + 1)
        return await _defer(db, config, job, str(exc), clock())
    await marks.add(Accepted(job, reply, clock()))
    bound.info("email_sent", what=job.what, reply=reply)
    return DispatchReport(sent=1)


UNMARKED_LIMIT = 10  # accepted emails whose "sent" mark may still be on its way


class Marks:
    """Accepted emails being marked sent: in the background by `mark_sent`, else one by one.

    At most `UNMARKED_LIMIT` accepted emails wait for their mark at any time: the next
    send waits for the oldest marks when the database is slow. A crash resends at most
    that many emails (with their Message-IDs), however slow the marks are.
    """

    def __init__(self, mark_sent: MarkSent | None, limit: int = UNMARKED_LIMIT) -> None:
        self._mark_sent = mark_sent
        self._limit = limit
        self._rounds: Coalescer[Accepted, None] = Coalescer(self._mark)
        self._marking: list[asyncio.Future[None]] = []

    async def add(self, accepted: Accepted) -> None:
        """Mark `accepted` now (without `mark_sent`), or start marking it in the background.

        Returns once no more than the limit of accepted emails are unmarked. Raises the
        error of an earlier background mark, if one failed.
        """
        if self._mark_sent is None:
            await accepted.job.record.sent(accepted.reply, accepted.at)
            return
        self._marking.append(asyncio.ensure_future(self._rounds.submit(accepted)))
        waiting = [m for m in self._marking if not m.done()]
        if len(waiting) > self._limit:
            await asyncio.wait(waiting[: len(waiting) - self._limit])
        for done in [m for m in self._marking if m.done()]:
            self._marking.remove(done)
            done.result()

    @property
    def unmarked(self) -> int:
        """Accepted emails whose mark has not been committed yet."""
        return sum(1 for m in self._marking if not m.done())

    async def flush(self) -> None:
        """Wait until every accepted email is marked; raise the first failed mark's error."""
        marking, self._marking = self._marking, []
        for outcome in await asyncio.gather(*marking, return_exceptions=True):
            if isinstance(outcome, BaseException):
                raise outcome

    async def _mark(self, accepted: list[Accepted]) -> list[None]:
        assert self._mark_sent is not None
        await self._mark_sent(accepted)
        return [None] * len(accepted)


async def bury(db: Database, config: WatcherConfig, job: Job, error: str, now: datetime) -> None:
    """Make the email a dead letter and tell the admins once (keyed by its Message-ID)."""
    await job.record.dead(error)
    await notify_admins(
        db,
        config,
        key=f"dead-letter:{job.message_id}",
        subject=f"Email to {job.subscriber} could not be delivered",
        body=(
            f"The email {job.message_id} to {job.subscriber} ({job.what}) is a dead letter."
            f"\n\nReason: {error}\n\n"
            "Fix the cause, then requeue it: `watcher outbox retry --dead`."
        ),
        now=now,
    )


async def _defer(
    db: Database, config: WatcherConfig, job: Job, error: str, now: datetime
) -> DispatchReport:
    attempt = job.attempts + 1
    if attempt >= config.dispatcher.max_attempts:
        await bury(db, config, job, f"gave up after {attempt} attempts: {error}", now)
        return DispatchReport(dead=1)
    await job.record.retry(error, now + retry_delay(attempt, config.dispatcher))
    return DispatchReport(retried=1)
