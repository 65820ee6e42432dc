"""Many small database requests made at the same moment, served by one query each round.

A hundred polls in flight each read their source's row and each write it back. One
query per request costs a pooled connection, a transaction and a few thread hops each
(aiosqlite runs every connection in its own thread), and concurrent SQLite writers queue
for the write lock by sleeping in SQLite's busy handler. A `Coalescer` serves all the
requests that arrived while its previous round ran in the next round, with one call of
its `handle`: the first request of a quiet moment is served at once (a round of one),
and under load the rounds grow by themselves, with no timer and no added delay.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Coalescer(Generic[T, R]):
    """`await submit(request)` returns its result from a round of `handle(requests)`.

    `handle` gets the waiting requests in arrival order and returns one result per
    request, in the same order. If it raises, every request of that round raises the
    same exception. A caller cancelled before its round started withdraws its request;
    once the round has started it runs to its end for everyone (as one transaction that
    was already committing would). Rounds run one at a time per coalescer, in the event
    loop that submitted them.
    """

    def __init__(self, handle: Callable[[list[T]], Awaitable[list[R]]]) -> None:
        self._handle = handle
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._running: asyncio.Task[None] | None = None

    async def submit(self, request: T) -> R:
        """The result of `request`, once a round has handled it."""
        result: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        entry = (request, result)
        self._waiting.append(entry)
        if self._running is None or self._running.done():
            self._running = asyncio.create_task(self._rounds())
        try:
            return await asyncio.shield(result)
        except asyncio.CancelledError:
            if entry in self._waiting:  # its round has not started: withdraw the request
                self._waiting.remove(entry)
            raise

    async def _rounds(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                results = await self._handle([request for request, _ in batch])
                if len(results) != len(batch):
                    raise RuntimeError(f"{len(results)} results for {len(batch)} requests")
            except Exception as exc:
                for _, result in batch:
                    if not result.done():
                        result.set_exception(exc)
                        # marked as seen: a caller that stopped waiting never reads it,
                        # and asyncio would log it as "never retrieved"
                        result.exception()
            except BaseException:
                # the round itself was cancelled (the loop is closing): nobody is served
                for _, result in batch + self._waiting:
                    result.cancel()
                self._waiting = []
                raise
            else:
                for (_, result), value in zip(batch, results, strict=True):
                    if not result.done():
                        result.set_result(value)
