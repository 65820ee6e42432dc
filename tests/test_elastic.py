"""Elastic workers: threads first, worker processes only on a backlog or an overrun."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from tests import slowparse
from tests.delivery import BAN, FLOOD, entries, feed_source, feed_xml
from tests.procs import alive, children, descendants
from tests.servers import FeedServer, Route
from watcher.concurrency.elastic import ElasticWorkers
from watcher.config import WatcherConfig
from watcher.domain.errors import ParseError, TaskTimeout, WorkerError
from watcher.service.rounds import run_once
from watcher.service.runtime import Runtime
from watcher.sources.feed import parse_document


async def _until(condition: Callable[[], bool], what: str, within: float = 60) -> None:
    """Wait, at most `within` seconds, until `condition()` holds."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"waited {within}s for {what}"
        await asyncio.sleep(0.02)


def _parse_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("watcher-parse")]


def _raise_parse_error() -> None:
    raise ParseError("wire", "not a feed")


class _Gates:
    """Events that hold a thread of the pool until the test opens them (all, at the end)."""

    def __init__(self) -> None:
        self.events: list[threading.Event] = []

    def hold(self, seconds: float = 60) -> Callable[[], bool]:
        event = threading.Event()
        self.events.append(event)
        return lambda: event.wait(seconds)

    def open_all(self) -> None:
        for event in self.events:
            event.set()


@pytest.fixture
async def gates() -> AsyncIterator[_Gates]:
    held = _Gates()
    yield held
    held.open_all()  # pass or fail, no thread stays blocked


@pytest.fixture
async def stopped() -> AsyncIterator[list[ElasticWorkers]]:
    """Pools the test makes; each is closed, and its threads and workers gone, at the end."""
    pools: list[ElasticWorkers] = []
    before = set(descendants())
    yield pools
    for pool in pools:
        pool.close()
    await _until(lambda: not _parse_threads(), "the parse threads to exit", within=30)
    # the forkserver and resource tracker stay for the process (stdlib); workers do not
    await _until(
        lambda: not [p for p in set(descendants()) - before if _is_worker(p)],
        "the worker processes to exit",
        within=30,
    )


def _is_worker(pid: int) -> bool:
    """A live worker forked by the forkserver (not a child of this process itself)."""
    return alive(pid) and pid not in children(os.getpid())


async def test_small_tasks_never_start_a_process(stopped: list[ElasticWorkers]) -> None:
    """Forty real parses, each far inside the deadline and the backlog: no process starts."""
    pool = ElasticWorkers(2, 2, deadline=60, backlog=60)
    stopped.append(pool)
    before = set(descendants())
    document = feed_xml(entries(BAN, FLOOD))
    results = await asyncio.gather(
        *(pool.run(f"parsing {n}", parse_document, document, "wire") for n in range(40))
    )
    assert all(len(result.items) == 2 for result in results)
    assert not pool.processes_started
    assert set(descendants()) == before  # no forkserver, no worker, no tracker


async def test_a_task_past_its_deadline_is_killed_in_a_process_and_reported(
    stopped: list[ElasticWorkers],
) -> None:
    """Overrun on a thread: re-run in a worker, killed there at the deadline: TaskTimeout."""
    pool = ElasticWorkers(2, 1, deadline=1, backlog=60)
    stopped.append(pool)
    hung, quick = await asyncio.gather(
        pool.run("parsing https://x/feed", slowparse.sleep_then, 4, "late"),
        pool.run("parsing https://y/feed", parse_document, feed_xml(entries(BAN)), "y"),
        return_exceptions=True,
    )
    assert isinstance(hung, TaskTimeout)
    assert str(hung) == "parsing https://x/feed took longer than 1s; abandoned"
    assert not isinstance(quick, BaseException)
    assert len(quick.items) == 1
    assert (pool.moved, pool.restarts) == (1, 1)  # moved off its thread, its worker killed
    assert pool.processes_started


async def test_a_backlog_beyond_parse_backlog_starts_processes(
    stopped: list[ElasticWorkers], gates: _Gates
) -> None:
    """Both threads held: a task waits `backlog`, then runs in a worker process."""
    pool = ElasticWorkers(2, 1, deadline=120, backlog=0.3)
    stopped.append(pool)
    held = [asyncio.ensure_future(pool.run(f"hold {n}", gates.hold())) for n in range(2)]
    await _until(lambda: pool._slots.locked(), "both threads to be taken")
    assert not pool.processes_started
    pid = await pool.run("pid", os.getpid)
    assert pid != os.getpid()
    assert pool.processes_started
    # the processes are up: a task that finds the threads busy goes straight to them
    assert await pool.run("pid", os.getpid) != os.getpid()
    gates.open_all()
    assert await asyncio.gather(*held) == [True, True]
    assert await pool.run("pid", os.getpid) == os.getpid()  # a free thread comes first


