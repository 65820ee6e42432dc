"""Turns at SQLite's one writer: in order of arrival, the outbox's urgent writes first."""

from __future__ import annotations

import asyncio

from watcher.store.turns import Turns


async def _take(turns: Turns, name: str, urgent: bool, order: list[str]) -> None:
    async with turns.turn(urgent):
        order.append(name)
        await asyncio.sleep(0)


async def test_urgent_waiters_go_first_and_each_kind_in_order_of_arrival() -> None:
    """While the lock is held, later urgent waiters overtake earlier ordinary ones."""
    turns = Turns()
    order: list[str] = []
    async with turns.turn():
        tasks = [
            asyncio.create_task(_take(turns, name, bool(urgent), order))
            for name, urgent in [
                ("poll1", False),
                ("mark1", True),
                ("poll2", False),
                ("mark2", True),
            ]
        ]
        await asyncio.sleep(0.01)
        assert order == []  # all wait while the lock is held
    await asyncio.gather(*tasks)
    assert order == ["mark1", "mark2", "poll1", "poll2"]
    assert not turns.locked


async def test_a_cancelled_waiter_gives_up_its_turn_and_the_next_one_gets_the_lock() -> None:
    """Cancelling a waiter neither leaves the lock held nor skips the waiter after it."""
    turns = Turns()
    order: list[str] = []
    async with turns.turn():
        first = asyncio.create_task(_take(turns, "first", False, order))
        second = asyncio.create_task(_take(turns, "second", False, order))
        await asyncio.sleep(0.01)
        first.cancel()
    await asyncio.wait_for(second, 10)
    assert order == ["second"]
    assert first.cancelled()
    assert not turns.locked
