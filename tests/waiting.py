"""Waiting on what a test needs, not on a wall-clock budget a loaded machine may miss.

`wait_while_progressing` waits until `done()` holds and gives up only when nothing has
moved for `stall` seconds: a slow machine that is still working gets all the time it
needs, a stuck one fails with `what` after `stall`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable


def wait_while_progressing(
    done: Callable[[], bool],
    progress: Callable[[], Hashable],
    *,
    stall: float,
    what: str,
    check: Callable[[], None] | None = None,
    poll: float = 0.25,
) -> None:
    """Return once `done()`; raise AssertionError when `progress()` stays put for `stall` s.

    `check` runs on every round (e.g. to fail at once when a process it needs died).
    """
    last = progress()
    moved = time.monotonic()
    while not done():
        if check is not None:
            check()
        now = progress()
        if now != last:
            last, moved = now, time.monotonic()
        elif time.monotonic() - moved > stall:
            raise AssertionError(f"{what}: no progress for {stall:.0f} s (last: {last!r})")
        time.sleep(poll)
