"""The daemon: schedules polls and the dispatcher, stops by draining.

`run_once` polls every enabled source now and delivers what is due (the testable
"burst" mode); `Daemon.run` keeps an APScheduler `AsyncIOScheduler` running until
SIGTERM/SIGINT, then pauses the scheduler, lets in-flight work finish within the
grace period and shuts down. APScheduler 3.x would cancel running coroutine jobs on
shutdown, hence the pause-and-drain.

Polls are not one APScheduler job per source. One *poller* job ticks every
`polling.tick` and asks the database which sources are due (`next_poll_at` on each
source row, written by every poll from its schedule, the server's hints and the
failure backoff: `watcher.schedule`), claims each due row with a lease and starts its
poll. So a source in backoff is simply not due, the plan survives restarts, and
replicas sharing a database can later divide the sources between them by those rows
(`watcher.store.due`) with no in-memory scheduler state to agree on.
"""

from __future__ import annotations

import asyncio
import functools
import signal
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from watcher.config import Source, WatcherConfig
from watcher.errors import TransientDeliveryError
from watcher.notify.admin import send_notices
from watcher.notify.dispatch import DispatchReport, dispatch_due
from watcher.pipeline import PollReport, poll_source, record_poll_failure
from watcher.runtime import Runtime
from watcher.schedule import schedule_key
from watcher.store.due import claim_source, due_sources, sync_sources
from watcher.store.source_state import load_state

log = structlog.get_logger("watcher.service")
DISPATCHER_JOB = "dispatcher"
POLLER_JOB = "poller"
POLL_LEASE_MARGIN = timedelta(seconds=30)
MAX_DISPATCH_ROUNDS = 1000


async def poll_with_deadline(rt: Runtime, source: Source) -> PollReport:
    """`poll_source` bounded by the source's timeout; a hung poll counts as a failure."""
    before = await load_state(rt.db, source.name)
    try:
        async with asyncio.timeout(source.timeout.total_seconds()):
            return await poll_source(rt, source)
    except TimeoutError as exc:
        return await record_poll_failure(rt, source, before, exc)


async def prepare_sources(rt: Runtime) -> list[Source]:
    """The enabled sources, each with its row (new rows due now, changed schedules re-planned)."""
    sources = [s for s in rt.config.sources if s.enabled]
    keys = {s.name: schedule_key(s) for s in sources}
    await sync_sources(rt.db, sources, keys, rt.clock())
    return sources


async def dispatch_all(rt: Runtime) -> DispatchReport:
    """Send due admin notices, then alert batches until nothing is due now; returns totals."""
    try:
        await send_notices(rt.db, rt.config, rt.transport(), rt.clock())
    except TransientDeliveryError as exc:
        log.warning("admin_notices_deferred", error=str(exc))
    sent = retried = dead = 0
    for _ in range(MAX_DISPATCH_ROUNDS):
        report = await dispatch_due(rt.db, rt.config, rt.transport(), rt.clock())
        sent, retried, dead = sent + report.sent, retried + report.retried, dead + report.dead
        if report.sent + report.retried + report.dead == 0 or report.sent == 0:
            break
    return DispatchReport(sent=sent, retried=retried, dead=dead)


async def run_once(config: WatcherConfig) -> int:
    """Poll every enabled source once, deliver what is due; 0 if all went well, else 1."""
    async with Runtime(config) as rt:
        sources = await prepare_sources(rt)
        reports = await asyncio.gather(*(poll_with_deadline(rt, s) for s in sources))
        delivered = await dispatch_all(rt)
    failed = [r.source for r in reports if not r.ok]
    log.info(
        "run_once_finished",
        sources=len(reports),
        failed_sources=failed,
        new=sum(r.new for r in reports),
        signals=sum(r.signals for r in reports),
        queued=sum(r.queued for r in reports),
        emails_sent=delivered.sent,
        emails_failed=delivered.failed,
    )
    return 1 if failed or delivered.failed else 0


