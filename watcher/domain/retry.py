"""The one retry policy: polls, alerts, digests and admin notices back off alike.

After the n-th failure in a row the next try waits `backoff` × 2^(n−1), capped at
`backoff_max`. Senders spread their retries with jitter (× U(0.5, 1), so emails that
failed together do not come back together); polls add none here, their schedule has
its own jitter.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Protocol


class RetryPolicy(Protocol):
    """The two settings of a backoff (a config section that has them)."""

    @property
    def backoff(self) -> timedelta: ...

    @property
    def backoff_max(self) -> timedelta: ...


def retry_delay(policy: RetryPolicy, failures: int, rng: random.Random | None = None) -> timedelta:
    """The wait after `failures` failures in a row; jittered by `rng` when given."""
    exponent = min(max(failures - 1, 0), 40)
    delay = min(policy.backoff * (1 << exponent), policy.backoff_max)
    return delay if rng is None else delay * rng.uniform(0.5, 1.0)
