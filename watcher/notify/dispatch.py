"""The outbox dispatcher: send due deliveries, record every outcome, never lose one.

Each email's deliveries are marked only after the transport answered, in their own
transaction: a crash between send and mark leaves them due, so the alert is sent again
with the same Message-ID (the one window SMTP cannot close; a resend is recognisable).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from watcher.config import DispatcherConfig, WatcherConfig
from watcher.errors import PermanentDeliveryError, TransientDeliveryError
from watcher.items import Outbound
from watcher.notify.admin import notify_admins
from watcher.notify.render import render_alert
from watcher.notify.transport import Transport
from watcher.store import outbox
from watcher.store.db import Sessions

log = structlog.get_logger("watcher.dispatch")


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


def retry_delay(
    attempt: int, policy: DispatcherConfig, rng: random.Random | None = None
) -> timedelta:
    """Exponential backoff with full jitter: base × 2^(attempt-1), capped, × U(0.5, 1)."""
    rng = rng or random.Random()
    base = policy.backoff.total_seconds() * (2 ** max(attempt - 1, 0))
    capped = min(base, policy.backoff_max.total_seconds())
    return timedelta(seconds=capped * rng.uniform(0.5, 1.0))


async def dispatch_due(
    db: Sessions, config: WatcherConfig, transport: Transport, now: datetime
) -> DispatchReport:
    """Send every due email once through `transport` (one connection for the batch)."""
    batch = await outbox.due_outbound(db, now=now, limit=config.dispatcher.batch)
    if not batch:
        return DispatchReport()
    sent = retried = dead = 0
    try:
        async with transport as open_transport:
            for outbound in batch:
                bound = log.bind(subscriber=outbound.subscriber, message_id=outbound.message_id)
                message = render_alert(outbound, config, now)
                try:
                    reply = await open_transport.send(message)
                except PermanentDeliveryError as exc:
                    await _bury(db, config, outbound, str(exc), now)
                    bound.error("alert_dead", error=str(exc))
                    dead += 1
                except TransientDeliveryError as exc:
                    await _retry(db, config, outbound, str(exc), now)
                    bound.warning("alert_deferred", error=str(exc), attempt=outbound.attempts + 1)
                    retried += 1
                else:
                    await outbox.mark_sent(db, outbound.delivery_ids, reply=reply, now=now)
                    bound.info("alert_sent", signals=[s.type for s in outbound.signals])
                    sent += 1
    except TransientDeliveryError as exc:
        # the connection itself failed: every email not yet handled waits for a retry
        handled = sent + retried + dead
        for outbound in batch[handled:]:
            await _retry(db, config, outbound, str(exc), now)
        retried += len(batch) - handled
        log.warning("transport_unavailable", error=str(exc), deferred=len(batch) - handled)
    return DispatchReport(sent=sent, retried=retried, dead=dead)


async def _retry(
    db: Sessions, config: WatcherConfig, outbound: Outbound, error: str, now: datetime
) -> None:
    attempt = outbound.attempts + 1
    if attempt >= config.dispatcher.max_attempts:
        await _bury(db, config, outbound, f"gave up after {attempt} attempts: {error}", now)
        return
    await outbox.mark_retry(
        db, outbound.delivery_ids, error=error, at=now + retry_delay(attempt, config.dispatcher)
    )


async def _bury(
    db: Sessions, config: WatcherConfig, outbound: Outbound, error: str, now: datetime
) -> None:
    """Make the email's deliveries dead letters and tell the admins once."""
    await outbox.mark_dead(db, outbound.delivery_ids, error=error)
    await notify_admins(
        db,
        config,
        key=f"dead-letter:{outbound.message_id}",
        subject=f"Alert to {outbound.subscriber} could not be delivered",
        body=(
            f"The alert {outbound.message_id} to {outbound.subscriber}"
            f" ({', '.join(s.type for s in outbound.signals)}: {outbound.item.title})"
            f" is a dead letter.\n\nReason: {error}\n\n"
            "Fix the cause, then requeue it (see `watcher outbox`)."
        ),
        now=now,
    )
