"""Digests: produce one per subscriber and period; the dispatcher sends them like alerts.

The service's scheduler decides *when* a period ends; this module only needs the end
time. Producing is idempotent (unique key per subscriber and period), so the
cron job, a catch-up at start-up and `watcher run --once` may all ask for the same
period and only one digest results.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import structlog

from watcher.config import WatcherConfig
from watcher.store import digests
from watcher.store.db import Database

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
