"""Operational notices for the admins: queue one (idempotent by key), render and send them.

Admins get notices only (a source failing or recovered, a dead letter, a broken
config); subscribers never do, and admins never get market alerts through this path.
"""

from __future__ import annotations

import email.policy
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

import structlog

from watcher.config import WatcherConfig
from watcher.domain.errors import (
    PermanentDeliveryError,
    TransientDeliveryError,
    TransportUnavailable,
)
from watcher.notify.headers import clean_title
from watcher.notify.transport import Transport
from watcher.store import notices
from watcher.store.db import Database
from watcher.store.outbox import DEAD, PENDING, SENT

log = structlog.get_logger("watcher.admin")


async def notify_admins(
    db: Database, config: WatcherConfig, *, key: str, subject: str, body: str, now: datetime
) -> bool:
    """Queue a notice for the admins unless `key` was queued before; True if queued now."""
    queued = await notices.queue_notice(
        db, key=key, subject=subject, body=body, domain=config.mail.domain, now=now
    )
    if queued:
        log.info("admin_notice_queued", key=key, subject=subject)
    return queued


def render_notice(notice: notices.Notice, config: WatcherConfig, now: datetime) -> EmailMessage:
    """A plain-text email to every admin."""
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = config.mail.sender
    message["To"] = ", ".join(config.admins)
    message["Subject"] = "[Supply Watcher ops] " + clean_title(notice.subject)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = notice.message_id
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(
        f"{notice.body}\n\n--\nOperational notice from Supply Watcher (key {notice.key}).\n"
    )
    return message


async def send_notices(
    db: Database, config: WatcherConfig, transport: Transport, now: datetime
) -> int:
    """Send due notices; without admins they are closed as sent to nobody. Returns sent count."""
    due = await notices.claim_notices(
        db, now=now, lease=config.dispatcher.lease, limit=config.dispatcher.batch
    )
    if not due:
        return 0
    if not config.admins:
        for notice in due:
            await notices.mark_notice(db, notice.id, status=SENT, now=now, error="no admins")
            log.warning("admin_notice_unsent", key=notice.key, reason="no admins configured")
        return 0
    sent = 0
    pending = list(due)
    try:
        async with transport as open_transport:
            while pending:
                notice = pending.pop(0)
                try:
                    await open_transport.send(render_notice(notice, config, now))
                except TransportUnavailable:
                    pending.insert(0, notice)  # not tried: deferred with the rest below
                    raise
                except PermanentDeliveryError as exc:
                    await notices.mark_notice(db, notice.id, status=DEAD, now=now, error=str(exc))
                except TransientDeliveryError as exc:
                    await _defer(db, config, notice, str(exc), now)
                else:
                    await notices.mark_notice(db, notice.id, status=SENT, now=now)
                    sent += 1
    except TransientDeliveryError as exc:
        # the relay is unreachable: every notice not yet tried waits for a retry
        for notice in pending:
            await _defer(db, config, notice, str(exc), now)
        raise
    return sent


async def _defer(
    db: Database, config: WatcherConfig, notice: notices.Notice, error: str, now: datetime
) -> None:
    retry = now + config.dispatcher.backoff * (2 ** min(notice.attempts, 10))
    await notices.mark_notice(
        db,
        notice.id,
        status=PENDING,
        now=now,
        error=error,
        retry_at=min(retry, now + config.dispatcher.backoff_max),
    )
