"""The one send loop: a claimed batch of messages over a channel's transport, each outcome recorded.

Alerts on every channel, digests and admin notices all go through `send_jobs`; each `Job`
brings how to build its message and a `Record` that writes the outcome to its own rows.
A failure is committed right after the transport answered; a transient one is retried
after the shared retry policy's delay (`watcher.domain.retry`), until
`dispatcher.max_attempts`, then it is a dead letter. A message the receiver accepted is
marked sent either at once (`Record.sent`) or, when the caller gives `mark_sent`, in the
background while the next ones go out, a few in one transaction (`Marks`), and the
batch ends only when all are marked. A row is marked sent only after the receiver
accepted its message; a kill in between leaves it leased, and once the lease expires
the message goes out again with the same ID (the one window no sender can close). The
window is the sends in flight (one per connection) plus at most `UNMARKED_LIMIT`
accepted messages waiting for their mark: a few, not a batch.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog

from watcher.concurrency.coalesce import Coalescer
from watcher.config import DispatcherConfig
from watcher.domain.errors import (
    PermanentDeliveryError,
    TransientDeliveryError,
    TransportUnavailable,
)
from watcher.domain.retry import retry_delay
from watcher.notify.channel import Transport
from watcher.notify.pace import Pacer

log = structlog.get_logger("watcher.dispatch")
UNMARKED_LIMIT = 10  # accepted messages whose "sent" mark may still be on its way
HOLD_SECONDS = 0.25  # longest an accepted message waits for its group to fill
_jitter = random.SystemRandom()


class Record(Protocol):
    """Writes one message's outcome to the rows it was built from (and drops their lease)."""

    async def sent(self, reply: str, now: datetime) -> None: ...
    async def retry(self, error: str, at: datetime) -> None: ...
    async def dead(self, error: str, now: datetime) -> None: ...
    async def release(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Job:
    """One claimed message: who gets it, how to build it, where its outcome goes.

    `build(now)` returns what the transport sends; it may raise `TransientDeliveryError`
    (try later) or `PermanentDeliveryError` (a dead letter) like a send.
    """

    message_id: str
    recipient: str
    attempts: int
    what: str
    build: Callable[[datetime], Awaitable[Any]]
    record: Record


@dataclass(frozen=True, slots=True)
class Accepted:
    """A message the receiver accepted, not yet marked sent."""

    job: Job
    reply: str
    at: datetime


MarkSent = Callable[[Sequence[Accepted]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class DispatchReport:
    """What one dispatcher run did, in messages (not deliveries)."""

    sent: int = 0
    retried: int = 0
    dead: int = 0

    @property
    def failed(self) -> int:
        """Messages not sent in this run."""
        return self.retried + self.dead

    def __add__(self, other: DispatchReport) -> DispatchReport:
        return DispatchReport(
            self.sent + other.sent, self.retried + other.retried, self.dead + other.dead
        )


async def send_jobs(
    policy: DispatcherConfig,
    transport: Transport,
    jobs: list[Job],
    *,
    lease_until: datetime,
    clock: Callable[[], datetime],
    pacer: Pacer,
    send_timeout: timedelta,
    mark_sent: MarkSent | None = None,
) -> DispatchReport:
    """Send `jobs` while the lease lasts; unsent jobs are given back.

    No send starts later than twice `send_timeout` before the lease ends, so none
    outlives it: another replica may claim the rows then.

    As many messages go out at once as `transport.connections` (each connection sends one
    after another; the next job goes to the first one free). Accepted messages are marked
    by `mark_sent` in groups (see the module docstring), or one by one with `Record.sent`
    without it. If the transport cannot open a session, every job not yet tried is
    deferred for a retry.
    """
    margin = min(send_timeout * 2, (lease_until - clock()) / 2)
    pending = deque(jobs)
    marks = Marks(mark_sent)
    # every lane adds each outcome here as it happens: a lane that stops on a dead relay
    # keeps what it counted, and so do the lanes still running beside it
    report = DispatchReport()
    # bound once per batch (an unbound structlog logger binds itself at every call)
    batch_log = log.bind()

    async def lane(open_transport: Transport) -> None:
        nonlocal report
        while pending and clock() < lease_until - margin:
            job = pending.popleft()
            try:
                outcome = await _send_one(
                    policy, open_transport, job, clock, pacer, marks, batch_log
                )
            except TransportUnavailable:
                pending.appendleft(job)  # not tried: it waits for a retry with the rest
                raise
            report += outcome  # after the await: `report +=` would read it before

    try:
        async with transport as open_transport:
            lanes = max(1, min(transport.connections, len(pending)))
            failures = [
                outcome
                for outcome in await asyncio.gather(
                    *(lane(open_transport) for _ in range(lanes)), return_exceptions=True
                )
                if isinstance(outcome, BaseException)
            ]
            if failures:
                raise failures[0]
    except TransientDeliveryError as exc:
        # the connection itself failed: every message not yet tried waits for a retry
        log.warning("transport_unavailable", error=str(exc), deferred=len(pending))
        while pending:
            report += await _defer(policy, pending.popleft(), str(exc), clock())
    finally:
        # accepted messages are marked even when the batch ends by an error or a cancel
        await asyncio.shield(marks.flush())
        for job in pending:
            await job.record.release()
    return report


async def _send_one(
    policy: DispatcherConfig,
    transport: Transport,
    job: Job,
    clock: Callable[[], datetime],
    pacer: Pacer,
    marks: Marks,
    batch_log: Any,
) -> DispatchReport:
    """Build and send one message and record its outcome (logged to `batch_log`).

    Raises `TransportUnavailable` when no connection could be opened: the message was
    not tried, and the caller gives it back.
    """
    try:
        message = await job.build(clock())
        await pacer.wait()
        reply = await transport.send(message)
    except TransportUnavailable:
        raise
    except PermanentDeliveryError as exc:
        await job.record.dead(str(exc), clock())
        _logged(job).error("email_dead", error=str(exc), what=job.what)
        return DispatchReport(dead=1)
    except TransientDeliveryError as exc:
        _logged(job).warning("email_deferred", error=str(exc), attempt=job.attempts + 1)
        return await _defer(policy, job, str(exc), clock())
    await marks.add(Accepted(job, reply, clock()))
    # the batch's logger, no logger bound per email: below the info level it costs nothing
    batch_log.info(
        "email_sent",
        subscriber=job.recipient,
        message_id=job.message_id,
        what=job.what,
        reply=reply,
    )
    return DispatchReport(sent=1)


def _logged(job: Job) -> Any:
    """The dispatch log bound to `job`'s recipient and Message-ID."""
    return log.bind(subscriber=job.recipient, message_id=job.message_id)


async def _defer(policy: DispatcherConfig, job: Job, error: str, now: datetime) -> DispatchReport:
    """A transient failure: retry after the policy's delay, or bury after the last attempt."""
    attempt = job.attempts + 1
    if attempt >= policy.max_attempts:
        await job.record.dead(f"gave up after {attempt} attempts: {error}", now)
        return DispatchReport(dead=1)
    await job.record.retry(error, now + retry_delay(policy, attempt, _jitter))
    return DispatchReport(retried=1)


class Marks:
    """Accepted messages being marked sent: in the background by `mark_sent`, else one by one.

    Accepted messages are marked in groups: a group is handed to `mark_sent` once it
    holds half the limit, or `hold` seconds after its first message was accepted, or at
    `flush`, whichever comes first (one transaction per group, not per email: on the
    peer bench's first round, 4,000 emails, a transaction each cost more CPU than the
    UPDATEs). Groups are marked one transaction at a time; the groups accepted while
    one runs are marked together in the next (`Coalescer`). At most `UNMARKED_LIMIT`
    accepted messages wait for their mark at any time, held or being marked: the next
    send waits for the oldest marks when the database is slow. A crash resends at most
    that many messages (with their IDs), however slow the marks are.
    """

    def __init__(
        self, mark_sent: MarkSent | None, limit: int = UNMARKED_LIMIT, hold: float = HOLD_SECONDS
    ) -> None:
        self._mark_sent = mark_sent
        self._limit = limit
        self._group = max(1, limit // 2)
        self._hold = hold
        self._rounds: Coalescer[list[Accepted], None] = Coalescer(self._mark)
        self._held: list[Accepted] = []
        self._timer: asyncio.TimerHandle | None = None
        self._marking: list[tuple[asyncio.Future[None], int]] = []  # (its group's mark, size)

    async def add(self, accepted: Accepted) -> None:
        """Mark `accepted` now (without `mark_sent`), or hold it for its group's mark.

        Returns once no more than the limit of accepted messages are unmarked. Raises the
        error of an earlier background mark, if one failed.
        """
        if self._mark_sent is None:
            await accepted.job.record.sent(accepted.reply, accepted.at)
            return
        self._held.append(accepted)
        if len(self._held) >= self._group:
            self._start()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._hold, self._start)
        while self.unmarked > self._limit:
            waiting = [mark for mark, _ in self._marking if not mark.done()]
            if not waiting:  # the held ones alone exceed it (a limit below 2): mark them
                self._start()
                continue
            await asyncio.wait(waiting[:1])
        self._collect()

    @property
    def unmarked(self) -> int:
        """Accepted messages whose mark has not been committed yet."""
        return len(self._held) + sum(size for mark, size in self._marking if not mark.done())

    async def flush(self) -> None:
        """Wait until every accepted message is marked; raise the first failed mark's error."""
        self._start()
        marking, self._marking = self._marking, []
        for outcome in await asyncio.gather(*(m for m, _ in marking), return_exceptions=True):
            if isinstance(outcome, BaseException):
                raise outcome

    def _start(self) -> None:
        """Hand the held messages, if any, to the marks as one group."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._held:
            return
        group, self._held = self._held, []
        self._marking.append((asyncio.ensure_future(self._rounds.submit(group)), len(group)))

    def _collect(self) -> None:
        """Forget the marks that ended; raise the error of the first that failed."""
        done = [entry for entry in self._marking if entry[0].done()]
        for entry in done:
            self._marking.remove(entry)
        failures = [mark.exception() for mark, _ in done]  # each read, so none is "lost"
        for failure in failures:
            if failure is not None:
                raise failure

    async def _mark(self, groups: list[list[Accepted]]) -> list[None]:
        assert self._mark_sent is not None
        await self._mark_sent([accepted for group in groups for accepted in group])
        return [None] * len(groups)
