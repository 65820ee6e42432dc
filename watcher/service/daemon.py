"""The long-running daemon: schedules polls, the dispatcher and housekeeping; stops by draining.

APScheduler's `AsyncIOScheduler` wakes the loops: one *poller* job that starts the polls
the database says are due (see `watcher.service.rounds`), the outbox dispatcher, one cron job
per digest subscriber (in their time zone), retention and the config-file check. On
SIGTERM/SIGINT it pauses the scheduler, lets in-flight work finish within the grace
period and shuts down (APScheduler 3.x would cancel running coroutine jobs on shutdown,
hence the pause-and-drain). SIGHUP, or a changed config
file, re-reads the config: a valid one is applied without a restart, an invalid one is
kept out and the admins are told.
"""

from __future__ import annotations

import asyncio
import functools
import signal
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from watcher.config import Source, WatcherConfig
from watcher.config.load import load_config
from watcher.domain.cron import parse_schedule
from watcher.domain.errors import ConfigError
from watcher.notify.admin import notify_admins
from watcher.notify.channel import check_channels
from watcher.ops.log import configure_logging
from watcher.ops.memory import return_free_memory
from watcher.ops.metrics import Metrics
from watcher.ops.web import ProbeServer
from watcher.service.analysis import Rules
from watcher.service.pipeline import PollReport
from watcher.service.probes import probe_routes, start_probe_server
from watcher.service.reload import (
    ConfigDiff,
    config_fingerprint,
    diff_configs,
    emptied_sections,
    emptiness_problem,
)
from watcher.service.rounds import (
    dispatch_all,
    poll_with_deadline,
    prepare_sources,
    produce_due_digests,
)
from watcher.service.runtime import Runtime
from watcher.store.due import claim_due_sources, next_poll_due
from watcher.store.listing import count_failing_sources, outbox_stats, ping
from watcher.store.retention import purge

if TYPE_CHECKING:
    from watcher.public.server import PublicServer

log = structlog.get_logger("watcher.daemon")
DISPATCHER_JOB = "dispatcher"
POLLER_JOB = "poller"
RELOAD_JOB = "reload-check"
RETENTION_JOB = "retention"


