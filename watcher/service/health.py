"""Source health for the admins: failing, recovered, silent, page changed — once per episode.

Pure decisions: each function returns the notices a poll's outcome calls for, and the
poll writes them in the same transaction as its outcome (`watcher.store`). Every notice
is idempotent by key, and each key names its episode (the source and when the episode
began), so a condition that lasts a week is one email, and the next episode gets its own.

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
from watcher.domain.notices import AdminNotice


def after_failure(
    config: WatcherConfig,
    source: Source,
    *,
    failures: int,
    failing_since: datetime,
    error: str,
    retry_at: datetime | None,
    page_changed: bool = False,
) -> list[AdminNotice]:
    """The notices a failed poll calls for (the failures in a row include this one)."""
    notices = [_page_changed(source, error, failing_since)] if page_changed else []
    if failures >= config.polling.alert_after_failures:
        notices.append(_failing(config, source, failures, failing_since, error, retry_at))
    return notices


def after_success(
    config: WatcherConfig,
    source: Source,
    *,
    failures: int,
    failing_since: datetime | None,
    last_new_item_at: datetime | None,
    added_at: datetime,
    now: datetime,
) -> list[AdminNotice]:
    """The notices a successful poll calls for: the end of a failure episode, a silence.

    `failures` and `failing_since` are the source's before this poll; `last_new_item_at`
    counts this poll's new items.
    """
    notices = []
    if failing_since is not None and failures >= config.polling.alert_after_failures:
        notices.append(_recovered(source, failures, failing_since, now))
    silent = _silent(source, last_new_item_at, added_at, now)
    if silent is not None:
        notices.append(silent)
    return notices


def _failing(
    config: WatcherConfig,
    source: Source,
    failures: int,
    failing_since: datetime,
    error: str,
    retry_at: datetime | None,
) -> AdminNotice:
    retry = f"The next try is at {retry_at:%Y-%m-%d %H:%M} UTC. " if retry_at else ""
    return AdminNotice(
        key=f"source-failing:{source.name}:{failing_since.isoformat()}",
        subject=f"Source {source.name} is failing ({failures} polls in a row)",
        body=(
            f"The source {source.name!r} has failed {failures} polls in a row since"
            f" {failing_since:%Y-%m-%d %H:%M} UTC.\n\nLast error: {error}\n\n"
            f"{retry}It backs off up to {format_duration(config.polling.backoff_max)} between"
            " tries and keeps trying; you will get one more notice when it recovers."
        ),
    )


def _recovered(
    source: Source, failures: int, failing_since: datetime, now: datetime
) -> AdminNotice:
    return AdminNotice(
        key=f"source-recovered:{source.name}:{failing_since.isoformat()}",
        subject=f"Source {source.name} has recovered",
        body=(
            f"The source {source.name!r} answered again at {now:%Y-%m-%d %H:%M} UTC after"
            f" {failures} failed polls since {failing_since:%Y-%m-%d %H:%M} UTC."
        ),
    )


def _silent(
    source: Source, last_new_item_at: datetime | None, added_at: datetime, now: datetime
) -> AdminNotice | None:
    """A notice when the source brought nothing new for longer than `expect_new_within`."""
    limit = source.expect_new_within
    since = last_new_item_at or added_at
    if limit is None or now - since <= limit:
        return None
    what = "its last new item" if last_new_item_at else "it was added"
    return AdminNotice(
        key=f"source-silent:{source.name}:{since.isoformat()}",
        subject=f"Source {source.name} has been silent for {format_duration(now - since)}",
        body=(
            f"The source {source.name!r} answers but has brought no new item since {what}"
            f" ({since:%Y-%m-%d %H:%M} UTC); it is expected to within"
            f" {format_duration(limit)}. Check that the feed or page still carries news."
        ),
    )


def _page_changed(source: Source, error: str, failing_since: datetime) -> AdminNotice:
    """A page's item selector matched nothing: the site changed; tell the admins at once."""
    return AdminNotice(
        key=f"page-changed:{source.name}:{failing_since.isoformat()}",
        subject=f"Page source {source.name} no longer matches its selectors",
        body=(
            f"{error}\n\nThe site was probably redesigned. Update `select:` for"
            f" {source.name!r} in the configuration; until then the source is retried"
            " with backoff and yields nothing."
        ),
    )
