"""Each source's state between polls: cache validators, health counters, next poll."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from watcher.sources.result import Validators
from watcher.store.db import Sessions
from watcher.store.tables import SourceRow

MAX_ERROR_CHARS = 2000


@dataclass(frozen=True, slots=True)
class SourceState:
    """What a poll needs to know of its source's row before it starts."""

    validators: Validators = field(default_factory=Validators)
    polls: int = 0
    consecutive_failures: int = 0
    failing_since: datetime | None = None
    last_success_at: datetime | None = None
    last_new_item_at: datetime | None = None
    added_at: datetime | None = None

    @property
    def never_succeeded(self) -> bool:
        """True before the first successful poll: that one is the backfill poll."""
        return self.last_success_at is None


async def load_state(db: Sessions, source: str) -> SourceState:
    """The row's state (an empty state for a source never seen)."""
    async with db() as session:
        row = await session.get(SourceRow, source)
    if row is None:
        return SourceState()
    return SourceState(
        validators=Validators(etag=row.etag, last_modified=row.last_modified),
        polls=row.polls,
        consecutive_failures=row.consecutive_failures,
        failing_since=row.failing_since,
        last_success_at=row.last_success_at,
        last_new_item_at=row.last_new_item_at,
        added_at=row.added_at,
    )


async def record_success(
    db: Sessions,
    *,
    source: str,
    kind: str,
    now: datetime,
    next_poll_at: datetime | None = None,
    validators: Validators | None = None,
) -> None:
    """A poll that stored nothing (304, or nothing changed): only health and schedule move."""
    async with db.write() as session, session.begin():
        state = await source_row(session, source, kind, now)
        mark_success(state, now, next_poll_at)
        if validators is not None:
            state.etag, state.last_modified = validators.etag, validators.last_modified
        session.add(state)


def mark_success(state: SourceRow, now: datetime, next_poll_at: datetime | None) -> None:
    """Set a row's health after a successful poll: the failure episode, if any, is over."""
    state.polls += 1
    state.consecutive_failures = 0
    state.failing_since = state.backoff_until = None
    state.last_poll_at = state.last_success_at = now
    state.next_poll_at = next_poll_at


async def record_failure(
    db: Sessions,
    *,
    source: str,
    kind: str,
    error: str,
    now: datetime,
    backoff_until: datetime | None = None,
) -> int:
    """Count a failed poll on the source's row; returns its consecutive failures.

    `backoff_until` becomes the row's `next_poll_at`: the source is not due before.
    """
    async with db.write() as session, session.begin():
        state = await source_row(session, source, kind, now)
        state.polls += 1
        state.failures_total += 1
        state.consecutive_failures += 1
        state.failing_since = state.failing_since or now
        state.last_error = error[:MAX_ERROR_CHARS]
        state.last_poll_at = state.last_error_at = now
        state.backoff_until = state.next_poll_at = backoff_until
        session.add(state)
        return state.consecutive_failures


async def source_row(
    session: AsyncSession, source: str, kind: str, now: datetime | None = None
) -> SourceRow:
    """The source's row, created (not yet flushed) when the source is new."""
    row = await session.get(SourceRow, source)
    if row is None:
        row = SourceRow(name=source, kind=kind, added_at=now)
        session.add(row)
    return row
