"""When a source is polled next: its schedule, the server's hints, and failure backoff.

Pure functions of the source's schedule, the outcome of a poll and the clock; the result is
written to the source's row (`next_poll_at`, `backoff_until`) and the scheduler only
ever asks the row whether a source is due, so the plan survives restarts and can be
shared by replicas.

- success: the next slot of `every` or `cron` (in the source's time zone) plus a random
  jitter, but never sooner than the server asked (`Cache-Control: max-age`, RSS `ttl`),
  a hint capped at `polling.max_hint` so a silly value cannot silence a source;
- failure: the shared retry policy (`watcher.domain.retry`: `polling.backoff` doubled per
  consecutive failure up to `polling.backoff_max`), and no sooner than a 429/503
  `Retry-After` (also capped). A source is never given up:
  at the cap it is still tried every `backoff_max`, and one success resets it.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from cronsim import CronSim

from watcher.domain.retry import RetryPolicy, retry_delay

_random = random.SystemRandom()


class Schedule(Protocol):
    """A source's poll schedule: `every` or a `cron` line in `timezone`, plus jitter."""

    @property
    def every(self) -> timedelta: ...

    @property
    def cron(self) -> str | None: ...

    @property
    def timezone(self) -> str: ...

    @property
    def jitter(self) -> timedelta: ...


class PollPolicy(RetryPolicy, Protocol):
    """The polling settings: the retry policy and the cap on a server's hints."""

    @property
    def max_hint(self) -> timedelta: ...


def schedule_key(source: Schedule) -> str:
    """A fingerprint of the source's schedule; when it changes the row is re-planned."""
    if source.cron:
        return f"cron={source.cron} tz={source.timezone} jitter={source.jitter}"
    return f"every={source.every} jitter={source.jitter}"


def next_slot(source: Schedule, now: datetime, rng: random.Random = _random) -> datetime:
    """The source's next regular poll after `now` (aware UTC), jitter added."""
    jitter = timedelta(seconds=rng.uniform(0, source.jitter.total_seconds()))
    if source.cron:
        zone = ZoneInfo(source.timezone)
        local = now.astimezone(zone)
        slot = next(iter(CronSim(source.cron, local)))
        return slot.astimezone(now.tzinfo) + jitter
    return now + source.every + jitter


def after_success(
    source: Schedule,
    polling: PollPolicy,
    now: datetime,
    hint: timedelta | None = None,
    rng: random.Random = _random,
) -> datetime:
    """`next_poll_at` after a poll that worked: the next slot, not before the server's hint."""
    slot = next_slot(source, now, rng)
    if hint is None:
        return slot
    return max(slot, now + min(hint, polling.max_hint))


def backoff_delay(polling: PollPolicy, failures: int) -> timedelta:
    """`backoff` × 2^(failures−1), capped at `backoff_max` (`watcher.domain.retry`)."""
    return retry_delay(polling, failures)


def after_failure(
    polling: PollPolicy, now: datetime, failures: int, retry_after: timedelta | None = None
) -> datetime:
    """`next_poll_at` (= `backoff_until`) after the `failures`-th failure in a row."""
    delay = backoff_delay(polling, failures)
    if retry_after is not None:
        delay = max(delay, min(retry_after, polling.max_hint))
    return now + delay
