"""Send a claimed batch of emails over one connection and record each outcome.

Alerts and digests share this loop; each `Job` brings how to build its message and a
`Record` that writes the outcome to its own rows. Every outcome is committed right
after the transport answered, so the window in which a kill causes a resend is one
send long, and the resend carries the same Message-ID.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Protocol

import structlog

from watcher.config import DispatcherConfig, Subscriber, WatcherConfig
from watcher.errors import PermanentDeliveryError, TransientDeliveryError
from watcher.notify.admin import notify_admins
from watcher.notify.pace import Pacer
from watcher.notify.transport import Transport
from watcher.store.db import Sessions

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
    build: Callable[[Subscriber, datetime], EmailMessage]
    record: Record


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
    db: Sessions,
    config: WatcherConfig,
    transport: Transport,
    jobs: list[Job],
    *,
    lease_until: datetime,
    clock: Callable[[], datetime],
    pacer: Pacer,
) -> DispatchReport:
    """Send `jobs` over one connection while the lease lasts; unsent jobs are given back."""
    report = DispatchReport()
    # stop early enough that a send never outlives the lease (another replica may take it)
    margin = min(config.smtp.timeout * 2, (lease_until - clock()) / 2)
    pending = list(jobs)
    try:
        async with transport as open_transport:
            while pending and clock() < lease_until - margin:
                job = pending.pop(0)
                bound = log.bind(subscriber=job.subscriber, message_id=job.message_id)
                subscriber = config.subscriber(job.subscriber)
                if subscriber is None:
                    await job.record.dead("the address is no longer a subscriber")
                    bound.warning("alert_dropped", reason="not a subscriber any more")
                    report += DispatchReport(dead=1)
                    continue
                try:
                    message = job.build(subscriber, clock())
                    await pacer.wait()
                    reply = await open_transport.send(message)
                except PermanentDeliveryError as exc:
                    await bury(db, config, job, str(exc), clock())
                    bound.error("email_dead", error=str(exc), what=job.what)
                    report += DispatchReport(dead=1)
                except TransientDeliveryError as exc:
                    report += await _defer(db, config, job, str(exc), clock())
                    bound.warning("email_deferred", error=str(exc), attempt=job.attempts + 1)
                else:
                    await job.record.sent(reply, clock())
                    bound.info("email_sent", what=job.what, reply=reply)
                    report += DispatchReport(sent=1)
    except TransientDeliveryError as exc:
        # the connection itself failed: every email not yet tried waits for a retry
        log.warning("transport_unavailable", error=str(exc), deferred=len(pending))
        for job in pending:
            report += await _defer(db, config, job, str(exc), clock())
        pending = []
    finally:
        for job in pending:
            await job.record.release()
    return report


async def bury(db: Sessions, config: WatcherConfig, job: Job, error: str, now: datetime) -> None:
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
    db: Sessions, config: WatcherConfig, job: Job, error: str, now: datetime
) -> DispatchReport:
    attempt = job.attempts + 1
    if attempt >= config.dispatcher.max_attempts:
        await bury(db, config, job, f"gave up after {attempt} attempts: {error}", now)
        return DispatchReport(dead=1)
    await job.record.retry(error, now + retry_delay(attempt, config.dispatcher))
    return DispatchReport(retried=1)
