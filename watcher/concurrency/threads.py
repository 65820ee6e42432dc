"""The worker pool's contract on threads of this process: `polling.parse_workers: 0`.

For a small deployment (a few hundred sources in a container with a tight memory
limit) the worker processes cost more than their work: the forkserver and two workers
add about 120 MB of PSS to a service process of about 90 MB, to parse a few feeds a
minute. `ThreadWorkers` runs the same calls (`run(what, fn, *args)`) on a small pool of
threads instead. What is given up, and why it is opt-in:

- a task that overruns the deadline raises `TaskTimeout` as in the process pool, but
  its thread cannot be killed: it runs on to its end, its result dropped (a process
  pool kills the worker). A parser stuck for good keeps one thread of the pool;
- the threads share the event loop's GIL: a long parse slows the polls beside it.

Everything else holds: the deadline counts from when a task starts running (waiting for
a free thread is not charged), exceptions `fn` raises propagate unchanged, and a
cancelled caller leaves the pool as it was.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import structlog

from watcher.domain.errors import TaskTimeout, WorkerError

T = TypeVar("T")
log = structlog.get_logger("watcher.worker")


class ThreadWorkers:
    """`WorkerPool`'s `run`/`start`/`close` contract (`pool.Workers`), on `threads` threads
    of this process."""

    def __init__(self, threads: int, deadline: float) -> None:
        if threads < 1:
            raise ValueError("a thread pool needs at least one thread")
        self.workers = threads
        self.deadline = deadline
        self.restarts = 0  # tasks abandoned at their deadline (their threads ran on)
        self._closed = False
        self._slots = asyncio.Semaphore(threads)
        # threads beyond `threads` for tasks abandoned at their deadline, which run on
        self._executor = ThreadPoolExecutor(threads * 4, thread_name_prefix="watcher-parse")

    async def start(self) -> None:
        """Nothing to start: threads are made as tasks arrive."""

    async def run(self, what: str, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` on a thread; `TaskTimeout` when it ran longer than the deadline."""
        if self._closed:
            raise WorkerError(what, f"{what}: the worker pool is closed")
        async with self._slots:
            outcome = await within_deadline(self._executor, self.deadline, fn, *args)
            if outcome is None:
                self.restarts += 1
                log.warning("worker_abandoned", what=what, reason="deadline")
                raise TaskTimeout(what, self.deadline)
            return outcome.result()

    def close(self) -> None:
        """Refuse new tasks; running ones end on their own (threads cannot be stopped)."""
        self._closed = True
        self._executor.shutdown(wait=False, cancel_futures=True)


async def within_deadline(
    executor: ThreadPoolExecutor, deadline: float, fn: Callable[..., T], *args: Any
) -> asyncio.Future[T] | None:
    """Run `fn(*args)` on one of `executor`'s threads, in a copy of the caller's context,
    and wait up to `deadline` seconds: its finished future, or None when it runs on.

    A thread cannot be stopped: a call that overruns (or whose caller is cancelled while
    it runs) goes on to its end, its result dropped, and is observed then, so its late
    failure is not logged as lost.
    """
    loop = asyncio.get_running_loop()
    call = functools.partial(contextvars.copy_context().run, fn, *args)
    outcome = loop.run_in_executor(executor, call)
    try:
        done, _ = await asyncio.wait([outcome], timeout=deadline)
    except asyncio.CancelledError:
        outcome.add_done_callback(_seen)
        raise
    if done:
        return outcome
    outcome.add_done_callback(_seen)
    return None


def _seen(outcome: asyncio.Future[Any]) -> None:
    if not outcome.cancelled():
        outcome.exception()
