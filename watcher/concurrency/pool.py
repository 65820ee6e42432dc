"""CPU-bound tasks in worker processes, each bounded by a deadline that counts from its start.

Parsing (feedparser, lexbor, lxml under trafilatura), classification and alert rendering
are C-accelerated code with known slow paths, and they would hold the event loop; a
thread cannot be stopped, a process can. `WorkerPool.run(what, fn, *args)` runs
`fn(*args)` in a worker process:

- a task that *runs* longer than the deadline gets its worker killed and raises
  `TaskTimeout`; time spent waiting for a free worker is never counted;
- a task whose worker dies raises `TaskCrashed`; an exception raised by `fn` itself
  propagates unchanged (with the worker's traceback as a note);
- nothing else is disturbed: the other tasks keep their workers and finish;
- a caller cancelled while it waits leaves the pool as it was: a task not yet handed
  to a worker is dropped, a running one finishes within its deadline unobserved.

Why pebble. It is made for this: `ProcessPool.schedule(fn, timeout=...)` measures the
timeout from the moment a worker acknowledges the task (`TaskManager.task_start`, not
from submission) and stops only that worker (SIGTERM, SIGKILL after 3 s), replacing
it; `max_tasks` retires a worker after that many tasks without CPython's
`max_tasks_per_child` hang (python/cpython#115634); it takes an initializer and a
multiprocessing context, so the forkserver stays. loky was the other candidate; its
`timeout` is the idle time after which workers exit, and the only way to stop a running
task is `shutdown(kill_workers=True)`, which kills every worker: the failure this pool
replaces. Known pebble issues and how this pool stays clear of them:
noxdafox/pebble#153 (open): killing a worker for a cancelled task can race with that
worker taking the next task, which then hangs until its own deadline; #144: a task
cancelled after it reached the pipe still starts. So a caller's cancellation never
cancels the pebble task, and pebble is handed at most two tasks per worker, one running
and one queued (`QUEUED_PER_WORKER`); the rest wait here, where a cancelled caller's
task simply leaves the queue, and pebble's pipe holds little (#147: a join that hung on
a full pipe of cancelled tasks). The same race remains for a task that ends within
pebble's 0.1 s look at its deadline: the worker's next task may then fail at its own
deadline; rare, and bounded. #163 (fixed by lock timeouts): a worker dying while it
holds the channel lock; a task pebble loses so, with no outcome `LOST_AFTER` seconds
past two deadlines (its own, one it may wait behind), fails as `TaskCrashed`. pebble's
timeout reads `time.time()`, so a wall-clock step can shift one deadline; and a task
stuck in C code outlives SIGTERM, so its kill takes 3 s more. An idle worker that dies
breaks a pebble pool ("All workers expired"): `run` then starts a fresh one and re-runs
once the tasks the broken pool dropped.

Workers come from a `forkserver` (never `fork` this multi-threaded process), which
imports `preload` once, so a new worker starts in milliseconds. Every worker also runs
the main module again (`multiprocessing.spawn.prepare`), and CPython 3.11 never hands
the forkserver the main script's path, so its `"__main__"` preload does nothing. For the
`watcher` console script that re-run imports `watcher.__main__`, which imports nothing
at its top (the command line, the store and Typer load when its `main` runs): had it
imported the whole command line, every worker would hold it too, and a replacement
worker (after a deadline, a crash, its 1,000th task) would take a large fraction of a
second instead of milliseconds. The pool names no module of this service to fix that.
`main_module_imports` names, for any program, what the re-run will import: the main
module itself when it was run by name (`python -m NAME`; a package's `__main__` is never
re-run), else the modules the script's top-level names come from (the console script's
`main` comes from `watcher.__main__`). "The modules of the main module's package" would
not do: a script has no package. The forkserver imports those too, so the re-run finds
them imported, and then `watcher.concurrency.forked`, which freezes all of it for the
garbage collector so the workers keep sharing those pages. `start()` waits for the
forkserver's imports on a thread, never on the loop.

Every child dies with the service, however the service dies (SIGKILL included):
- workers: multiprocessing keeps, in the parent, the write end of a pipe whose read end
  is the worker's `parent_process().sentinel`; a parent's death closes it. Each worker's
  initializer (`_die_with_parent`) sets O_ASYNC and F_SETSIG=SIGKILL on that read end,
  so the kernel itself SIGKILLs the worker at that end-of-file: no thread and no GIL,
  so a worker stuck in C code dies too. (PR_SET_PDEATHSIG would fire on the death of
  a worker's parent, which is the forkserver, not the service.)
- the forkserver: it exits when every holder of its "alive" pipe has closed it: the
  service and the workers (stdlib);
- the resource tracker: it exits when the service, the forkserver and the workers
  have all closed its pipe (stdlib).

Ctrl-C on a terminal sends SIGINT to the whole foreground process group, helpers
included; the service alone handles it (by draining). The forkserver is started with
SIGINT ignored (`_start_forkserver`; an ignored signal stays ignored across exec, and
Python then installs no KeyboardInterrupt handler), and the workers it forks inherit
that: no helper dies of a KeyboardInterrupt or prints a `Process ForkServerProcess-N:`
traceback, not even in the moments before the forkserver and pebble ignore it themselves.

`close()` kills the pool's workers at once (SIGKILL, no 3 s grace). The forkserver and
the resource tracker, stdlib's one of each per process, stay until the process exits:
a later pool (the next `Runtime` of a test, a bench round, a reload) forks its workers
from the warm forkserver in milliseconds instead of paying its imports again.
"""

