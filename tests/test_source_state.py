"""Source rows between polls on both engines, and the coalescing of concurrent reads/writes."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from watcher.concurrency.coalesce import Coalescer
from watcher.config import WatcherConfig
from watcher.service.runtime import Runtime
from watcher.sources.result import Validators
from watcher.store.db import Database, create_engine, prepare_schema
from watcher.store.source_state import (
    SourceState,
    Success,
    load_state,
    load_states,
    record_failure,
    record_success,
)

MakeConfig = Callable[..., WatcherConfig]
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


async def test_a_success_ends_the_failure_episode_and_keeps_or_replaces_validators(
    make_config: MakeConfig, database_url: str
) -> None:
    """A new source gets its row; a success after failures resets them; validators move."""
    config = make_config(database={"url": database_url})
    async with Runtime(config) as rt:
        assert await load_state(rt.db, "wire") == SourceState()
        first = Validators(etag='"v1"', last_modified="Wed, 25 Nov 2026 10:00:00 GMT")
        await record_success(rt.db, Success("wire", "feed", NOW, None, first))
        state = await load_state(rt.db, "wire")
        assert (state.polls, state.validators, state.added_at) == (1, first, NOW)
        assert state.last_success_at == NOW
        assert not state.never_succeeded

        later = NOW + timedelta(hours=1)
        for minute in range(3):
            await record_failure(
                rt.db,
                source="wire",
                kind="feed",
                error="HTTP 500",
                now=later + timedelta(minutes=minute),
                backoff_until=later + timedelta(hours=1),
            )
        failing = await load_state(rt.db, "wire")
        assert (failing.consecutive_failures, failing.failing_since) == (3, later)

        again = later + timedelta(hours=2)
        await record_success(rt.db, Success("wire", "feed", again, again + timedelta(hours=1)))
        state = await load_state(rt.db, "wire")
        assert (state.polls, state.consecutive_failures, state.failing_since) == (5, 0, None)
        assert state.last_success_at == again
        assert state.validators == first  # no validators given: the stored ones stay
        assert state.added_at == NOW

        fresh = Validators(etag='"v2"')
        await record_success(rt.db, Success("wire", "feed", again, None, fresh))
        assert (await load_state(rt.db, "wire")).validators == fresh


async def test_concurrent_polls_share_transactions_and_every_row_is_written(
    make_config: MakeConfig, database_url: str
) -> None:
    """300 sources read and written at once: each row right, reads see committed writes."""
    config = make_config(database={"url": database_url})
    names = [f"src-{n:03d}" for n in range(300)]

    async def poll(name: str, now: datetime) -> SourceState:
        before = await load_state(rt.db, name)
        await record_success(rt.db, Success(name, "feed", now, None, Validators(etag=f'"{name}"')))
        return before

    async with Runtime(config) as rt:
        befores = await asyncio.gather(*(poll(name, NOW) for name in names))
        assert all(b == SourceState() for b in befores)
        later = NOW + timedelta(minutes=5)
        befores = await asyncio.gather(*(poll(name, later) for name in names))
        assert [b.validators.etag for b in befores] == [f'"{name}"' for name in names]
        assert {b.polls for b in befores} == {1}
        states = await load_states(rt.db, [*names, "never-seen"])
    assert states["never-seen"] == SourceState()
    assert {(s.polls, s.last_success_at, s.added_at) for n, s in states.items() if n in names} == {
        (2, later, NOW)
    }


async def test_a_failing_round_raises_in_each_of_its_callers_and_the_next_round_runs() -> None:
    """Requests that arrive while a round runs make the next round; cancelled ones leave."""
    rounds: list[list[int]] = []
    gate = asyncio.Event()

    async def handle(requests: list[int]) -> list[int]:
        rounds.append(requests)
        await gate.wait()
        if 13 in requests:
            raise ValueError("unlucky round")
        return [r * 2 for r in requests]

    coalescer: Coalescer[int, int] = Coalescer(handle)
    first = asyncio.ensure_future(coalescer.submit(1))
    await asyncio.sleep(0)
    later = [asyncio.ensure_future(coalescer.submit(n)) for n in (12, 13)]
    cancelled = asyncio.ensure_future(coalescer.submit(14))
    await asyncio.sleep(0)
    cancelled.cancel()
    gate.set()
    assert await first == 2
    for outcome in await asyncio.gather(*later, return_exceptions=True):
        assert isinstance(outcome, ValueError)
    assert rounds == [[1], [12, 13]]  # 14 was withdrawn before its round began
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert await coalescer.submit(5) == 10  # the coalescer goes on after a failed round


async def test_the_coalescers_do_not_keep_a_database_alive(tmp_path: Path) -> None:
    """Each Runtime's database is freed after use: its own coalescers do not keep it alive."""
    refs = []
    for n in range(3):
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / f'{n}.db'}")
        await prepare_schema(engine)
        db = Database(engine)
        await record_success(db, Success("wire", "feed", NOW, None))
        assert (await load_state(db, "wire")).polls == 1
        refs.append(weakref.ref(db))
        await engine.dispose()
        del db, engine
    gc.collect()
    assert [ref() for ref in refs] == [None, None, None]
