"""Source health for the admins: failing, recovered, silent, page changed — once per episode.

Every notice goes through `notify_admins`, idempotent by key, and each key names its
episode (the source and when the episode began), so a condition that lasts a week is
one email, and the next episode gets its own.

- failing: `polling.alert_after_failures` consecutive failures (key: failing_since);
- recovered: the first success after such an episode (same episode key);
- silent: no new item for longer than the source's `expect_new_within` (key: the time
  of the last new item, or when the source was added);
- page changed: a page source's item selector matched nothing (key: failing_since).
"""

from __future__ import annotations

from datetime import datetime

from watcher.config import Source, WatcherConfig
from watcher.domain.durations import format_duration
from watcher.notify.admin import notify_admins
from watcher.store.db import Database


async def source_failed(
    db: Database,
    config: WatcherConfig,
    source: Source,
    *,
    failures: int,
    failing_since: datetime,
    error: str,
    retry_at: datetime | None,
    now: datetime,
) -> bool:
    """Tell the admins once the failures in a row reach the threshold; True if queued now."""
    if failures < config.polling.alert_after_failures:
        return False
    retry = f"The next try is at {retry_at:%Y-%m-%d %H:%M} UTC. " if retry_at else ""
    return await notify_admins(
        db,
        config,
        key=f"source-failing:{source.name}:{failing_since.isoformat()}",
        subject=f"Source {source.name} is failing ({failures} polls in a row)",
        body=(
            f"The source {source.name!r} has failed {failures} polls in a row since"
            f" {failing_since:%Y-%m-%d %H:%M} UTC.\n\nLast error: {error}\n\n"
            f"{retry}It backs off up to {format_duration(config.polling.backoff_max)} between"
            " tries and keeps trying; you will get one more notice when it recovers."
        ),
        now=now,
    )


async def source_recovered(
    db: Database,
    config: WatcherConfig,
    source: Source,
    *,
    failures: int,
    failing_since: datetime | None,
    now: datetime,
) -> bool:
    """After an episode the admins were told about, tell them it is over."""
    if failing_since is None or failures < config.polling.alert_after_failures:
        return False
    return await notify_admins(
        db,
        config,
        key=f"source-recovered:{source.name}:{failing_since.isoformat()}",
        subject=f"Source {source.name} has recovered",
        body=(
            f"The source {source.name!r} answered again at {now:%Y-%m-%d %H:%M} UTC after"
            f" {failures} failed polls since {failing_since:%Y-%m-%d %H:%M} UTC."
        ),
        now=now,
    )


async def check_silence(
    db: Database,
    config: WatcherConfig,
    source: Source,
    *,
    last_new_item_at: datetime | None,
    added_at: datetime | None,
    now: datetime,
) -> bool:
    """One notice when the source brought nothing new for longer than `expect_new_within`."""
    limit = source.expect_new_within
    since = last_new_item_at or added_at
    if limit is None or since is None or now - since <= limit:
        return False
    what = "its last new item" if last_new_item_at else "it was added"
    return await notify_admins(
        db,
        config,
        key=f"source-silent:{source.name}:{since.isoformat()}",
        subject=f"Source {source.name} has been silent for {format_duration(now - since)}",
        body=(
            f"The source {source.name!r} answers but has brought no new item since {what}"
            f" ({since:%Y-%m-%d %H:%M} UTC); it is expected to within"
            f" {format_duration(limit)}. Check that the feed or page still carries news."
        ),
        now=now,
    )


async def page_changed(
    db: Database,
    config: WatcherConfig,
    source: Source,
    *,
    error: str,
    failing_since: datetime,
    now: datetime,
) -> bool:
    """A page's item selector matched nothing: the site changed; tell the admins at once."""
    return await notify_admins(
        db,
        config,
        key=f"page-changed:{source.name}:{failing_since.isoformat()}",
        subject=f"Page source {source.name} no longer matches its selectors",
        body=(
            f"{error}\n\nThe site was probably redesigned. Update `select:` for"
            f" {source.name!r} in the configuration; until then the source is retried"
            " with backoff and yields nothing."
        ),
        now=now,
    )
