"""The outbox dispatcher for immediate alerts: claim due emails, send them, record outcomes.

A run claims a batch under a lease (`outbox.claim_outbound`), sends it over one
connection at the configured rate (`sender.send_jobs`), records each failure as soon
as the transport answered and marks accepted emails' deliveries sent in the background
while the next email goes out, those accepted meanwhile together in one transaction
(`outbox.mark_sent_many`). A crash between send and mark
leaves the rows leased; once the lease expires they are due again and the alert goes
out again with the same Message-ID — the one window SMTP cannot close.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from watcher.config import WatcherConfig
from watcher.items import Outbound
from watcher.notify.pace import Pacer
from watcher.notify.render import render_alert_mail
from watcher.notify.sender import Accepted, DispatchReport, Job, send_jobs
from watcher.notify.transport import Transport
from watcher.store import outbox
from watcher.store.db import Sessions

__all__ = ["DispatchReport", "dispatch_due"]


@dataclass(frozen=True, slots=True)
class _Deliveries:
    """Outcomes of one alert email, written to its delivery rows."""

    db: Sessions
    ids: Sequence[int]
    owner: str

    async def sent(self, reply: str, now: datetime) -> None:
        await outbox.mark_sent(self.db, self.ids, reply=reply, now=now)

    async def retry(self, error: str, at: datetime) -> None:
        await outbox.mark_retry(self.db, self.ids, error=error, at=at)

    async def dead(self, error: str) -> None:
        await outbox.mark_dead(self.db, self.ids, error=error)

    async def release(self) -> None:
        await outbox.release(self.db, self.ids, owner=self.owner)


async def dispatch_due(
    db: Sessions,
    config: WatcherConfig,
    transport: Transport,
    clock: Callable[[], datetime],
    pacer: Pacer | None = None,
) -> DispatchReport:
    """Claim and send one batch of due alerts (one connection); report what happened."""
    policy = config.dispatcher
    batch = await outbox.claim_outbound(db, now=clock(), lease=policy.lease, limit=policy.batch)
    if not batch.emails:
        return DispatchReport()
    jobs = [_job(db, config, outbound, batch.owner) for outbound in batch.emails]
    deliveries = {outbound.message_id: outbound.delivery_ids for outbound in batch.emails}

    async def mark_sent(accepted: Sequence[Accepted]) -> None:
        await outbox.mark_sent_many(
            db, [(deliveries[a.job.message_id], a.reply, a.at) for a in accepted]
        )

    return await send_jobs(
        db,
        config,
        transport,
        jobs,
        lease_until=batch.until,
        clock=clock,
        pacer=pacer or Pacer(policy.rate_per_minute),
        mark_sent=mark_sent,
    )


def _job(db: Sessions, config: WatcherConfig, outbound: Outbound, owner: str) -> Job:
    signals = ", ".join(s.type for s in outbound.signals)
    return Job(
        message_id=outbound.message_id,
        subscriber=outbound.subscriber,
        attempts=outbound.attempts,
        what=f"alert {signals}: {outbound.item.title[:120]!r}",
        build=lambda subscriber, now: render_alert_mail(outbound, config, subscriber, now),
        record=_Deliveries(db, outbound.delivery_ids, owner),
    )
