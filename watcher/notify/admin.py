"""Operational notices for the admins: queued once per key, sent by the dispatcher.

Admins get notices only (a source failing or recovered, a dead letter, a broken
config); subscribers never do, and admins never get market alerts through this path.
The dispatcher sends them by email (`watcher.notify.dispatch.dispatch_notices`).
"""

from __future__ import annotations

from datetime import datetime

import structlog

from watcher.config import WatcherConfig
from watcher.store import notices
from watcher.store.db import Database

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