from __future__ import annotations

import asyncio
import fcntl
import multiprocessing
import multiprocessing.forkserver
import os
import pickle
import select
import signal
import sys
import threading
import traceback
import types
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import structlog

from watcher.domain.errors import TaskCrashed, TaskTimeout, WorkerError

if TYPE_CHECKING:
    import pebble  # imported when the first worker starts: a round that parses nothing needs none

T = TypeVar("T")
log = structlog.get_logger("watcher.worker")
STOP_WAIT = 5.0  # seconds `close` waits for killed workers and pebble's threads
# A task with no outcome this long after its deadline, on top of the deadline of a task
# it may wait behind, was lost by pebble (a worker that died between taking a task and
# acknowledging it; 60 s is pebble's channel-lock wait and covers SIGTERM's 3 s grace)
LOST_AFTER = 60.0
# Tasks handed to pebble per worker: the one it runs and the next, so a worker need not
# wait for a busy event loop to hand it work (as ProcessPoolExecutor queues ahead); more
# would sit in pebble's pipe, out of reach of a caller's cancel.
QUEUED_PER_WORKER = 2

# A worker re-runs a main module preloaded by name as `__mp_main__`, and runpy warns
# that the module was imported already: on purpose here. The forkserver imports this
# module (`_preload`), so the filter is in place in every worker it forks.
warnings.filterwarnings(
    "ignore", message=r"'.*' found in sys\.modules after import of package", category=RuntimeWarning
)


