"""Each source's state between polls: cache validators and health counters."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from watcher.sources.result import Validators
from watcher.store.db import Sessions
from watcher.store.tables import SourceRow

MAX_ERROR_CHARS = 2000


async def load_validators(db: Sessions, source: str) -> Validators:
    """The ETag / Last-Modified remembered for `source` (empty for a new source)."""
    async with db() as session:
        row = await session.get(SourceRow, source)
    if row is None:
        return Validators()
    return Validators(etag=row.etag, last_modified=row.last_modified)


async def record_success(db: Sessions, *, source: str, kind: str, now: datetime) -> None:
    """A poll that changed nothing (304, or no new item): only the source's health moves."""
    async with db() as session, session.begin():
        state = await source_row(session, source, kind)
        state.polls += 1
        state.consecutive_failures = 0
        state.last_poll_at = state.last_success_at = now
        session.add(state)


async def record_failure(db: Sessions, *, source: str, kind: str, error: str, now: datetime) -> int:
    """Count a failed poll on the source's row; returns its consecutive failures."""
    async with db() as session, session.begin():
        state = await source_row(session, source, kind)
        state.polls += 1
        state.failures_total += 1
        state.consecutive_failures += 1
        state.last_error = error[:MAX_ERROR_CHARS]
        state.last_poll_at = state.last_error_at = now
        session.add(state)
        return state.consecutive_failures


async def source_row(session: AsyncSession, source: str, kind: str) -> SourceRow:
    """The source's row, created (not yet flushed) when the source is new."""
    row = await session.get(SourceRow, source)
    if row is None:
        row = SourceRow(name=source, kind=kind)
        session.add(row)
    return row