class Daemon:
    """The long-running service; `stop()` (or SIGTERM/SIGINT) ends `run()` with a drain."""

    def __init__(self, config: WatcherConfig) -> None:
        self.config = config
        self._stopping = asyncio.Event()
        self._in_flight: set[asyncio.Task[object]] = set()
        self._scheduler: AsyncIOScheduler | None = None
        self._sources: dict[str, Source] = {}
        self._polling: dict[str, asyncio.Future[None]] = {}

    def stop(self) -> None:
        """Ask the daemon to drain and exit; safe to call more than once."""
        if not self._stopping.is_set():
            log.info("shutdown_requested")
        self._stopping.set()

    async def run(self) -> int:
        """Run until stopped; returns the process exit code (0 after a clean drain)."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop)
        try:
            async with Runtime(self.config) as rt:
                self._sources = {s.name: s for s in await prepare_sources(rt)}
                scheduler = self._schedule(rt)
                scheduler.start()
                log.info(
                    "service_started", sources=[s.name for s in self.config.sources if s.enabled]
                )
                await self._stopping.wait()
                scheduler.pause()
                await self._drain()
                scheduler.shutdown(wait=False)
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
        log.info("shutdown_complete")
        return 0

    def _schedule(self, rt: Runtime) -> AsyncIOScheduler:
        scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
        )
        now = datetime.now(UTC)
        scheduler.add_job(
            self._tracked(lambda: self._start_due_polls(rt)),
            IntervalTrigger(seconds=self.config.polling.tick.total_seconds()),
            id=POLLER_JOB,
            name="start due polls",
            next_run_time=now,
        )
        scheduler.add_job(
            self._tracked(lambda: self._dispatch(rt)),
            IntervalTrigger(seconds=self.config.dispatcher.every.total_seconds()),
            id=DISPATCHER_JOB,
            name="dispatch outbox",
            next_run_time=now,
        )
        self._scheduler = scheduler
        return scheduler

    def _tracked(self, work: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[None]]:
        """A job that registers itself as in-flight and never lets an exception escape."""

        async def job() -> None:
            if self._stopping.is_set():
                return
            task = asyncio.current_task()
            assert task is not None
            self._in_flight.add(task)
            try:
                await work()
            except Exception:
                log.exception("job_crashed")
            finally:
                self._in_flight.discard(task)

        return job

    async def _start_due_polls(self, rt: Runtime) -> None:
        """Claim the sources whose rows say they are due and start their polls."""
        now = rt.clock()
        room = self.config.http.max_connections - len(self._polling)
        idle = [name for name in self._sources if name not in self._polling]
        for name in (await due_sources(rt.db, idle, now))[: max(room, 0)]:
            source = self._sources[name]
            lease = now + source.timeout + POLL_LEASE_MARGIN
            if self._stopping.is_set() or not await claim_source(rt.db, name, now, lease):
                continue
            job = self._tracked(functools.partial(self._poll, rt, source))
            self._polling[name] = asyncio.ensure_future(job())
            self._polling[name].add_done_callback(functools.partial(self._forget, name))

    def _forget(self, name: str, _task: object) -> None:
        self._polling.pop(name, None)

    async def _poll(self, rt: Runtime, source: Source) -> None:
        report = await poll_with_deadline(rt, source)
        if report.queued and self._scheduler is not None and not self._stopping.is_set():
            # new alerts: wake the dispatcher now rather than at its next interval
            self._scheduler.modify_job(DISPATCHER_JOB, next_run_time=datetime.now(UTC))

    async def _dispatch(self, rt: Runtime) -> None:
        await dispatch_all(rt)

    async def _drain(self) -> None:
        """Wait for in-flight jobs up to the grace period; cancel what is left."""
        pending = set(self._in_flight)
        if not pending:
            return
        grace = self.config.service.shutdown_grace.total_seconds()
        log.info("draining", in_flight=len(pending), grace_seconds=grace)
        _, still = await asyncio.wait(pending, timeout=grace)
        for task in still:
            task.cancel()
        if still:
            await asyncio.wait(still, timeout=5)
            log.warning("drain_incomplete", cancelled=len(still))
