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

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from watcher.concurrency.pool import ParserPool
from watcher.config import Subscriber, WatcherConfig
from watcher.domain.errors import ParseError, TransientDeliveryError
from watcher.domain.items import Outbound
from watcher.notify.outgoing import Outgoing
from watcher.notify.pace import Pacer
from watcher.notify.render import AlertStyle, render_alert_mail
from watcher.notify.sender import Accepted, DispatchReport, Job, send_jobs
from watcher.notify.transport import Transport
from watcher.store import outbox
from watcher.store.db import Database

__all__ = ["DispatchReport", "dispatch_due"]


@dataclass(frozen=True, slots=True)
class _Deliveries:
    """Outcomes of one alert email, written to its delivery rows."""

    db: Database
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
    db: Database,
    config: WatcherConfig,
    transport: Transport,
    clock: Callable[[], datetime],
    pacer: Pacer | None = None,
    *,
    workers: ParserPool | None = None,
) -> DispatchReport:
    """Claim and send one batch of due alerts; report what happened.

    With `workers`, each alert is rendered in a worker process (from an `AlertStyle`)
    while the event loop sends the ones before it; without, on the loop.
    """
    policy = config.dispatcher
    batch = await outbox.claim_outbound(db, now=clock(), lease=policy.lease, limit=policy.batch)
    if not batch.emails:
        return DispatchReport()
    render = _renderer(config, workers)
    jobs = [_job(db, outbound, batch.owner, render) for outbound in batch.emails]
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


Render = Callable[[Outbound, Subscriber, datetime], Awaitable[Outgoing]]


def _renderer(config: WatcherConfig, workers: ParserPool | None) -> Render:
    """How the batch's alerts are rendered: in `workers` if given, else here."""
    if workers is None:

        async def here(outbound: Outbound, subscriber: Subscriber, now: datetime) -> Outgoing:
            return render_alert_mail(outbound, config, subscriber, now)

        return here
    style = AlertStyle.of(config)

    async def there(outbound: Outbound, subscriber: Subscriber, now: datetime) -> Outgoing:
        try:
            return await workers.run(
                outbound.subscriber,
                f"rendering alert {outbound.message_id}",
                render_alert_mail,
                outbound,
                style,
                subscriber,
                now,
            )
        except ParseError as exc:  # the worker overran its deadline or died: try later
            raise TransientDeliveryError(str(exc)) from exc

    return there


def _job(db: Database, outbound: Outbound, owner: str, render: Render) -> Job:
    signals = ", ".join(s.type for s in outbound.signals)
    return Job(
        message_id=outbound.message_id,
        subscriber=outbound.subscriber,
        attempts=outbound.attempts,
        what=f"alert {signals}: {outbound.item.title[:120]!r}",
        build=lambda subscriber, now: render(outbound, subscriber, now),
        record=_Deliveries(db, outbound.delivery_ids, owner),
    )
