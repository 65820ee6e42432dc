"""Digests: produce one per subscriber and period, then send them like alerts.

The scheduler (in `service.py`) decides *when* a period ends; this module only needs
the end time. Producing is idempotent (unique key per subscriber and period), so the
cron job, a catch-up at start-up and `watcher run --once` may all ask for the same
period and only one digest results.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage

import structlog

from watcher.config import WatcherConfig
from watcher.domain.items import DigestOutbound
from watcher.notify.digest_mail import render_digest
from watcher.notify.pace import Pacer
from watcher.notify.sender import DispatchReport, Job, send_jobs
from watcher.notify.transport import Transport
from watcher.store import digests
from watcher.store.db import Database
from watcher.store.outbox import DEAD, PENDING, SENT

log = structlog.get_logger("watcher.digest")


async def produce_digests(
    db: Database, config: WatcherConfig, periods: Mapping[str, datetime], now: datetime
) -> int:
    """Produce each subscriber's digest for the period ending at `periods[address]`.

    Returns how many digests this call produced (existing ones are left alone).
    """
    produced = 0
    for address, period_end in periods.items():
        subscriber = config.subscriber(address)
        if subscriber is None or subscriber.mode != "digest":
            continue
        entries = await digests.produce_digest(
            db,
            subscriber=address,
            period_end=period_end,
            domain=config.mail.domain,
            now=now,
            keep_empty=subscriber.send_empty_digest,
        )
        if entries is not None:
            produced += 1
            log.info(
                "digest_produced",
                subscriber=address,
                period=digests.period_key(period_end),
                entries=entries,
                sent=bool(entries or subscriber.send_empty_digest),
            )
    return produced


@dataclass(frozen=True, slots=True)
class _DigestRecord:
    db: Database
    digest_id: int
    owner: str

    async def sent(self, reply: str, now: datetime) -> None:
        await digests.mark_digest(self.db, self.digest_id, status=SENT, now=now, reply=reply)

    async def retry(self, error: str, at: datetime) -> None:
        await digests.mark_digest(self.db, self.digest_id, status=PENDING, error=error, retry_at=at)

    async def dead(self, error: str) -> None:
        await digests.mark_digest(self.db, self.digest_id, status=DEAD, error=error)

    async def release(self) -> None:
        await digests.release_digests(self.db, [self.digest_id], owner=self.owner)


async def dispatch_digests(
    db: Database,
    config: WatcherConfig,
    transport: Transport,
    clock: Callable[[], datetime],
    pacer: Pacer | None = None,
) -> DispatchReport:
    """Claim and send one batch of produced digests over `transport`."""
    policy = config.dispatcher
    owner, until, batch = await digests.claim_digests(
        db, now=clock(), lease=policy.lease, limit=policy.batch
    )
    if not batch:
        return DispatchReport()
    jobs = [_job(db, config, digest, owner) for digest in batch]
    return await send_jobs(
        db,
        config,
        transport,
        jobs,
        lease_until=until,
        clock=clock,
        pacer=pacer or Pacer(policy.rate_per_minute),
    )


def _job(db: Database, config: WatcherConfig, digest: DigestOutbound, owner: str) -> Job:
    return Job(
        message_id=digest.message_id,
        subscriber=digest.subscriber,
        attempts=digest.attempts,
        what=f"digest of {len(digest.entries)} signals up to {digest.period_end:%Y-%m-%d %H:%M}Z",
        build=lambda subscriber, now: _rendered(render_digest(digest, config, subscriber, now)),
        record=_DigestRecord(db, digest.digest_id, owner),
    )


async def _rendered(message: EmailMessage) -> EmailMessage:
    """A digest rendered here, as the awaitable a `Job` builds."""
    return message
