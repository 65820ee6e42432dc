"""What one round of the service does, shared by `run --once` and the daemon.

`run_once` polls every enabled source now and delivers what is due (the testable
"burst" mode); `watcher.service.daemon.Daemon` runs the same steps on a schedule.

Polls are not one APScheduler job per source. One *poller* job ticks every
`polling.tick` and asks the database which sources are due (`next_poll_at` on each
source row, written by every poll from its schedule, the server's hints and the
failure backoff: `watcher.domain.polling`), claims each due row with a lease and starts its
poll. So a source in backoff is simply not due, the plan survives restarts, and
replicas sharing a database can later divide the sources between them by those rows
(`watcher.store.due`) with no in-memory scheduler state to agree on.

Digests: a period ends at each fire time of the subscriber's schedule. The daemon's
cron job per digest subscriber, its start-up, and `run_once` all produce the digest of
the latest period that has ended (at most once: the store's unique key), so `watcher
run --once` from a system cron, a restart after a missed 08:00 and the daemon agree.
Periods missed entirely merge into the next digest; nothing is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping

import structlog

from watcher.config import Source, WatcherConfig
from watcher.domain.cron import last_period_end
from watcher.domain.polling import schedule_key
from watcher.notify.channel import Transport
from watcher.notify.digest import produce_digests
from watcher.notify.dispatch import DispatchReport, dispatch_alert_rounds, dispatch_pass
from watcher.service.pipeline import PollReport, poll_source, record_poll_failure
from watcher.service.runtime import Runtime
from watcher.store.due import sync_sources
from watcher.store.source_state import SourceState, load_state, load_states

log = structlog.get_logger("watcher.service")


async def poll_with_deadline(
    rt: Runtime, source: Source, before: SourceState | None = None
) -> PollReport:
    """`poll_source` bounded by the source's timeout; a hung poll counts as a failure.

    `before` is the source's state to count a timeout against, when the caller has read
    it already (`run_once` reads all sources' at once); otherwise it is read here.
    """
    if before is None:
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


async def dispatch_all(
    rt: Runtime, transports: Mapping[str, Transport] | None = None
) -> DispatchReport:
    """Send due admin notices, then alerts on every channel and digests until nothing is due.

    The whole pass shares one transport per channel (or `transports`, when the caller
    holds them open longer): opened as messages need them, reopened after a failure, not
    opened at all when nothing is due.
    """
    return await dispatch_pass(rt.dispatcher(), rt.channels, transports)


class _EarlySender:
    """Sends the alerts a `run_once` queues while its other polls still run.

    `queued()` after a poll queued alerts wakes it; it sends batches of due alerts on
    every channel until none is left, then waits for the next wake. `finish()` lets the
    batch in progress end (a message is never cut off mid-send) and returns what was
    sent; `run_once` then sends the rest as usual.
    """

    def __init__(self, rt: Runtime, transports: Mapping[str, Transport]) -> None:
        self._rt, self._transports = rt, transports
        self._wake = asyncio.Event()
        self._done = False
        self._task = asyncio.create_task(self._run())

    def queued(self) -> None:
        self._wake.set()

    async def finish(self) -> DispatchReport:
        self._done = True
        self._wake.set()
        return await self._task

    async def _run(self) -> DispatchReport:
        total = DispatchReport()
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._done:
                return total
            rt = self._rt
            total += await dispatch_alert_rounds(rt.dispatcher(), rt.channels, self._transports)


async def produce_due_digests(rt: Runtime, only: str | None = None) -> int:
    """Produce the digest of each digest subscriber's latest ended period (once each)."""
    now = rt.clock()
    periods = {
        s.address: last_period_end(s.schedule, s.timezone, now)
        for s in rt.config.subscribers
        if s.mode == "digest" and only in (None, s.address)
    }
    return await produce_digests(rt.db, rt.config, periods, now)


async def run_once(config: WatcherConfig, advance: Callable[[int], None] | None = None) -> int:
    """Poll every enabled source once, deliver what is due; 0 if all went well, else 1.

    Alerts go out as their polls queue them, over the run's transports (for email up to
    `dispatcher.connections` SMTP connections), while the other polls go on; digests and
    admin notices once every poll has ended.
    `advance(1)` is called as each source's poll ends (for a progress bar).
    """
    async with Runtime(config) as rt:
        return await one_round(rt, advance)


async def one_round(rt: Runtime, advance: Callable[[int], None] | None = None) -> int:
    """`run_once` on a runtime that is already open (and stays open): one whole round.

    Sources, rules and channels are `rt`'s as they are now; the round opens and closes
    its own transports. 0 if every poll and delivery went well, else 1.
    """
    # as many polls at once as the HTTP client may have requests in flight: more would
    # only queue on the database's connection pool (and time out there)
    slots = asyncio.Semaphore(rt.config.http.max_connections)

    async def poll(rt: Runtime, source: Source, before: SourceState) -> PollReport:
        async with slots:
            report = await poll_with_deadline(rt, source, before)
        if report.queued:
            early.queued()
        if advance is not None:
            advance(1)
        return report

    async with contextlib.AsyncExitStack() as stack:
        transports = {name: channel.transport() for name, channel in rt.channels.items()}
        for transport in transports.values():
            await stack.enter_async_context(transport)
        sources = await prepare_sources(rt)
        states = await load_states(rt.db, [s.name for s in sources])
        early = _EarlySender(rt, transports)
        try:
            reports = await asyncio.gather(*(poll(rt, s, states[s.name]) for s in sources))
        finally:
            sent_early = await early.finish()
        await produce_due_digests(rt)
        delivered = sent_early + await dispatch_all(rt, transports)
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
