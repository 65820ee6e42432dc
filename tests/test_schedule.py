"""When a source is due next: schedules, jitter, server hints and backoff (pure)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from watcher.config import FeedSource, PollingConfig
from watcher.domain.polling import after_failure, after_success, backoff_delay, next_slot

NOW = datetime(2026, 11, 26, 23, 30, tzinfo=UTC)  # Friday 07:30 in Shanghai
POLLING = PollingConfig()


def _source(**fields: object) -> FeedSource:
    return FeedSource.model_validate(
        {"name": "s", "kind": "feed", "url": "https://x.example/", **fields}
    )


def test_cron_runs_in_the_sources_time_zone() -> None:
    """`0 8 * * 1-5` in Asia/Shanghai is 00:00 UTC the next day; jitter 0 keeps it exact."""
    source = _source(cron="0 8 * * 1-5", timezone="Asia/Shanghai", jitter=0)
    assert next_slot(source, NOW) == datetime(2026, 11, 27, 0, 0, tzinfo=UTC)
    saturday = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
    assert next_slot(source, saturday) == datetime(2026, 11, 30, 0, 0, tzinfo=UTC)


def test_every_adds_a_bounded_random_jitter() -> None:
    """`every: 15m, jitter: 1m`: the next poll is 15–16 minutes away."""
    source = _source(every="15m", jitter="1m")
    rng = random.Random(7)
    for _ in range(50):
        delay = next_slot(source, NOW, rng) - NOW
        assert timedelta(minutes=15) <= delay <= timedelta(minutes=16)


def test_server_hints_are_a_capped_lower_bound() -> None:
    """ttl / max-age longer than the interval delay the poll, but never past `max_hint`."""
    source = _source(every="15m", jitter=0)
    assert after_success(source, POLLING, NOW, timedelta(minutes=5)) == NOW + timedelta(minutes=15)
    assert after_success(source, POLLING, NOW, timedelta(hours=2)) == NOW + timedelta(hours=2)
    assert after_success(source, POLLING, NOW, timedelta(days=30)) == NOW + timedelta(hours=24)


def test_backoff_doubles_to_the_cap_and_never_stops() -> None:
    """1m, 2m, 4m … capped at 6h, even after a thousand failures."""
    delays = [backoff_delay(POLLING, n) for n in (1, 2, 3, 10, 1000)]
    assert delays[:3] == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert delays[3:] == [timedelta(hours=6), timedelta(hours=6)]


def test_retry_after_is_honoured_up_to_the_hint_cap() -> None:
    """Retry-After beyond the backoff wins; an absurd one is capped at `max_hint`."""
    assert after_failure(POLLING, NOW, 1, timedelta(minutes=30)) == NOW + timedelta(minutes=30)
    assert after_failure(POLLING, NOW, 1, timedelta(days=9)) == NOW + timedelta(hours=24)
    assert after_failure(POLLING, NOW, 1, timedelta(seconds=5)) == NOW + timedelta(minutes=1)