async def test_backlog_zero_runs_every_task_in_a_process(stopped: list[ElasticWorkers]) -> None:
    """`parse_backlog: 0s`: the process pool as before, no thread used."""
    pool = ElasticWorkers(2, 1, deadline=30, backlog=0)
    stopped.append(pool)
    assert await pool.run("pid", os.getpid) != os.getpid()
    assert not _parse_threads()


async def test_errors_propagate_a_cancelled_waiter_leaves_no_trace_and_close_refuses(
    stopped: list[ElasticWorkers], gates: _Gates
) -> None:
    """What `fn` raises comes back; a cancelled waiter frees its place; closed refuses."""
    pool = ElasticWorkers(1, 1, deadline=120, backlog=60)
    stopped.append(pool)
    with pytest.raises(ParseError, match="not a feed"):
        await pool.run("parsing", _raise_parse_error)
    held = asyncio.ensure_future(pool.run("hold", gates.hold()))
    await _until(lambda: pool._slots.locked(), "the thread to be taken")
    waiter = asyncio.ensure_future(pool.run("pid", os.getpid))
    await asyncio.sleep(0)  # it is waiting for the thread now
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    gates.open_all()
    assert await held is True
    assert await pool.run("pid", os.getpid) == os.getpid()  # the thread, free again
    assert not pool._slots.locked()
    assert not pool.processes_started
    pool.close()
    with pytest.raises(WorkerError, match="closed"):
        await pool.run("parsing", parse_document, b"", "wire")


async def test_close_stops_threads_and_worker_processes(gates: _Gates) -> None:
    """After `close`, no parse thread and no worker process of the pool is left."""
    pool = ElasticWorkers(1, 2, deadline=120, backlog=0.2)
    try:
        held = asyncio.ensure_future(pool.run("hold", gates.hold()))
        await _until(lambda: pool._slots.locked(), "the thread to be taken")
        pids = set(
            await asyncio.gather(*(pool.run("pid", slowparse.pid_after, 0.3) for _ in range(2)))
        )
        assert os.getpid() not in pids
        assert pids
        gates.open_all()
        await held
    finally:
        pool.close()
        gates.open_all()
    await _until(lambda: not _parse_threads(), "the parse threads to exit", within=30)
    await _until(lambda: not any(alive(p) for p in pids), "the workers to exit", within=30)


async def test_a_default_round_parses_classifies_and_mails_without_a_process(
    feed_server: FeedServer, make_config: Callable[..., WatcherConfig], tmp_path: Path
) -> None:
    """The defaults: a small round's parsing, classifying and rendering start no process."""
    feed_server.routes["/a"] = Route(feed_xml(entries(BAN)))
    feed_server.routes["/b"] = Route(feed_xml(entries(FLOOD)))
    config = make_config(
        sources=[feed_source(feed_server.url("/a"), "a"), feed_source(feed_server.url("/b"), "b")]
    )
    before = set(descendants())
    async with Runtime(config) as rt:
        assert isinstance(rt.parsers, ElasticWorkers)
        assert rt.parsers.workers == 2
    assert await run_once(config) == 0
    assert set(descendants()) <= before  # no forkserver, no worker, no resource tracker
    assert len(list((tmp_path / "data" / "maildrop").glob("*.eml"))) == 2


async def test_idle_processes_retire_and_start_again_when_needed(
    stopped: list[ElasticWorkers],
) -> None:
    """After `idle` seconds with no task, the workers exit; the next task starts new ones."""
    pool = ElasticWorkers(1, 1, deadline=60, backlog=0, idle=0.3)
    stopped.append(pool)
    first = await pool.run("pid", os.getpid)
    assert first != os.getpid()
    assert pool.processes_started
    await _until(lambda: not alive(first), "the idle worker to exit")
    assert not pool.processes_started
    assert pool.retired == 1
    second = await pool.run("pid", os.getpid)  # a fresh worker, from the warm forkserver
    assert second not in (first, os.getpid())
    assert pool.processes_started


async def test_a_running_task_keeps_its_worker_past_the_idle_time(
    stopped: list[ElasticWorkers],
) -> None:
    """Idle counts from the last task's end: a task running longer than `idle` finishes."""
    pool = ElasticWorkers(1, 1, deadline=60, backlog=0, idle=0.2)
    stopped.append(pool)
    long, short = await asyncio.gather(
        pool.run("long", slowparse.pid_after, 1.0), pool.run("short", os.getpid)
    )
    assert long == short != os.getpid()  # one worker ran both, the long task to its end
    assert pool.retired == 0
    assert pool.restarts == 0
    await _until(lambda: not alive(long), "the worker to retire once idle")
    assert pool.retired == 1


async def test_idle_zero_keeps_the_processes_until_close(stopped: list[ElasticWorkers]) -> None:
    """`idle: 0`: the workers stay up between tasks (until `close`)."""
    pool = ElasticWorkers(1, 1, deadline=60, backlog=0, idle=0)
    stopped.append(pool)
    first = await pool.run("pid", os.getpid)
    await asyncio.sleep(0.5)  # longer than any idle time the other tests use
    assert await pool.run("pid", os.getpid) == first
    assert pool.retired == 0