class Daemon:
    """The long-running service; `stop()` (or SIGTERM/SIGINT) ends `run()` with a drain."""

    def __init__(self, config: WatcherConfig, config_path: Path | None = None) -> None:
        self.config = config
        self.config_path = config_path
        self.metrics = Metrics()
        self.probe: ProbeServer | None = None
        self.public: PublicServer | None = None
        self._stopping = asyncio.Event()
        self._in_flight: set[asyncio.Task[object]] = set()
        self._scheduler: AsyncIOScheduler | None = None
        self._rt: Runtime | None = None
        self._sources: dict[str, Source] = {}
        self._polling: dict[str, asyncio.Future[None]] = {}
        self._started_at = datetime.now(UTC)
        self._last_dispatch_at: datetime | None = None
        self._dispatch_requested = False
        self._trim_due = False  # a poll stored new items since the heap was last trimmed
        self._fingerprint = config_fingerprint(config_path) if config_path else ""

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
        loop.add_signal_handler(signal.SIGHUP, self._reload_soon)
        try:
            async with Runtime(self.config) as rt:
                self._rt = rt
                self._sources = {s.name: s for s in await prepare_sources(rt)}
                if self.config.web.enabled:
                    self.probe = await start_probe_server(self.config.web, probe_routes(self))
                if self.config.public.enabled:
                    await self._start_public(rt)
                scheduler = self._schedule(rt)
                await produce_due_digests(rt)  # a period that ended while we were down
                due = await next_poll_due(rt.db, sorted(self._sources), rt.clock())
                scheduler.start()
                self._announce(due, rt.clock())
                await self._stopping.wait()
                scheduler.pause()
                await self._drain()
                scheduler.shutdown(wait=False)
                if self.probe is not None:
                    await self.probe.close()
                if self.public is not None:
                    await self.public.close()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(sig)
            self._rt = None
        log.info("shutdown_complete")
        return 0

    def _announce(self, due: datetime | None, now: datetime) -> None:
        """The start-up line: where mail goes, how much is watched, when the next poll is."""
        smtp = self.config.smtp
        mail = (
            f"SMTP {smtp.host}:{smtp.port} ({smtp.tls})"
            if smtp.host
            else f"mail drop {self.config.maildrop_dir} (no smtp.host)"
        )
        log.info(
            "service_started",
            mail_to=mail,
            sources=len(self._sources),
            subscribers=len(self.config.subscribers),
            next_poll="none (no enabled source)"
            if due is None
            else "now"
            if due <= now
            else f"{due.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC",
            probes=f"http://{self.probe.host}:{self.probe.port}/healthz" if self.probe else "off",
            source_names=sorted(self._sources),
        )

    async def _start_public(self, rt: Runtime) -> None:
        """The public endpoint (unsubscribe, feeds): Starlette is imported only here."""
        from watcher.public.app import Site
        from watcher.public.links import check_public
        from watcher.public.server import PublicServer

        problems = check_public(self.config)
        if problems:
            raise ConfigError(problems)

        site = Site(rt.db, lambda: self.config, rt.clock)
        self.public = PublicServer(site, self.config.public.host, self.config.public.port)
        await self.public.start()

    # --- what the probes ask -------------------------------------------------------------

    def health(self) -> tuple[bool, dict[str, object]]:
        """Alive: the loop answers (this runs), the scheduler runs, the dispatcher is on time."""
        now = datetime.now(UTC)
        scheduler_ok = self._scheduler is not None and self._scheduler.running
        allowed = self.config.dispatcher.every * 2 + timedelta(seconds=60)
        since = now - (self._last_dispatch_at or self._started_at)
        dispatcher_ok = since <= allowed
        details: dict[str, object] = {
            "scheduler": "running" if scheduler_ok else "stopped",
            "dispatcher_last_run_seconds_ago": round(since.total_seconds(), 1),
            "dispatcher_on_time": dispatcher_ok,
            "polls_in_flight": len(self._polling),
            "stopping": self._stopping.is_set(),
        }
        return scheduler_ok and dispatcher_ok, details

    async def ready(self) -> tuple[bool, dict[str, object]]:
        """Ready: config loaded and the database answers within 2 s."""
        if self._rt is None:
            return False, {"database": "not open"}
        try:
            async with asyncio.timeout(2):
                await ping(self._rt.db)
        except Exception as exc:  # any failure means not ready; the probe says why
            return False, {"database": f"{type(exc).__name__}: {exc}"}
        return True, {"database": "ok", "config": str(self.config_path or "(in memory)")}

    async def refresh_gauges(self) -> None:
        """Gauges that describe the database, read at scrape time."""
        if self._rt is None:
            return
        stats = await outbox_stats(self._rt.db, datetime.now(UTC))
        self.metrics.outbox_depth.set(stats.pending)
        self.metrics.outbox_oldest.set(stats.oldest_due_seconds)
        self.metrics.sources_failing.set(await count_failing_sources(self._rt.db))

    # --- scheduling ----------------------------------------------------------------------

    def _schedule(self, rt: Runtime) -> AsyncIOScheduler:
        scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
        )
        self._scheduler = scheduler
        scheduler.add_job(
            self._tracked(functools.partial(self._start_due_polls, rt)),
            IntervalTrigger(seconds=self.config.polling.tick.total_seconds()),
            id=POLLER_JOB,
            name="start due polls",
            next_run_time=datetime.now(UTC),
        )
        self._add_dispatcher_job(rt)
        self._add_digest_jobs(rt)
        scheduler.add_job(
            self._tracked(functools.partial(self._purge, rt)),
            IntervalTrigger(seconds=self.config.retention.every.total_seconds()),
            id=RETENTION_JOB,
            name="purge old rows",
        )
        check = self.config.service.reload_check.total_seconds()
        if self.config_path is not None and check > 0:
            scheduler.add_job(
                self._tracked(self._check_config),
                IntervalTrigger(seconds=check),
                id=RELOAD_JOB,
                name="check config file",
            )
        return scheduler

    def _add_dispatcher_job(self, rt: Runtime) -> None:
        assert self._scheduler is not None
        self._scheduler.add_job(
            self._tracked(functools.partial(self._dispatch, rt)),
            IntervalTrigger(seconds=self.config.dispatcher.every.total_seconds()),
            id=DISPATCHER_JOB,
            name="dispatch outbox",
            next_run_time=datetime.now(UTC),
            replace_existing=True,
        )

    def _add_digest_jobs(self, rt: Runtime) -> None:
        """One cron job per digest subscriber, replacing the jobs of an earlier config."""
        assert self._scheduler is not None
        for job in self._scheduler.get_jobs():
            if job.id.startswith("digest:"):
                job.remove()
        for subscriber in self.config.subscribers:
            if subscriber.mode != "digest":
                continue
            fields = parse_schedule(subscriber.schedule)
            self._scheduler.add_job(
                self._tracked(functools.partial(self._digest, rt, subscriber.address)),
                CronTrigger(**fields.as_kwargs(), timezone=ZoneInfo(subscriber.timezone)),
                id=f"digest:{subscriber.address}",
                name=f"digest for {subscriber.address}",
            )

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

    # --- polls ---------------------------------------------------------------------------

    async def _start_due_polls(self, rt: Runtime) -> None:
        """Claim the sources whose rows say they are due and start their polls."""
        if self._stopping.is_set():
            return
        now = rt.clock()
        room = self.config.http.max_connections - len(self._polling)
        idle = [name for name in self._sources if name not in self._polling]
        margin = self.config.polling.lease_margin
        leases = {name: now + self._sources[name].timeout + margin for name in idle}
        for name in await claim_due_sources(rt.db, idle, now, leases, room):
            job = self._tracked(functools.partial(self._poll, rt, self._sources[name]))
            self._polling[name] = asyncio.ensure_future(job())
            self._polling[name].add_done_callback(functools.partial(self._forget, name))

    def _forget(self, name: str, _task: object) -> None:
        self._polling.pop(name, None)
        if self._trim_due and not self._polling:
            # the polls have gone quiet after new items: glibc would otherwise keep the
            # pages they freed mapped, and the service's memory at their peak
            self._trim_due = False
            log.debug("heap_trimmed", returned=return_free_memory())

    async def _poll(self, rt: Runtime, source: Source) -> None:
        started = time.monotonic()
        report = await poll_with_deadline(rt, source)
        self._record_poll(report, time.monotonic() - started)
        self._trim_due = self._trim_due or bool(report.new)
        if report.queued and self._scheduler is not None and not self._stopping.is_set():
            # new alerts: dispatch now rather than at the next interval; a dispatcher
            # already running sees the flag and goes round once more
            self._dispatch_requested = True
            self._scheduler.modify_job(DISPATCHER_JOB, next_run_time=datetime.now(UTC))

    def _record_poll(self, report: PollReport, seconds: float) -> None:
        m = self.metrics
        outcome = "failed" if not report.ok else "not_modified" if report.not_modified else "ok"
        m.polls.labels(report.source, outcome).inc()
        m.poll_seconds.labels(report.source).observe(seconds)
        if report.new:
            m.items_new.labels(report.source).inc(report.new)
        for signal_type, direction in report.signal_kinds:
            m.signals.labels(signal_type, direction).inc()
        if report.links_refused:
            m.links_refused.labels(report.source).inc(report.links_refused)

    # --- delivery and housekeeping -------------------------------------------------------

    async def _dispatch(self, rt: Runtime) -> None:
        while True:
            self._dispatch_requested = False
            report = await dispatch_all(rt)
            self._last_dispatch_at = datetime.now(UTC)
            for outcome, count in (
                ("sent", report.sent),
                ("failed", report.retried),
                ("dead", report.dead),
            ):
                if count:
                    self.metrics.emails.labels(outcome).inc(count)
            if not self._dispatch_requested or self._stopping.is_set():
                return

    async def _digest(self, rt: Runtime, address: str) -> None:
        produced = await produce_due_digests(rt, address)
        if produced and self._scheduler is not None and not self._stopping.is_set():
            self._dispatch_requested = True
            self._scheduler.modify_job(DISPATCHER_JOB, next_run_time=datetime.now(UTC))

    async def _purge(self, rt: Runtime) -> None:
        retention = self.config.retention
        purged = await purge(
            rt.db,
            now=rt.clock(),
            items_after=retention.items,
            deliveries_after=retention.deliveries,
            hot_marks_after=self.config.polling.story_window,
        )
        log.info(
            "retention_purged",
            items=purged.items,
            deliveries=purged.deliveries,
            hot_marks=purged.hot_marks,
        )

    # --- hot reload ----------------------------------------------------------------------

    def _reload_soon(self) -> None:
        """SIGHUP: re-read the config on the loop, as a tracked job."""
        if self._scheduler is not None and not self._stopping.is_set():
            self._scheduler.add_job(self._tracked(functools.partial(self.reload, "sighup")))

    async def _check_config(self) -> None:
        if self.config_path is None:
            return
        fingerprint = await asyncio.to_thread(config_fingerprint, self.config_path)
        if fingerprint and fingerprint != self._fingerprint:
            await self.reload("file changed")

    async def reload(self, reason: str) -> bool:
        """Re-read the config; apply it if valid (True), keep the running one if not."""
        if self.config_path is None or self._rt is None:
            return False
        rt = self._rt
        self._fingerprint = await asyncio.to_thread(config_fingerprint, self.config_path)
        try:
            new = await asyncio.to_thread(load_config, self.config_path)
            emptied = emptied_sections(self.config, new)
            if emptied:
                raise ConfigError([emptiness_problem(emptied)], str(self.config_path))
            rules = Rules.from_config(new)
            check_channels(new)
        except (ConfigError, ValueError) as exc:
            self.metrics.reloads.labels("rejected").inc()
            log.error("config_reload_rejected", reason=reason, error=str(exc))
            await notify_admins(
                rt.db,
                self.config,
                key=f"config-rejected:{self._fingerprint}",
                subject=f"Config change rejected: {self.config_path}",
                body="The edited configuration was not applied; the previous one stays"
                f" in force.\n\n{exc}",
                now=rt.clock(),
            )
            return False
        diff = diff_configs(self.config, new)
        self.config = new
        rt.reconfigure(new, rules)
        await self._apply(rt, diff)
        self.metrics.reloads.labels("applied").inc()
        log.info("config_reloaded", reason=reason, **diff.as_log())
        return True

    async def _apply(self, rt: Runtime, diff: ConfigDiff) -> None:
        """Start polling added sources, forget removed ones, re-plan changed schedules."""
        if diff.sources_added or diff.sources_removed or diff.sources_changed:
            # rows of new or re-scheduled sources are (re)planned; in-flight polls finish
            self._sources = {s.name: s for s in await prepare_sources(rt)}
        if "dispatcher" in diff.settings_changed:
            self._add_dispatcher_job(rt)
        if diff.subscribers_changed:
            self._add_digest_jobs(rt)
        if "log" in diff.settings_changed:
            configure_logging(self.config.log.level, self.config.log.format)

    # --- stopping ------------------------------------------------------------------------

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
