"""Parse on two threads; start worker processes only when the threads fall behind or hang.

`WorkerPool` (processes) isolates every parse and can kill one at its deadline, but its
forkserver and two workers cost about 120 MB of PSS beside a service of about 90 MB,
and pickling each task across a pipe costs CPU: a price a small deployment pays every
round for a guarantee it needs perhaps once a month. `ThreadWorkers` costs neither and
cannot stop a stuck parse. `ElasticWorkers` runs the same calls (`run(what, fn, *args)`)
on `threads` threads of the service and starts its `WorkerPool` only when it is needed:

- **backlog**: a task that waited `backlog` seconds for a free thread (a first round,
  a backfill: more parsing than one core does in time) goes to a worker process, and
  the processes start then;
- **deadline**: a task still running on its thread at the deadline is run again, from
  the start, in a worker process, with the deadline counted afresh; there it is killed
  at its deadline and raises `TaskTimeout` as the process pool always did. Its thread
  cannot be stopped and runs on to its end, its result dropped (the functions run here
  parse, classify and render: they have no side effects, so running one twice is safe).
  A document stuck for good thus fails after two deadlines, one on a thread and one in
  a process, and keeps a thread busy until it ends.

Once the processes are up, a task that finds both threads busy goes straight to them
(waiting longer would only slow the round down). They stop when they have had nothing to
do for `idle` seconds (a daemon's backfill is over, the next rounds are small), so a
daemon returns to the memory of its threads; the next backlog or overrun starts them
again (from the warm forkserver, in milliseconds). `idle <= 0` keeps them until `close`.
`backlog <= 0` sends every task to the processes, as before this class existed.

What `WorkerPool` promises holds for every task: the deadline counts from when a task
starts running (waiting for a thread or a worker is never charged),
an exception `fn` raises propagates unchanged, and a caller cancelled while it waits
leaves the pool as it was (a task already on a thread runs to its end, unobserved).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import structlog

from watcher.concurrency.pool import WorkerPool
from watcher.concurrency.threads import within_deadline
from watcher.domain.errors import WorkerError

T = TypeVar("T")
log = structlog.get_logger("watcher.worker")
# threads beyond `threads` in the executor, for tasks that overran and run on unobserved
SPARE_THREADS_PER_THREAD = 3


class ElasticWorkers:
    """`WorkerPool`'s `run`/`start`/`close` contract (`pool.Workers`) on threads, with
    processes when needed.

    `threads` threads run tasks first; `workers` worker processes (a `WorkerPool` with
    `preload`) start when a task waited `backlog` seconds for a thread, or overran
    `deadline` on one, and stop after `idle` seconds with no task. `moved` counts the
    tasks that overran on a thread and were re-run in a process; `restarts`, the workers
    killed at a deadline or found dead; `retired`, the times idle processes were stopped.
    """

    def __init__(
        self,
        threads: int,
        workers: int,
        deadline: float,
        backlog: float,
        *,
        idle: float = 0.0,
        preload: Sequence[str] = (),
        warm: Callable[[], object] | None = None,
    ) -> None:
        if threads < 1:
            raise ValueError("elastic workers need at least one thread")
        self.workers = workers
        self.threads = threads
        self.deadline = deadline
        self.backlog = backlog
        self.idle = idle
        self.moved = 0
        self.retired = 0
        self._preload = tuple(preload)
        # starts on first use
        self.processes = WorkerPool(workers, deadline, preload=preload, warm=warm)
        self._restarts_before = 0  # the restarts of process pools retired so far
        self._in_processes = 0  # tasks sent to the processes and not yet ended
        self._retire_timer: asyncio.TimerHandle | None = None
        self._retiring: set[asyncio.Future[None]] = set()
        self._slots = asyncio.Semaphore(threads)
        self._up = asyncio.Event()  # set once tasks go to the processes
        self._closed = False
        self._executor = ThreadPoolExecutor(
            threads * (1 + SPARE_THREADS_PER_THREAD), thread_name_prefix="watcher-parse"
        )

    @property
    def warm(self) -> Callable[[], object] | None:
        """What each new worker process runs before its first task (`WorkerPool.warm`)."""
        return self.processes.warm

    @warm.setter
    def warm(self, warm: Callable[[], object] | None) -> None:
        """Takes effect for the worker processes started from now on."""
        self.processes.warm = warm  # and a retired pool's successor takes it over

    @property
    def restarts(self) -> int:
        """Workers killed at their deadline or found dead (every process pool's count)."""
        return self._restarts_before + self.processes.restarts

    @property
    def processes_started(self) -> bool:
        """True while the worker processes are up: since a task was sent to them, until
        they retire (idle) or the pool closes."""
        return self._up.is_set()

    async def start(self) -> None:
        """Nothing to start: threads are made as tasks arrive, processes when needed."""

    async def run(self, what: str, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` on a thread, or in a worker process when the threads fall behind.

        `TaskTimeout` when it ran longer than the deadline in a worker process (after
        overrunning it on a thread), `TaskCrashed` when its worker died; an exception
        `fn` raises is raised here.
        """
        if self._closed:
            raise WorkerError(what, f"{what}: the worker pool is closed")
        if self.backlog <= 0:
            return await self._in_process(what, fn, args, "always")
        if not await self._thread_slot(what):
            return await self._in_process(what, fn, args, "backlog")
        try:
            outcome = await within_deadline(self._executor, self.deadline, fn, *args)
        finally:
            self._slots.release()
        if outcome is not None:
            return outcome.result()
        self.moved += 1
        log.warning("parse_moved_to_worker", what=what, reason="deadline", moved=self.moved)
        return await self._in_process(what, fn, args, "deadline")

    async def _thread_slot(self, what: str) -> bool:
        """Take a thread: True once held; False when the task should go to a process.

        A free thread is taken at once. With none free, a task goes to the processes
        at once when they are up, else when they come up or after `backlog` seconds.
        """
        if not self._slots.locked():
            await self._slots.acquire()  # returns at once: a slot is free, nobody waits
            return True
        if self._up.is_set():
            return False
        acquire = asyncio.ensure_future(self._slots.acquire())
        up = asyncio.ensure_future(self._up.wait())
        try:
            await asyncio.wait(
                [acquire, up], timeout=self.backlog, return_when=asyncio.FIRST_COMPLETED
            )
        except BaseException:  # the caller was cancelled: leave the slots as they were
            up.cancel()
            if acquire.done() and not acquire.cancelled():
                self._slots.release()
            acquire.cancel()
            raise
        up.cancel()
        if acquire.done() and not acquire.cancelled():
            return True
        acquire.cancel()  # a wake-up it received meanwhile is passed on to the next waiter
        if not self._up.is_set():
            log.info("parse_backlog", what=what, waited=self.backlog, workers=self.workers)
        return False

    async def _in_process(self, what: str, fn: Callable[..., T], args: Any, reason: str) -> T:
        if self._retire_timer is not None:
            self._retire_timer.cancel()
            self._retire_timer = None
        if not self._up.is_set():
            self._up.set()
            if reason != "always":
                log.info("parse_workers_started", reason=reason, workers=self.workers)
        self._in_processes += 1
        try:
            return await self.processes.run(what, fn, *args)
        finally:
            self._in_processes -= 1
            if not self._in_processes and self.idle > 0 and not self._closed:
                loop = asyncio.get_running_loop()
                self._retire_timer = loop.call_later(self.idle, self._retire)

    def _retire(self) -> None:
        """Stop the idle worker processes; a fresh (unstarted) pool takes their place.

        Runs on the event loop, `idle` seconds after the last task in the processes ended
        with none sent since (a task sent meanwhile cancels the timer). Killing and
        joining the workers happens on a thread, never on the loop.
        """
        self._retire_timer = None
        if self._in_processes or self._closed or not self._up.is_set():
            return
        old = self.processes
        self._restarts_before += old.restarts
        self.processes = WorkerPool(
            self.workers, self.deadline, preload=self._preload, warm=old.warm
        )
        self._up.clear()
        self.retired += 1
        log.info("parse_workers_retired", idle=self.idle, workers=self.workers)
        stopping = asyncio.ensure_future(asyncio.to_thread(old.close))
        self._retiring.add(stopping)
        stopping.add_done_callback(self._retiring.discard)

    def close(self) -> None:
        """Stop the worker processes now and refuse new tasks.

        Idle threads exit now; a thread running a task exits when the task ends (a
        thread cannot be stopped), its outcome unobserved.
        """
        self._closed = True
        if self._retire_timer is not None:
            self._retire_timer.cancel()
            self._retire_timer = None
        self._executor.shutdown(wait=False, cancel_futures=True)
        self.processes.close()
