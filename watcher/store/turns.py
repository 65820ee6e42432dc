"""Turns at SQLite's one writer: first come, first served, the outbox's short writes first.

A hundred polls may be queued to write when the dispatcher wants to claim a batch or
mark a sent email. Those writes take a millisecond each, and an email waits for them
(at most ten accepted emails may wait for their mark): queued behind every poll's
transaction, the alerts of a busy round would go out only after its last poll. `Turns`
serves urgent waiters before the others, each kind in order of arrival.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class Turns:
    """An asyncio lock whose urgent waiters go first (each kind first come, first served)."""

    def __init__(self) -> None:
        self._held = False
        self._waiting: dict[bool, dict[int, asyncio.Future[None]]] = {True: {}, False: {}}
        self._tickets = itertools.count()

    @asynccontextmanager
    async def turn(self, urgent: bool = False) -> AsyncIterator[None]:
        """Hold the lock for the block, once every earlier waiter (urgent ones first) had it."""
        await self._acquire(urgent)
        try:
            yield
        finally:
            self._release()

    @property
    def locked(self) -> bool:
        """True while someone holds the lock."""
        return self._held

    async def _acquire(self, urgent: bool) -> None:
        if not self._held and not any(self._waiting.values()):
            self._held = True
            return
        ticket = next(self._tickets)
        waiter = asyncio.get_running_loop().create_future()
        self._waiting[urgent][ticket] = waiter
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # handed the lock while being cancelled: pass it on
            raise
        finally:
            self._waiting[urgent].pop(ticket, None)

    def _release(self) -> None:
        for urgent in (True, False):
            queue = self._waiting[urgent]  # in order of arrival
            while queue:
                waiter = queue.pop(next(iter(queue)))
                if not waiter.done():  # a cancelled waiter is passed over
                    waiter.set_result(None)  # the lock passes straight to this waiter
                    return
        self._held = False