class Runs(Protocol):
    """What runs a task off the event loop: a `WorkerPool` (any kind), or one in front of it."""

    async def run(self, what: str, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)`, as `what` in errors and logs."""
        ...


class Workers(Runs, Protocol):
    """What the service holds its parsers as: a `WorkerPool`, `ThreadWorkers` or
    `ElasticWorkers`. `start` may start them ahead of the first `run` (else it starts
    them); `close` refuses new tasks; `restarts` counts the tasks whose worker was lost
    (killed at a deadline, found dead, or for threads abandoned at a deadline)."""

    @property
    def restarts(self) -> int:
        """Tasks whose worker was lost so far."""
        ...

    async def start(self) -> None:
        """Be ready to run a task (each kind says what that takes)."""
        ...

    def close(self) -> None:
        """Refuse new tasks and let go of the workers."""
        ...


_preload: list[str] = ["__main__"]  # what the forkserver imports: every pool's wishes
FREEZE = "watcher.concurrency.forked"  # imported after them: `gc.freeze()` (see there)
_lock = threading.Lock()


class WorkerPool:
    """Run picklable functions in worker processes, each call bounded by `deadline` seconds.

    The workers start with the first `run` (or earlier, with `start`); call `close` when
    done. `restarts` counts the workers killed for overrunning their deadline or found
    dead under a task. `warm` (picklable, or None) runs once in each new worker before it
    takes its first task, so outside every deadline: what every task would otherwise
    pay on its first call in a worker (building the classifier) is not charged to one
    item's deadline. Setting it takes effect for the workers started afterwards; a
    `warm` that raises is logged, and the worker goes on to take tasks.
    """

    def __init__(
        self,
        workers: int,
        deadline: float,
        *,
        preload: Sequence[str] = (),
        tasks_per_worker: int = 1000,
        warm: Callable[[], object] | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError("a worker pool needs at least one worker")
        self.workers = workers
        self.warm = warm
        self.deadline = deadline
        self.tasks_per_worker = tasks_per_worker
        self.restarts = 0
        self._context = multiprocessing.get_context("forkserver")
        with _lock:
            # set before the forkserver starts; one started earlier keeps its imports
            # (pebble too: this module imports it only when a pool starts)
            _preload.extend(
                m
                for m in [*main_module_imports(), *preload, "pebble", __name__]
                if m not in _preload
            )
            # and last, once the rest is imported, freeze it for the workers to share
            self._context.set_forkserver_preload([*_preload, FREEZE])
        self._pool: pebble.ProcessPool | None = None
        self._pool_lock = threading.Lock()
        self._slots = asyncio.Semaphore(workers * QUEUED_PER_WORKER)  # tasks handed to pebble
        self._running: set[Future[Any]] = set()
        self._closed = False
        self._started = False
        self._starting = asyncio.Lock()

    async def start(self) -> None:
        """Start the workers and wait, on a thread, until one answers.

        The first worker waits for the forkserver's imports (about half a second for the
        parsers); later ones are forked from it in milliseconds. The wait is on a thread,
        never on the event loop. `run` calls it when the pool has not started yet, so a
        process that never needs a worker never starts one.
        """
        async with self._starting:
            if not self._started:
                _start_forkserver()
                await asyncio.to_thread(self._first_answer)
                self._started = True

    def _first_answer(self) -> None:
        what = "starting a worker"
        try:
            self._schedule(what, os.getpid, ()).result(timeout=self.deadline + LOST_AFTER)
        except BrokenProcessPool:
            raise TaskCrashed(what) from None
        except TimeoutError:
            raise TaskTimeout(what, self.deadline + LOST_AFTER) from None

    async def run(self, what: str, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` in a worker, as `what` ("parsing https://x/feed") in errors and logs.

        `TaskTimeout` when it ran longer than the deadline, `TaskCrashed` when its worker
        died; an exception `fn` raises is raised here.
        """
        import pebble

        for attempt in (1, 2):
            outcome = await self._submit(what, fn, args)
            # a cancelled caller leaves here; the task goes on, its outcome unobserved
            await asyncio.wait([outcome], timeout=2 * self.deadline + LOST_AFTER)
            if not outcome.done():
                outcome.cancel()  # and pebble's task, killing its worker if it has one
                self._lost(what, "lost")
                raise TaskCrashed(what)
            try:
                answer = outcome.result()
            except asyncio.CancelledError:
                raise WorkerError(what, f"{what}: abandoned, the worker pool closed") from None
            except BrokenProcessPool:
                if attempt == 1:
                    # the pebble pool broke under this task (an idle worker died, say):
                    # it never ran to an end, so it runs once more on a fresh pool
                    continue
                self._lost(what, "broken")
                raise TaskCrashed(what) from None
            except TimeoutError:
                self._lost(what, "deadline")
                raise TaskTimeout(what, self.deadline) from None
            except pebble.ProcessExpired as exc:
                self._lost(what, "crashed", exitcode=exc.exitcode)
                raise TaskCrashed(what, exc.exitcode) from None
            if isinstance(answer, _Raised):
                raise answer.error
            return answer  # type: ignore[no-any-return]  # what `fn` returned, so a T
        raise AssertionError("unreachable")

    async def _submit(
        self, what: str, fn: Callable[..., Any], args: tuple[Any, ...]
    ) -> asyncio.Future[Any]:
        """Wait for a free worker, hand it the task; the task's outcome as an asyncio future."""
        if not self._started:
            await self.start()
        await self._slots.acquire()
        try:
            future = self._schedule(what, _call, (fn, args))
        except BaseException:
            self._slots.release()
            raise
        self._running.add(future)
        future.add_done_callback(self._running.discard)
        outcome = asyncio.wrap_future(future)
        outcome.add_done_callback(self._ended)
        return outcome

    def _ended(self, outcome: asyncio.Future[Any]) -> None:
        """A task ended: its worker is free (whether or not its caller still waits)."""
        self._slots.release()
        if not outcome.cancelled():
            outcome.exception()  # seen, so an abandoned task's failure is not logged as lost

    def _schedule(self, what: str, fn: Callable[..., T], args: tuple[Any, ...]) -> Future[T]:
        """Hand `fn(*args)` to pebble, on a fresh pool if the current one broke just now."""
        pool = self._live_pool(what)
        try:
            return pool.schedule(fn, args, timeout=self.deadline)
        except RuntimeError:
            if pool.active:
                raise
            return self._live_pool(what).schedule(fn, args, timeout=self.deadline)

    def _live_pool(self, what: str) -> pebble.ProcessPool:
        """The pebble pool, started on first use and replaced when it broke."""
        import pebble

        with self._pool_lock:
            if self._closed:
                raise WorkerError(what, f"{what}: the worker pool is closed")
            pool = self._pool
            if pool is not None and pool.active:
                return pool
            if pool is not None:
                log.warning("worker_pool_replaced", reason="broken")
                _stop(pool)
            _start_forkserver()
            pool = self._pool = pebble.ProcessPool(
                max_workers=self.workers,
                max_tasks=self.tasks_per_worker,
                initializer=_start_worker,
                initargs=(self.warm,),
                context=self._context,
            )
            return pool

    def _lost(self, what: str, reason: str, exitcode: int | None = None) -> None:
        self.restarts += 1
        log.warning(
            "worker_killed", what=what, reason=reason, exitcode=exitcode, restarts=self.restarts
        )

    def close(self) -> None:
        """Stop every worker now; running tasks are abandoned (their callers get `WorkerError`).

        The process's forkserver stays, for the next pool; it exits with the process.
        """
        with self._pool_lock:
            if self._closed:
                return
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            _stop(pool)
        for future in list(self._running):
            future.cancel()


