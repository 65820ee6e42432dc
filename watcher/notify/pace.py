"""A rate limit for the relay: at most N emails per minute, spaced evenly."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class Pacer:
    """`await pacer.wait()` before each send; with no limit it never waits.

    Sends are spaced 60/N seconds apart on a monotonic clock, across batches, so a
    backlog drains at the configured rate instead of in one burst.
    """

    def __init__(
        self,
        per_minute: int | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.interval = 60.0 / per_minute if per_minute else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0

    async def wait(self) -> None:
        """Return when the next send is allowed."""
        if not self.interval:
            return
        now = self._clock()
        if self._next > now:
            await self._sleep(self._next - now)
            now = self._next
        self._next = now + self.interval
