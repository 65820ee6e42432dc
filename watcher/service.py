"""The daemon: schedules polls and the dispatcher, stops by draining.

`run_once` does what is due and returns (the testable "burst" mode); `run_forever`
keeps an APScheduler `AsyncIOScheduler` running one job per source, one cron job per
digest subscriber, plus the dispatcher until SIGTERM/SIGINT, then pauses the
scheduler, lets in-flight work finish within the grace period and shuts down.
APScheduler 3.x would cancel running coroutine jobs on shutdown, hence the
pause-and-drain.

Digests: a period ends at each fire time of the subscriber's schedule. Both the cron
job and `run_once` produce the digest of the latest period that has ended (at most
once: the store's unique key), so `watcher run --once` from a system cron, a restart
after a missed 08:00, and the daemon all agree. Periods missed entirely merge into
the next digest; nothing is dropped.
"""

from __future__ import annotations

import asyncio
import functools
import signal
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from watcher.config import Source, Subscriber, WatcherConfig
from watcher.errors import TransientDeliveryError
from watcher.notify.admin import send_notices
from watcher.notify.digest import dispatch_digests, produce_digests
from watcher.notify.dispatch import DispatchReport, dispatch_due
from watcher.notify.schedule import parse_schedule
from watcher.pipeline import PollReport, poll_source
from watcher.runtime import Runtime
from watcher.store.source_state import record_failure

log = structlog.get_logger("watcher.service")
DISPATCHER_JOB = "dispatcher"
MAX_DISPATCH_ROUNDS = 1000


async def poll_with_deadline(rt: Runtime, source: Source) -> PollReport:
    """`poll_source` bounded by the source's timeout; a hung poll counts as a failure."""
    try:
        async with asyncio.timeout(source.timeout.total_seconds()):
            return await poll_source(rt, source)
    except TimeoutError:
        error = f"poll took longer than {source.timeout} and was cancelled"
        await record_failure(
            rt.db, source=source.name, kind=source.kind, error=error, now=rt.clock()
        )
        log.warning("poll_failed", source=source.name, error=error)
        return PollReport(source=source.name, error=error)


async def dispatch_all(rt: Runtime) -> DispatchReport:
    """Send due admin notices, then alert and digest batches until nothing is due now."""
    try:
        await send_notices(rt.db, rt.config, rt.transport(), rt.clock())
    except TransientDeliveryError as exc:
        log.warning("admin_notices_deferred", error=str(exc))
    total = DispatchReport()
    for send in (dispatch_due, dispatch_digests):
        for _ in range(MAX_DISPATCH_ROUNDS):
            report = await send(rt.db, rt.config, rt.transport(), rt.clock, rt.pacer)
            total += report
            if report.sent == 0:
                break
    return total


def digest_trigger(subscriber: Subscriber) -> CronTrigger:
    """The cron trigger of a digest subscriber's schedule, in their time zone."""
    fields = parse_schedule(subscriber.schedule)
    return CronTrigger(**fields.as_kwargs(), timezone=ZoneInfo(subscriber.timezone))


def last_fire(trigger: CronTrigger, now: datetime) -> datetime | None:
    """The trigger's latest fire time at or before `now` (within the last year)."""
    for days in (1 / 24, 1, 8, 32, 367):
        fire = trigger.get_next_fire_time(None, now - timedelta(days=days))
        if fire is None or fire > now:
            continue
        while (later := trigger.get_next_fire_time(None, fire + timedelta(seconds=1))) <= now:
            fire = later
        return fire.astimezone(UTC)  # type: ignore[no-any-return]
    return None


async def produce_due_digests(rt: Runtime, only: str | None = None) -> int:
    """Produce the digest of every digest subscriber's latest ended period (once each)."""
    now = rt.clock()
    periods = {}
    for subscriber in rt.config.subscribers:
        if subscriber.mode == "digest" and only in (None, subscriber.address):
            fire = last_fire(digest_trigger(subscriber), now)
            if fire is not None:
                periods[subscriber.address] = fire
    return await produce_digests(rt.db, rt.config, periods, now)


async def run_once(config: WatcherConfig) -> int:
    """Poll every enabled source once, deliver what is due; 0 if all went well, else 1."""
    async with Runtime(config) as rt:
        sources = [s for s in config.sources if s.enabled]
        reports = await asyncio.gather(*(poll_with_deadline(rt, s) for s in sources))
        await produce_due_digests(rt)
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
                scheduler = self._schedule(rt)
                await produce_due_digests(rt)  # a period that ended while we were down
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
        for source in self.config.sources:
            if not source.enabled:
                continue
            scheduler.add_job(
                self._tracked(functools.partial(self._poll, rt, source)),
                IntervalTrigger(
                    seconds=source.every.total_seconds(),
                    jitter=int(source.jitter.total_seconds()) or None,
                ),
                id=f"poll:{source.name}",
                name=f"poll {source.name}",
                next_run_time=now,
            )
        for subscriber in self.config.subscribers:
            if subscriber.mode == "digest":
                scheduler.add_job(
                    self._tracked(functools.partial(self._digest, rt, subscriber.address)),
                    digest_trigger(subscriber),
                    id=f"digest:{subscriber.address}",
                    name=f"digest {subscriber.address}",
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

    async def _poll(self, rt: Runtime, source: Source) -> None:
        report = await poll_with_deadline(rt, source)
        if report.queued and self._scheduler is not None and not self._stopping.is_set():
            # new alerts: wake the dispatcher now rather than at its next interval
            self._scheduler.modify_job(DISPATCHER_JOB, next_run_time=datetime.now(UTC))

    async def _digest(self, rt: Runtime, address: str | None) -> None:
        if await produce_due_digests(rt, address) and self._scheduler is not None:
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