def main_module_imports() -> list[str]:
    """What a worker's re-run of the main module imports, for the forkserver to import first.

    `python -m NAME`: NAME itself (a package's `__main__` is never re-run). A script
    (the `watcher` console script): the modules its top-level names come from.
    """
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    name = getattr(spec, "name", None)
    if name:
        return [] if name == "__main__" or name.endswith(".__main__") else [name]
    if main is None or getattr(main, "__file__", None) is None:
        return []  # an interactive session: nothing is re-run
    found = {_module_of(value) for value in vars(main).values()}
    return sorted(m for m in found if m and m not in ("__main__", "builtins"))


def _module_of(value: object) -> str | None:
    if isinstance(value, types.ModuleType):
        return value.__name__
    if isinstance(value, type | types.FunctionType | types.BuiltinFunctionType):
        return value.__module__
    return None


@dataclass(frozen=True, slots=True)
class _Raised:
    """An exception `fn` raised, carried back as a value (so pebble's own errors stand apart)."""

    error: BaseException


def _call(fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    """Run in the worker: `fn(*args)`, or what it raised, with the worker's traceback."""
    try:
        return fn(*args)
    except Exception as exc:
        exc.add_note(f"in a worker process:\n{traceback.format_exc()}")
        try:
            pickle.loads(pickle.dumps(exc))
        except Exception:
            # one that cannot travel would break the pool's result pipe: send its text
            exc = RuntimeError(f"{type(exc).__name__}: {exc}")
        return _Raised(exc)


def _start_forkserver() -> None:
    """Start the process's forkserver, if it is not running, with SIGINT ignored in it.

    Only the main thread may change a signal's handler: elsewhere the forkserver starts
    as the stdlib starts it (`start()` calls this on the event loop's thread first).
    """
    if threading.current_thread() is not threading.main_thread():
        multiprocessing.forkserver.ensure_running()
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        multiprocessing.forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGINT, previous)


def _start_worker(warm: Callable[[], object] | None) -> None:
    """Worker initializer: die with the service (`_die_with_parent`), then run `warm`.

    pebble counts a task's deadline from when a worker takes it, so this runs outside
    every deadline. A failing `warm` is logged: the task that needs what it would have
    built builds it itself (and fails there, under its own name, if it must).
    """
    _die_with_parent()
    if warm is not None:
        try:
            warm()
        except Exception:
            log.exception("worker_warm_up_failed")


def _die_with_parent() -> None:
    """Worker initializer: the kernel SIGKILLs this worker when the service dies.

    The read end of the pipe multiprocessing keeps from the parent
    (`parent_process().sentinel`) reads end-of-file once the parent is gone; O_ASYNC
    with F_SETSIG makes the kernel signal that end-of-file to us as SIGKILL. Linux
    only (F_SETSIG); elsewhere a worker ends when its next read of the task pipe fails.
    """
    parent = multiprocessing.parent_process()
    if parent is None or not hasattr(fcntl, "F_SETSIG"):
        return
    fd = parent.sentinel
    fcntl.fcntl(fd, fcntl.F_SETOWN, os.getpid())
    fcntl.fcntl(fd, fcntl.F_SETSIG, signal.SIGKILL)
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_ASYNC)
    if select.select([fd], [], [], 0)[0]:
        os._exit(0)  # the parent died before the watch was set


def _stop(pool: pebble.ProcessPool) -> None:
    """Kill a pebble pool's workers at once, then let pebble wind down its threads."""
    pool.stop()  # type: ignore[no-untyped-call]  # pebble 5.2 leaves `stop` unannotated
    workers = _processes(pool)
    for worker in workers:
        worker.kill()
    for worker in workers:
        worker.join(STOP_WAIT)
    # pebble's join stops any worker it started meanwhile (SIGTERM first) and closes its
    # pipes; bounded, since its scheduler thread may sit in a send that never ends
    joiner = threading.Thread(target=pool.join, name="worker-pool-join", daemon=True)
    joiner.start()
    joiner.join(STOP_WAIT)


def _processes(pool: pebble.ProcessPool) -> list[multiprocessing.process.BaseProcess]:
    """The pool's worker processes.

    pebble has no public way to kill them at once (its `stop` sends SIGTERM and waits 3 s
    per worker); its worker table is the handle (pebble/pool/process.py, 5.x).
    """
    manager = getattr(getattr(pool, "_pool_manager", None), "worker_manager", None)
    return list(getattr(manager, "workers", {}).values())
