"""A clock the test moves by hand (the only thing the delivery tests fake)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    """Callable like `Runtime.clock`; starts at the real now, moves only on `advance`."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward by `delta`."""
        self.now += delta
